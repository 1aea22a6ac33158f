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
# A wrapping converter leaves few lines wider than its width (links and long words it cannot
# break): with more than this many per near-width line, the page's lines just vary in length.
# On WCXB dev dumps (a third of the pages), 0.3 finds wrapping in 421 of 439 lynx and 251 of
# 446 html2text dumps (the widest-line rule: 415 and 13) and in 8-16 of ~470 of each unwrapped
# style (html-text, innertext, inscriptis, wet; 0 of spaced); without this test, 82-222.
WRAP_MAX_OVER = 0.3


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
    per line) says which page each line belongs to, default one page. A page's wrap width is
    the length ``w`` (of a line between :data:`WRAP_MIN_LINE` and :data:`WRAP_MAX_WIDTH`
    characters) with the most such lines ending within :data:`WRAP_SLACK` columns at or under
    it: the width most lines stop near, not the widest line, so one long unwrapped line (a
    link, a footer) does not hide a page's wrapping. The page is hard-wrapped when at least
    :data:`WRAP_MIN_LINES` lines, and :data:`WRAP_MIN_SHARE` of its lines of at least
    :data:`WRAP_MIN_LINE` characters,
    end near ``w`` (lines longer than :data:`WRAP_MAX_WIDTH` count in that share too), and at
    most :data:`WRAP_MAX_OVER` lines per near-width line are wider than ``w``; then every such
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
    group_of = np.cumsum(new_group) - 1  # 0..n_groups-1
    n_groups = int(group_of[-1]) + 1
    candidate = (lengths >= WRAP_MIN_LINE) & (lengths <= WRAP_MAX_WIDTH)
    # For every candidate line as a width w: how many candidates of its page end in
    # [w - WRAP_SLACK, w]. Keys sort by page, then length, so both ends are one searchsorted.
    span = WRAP_MAX_WIDTH + 1
    keys = np.sort(group_of[candidate] * span + lengths[candidate])
    cand_keys = group_of * span + lengths
    n_near_w = np.searchsorted(keys, cand_keys, side="right") - np.searchsorted(
        keys, cand_keys - WRAP_SLACK, side="left"
    )
    n_near_w = np.where(candidate, n_near_w, 0)
    # The densest width per page; ties go to the wider one (a converter's width is the top).
    order = np.lexsort((lengths, n_near_w, group_of))
    last_of_group = np.r_[group_of[order][1:] != group_of[order][:-1], True]
    best = order[last_of_group]  # one line per page, pages in order
    width = np.zeros(n_groups, dtype=np.int64)
    n_near = np.zeros(n_groups, dtype=np.int64)
    width[group_of[best]] = np.where(candidate[best], lengths[best], 0)
    n_near[group_of[best]] = n_near_w[best]
    # Lines wider than WRAP_MAX_WIDTH still count against the share: pages of long unwrapped
    # paragraphs are not hard-wrapped, whatever a few of their shorter lines do.
    n_long = np.bincount(group_of, weights=lengths >= WRAP_MIN_LINE, minlength=n_groups)
    line_width = width[group_of]
    n_over = np.bincount(group_of, weights=lengths > line_width, minlength=n_groups)
    wrapped = (
        (width > 0)
        & (n_near >= WRAP_MIN_LINES)
        & (n_near >= WRAP_MIN_SHARE * n_long)
        & (n_over <= WRAP_MAX_OVER * n_near)
    )
    near = candidate & (lengths >= line_width - WRAP_SLACK) & (lengths <= line_width)
    joins = np.zeros(n, dtype=bool)
    joins[:-1] = (
        near[:-1] & wrapped[group_of[:-1]] & (lengths[1:] > 0) & (groups[1:] == groups[:-1])
    )
    return joins
