"""Split page text into lines, keeping each line's own ending, and find hard-wrapped paragraphs.

Only ``\\n``, ``\\r\\n`` and a lone ``\\r`` end a line. :meth:`str.splitlines` also splits on form
feeds, ``\\x1c``-``\\x1e``, ``\\x85`` and U+2028/U+2029; inside a page dump those are text, and
cutting there would change the bytes we promise to keep.
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt

# Characters str.splitlines() breaks on besides \n and \r (see the stdlib docs for splitlines).
# Looked for one by one with `in`: ten times faster than a regex character class.
_EXTRA_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")

# Hard-wrap detection (html2text wraps at 78 columns, w3m and lynx at the terminal width, mail at
# 72). A page counts as hard-wrapped when many of its long lines end close to one width.
WRAP_MIN_LINE = 40  # lines shorter than this say nothing about wrapping
WRAP_MAX_WIDTH = 160  # wider "widths" are just long unwrapped lines
WRAP_SLACK = 16  # a wrapped line ends within this many columns of the width (one long word)
WRAP_MIN_SHARE = 0.4  # share of long lines that must end near the width
WRAP_MIN_LINES = 4  # fewer near-width lines than this is chance


def split_lines(text: str) -> list[str]:
    """Split ``text`` into lines that keep their endings, so ``"".join(lines) == text``.

    >>> split_lines("a\\r\\nb\\rc\\n\\nd")
    ['a\\r\\n', 'b\\r', 'c\\n', '\\n', 'd']
    """
    if not any(c in text for c in _EXTRA_BREAKS):
        return text.splitlines(keepends=True)
    return _LINE.findall(text)


def body(line: str) -> str:
    """A line without its ending."""
    if line.endswith("\n"):
        return line[:-2] if line.endswith("\r\n") else line[:-1]
    return line[:-1] if line.endswith("\r") else line


def bodies_text(text: str) -> str:
    """The line bodies of ``text`` joined by ``\\n``: one line per :func:`split_lines` line.

    A final line ending does not start another line, matching :func:`split_lines`.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text[:-1] if text.endswith("\n") else text


def wrap_joins(
    lengths: npt.NDArray[np.int64], groups: npt.NDArray[np.int64] | None = None
) -> npt.NDArray[np.bool_]:
    """Mark lines that a hard-wrapping converter broke off: ``True`` joins a line to the next.

    ``lengths`` are line lengths in characters (0 for blank lines); ``groups`` (ascending, one
    per line) says which page each line belongs to, default one page. A page is hard-wrapped
    when at least :data:`WRAP_MIN_SHARE` of its lines longer than :data:`WRAP_MIN_LINE` end
    within :data:`WRAP_SLACK` columns of the page's widest such line; then every such
    near-width line joins the next non-blank line of its page.

    >>> wrap_joins(np.array([70, 72, 30, 0, 71, 69, 10, 0, 5])).tolist()
    [True, True, False, False, True, True, False, False, False]
    """
    n = len(lengths)
    if n == 0:
        return np.zeros(0, dtype=bool)
    if groups is None:
        groups = np.zeros(n, dtype=np.int64)
    new_group = np.r_[True, groups[1:] != groups[:-1]]
    starts = np.flatnonzero(new_group)
    group_of = np.cumsum(new_group) - 1  # 0..n_groups-1
    long = lengths >= WRAP_MIN_LINE
    width = np.maximum.reduceat(np.where(long & (lengths <= WRAP_MAX_WIDTH), lengths, 0), starts)
    line_width = width[group_of]
    near = long & (lengths >= line_width - WRAP_SLACK) & (lengths <= line_width)
    n_near = np.bincount(group_of, weights=near, minlength=len(starts))
    n_long = np.bincount(group_of, weights=long, minlength=len(starts))
    wrapped = (width > 0) & (n_near >= WRAP_MIN_LINES) & (n_near >= WRAP_MIN_SHARE * n_long)
    joins = np.zeros(n, dtype=bool)
    joins[:-1] = (
        near[:-1] & wrapped[group_of[:-1]] & (lengths[1:] > 0) & (groups[1:] == groups[:-1])
    )
    return joins
