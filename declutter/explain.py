"""Why a line was kept or dropped: the features that pushed it most either way.

The line stage is additive in its features, so each feature's contribution to a row's log-odds
is exact: ``coef * (x - mean) / scale`` plus the same for its hinge columns (see
:meth:`declutter.model.LogisticParams.contributions`). The context stage then moves the
log-odds by what the neighbours say; that move is reported as one number, ``context``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from declutter.cleaner import Cleaner, PageResult
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


def explain_page(
    cleaner: Cleaner, text: str, top: int = 3, result: PageResult | None = None
) -> list[LineExplanation]:
    """Explain every line of one page (as :meth:`Cleaner.process` decides it); ``result`` is
    that decision when the caller already has it."""
    model = cleaner.model
    result = cleaner.process([text])[0] if result is None else result
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


def page_summary(result: PageResult, top: int = 3) -> str | None:
    """What the page-level stage decided for a cleaned page, as one line (None for a model
    without it): the page types it finds most likely, with their probabilities."""
    types = result.page_types
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


# Terminal colours (ANSI SGR): kept lines' decision in green, dropped in red, dropped text dim.
ANSI_KEEP, ANSI_DROP, ANSI_DIM, ANSI_RESET = "\x1b[32m", "\x1b[31m", "\x1b[2m", "\x1b[0m"


def use_color(is_tty: bool, environ: Mapping[str, str]) -> bool:
    """Colour only on a terminal, and never when ``NO_COLOR`` is set (https://no-color.org)."""
    return is_tty and not environ.get("NO_COLOR")


def format_colored(e: LineExplanation) -> str:
    """:func:`format_explanation` with the decision coloured and dropped text dimmed."""
    plain = format_explanation(e)
    decision = "keep" if e.keep else "drop"
    colour = ANSI_KEEP if e.keep else ANSI_DROP
    head, sep, text = plain.rpartition("| ")
    head = head.replace(f" {decision}  ", f" {colour}{decision}{ANSI_RESET}  ", 1)
    if not e.keep:
        text = f"{ANSI_DIM}{text}{ANSI_RESET}"
    return head + sep + text


# The HTML report: a line's background runs from red (probability 0) through white at the
# threshold to green (1), so how sure the model was reads at a glance; kept lines have a green
# bar and dark text, dropped lines a red bar and grey, struck-through text.
_HTML_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5em; color: #111; }
header p { margin: 0.2em 0; }
.page { font-family: ui-monospace, monospace; font-size: 13px; border-top: 1px solid #ccc; }
.line { display: flex; white-space: pre-wrap; word-break: break-word; }
.line .n { flex: 0 0 4.5em; text-align: right; padding-right: 0.8em; color: #888; }
.line .p { flex: 0 0 3.5em; color: #555; }
.line .t { flex: 1; padding-left: 0.5em; min-height: 1.45em; }
.keep .t { border-left: 4px solid #1a7f37; }
.drop .t { border-left: 4px solid #cf222e; color: #777; text-decoration: line-through; }
.unscored .t { border-left-style: dotted; }
.line:hover { outline: 1px solid #444; }
.legend span { padding: 0 0.5em; margin-right: 0.5em; }
.legend .keep { color: #1a7f37; } .legend .drop { color: #cf222e; }
"""


def _shade(p: float | None, threshold: float) -> str:
    """A background colour for probability ``p``: red below the threshold, green above."""
    if p is None:
        return "transparent"
    if p >= threshold:
        strength = (p - threshold) / max(1 - threshold, 1e-9)
        return f"rgba(26, 127, 55, {0.08 + 0.32 * strength:.3f})"
    strength = (threshold - p) / max(threshold, 1e-9)
    return f"rgba(207, 34, 46, {0.08 + 0.32 * strength:.3f})"


def _tooltip(e: LineExplanation) -> str:
    if e.probability is None:
        return f"line {e.number}: not scored (no word character): follows its neighbours"
    plus = "\n".join(f"  {n} {v:+.2f}" for n, v in e.toward_content) or "  -"
    minus = "\n".join(f"  {n} {v:+.2f}" for n, v in e.toward_chrome) or "  -"
    return (
        f"line {e.number}: p {e.probability:.2f}, {'keep' if e.keep else 'drop'}\n"
        f"toward content:\n{plus}\ntoward chrome:\n{minus}\ncontext {e.context:+.2f}"
    )


def _printable(text: str) -> str:
    """Text that encodes as UTF-8: bytes kept by surrogateescape become U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def explanation_html(rows: Sequence[LineExplanation], title: str, threshold: float) -> str:
    """A self-contained HTML page showing every line shaded by its content probability, kept
    and dropped lines marked apart, and each line's top features on hover (its ``title``)."""
    kept = sum(e.keep for e in rows)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>declutter explain: {html.escape(_printable(title))}</title>",
        f"<style>{_HTML_STYLE}</style></head><body>",
        f"<header><h1>{html.escape(_printable(title))}</h1>",
        f"<p>{len(rows)} lines, {kept} kept, {len(rows) - kept} dropped; threshold "
        f"{threshold:.2f}. Hover a line for the features that pushed it most.</p>",
        '<p class="legend">'
        f'<span style="background:{_shade(1.0, threshold)}">sure content</span>'
        f'<span style="background:{_shade(threshold, threshold)}">at the threshold</span>'
        f'<span style="background:{_shade(0.0, threshold)}">sure chrome</span>'
        '<span class="keep">▌ kept</span><span class="drop">▌ dropped</span></p></header>',
        '<main class="page">',
    ]
    for e in rows:
        classes = "line " + ("keep" if e.keep else "drop")
        if e.probability is None:
            classes += " unscored"
        p = "" if e.probability is None else f"{e.probability:.2f}"
        out.append(
            f'<div class="{classes}" id="L{e.number}" data-p="{p}" '
            f'style="background:{_shade(e.probability, threshold)}" '
            f'title="{html.escape(_tooltip(e))}">'
            f'<span class="n">{e.number}</span><span class="p">{p}</span>'
            f'<span class="t">{html.escape(_printable(e.text))}</span></div>'
        )
    out.append("</main></body></html>")
    return "\n".join(out) + "\n"
