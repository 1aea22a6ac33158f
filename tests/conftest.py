"""Shared fixtures: a small model trained on the project's own pages, and paths to ../shared."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from declutter.data import LabelledPage, load_pages
from declutter.model import LineModel

ROOT = Path(__file__).resolve().parent.parent
TRAINING_DATA = ROOT / "training_data"
SHARED = Path(os.environ.get("DECLUTTER_SHARED", ROOT.parent / "shared"))

# CI runs thousands of property-test examples; local runs may choose fewer with
# HYPOTHESIS_PROFILE=dev.
settings.register_profile("ci", max_examples=1000, deadline=None)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def needs_shared(*parts: str) -> Path:
    """The path under ../shared, or skip the test when it is not there."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not available")
    return path


@pytest.fixture(scope="session")
def training_pages() -> list[LabelledPage]:
    return load_pages([TRAINING_DATA])


@pytest.fixture(scope="session")
def tiny_model(training_pages: list[LabelledPage]) -> LineModel:
    """A model fitted on the project's own labelled pages (seconds, not minutes)."""
    from declutter.train import DeclutterTrainer, train

    model, _ = train(training_pages, DeclutterTrainer(n_splits=3))
    return model


@pytest.fixture(scope="session")
def typed_model(training_pages: list[LabelledPage]) -> LineModel:
    """A small model with a page-level stage: the project's pages given two page types."""
    from dataclasses import replace

    from declutter.train import DeclutterTrainer, train

    pages = [
        replace(p, page_type=("article", "forum")[k % 2]) for k, p in enumerate(training_pages)
    ]
    model, _ = train(pages, DeclutterTrainer(n_splits=2, validation_share=0.0))
    return model
