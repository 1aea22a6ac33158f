"""Keep the content lines of page dumps: score, decode, and emit the kept lines unchanged.

Lines the model scores (lines with at least one word character) are kept by the decoder
(:mod:`declutter.decode`). The others follow their neighbours:

- a line of symbols only ("* * *", "---") is kept when the scored lines on both sides are;
- a blank line is kept when some kept line comes before it in the page and the next scored
  line is kept, so paragraphs stay apart and no blank lines lead or trail.

Kept lines are emitted byte for byte, each with its own line ending, in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from declutter.decode import decode
from declutter.errors import UsageError
from declutter.features import featurize
from declutter.lines import split_lines
from declutter.model import LineModel, load_model, sigmoid

F32 = npt.NDArray[np.float32]
BoolArr = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class PageResult:
    """One cleaned page: its lines, each line's content probability and the decision.

    ``proba`` is NaN for lines the model does not score (blank lines and lines without a word
    character); ``keep`` covers every line.
    """

    lines: list[str] = field(repr=False)  # with their endings, "".join(lines) == input
    proba: F32 = field(repr=False)
    keep: BoolArr = field(repr=False)

    @property
    def text(self) -> str:
        """The kept lines, byte-identical and in order."""
        return "".join(line for line, k in zip(self.lines, self.keep.tolist(), strict=True) if k)

    @property
    def n_kept(self) -> int:
        return int(self.keep.sum())


def _check_threshold(threshold: float) -> float:
    if not 0.0 < threshold < 1.0:
        raise UsageError(f"threshold must be between 0 and 1 (exclusive), got {threshold}")
    return threshold


class Cleaner:
    """A loaded model with its decoding settings; picklable, so it can go to worker processes.

    Parameters
    ----------
    model : LineModel, optional
        The model; the shipped default model when omitted.
    threshold : float, optional
        Probability from which a line counts as content. Lower keeps more (recall), higher
        keeps less (precision). Defaults to the model's own, chosen when it was trained.
    smoothing : float, optional
        Cost of switching between content and chrome in the decoder; 0 decides every line on
        its own. Defaults to the model's own.
    """

    def __init__(
        self,
        model: LineModel | None = None,
        threshold: float | None = None,
        smoothing: float | None = None,
    ) -> None:
        self.model = model if model is not None else load_model()
        self.threshold = _check_threshold(
            self.model.threshold if threshold is None else float(threshold)
        )
        self.smoothing = self.model.smoothing if smoothing is None else float(smoothing)
        if self.smoothing < 0:
            raise UsageError(f"smoothing must be 0 or more, got {self.smoothing}")

    def process(self, texts: Sequence[str]) -> list[PageResult]:
        """Clean a batch of pages (faster than one at a time)."""
        features = featurize(texts)
        logits = self.model.logits(features)
        proba = sigmoid(logits)
        keep_rows = decode(logits, features.page_rows, self.threshold, self.smoothing)
        results = []
        for p, text in enumerate(texts):
            lines = split_lines(text)
            lo, hi = int(features.page_lines[p]), int(features.page_lines[p + 1])
            line_rows = features.line_rows[lo:hi]
            scored = line_rows >= 0
            line_proba = np.full(len(lines), np.nan, dtype=np.float32)
            line_proba[scored] = proba[line_rows[scored]]
            keep_scored = np.zeros(len(lines), dtype=bool)
            keep_scored[scored] = keep_rows[line_rows[scored]]
            keep = _fill_unscored(keep_scored, scored, features.line_blank[lo:hi])
            results.append(PageResult(lines, line_proba, keep))
        return results

    def clean(self, text: str) -> str:
        """The content lines of one page, byte-identical and in order."""
        return self.process([text])[0].text

    def clean_many(self, texts: Sequence[str]) -> list[str]:
        """The content lines of each page."""
        return [r.text for r in self.process(texts)]


def _fill_unscored(keep: BoolArr, scored: BoolArr, blank: BoolArr) -> BoolArr:
    """Decide unscored lines from their scored neighbours (see the module docstring)."""
    n = len(keep)
    if n == 0:
        return keep
    idx = np.arange(n)
    # Index of the nearest scored line at or before / at or after each line (-1 / n if none).
    prev_scored = np.maximum.accumulate(np.where(scored, idx, -1))
    next_scored = np.minimum.accumulate(np.where(scored, idx, n)[::-1])[::-1]
    keep_ext = np.append(keep, False)  # index -1 and n both read False
    before = keep_ext[prev_scored]
    after = keep_ext[next_scored]
    kept_before = np.maximum.accumulate(np.where(keep, idx, -1))
    out = keep.copy()
    filler = ~scored & ~blank
    out[filler] = before[filler] & after[filler]
    out[blank] = (kept_before[blank] >= 0) & after[blank]
    return out


def clean(text: str, *, threshold: float | None = None) -> str:
    """The content lines of ``text`` by the shipped model, byte-identical and in order.

    >>> clean("")
    ''
    """
    return Cleaner(threshold=threshold).clean(text)
