"""Label the lines of a page dump by aligning them with the page's clean text.

Training pages come as a raw dump plus the text that should remain (hand-made pairs, or a
benchmark's gold main content). Both are reduced to lower-cased ``\\w+`` words, the same tokens
the word-F1 metric counts, and aligned monotonically with :class:`difflib.SequenceMatcher`: a
word of the dump is matched at most once and in order, so a headline printed twice is labelled
content once. A line is content when at least :data:`MIN_MATCHED_SHARE` of its words are
matched; tolerating unmatched words absorbs small edits and converter differences.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# The labels of lines and rows, everywhere: in training data, alignments, training and scores.
CONTENT = 1
CHROME = 0
# Not labelled, and ignored by training and scores: blank lines, lines without any \w
# character, rows without labelled lines.
UNLABELLED = -1

MIN_MATCHED_SHARE = 0.5  # share of a line's words that must align for it to count as content
# A single matched word inside a longer line is usually chance ("home", "more" in a menu line);
# shorter matches count only when they are a whole line (a one-word heading).
MIN_BLOCK_WORDS = 2

# The one word pattern of the package and its benchmarks: the tokens WCXB's word metric counts
# (in lower-cased text, see words()).
WORD_PATTERN = re.compile(r"\w+")


@dataclass(frozen=True)
class Alignment:
    """Line labels (:data:`CONTENT`, :data:`CHROME` or :data:`UNLABELLED`) and how well it aligned.

    ``coverage`` is the share of the clean text's words found in the dump, in order: a low value
    means the dump and the clean text disagree and the labels are unreliable.
    """

    labels: npt.NDArray[np.int8]
    coverage: float


def words(text: str) -> list[str]:
    """Lower-cased ``\\w+`` words, as the WCXB word-F1 metric counts them."""
    return WORD_PATTERN.findall(text.lower())


def align_lines(lines: Sequence[str], clean_text: str) -> Alignment:
    """Label each of ``lines`` (the dump) content or chrome by aligning it with ``clean_text``.

    Whole lines are aligned first (a clean text made by deleting lines aligns exactly); the
    words of the stretches between aligned lines are then aligned word by word, which absorbs
    re-wrapped and lightly edited text.

    >>> align_lines(["Menu", "Hello world again", "Share"], "hello world again").labels.tolist()
    [0, 1, 0]
    """
    vocab: dict[str, int] = {}

    def ids(text: str) -> list[int]:
        return [vocab.setdefault(word, len(vocab)) for word in words(text)]

    dump_words = [ids(line) for line in lines]
    clean_lines = [w for w in (ids(line) for line in clean_text.splitlines()) if w]
    n_words = np.array([len(w) for w in dump_words], dtype=np.int64)
    labels = np.where(n_words > 0, CHROME, UNLABELLED).astype(np.int8)
    n_clean = sum(len(w) for w in clean_lines)
    if not n_clean or not n_words.any():
        return Alignment(labels, 1.0 if not n_clean else 0.0)

    hits = np.zeros(len(lines), dtype=np.float64)
    dump_idx = [i for i, w in enumerate(dump_words) if w]
    line_matcher = difflib.SequenceMatcher(
        None,
        [tuple(dump_words[i]) for i in dump_idx],
        [tuple(w) for w in clean_lines],
        autojunk=False,
    )
    matched = 0
    a_prev = b_prev = 0
    for block in line_matcher.get_matching_blocks():
        # Align the words of the unmatched stretch before this block of whole lines.
        gap_lines = dump_idx[a_prev : block.a]
        gap_clean = [word for w in clean_lines[b_prev : block.b] for word in w]
        matched += _align_words(gap_lines, dump_words, gap_clean, hits)
        for k in range(block.size):
            line = dump_idx[block.a + k]
            hits[line] = n_words[line]
            matched += int(n_words[line])
        a_prev, b_prev = block.a + block.size, block.b + block.size
    content = (n_words > 0) & (hits >= MIN_MATCHED_SHARE * n_words)
    labels[content] = CONTENT
    return Alignment(labels, matched / n_clean)


def _align_words(
    gap_lines: list[int],
    dump_words: list[list[int]],
    clean_ids: list[int],
    hits: npt.NDArray[np.float64],
) -> int:
    """Align the words of some dump lines with clean words; add matches to ``hits``."""
    if not gap_lines or not clean_ids:
        return 0
    dump_ids = [word for line in gap_lines for word in dump_words[line]]
    line_of = [line for line in gap_lines for _ in dump_words[line]]
    matcher = difflib.SequenceMatcher(None, dump_ids, clean_ids, autojunk=False)
    total = 0
    for block in matcher.get_matching_blocks():
        if block.size == 0:
            continue
        if block.size < MIN_BLOCK_WORDS and not _whole_line(line_of, block.a, block.size):
            continue
        for k in range(block.a, block.a + block.size):
            hits[line_of[k]] += 1
        total += block.size
    return total


def _whole_line(line_of: list[int], start: int, size: int) -> bool:
    """True when the matched words ``start:start + size`` are all the words of one line."""
    line = line_of[start]
    before = start == 0 or line_of[start - 1] != line
    after = start + size == len(line_of) or line_of[start + size] != line
    return before and after and line_of[start + size - 1] == line
