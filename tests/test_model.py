from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import joblib
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from declutter.context import LINE_NAMES
from declutter.errors import ModelError
from declutter.features import featurize
from declutter.model import (
    FORMAT_VERSION,
    LineModel,
    LogisticParams,
    default_model_path,
    from_dict,
    load_model,
    sha256_file,
)

PAGE = "Home | News | Sport\n\nThe council met on Tuesday and agreed to extend the line.\nShare\n"


def test_save_and_load_round_trip(tiny_model: LineModel, tmp_path: Path) -> None:
    path = tmp_path / "m.joblib"
    sha = tiny_model.save(path)
    assert sha == sha256_file(path)
    loaded = load_model(path)
    features = featurize([PAGE])
    np.testing.assert_allclose(
        loaded.predict_proba(features), tiny_model.predict_proba(features), atol=1e-3
    )
    assert loaded.threshold == tiny_model.threshold
    assert (
        loaded.metadata["training_data"]["pages"] == tiny_model.metadata["training_data"]["pages"]
    )


def test_saved_model_records_versions(tiny_model: LineModel) -> None:
    for key in ("declutter_version", "sklearn_version", "numpy_version", "training_data"):
        assert key in tiny_model.metadata


def test_missing_model_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found"):
        load_model(tmp_path / "nope.joblib")


def test_truncated_model_file(tiny_model: LineModel, tmp_path: Path) -> None:
    path = tmp_path / "m.joblib"
    tiny_model.save(path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ModelError, match=r"m\.joblib"):
        load_model(path)


def test_garbage_model_file(tmp_path: Path) -> None:
    path = tmp_path / "junk.joblib"
    path.write_bytes(b"this is not a model at all")
    with pytest.raises(ModelError, match=r"junk\.joblib"):
        load_model(path)


def test_foreign_pickle(tmp_path: Path) -> None:
    path = tmp_path / "foreign.joblib"
    joblib.dump({"coef": [1, 2, 3]}, path)
    with pytest.raises(ModelError, match="not a declutter model"):
        load_model(path)


def test_model_from_an_incompatible_version(tiny_model: LineModel, tmp_path: Path) -> None:
    raw = tiny_model.to_dict()
    raw["format_version"] = FORMAT_VERSION + 1
    path = tmp_path / "future.joblib"
    joblib.dump(raw, path)
    with pytest.raises(ModelError, match="retrain"):
        load_model(path)


def test_model_with_other_features(tiny_model: LineModel) -> None:
    raw = tiny_model.to_dict()
    raw["feature_names"] = raw["feature_names"][:-1]
    with pytest.raises(ModelError, match="different features"):
        from_dict(raw)


def test_damaged_parameters(tiny_model: LineModel) -> None:
    raw = tiny_model.to_dict()
    raw["line"] = dict(raw["line"], coef=np.zeros(3))
    with pytest.raises(ModelError, match="damaged"):
        from_dict(raw)


def test_model_is_picklable(tiny_model: LineModel) -> None:
    again = pickle.loads(pickle.dumps(tiny_model))
    features = featurize([PAGE])
    np.testing.assert_array_equal(again.predict_proba(features), tiny_model.predict_proba(features))


def test_shipped_model_matches_its_sha256() -> None:
    path = default_model_path()
    recorded = path.with_name(path.name + ".sha256").read_text().split()[0]
    assert sha256_file(path) == recorded


def test_shipped_model_is_refused_when_its_bytes_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import declutter.model as M

    copy = tmp_path / "default.joblib"
    copy.write_bytes(default_model_path().read_bytes() + b"x")
    (tmp_path / "default.joblib.sha256").write_text(sha256_file(default_model_path()))
    monkeypatch.setattr(M, "shipped_model", lambda: copy)
    monkeypatch.setattr(M, "_cache", {})
    with pytest.raises(ModelError, match="sha256"):
        load_model()


def test_shipped_model_is_small() -> None:
    assert default_model_path().stat().st_size <= 10 * 1024 * 1024


def test_decision_over_column_blocks_equals_the_stacked_product() -> None:
    rng = np.random.default_rng(0)
    params = LogisticParams(
        mean=rng.normal(size=5).astype(np.float32),
        scale=rng.uniform(0.5, 2, size=5).astype(np.float32),
        coef=rng.normal(size=5).astype(np.float32),
        intercept=0.3,
    )
    x = rng.normal(size=(7, 5)).astype(np.float32)
    expected = ((x - params.mean) / params.scale) @ params.coef + params.intercept
    assert np.allclose(params.decision(x[:, :2], x[:, 2:]), expected, atol=1e-5)
    assert np.allclose(params.decision(x), expected, atol=1e-5)
    with pytest.raises(ValueError, match="columns"):
        params.decision(x[:, :4])


def test_decision_bends_at_the_hinge_knots() -> None:
    rng = np.random.default_rng(0)
    columns, knots = np.array([1, 3, 3]), np.array([0.0, -0.5, 0.5], dtype=np.float32)
    params = LogisticParams(
        mean=rng.normal(size=8).astype(np.float32),
        scale=rng.uniform(0.5, 2, size=8).astype(np.float32),
        coef=rng.normal(size=8).astype(np.float32),
        intercept=0.3,
        hinge_columns=columns,
        hinge_knots=knots,
    )
    x = rng.normal(size=(7, 5)).astype(np.float32)
    h = np.hstack([x, np.maximum(x[:, columns] - knots, 0)])
    expected = ((h - params.mean) / params.scale) @ params.coef + params.intercept
    # Hinge columns 1 and 3 fall in different blocks.
    assert np.allclose(params.decision(x[:, :2], x[:, 2:]), expected, atol=1e-5)
    shares = params.contributions(x)
    assert np.allclose(shares.sum(axis=1) + params.intercept, expected, atol=1e-5)
    assert np.allclose(shares[:, 0], (x[:, 0] - params.mean[0]) / params.scale[0] * params.coef[0])
    with pytest.raises(ValueError, match="takes 5"):
        params.decision(x[:, :4])


def test_format_1_model_loads_without_hinges(tiny_model: LineModel) -> None:
    raw = tiny_model.to_dict()
    n = len(LINE_NAMES)
    line = raw["line"]
    raw["line"] = {k: line[k][:n] for k in ("mean", "scale", "coef")}
    raw["line"]["intercept"] = line["intercept"]
    raw["format_version"] = 1
    model = from_dict(raw)
    assert len(model.line.hinge_columns) == 0
    assert model.predict_proba(featurize([PAGE])).shape == (3,)


def test_hinge_column_out_of_range(tiny_model: LineModel) -> None:
    raw = tiny_model.to_dict()
    raw["line"] = dict(raw["line"], hinge_columns=raw["line"]["hinge_columns"] + 1000)
    with pytest.raises(ModelError, match="damaged"):
        from_dict(raw)


LINE_TEXT = st.lists(
    st.sampled_from(["Share", "Menu", "The river rose by a metre overnight.", "a", "|", " "]),
    max_size=6,
).map(" ".join)
PAGE_TEXT = st.lists(LINE_TEXT, max_size=12).map("\n".join)


@given(st.lists(PAGE_TEXT, min_size=1, max_size=4))
def test_a_page_scores_the_same_alone_and_in_a_batch(
    tiny_model: LineModel, pages: list[str]
) -> None:
    together = tiny_model.predict_proba(featurize(pages))
    alone = [tiny_model.predict_proba(featurize([p])) for p in pages]
    np.testing.assert_allclose(together, np.concatenate(alone), atol=1e-4)


def test_a_model_saved_again_to_the_same_path_is_loaded_again(
    tiny_model: LineModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    tiny_model.save(tmp_path / "m.joblib")
    assert load_model("m.joblib").threshold == tiny_model.threshold != 0.25
    retrained = dataclasses.replace(tiny_model, threshold=0.25)
    retrained.save(tmp_path / "m.joblib")
    assert load_model("m.joblib").threshold == 0.25
    assert load_model(tmp_path / "m.joblib").threshold == 0.25  # the same file, resolved


def test_an_unchanged_model_file_is_loaded_once(tiny_model: LineModel, tmp_path: Path) -> None:
    tiny_model.save(tmp_path / "m.joblib")
    (tmp_path / "sub").mkdir()
    assert load_model(tmp_path / "m.joblib") is load_model(tmp_path / "sub" / ".." / "m.joblib")
