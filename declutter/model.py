"""Apply a trained model with numpy alone, and save or load it.

A model is a lexicon and logistic regressions exported from scikit-learn (see
:mod:`declutter.estimators` and :mod:`declutter.train`):

1. a *lexicon*: for every hashed lexical bucket, the smoothed log-odds that a line holding it
   is content, learned from the training pages; each row gets the mean (and for words the
   minimum and maximum) of its buckets' log-odds per namespace
   (:func:`declutter.context.lexical_columns`);
2. a *line* stage over the standardized dense features and those lexical columns;
3. an optional page-level stage (:mod:`declutter.page`) giving each page's type;
4. *context* stages, applied in turn, each over :func:`declutter.context.context_features` of
   the previous stage's logits.

All are stored as plain numpy arrays (scaler statistics, coefficients, intercepts) with
metadata, in a joblib file. Cleaning never imports scikit-learn: importing it costs ~2 s, and a
pipeline step must start in well under a second (issue 4).

Loading a model unpickles it: only load model files you trust.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.resources
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from declutter.errors import ModelError

if TYPE_CHECKING:
    from importlib.abc import Traversable  # importlib.resources.abc from Python 3.11
from declutter.context import (
    CONTEXT_NAMES,
    LINE_NAMES,
    PAGE_CONTEXT_NAMES,
    context_features,
    lexical_columns,
    page_inputs,
    page_words,
    sigmoid,
)
from declutter.features import LEX_NAMESPACES, N_HASH, Features
from declutter.page import PAGE_STAGE_NAMES, PAGE_TYPES, PageTypeParams
from declutter.site import SiteStageParams

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
FloatArr = npt.NDArray[np.floating[Any]]

FORMAT = "declutter-model"
# 2 added hinge columns, 3 the page-level stage; older files load as models without them.
FORMAT_VERSION = 3
READABLE_FORMATS = (1, 2, 3)
DEFAULT_MODEL_NAME = "default.joblib"


def hinges(x: FloatArr, columns: I64, knots: F32) -> FloatArr:
    """The hinge columns ``max(x[:, c] - k, 0)``, one per pair of ``columns`` and ``knots``, in
    ``x``'s precision."""
    return np.maximum(x[:, columns] - knots.astype(x.dtype), 0)


@dataclass(frozen=True)
class LogisticParams:
    """One standardized logistic regression: ``z = ((h - mean) / scale) @ coef + intercept``.

    ``h`` is the input columns followed by one *hinge* column ``max(x[:, c] - k, 0)`` for
    every pair ``(c, k)`` of ``hinge_columns`` and ``hinge_knots``: with them the model's
    response to feature ``c`` bends at its knots instead of being a straight line.
    """

    mean: F32
    scale: F32
    coef: F32
    intercept: float
    hinge_columns: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    hinge_knots: F32 = field(default_factory=lambda: np.zeros(0, dtype=np.float32))

    def folded(self) -> tuple[F32, np.float32]:
        """Weights and bias with the scaler folded in: ``z = h @ w + b``."""
        w = (self.coef / self.scale).astype(np.float32)
        b = self.intercept - float(np.dot(self.mean / self.scale, self.coef))
        return w, np.float32(b)

    def contributions(self, x: F32) -> F32:
        """Each input column's exact share of ``z - intercept``, row by row: its own term plus
        its hinge columns' terms. ``z`` is additive in the columns, so the shares sum to it."""
        bent = hinges(x, self.hinge_columns, self.hinge_knots)
        terms = (np.hstack([x, bent]) - self.mean) / self.scale * self.coef
        out: F32 = terms[:, : x.shape[1]].astype(np.float32)
        np.add.at(out.T, self.hinge_columns, terms[:, x.shape[1] :].T)
        return out

    def decision(self, *blocks: F32) -> F32:
        """``z`` for inputs given as one or more column blocks, side by side in order.

        Separate blocks spare the caller stacking them: a copy of every row. ``einsum``, not
        ``@``: a matrix-vector product goes to BLAS, whose idle threads then spin on the other
        cores (``declutter clean`` used twice its wall time in CPU); einsum stays on one core,
        and this product is ~1% of cleaning time either way.
        """
        w, b = self.folded()
        n_inputs = sum(block.shape[1] for block in blocks)
        n_hinges = len(self.hinge_columns)
        if n_inputs + n_hinges != len(w):
            raise ValueError(f"inputs have {n_inputs} columns; the model takes {len(w) - n_hinges}")
        hinge_w = w[n_inputs:]
        # max(x - k, 0) = max(x, k) - k: the knots' share folds into the bias.
        z = np.full(len(blocks[0]), b - np.dot(hinge_w, self.hinge_knots), dtype=np.float32)
        start = 0
        for block in blocks:
            end = start + block.shape[1]
            z += np.einsum("ij,j->i", block, w[start:end])
            mine = (self.hinge_columns >= start) & (self.hinge_columns < end)
            if mine.any():
                columns = self.hinge_columns[mine] - start
                bent = np.maximum(block[:, columns], self.hinge_knots[mine])
                z += np.einsum("ij,j->i", bent, hinge_w[mine])
            start = end
        return z


@dataclass(frozen=True)
class LineModel:
    """A trained declutter model: everything needed to score lines, in numpy arrays.

    ``threshold`` is the probability above which a row is content by default; ``smoothing`` is
    the decoder's cost, in log-odds, of switching between content and chrome (0 decodes each
    row on its own). Both were chosen by cross-validation on the training pages.
    """

    line: LogisticParams
    lexicon: F32  # (len(LEX_NAMESPACES), N_HASH) log-odds of content per hashed bucket
    contexts: tuple[LogisticParams, ...]  # applied in turn, each on the previous scores
    page: PageTypeParams | None = None  # the page-level stage, read by the context stages
    site: SiteStageParams | None = None  # site context (declutter.site), applied by the cleaner
    threshold: float = 0.5
    smoothing: float = 0.0
    feature_names: tuple[str, ...] = LINE_NAMES
    context_names: tuple[str, ...] = CONTEXT_NAMES
    metadata: dict[str, Any] = field(default_factory=dict)

    def lexical_inputs(self, features: Features) -> F32:
        """The rows' lexical columns (:data:`LEX_FEATURES`) under this model's lexicon."""
        values = tuple(self.lexicon[k][buckets] for k, buckets in enumerate(features.lex_buckets))
        return lexical_columns(features.lex_rows, values, features.n_rows)

    def line_inputs(self, features: Features) -> F32:
        """The line stage's inputs: dense features and lexical columns (:data:`LINE_NAMES`)."""
        return np.hstack([features.dense, self.lexical_inputs(features)])

    def line_logits(self, features: Features) -> F32:
        """The line stage's log-odds of content for every row."""
        return self.line.decision(features.dense, self.lexical_inputs(features))

    def logits(self, features: Features) -> F32:
        """Final log-odds of content for every row (line stage, then the context stages)."""
        return self.scores(features)[0]

    def scores(self, features: Features) -> tuple[F32, F32 | None]:
        """Final log-odds of content for every row, and the page-level stage's page-type
        probabilities, shape ``(n_pages, len(PAGE_TYPES))`` (None without that stage)."""
        n_pages = len(features.page_rows) - 1
        if features.n_rows == 0:
            empty = None if self.page is None else np.zeros((n_pages, len(PAGE_TYPES)), np.float32)
            return np.zeros(0, dtype=np.float32), empty
        z = self.line_logits(features)
        words = page_words(features)
        proba = None if self.page is None else self.page.proba(page_inputs(z, features, words))
        for stage in self.contexts:
            z = stage.decision(context_features(z, features, words, proba))
        return z, proba

    def predict_proba(self, features: Features) -> F32:
        """Probability that each row is content."""
        return sigmoid(self.logits(features))

    # --- persistence -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "feature_names": list(self.feature_names),
            "context_names": list(self.context_names),
            "lex_namespaces": list(LEX_NAMESPACES),
            "n_hash": N_HASH,
            "line": _params_dict(self.line),
            # float16 halves the file; log-odds need no more than three significant digits.
            "lexicon": self.lexicon.astype(np.float16),
            "contexts": [_params_dict(c) for c in self.contexts],
            "page": None if self.page is None else self.page.to_dict(),
            "site": None if self.site is None else self.site.to_dict(),
            "threshold": self.threshold,
            "smoothing": self.smoothing,
            "metadata": self.metadata,
        }

    def save(self, path: Path) -> str:
        """Write the model with joblib (atomically) and return the file's sha256."""
        import joblib  # noqa: PLC0415 - joblib's import costs ~0.1 s; only when saving

        tmp = path.with_name(path.name + ".part")
        joblib.dump(self.to_dict(), tmp, compress=3)
        tmp.replace(path)
        return sha256_file(path)


def _params_dict(p: LogisticParams) -> dict[str, Any]:
    return {
        "mean": p.mean,
        "scale": p.scale,
        "coef": p.coef,
        "intercept": p.intercept,
        "hinge_columns": p.hinge_columns,
        "hinge_knots": p.hinge_knots,
    }


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def shipped_model() -> Traversable:
    """The shipped model as package data (``declutter.models``, read through
    ``importlib.resources``, which may hand it over from an archive), or ``models/`` beside the
    package in a source checkout that is not installed."""
    try:
        return importlib.resources.files("declutter.models") / DEFAULT_MODEL_NAME
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "models" / DEFAULT_MODEL_NAME


def default_model_path() -> Path:
    """The shipped model's file path (installed packages are folders; see :func:`load_model`
    for installs where they are not)."""
    return Path(str(shipped_model()))


# Loaded models by file identity (:func:`_file_key`): a model saved again to the same path is
# loaded again, not returned stale.
_cache: dict[tuple[str | int, ...], LineModel] = {}


def load_model(path: str | Path | None = None) -> LineModel:
    """Load a model file, or the shipped default model when ``path`` is None.

    The shipped model is checked against its recorded sha256. Raises :class:`ModelError`
    naming the file when it is missing, corrupt, not a declutter model, or incompatible
    (any failure to load is a ``ModelError``). Only load model files you trust: loading
    unpickles. A file loaded before is returned from memory while its path, inode,
    modification time and size are unchanged.
    """
    resource = shipped_model() if path is None else Path(path)
    # A shipped model inside an archive cannot change while the process runs.
    key = _file_key(resource) if isinstance(resource, Path) else (str(resource),)
    if key is not None and key in _cache:
        return _cache[key]
    expected = _recorded_sha256(resource) if path is None else None
    with _as_file(resource) as target:
        model = _load(target, expected, str(resource))
    if key is not None:
        _cache[key] = model
    return model


def _file_key(path: Path) -> tuple[str | int, ...] | None:
    """What identifies a model file's contents cheaply: its resolved path, device, inode,
    modification time and size; None when it cannot be read (loading then says why)."""
    try:
        stat = path.stat()
        return (str(path.resolve()), stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_size)
    except OSError:
        return None


@contextlib.contextmanager
def _as_file(resource: Traversable) -> Iterator[Path]:
    if isinstance(resource, Path):
        yield resource
        return
    try:
        with importlib.resources.as_file(resource) as target:
            yield target
    except OSError as exc:
        raise ModelError(f"{resource}: cannot read the shipped model ({exc})") from None


def _recorded_sha256(model: Traversable) -> str | None:
    name = model.name + ".sha256"
    try:
        if isinstance(model, Path):
            record = model.with_name(name).read_text("ascii")
        else:
            # Beside it in its container (zipfile.Path and the like have a parent).
            parent = getattr(model, "parent", None)
            if parent is None:
                return None
            record = parent.joinpath(name).read_text("ascii")
        return record.split()[0]
    except (OSError, IndexError, UnicodeDecodeError):
        return None


def _load(path: Path, expected_sha256: str | None, name: str) -> LineModel:
    import joblib  # noqa: PLC0415 - only when a model is loaded

    if path.is_dir():
        raise ModelError(f"{path}: is a folder, expected a model file")
    if not path.is_file():
        raise ModelError(f"model file not found: {path}")
    try:
        if expected_sha256 is not None and sha256_file(path) != expected_sha256:
            raise ModelError(f"{name}: sha256 does not match the recorded one; reinstall declutter")
        raw = joblib.load(path)
        return from_dict(raw, name)
    except ModelError:
        raise
    except Exception as exc:
        # A model file is a pickle: a damaged or hostile one can raise anything while loading
        # or being checked (MemoryError for a huge allocation, decimal.InvalidOperation from a
        # comparison, RecursionError); each is one message, never a traceback.
        raise ModelError(f"{name}: not a readable model file ({type(exc).__name__})") from None


def from_dict(raw: object, name: str = "model") -> LineModel:
    """Validate a loaded model dictionary and build the :class:`LineModel`."""
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise ModelError(f"{name}: not a declutter model")
    version = raw.get("format_version")
    if version not in READABLE_FORMATS:
        raise ModelError(
            f"{name}: model format {version} is not supported by this declutter "
            f"(format {FORMAT_VERSION}); retrain it with `declutter train`"
        )
    if (
        tuple(raw.get("feature_names", ())) != LINE_NAMES
        or tuple(raw.get("lex_namespaces", ())) != LEX_NAMESPACES
        or raw.get("n_hash") != N_HASH
    ):
        raise ModelError(
            f"{name}: trained with different features than this declutter computes; "
            "retrain it with `declutter train`"
        )
    has_page = raw.get("page") is not None
    context_names = CONTEXT_NAMES + (PAGE_CONTEXT_NAMES if has_page else ())
    if tuple(raw.get("context_names", ())) != context_names:
        raise ModelError(f"{name}: trained with different context features; retrain it")
    try:
        model = LineModel(
            line=_params(raw["line"], len(LINE_NAMES)),
            lexicon=_matrix(raw["lexicon"], (len(LEX_NAMESPACES), N_HASH)),
            contexts=tuple(_params(c, len(context_names)) for c in raw["contexts"]),
            page=_page_params(raw["page"]) if has_page else None,
            site=None if raw.get("site") is None else SiteStageParams.from_dict(raw["site"]),
            context_names=context_names,
            threshold=float(raw["threshold"]),
            smoothing=float(raw["smoothing"]),
            metadata=dict(raw.get("metadata") or {}),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelError(f"{name}: damaged model parameters ({exc})") from None
    if not 0.0 < model.threshold < 1.0 or model.smoothing < 0:
        raise ModelError(f"{name}: threshold or smoothing out of range")
    return model


def _vector(value: object, size: int) -> F32:
    arr = np.asarray(value, dtype=np.float32)
    if arr.shape != (size,) or not np.isfinite(arr).all():
        raise ValueError(f"expected {size} finite numbers, got shape {arr.shape}")
    return arr


def _matrix(value: object, shape: tuple[int, int]) -> F32:
    arr = np.asarray(value, dtype=np.float32)
    if arr.shape != shape or not np.isfinite(arr).all():
        raise ValueError(f"expected a {shape} table, got shape {arr.shape}")
    return arr


def _params(raw: Any, size: int) -> LogisticParams:
    # Format 1 files predate hinge columns: theirs are empty.
    columns = np.asarray(raw.get("hinge_columns", ()), dtype=np.int64).reshape(-1)
    knots = _vector(raw.get("hinge_knots", ()), len(columns))
    if ((columns < 0) | (columns >= size)).any():
        raise ValueError("hinge column out of range")
    size += len(columns)
    scale = _vector(raw["scale"], size)
    if (scale <= 0).any():
        raise ValueError("scaler scale must be positive")
    intercept = float(raw["intercept"])
    if not np.isfinite(intercept):
        raise ValueError("intercept is not finite")
    return LogisticParams(
        _vector(raw["mean"], size), scale, _vector(raw["coef"], size), intercept, columns, knots
    )


def _page_params(raw: Any) -> PageTypeParams:
    if tuple(raw["types"]) != PAGE_TYPES:
        raise ValueError("page types differ from this declutter's")
    k, t = len(PAGE_STAGE_NAMES), len(PAGE_TYPES)
    scale = _vector(raw["scale"], k)
    if (scale <= 0).any():
        raise ValueError("scaler scale must be positive")
    return PageTypeParams(
        _vector(raw["mean"], k), scale, _matrix(raw["coef"], (k, t)), _vector(raw["intercept"], t)
    )
