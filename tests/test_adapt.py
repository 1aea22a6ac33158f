from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from declutter.adapt import ModelAdapter, adapt, anchor_texts, fit_near
from declutter.cleaner import Cleaner
from declutter.cli import app
from declutter.data import LabelledPage
from declutter.evaluate import evaluate
from declutter.features import featurize
from declutter.model import LineModel, load_model

from .conftest import TRAINING_DATA

runner = CliRunner()


def test_fit_near_stays_at_the_prior_when_it_is_strong() -> None:
    rng = np.random.default_rng(0)
    u = rng.normal(size=(50, 3))
    y = (rng.random(50) < 0.5).astype(float)
    beta0 = np.array([1.0, -2.0, 0.5])
    beta, b = fit_near(u, y, np.ones(50), beta0, 0.3, 1e9)
    np.testing.assert_allclose(beta, beta0, atol=1e-6)
    assert abs(b - 0.3) < 1e-6


def test_fit_near_without_prior_fits_the_data() -> None:
    rng = np.random.default_rng(1)
    u = rng.normal(size=(4000, 1))
    y = (rng.random(4000) < 1 / (1 + np.exp(-(2 * u[:, 0] - 1)))).astype(float)
    beta, b = fit_near(u, y, np.ones(4000), np.zeros(1), 0.0, 1e-6)
    assert abs(beta[0] - 2) < 0.2 and abs(b + 1) < 0.2


def test_a_neutral_adaptation_scores_like_the_base(
    tiny_model: LineModel, training_pages: list[LabelledPage]
) -> None:
    adapter = ModelAdapter(lexicon_gain=0.0, prior_strength=1e9)
    model, _ = adapt(training_pages[:3], tiny_model, adapter)
    features = featurize([p.text for p in training_pages[3:6]])
    np.testing.assert_allclose(
        model.predict_proba(features), tiny_model.predict_proba(features), atol=1e-3
    )


def test_adapting_learns_the_corrected_pages(
    tiny_model: LineModel, training_pages: list[LabelledPage]
) -> None:
    # Every line of three pages marked the opposite of what the base model says: the adapted
    # model must follow the corrections on those pages.
    pages = training_pages[:3]
    flipped = []
    for page, result in zip(
        pages, Cleaner(tiny_model).process([p.text for p in pages]), strict=True
    ):
        labels = np.where(page.labels >= 0, np.where(result.keep, 0, 1), -1).astype(np.int8)
        flipped.append(LabelledPage(page.page_id, page.text, labels, page.group))
    before = evaluate(Cleaner(tiny_model), flipped).overall.summary()["line_f1"]
    # No anchors: the packaged anchors are these very pages, which would hold them back.
    model, report = adapt(flipped, tiny_model, ModelAdapter(anchor_weight=0.0))
    after = evaluate(Cleaner(model), flipped).overall.summary()["line_f1"]
    assert report.pages == 3 and report.buckets > 0
    assert after > before + 0.2


def test_the_adapted_model_is_a_normal_model_file_with_provenance(
    tiny_model: LineModel, training_pages: list[LabelledPage], tmp_path: Path
) -> None:
    model, _ = adapt(training_pages[:2], tiny_model, base_name="tiny.joblib", base_sha256="ab")
    path = tmp_path / "adapted.joblib"
    model.save(path)
    loaded = load_model(path)
    assert len(loaded.contexts) == len(tiny_model.contexts)
    assert loaded.threshold == tiny_model.threshold
    adapted = loaded.metadata["adapted"]
    assert adapted["base"]["name"] == "tiny.joblib" and adapted["base"]["sha256"] == "ab"
    assert adapted["pages"] == [p.page_id for p in training_pages[:2]]


def test_train_base_adapts_from_drafts(tmp_path: Path) -> None:
    drafts = tmp_path / "drafts"
    pages = TRAINING_DATA / "pages"
    assert (
        runner.invoke(app, ["label", str(pages / "en-news-01.txt"), "-o", str(drafts)]).exit_code
        == 0
    )
    draft = drafts / "en-news-01.draft.txt"
    # A correction: the byline is content after all.
    text = draft.read_text(encoding="utf-8").replace("- By Priya", "+ By Priya")
    draft.write_text(text, encoding="utf-8")
    out = tmp_path / "site.joblib"
    result = runner.invoke(app, ["train", str(drafts), "--base", "default", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert "base             default" in result.stdout and out.exists()
    assert load_model(out).metadata["adapted"]["base"]["name"] == "default"


def test_cleaning_with_an_adapted_model_never_imports_sklearn(
    tiny_model: LineModel, training_pages: list[LabelledPage], tmp_path: Path
) -> None:
    model, _ = adapt(training_pages[:2], tiny_model)
    path = tmp_path / "adapted.joblib"
    model.save(path)
    code = (
        "import sys, declutter\n"
        f"m = declutter.load_model({str(path)!r})\n"
        "declutter.Cleaner(m).clean('Home\\nSome text of a page here.\\n')\n"
        "assert 'sklearn' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_finite_prior_adds_a_stage(
    tiny_model: LineModel, training_pages: list[LabelledPage]
) -> None:
    model, _ = adapt(training_pages[:2], tiny_model, ModelAdapter(prior_strength=300.0))
    assert len(model.contexts) == len(tiny_model.contexts) + 1


def test_a_finite_prior_adds_a_stage_to_a_model_with_a_page_stage(
    typed_model: LineModel, training_pages: list[LabelledPage]
) -> None:
    model, _ = adapt(training_pages[:2], typed_model, ModelAdapter(prior_strength=300.0))
    assert len(model.contexts) == len(typed_model.contexts) + 1
    assert len(model.predict_proba(featurize([training_pages[0].text]))) > 0


def test_anchors_hold_back_the_words_they_share(
    tiny_model: LineModel, training_pages: list[LabelledPage]
) -> None:
    pages = training_pages[:2]
    free, _ = adapt(pages, tiny_model, ModelAdapter(anchor_weight=0.0))
    anchors = featurize([p.text for p in pages])
    anchored, _ = adapt(pages, tiny_model, ModelAdapter(anchors=anchors))
    moved_free = np.abs(free.lexicon - tiny_model.lexicon).sum()
    moved_anchored = np.abs(anchored.lexicon - tiny_model.lexicon).sum()
    assert moved_anchored < 0.2 * moved_free


def test_the_packaged_anchors_are_the_projects_pages() -> None:
    pages = sorted(
        p for p in (TRAINING_DATA / "pages").glob("*.txt") if not p.name.endswith(".clean.txt")
    )
    assert anchor_texts() == [p.read_text(encoding="utf-8") for p in pages]
