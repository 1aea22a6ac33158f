"""Why a line was kept or dropped: the features that pushed it most either way.

The line stage is additive in its features, so each feature's contribution to a row's log-odds
is exact: ``coef * (x - mean) / scale`` plus the same for its hinge columns (see
:meth:`declutter.model.LogisticParams.contributions`). The context stage then moves the
log-odds by what the neighbours say; that move is reported as one number, ``context``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from declutter.cleaner import Cleaner
from declutter.features import featurize
from declutter.lines import body, split_lines


@dataclass(frozen=True)
class LineExplanation:
    """One line: number (from 1), probability (None if unscored), decision, and reasons."""

    number: int
    text: str
    probability: float | None
    keep: bool
    toward_content: list[tuple[str, float]]
    toward_chrome: list[tuple[str, float]]
    context: float


def explain_page(cleaner: Cleaner, text: str, top: int = 3) -> list[LineExplanation]:
    """Explain every line of one page (as :meth:`Cleaner.process` decides it)."""
    model = cleaner.model
    result = cleaner.process([text])[0]
    features = featurize([text])
    x = model.line_inputs(features)
    p = model.line
    contrib = p.contributions(x)
    line_logit = contrib.sum(axis=1) + p.intercept
    final = model.logits(features)
    names = model.feature_names
    out = []
    for number, line in enumerate(split_lines(text), start=1):
        row = int(features.line_rows[number - 1])
        prob = None if row < 0 else float(result.proba[number - 1])
        pos: list[tuple[str, float]] = []
        neg: list[tuple[str, float]] = []
        context = 0.0
        if row >= 0:
            order = np.argsort(contrib[row])
            pos = [
                (names[j], float(contrib[row, j])) for j in order[::-1][:top] if contrib[row, j] > 0
            ]
            neg = [(names[j], float(contrib[row, j])) for j in order[:top] if contrib[row, j] < 0]
            context = float(final[row] - line_logit[row])
        out.append(
            LineExplanation(
                number, body(line), prob, bool(result.keep[number - 1]), pos, neg, context
            )
        )
    return out


def page_summary(cleaner: Cleaner, text: str, top: int = 3) -> str | None:
    """What the page-level stage decided, as one line (None for a model without it):
    the page types it finds most likely, with their probabilities."""
    types = cleaner.process([text])[0].page_types
    if not types:
        return None
    ranked = sorted(types.items(), key=lambda kv: -kv[1])[:top]
    return "page type: " + ", ".join(f"{t} {p:.2f}" for t, p in ranked)


def format_explanation(e: LineExplanation) -> str:
    """One line of ``declutter explain`` output."""
    decision = "keep" if e.keep else "drop"
    if e.probability is None:
        return f"{e.number:>5}  {'-':>5} {decision}  (not scored)  | {e.text}"
    plus = ", ".join(f"{n} {v:+.2f}" for n, v in e.toward_content) or "-"
    minus = ", ".join(f"{n} {v:+.2f}" for n, v in e.toward_chrome) or "-"
    return (
        f"{e.number:>5}  {e.probability:5.2f} {decision}  + {plus}  | - {minus}"
        f"  | context {e.context:+.2f}  | {e.text}"
    )
