"""Drafts: a page's lines marked keep or drop by a model, for a person to correct.

A draft is the page with a mark before every non-empty line::

    - Home | News | Sport
    ?- By Priya Lindqvist
    + Eastbridge's long-delayed tram extension cleared its biggest hurdle on Thursday ...

    + The £212 million scheme will add 6.4 kilometres of track ...

- ``+ `` keep (content), ``- `` drop (chrome); ``?+ `` and ``?- `` are the same decisions
  for the lines the model is least sure of (:data:`UNCERTAIN_LOGIT`), to check first.
- One mark per line of the page, also inside hard-wrapped paragraphs that the model scores as
  one unit: every line can be corrected on its own.
- A line that is empty in the page (nothing but its line ending) stays empty and unmarked,
  so an editor that strips trailing spaces cannot damage a mark.
- After its mark every line is the page's line exactly, with its own line ending (``\\n``,
  ``\\r\\n`` or a lone ``\\r``): removing the marks gives back the page byte for byte, bytes
  that are not valid UTF-8 included (both are read and written with ``surrogateescape``).

Correcting a draft means changing marks (``+`` to ``-`` or back, a ``?`` may stay or go); the
corrected draft is training data (:func:`declutter.data.read_draft`). A line without a valid
mark is an error naming the file and line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from declutter.align import CHROME, CONTENT, UNLABELLED
from declutter.cleaner import Cleaner
from declutter.errors import TrainingDataError, UsageError
from declutter.lines import body, split_lines

BoolArr = npt.NDArray[np.bool_]

DRAFT_SUFFIX = ".draft.txt"
KEEP, DROP, UNSURE = "+", "-", "?"
MARK_SEP = " "
# Marks, longest first, and what each says: (keep, uncertain).
MARKS: tuple[tuple[str, bool, bool], ...] = (
    (UNSURE + KEEP + MARK_SEP, True, True),
    (UNSURE + DROP + MARK_SEP, False, True),
    (KEEP + MARK_SEP, True, False),
    (DROP + MARK_SEP, False, False),
)
# A mark with nothing after it: an editor stripped the trailing space of a whitespace-only line.
BARE_MARKS = {UNSURE + KEEP: True, UNSURE + DROP: False, KEEP: True, DROP: False}
# Lines whose content log-odds lie within this distance of the threshold's are marked uncertain:
# at the shipped threshold 0.35 that is a probability between 0.17 and 0.59 (odds within a
# factor e of the threshold's).
UNCERTAIN_LOGIT = 1.0
SUMMARY_LINES = 10  # uncertain lines listed per page in the summary
_HAS_WORD = re.compile(r"\w")
_EXCLUDED_SUFFIXES = (DRAFT_SUFFIX, ".clean.txt")  # never drafted from a folder walk


@dataclass(frozen=True)
class Draft:
    """A parsed draft: the page's text and, per line, the decision and whether it was unsure.

    ``keep`` and ``uncertain`` have one entry per line of ``text`` (as
    :func:`declutter.lines.split_lines` splits it); empty lines are ``False`` in both.
    """

    text: str
    keep: BoolArr
    uncertain: BoolArr

    @property
    def labels(self) -> npt.NDArray[np.int8]:
        """Training labels per line: content 1, chrome 0, -1 for lines without a word
        character (as the other formats leave them unlabelled)."""
        lines = split_lines(self.text)
        words = np.array([bool(_HAS_WORD.search(line)) for line in lines], dtype=bool)
        out = np.where(self.keep, CONTENT, CHROME).astype(np.int8)
        out[~words] = UNLABELLED
        return out


@dataclass(frozen=True)
class UnsureLine:
    """A line of a draft marked uncertain: number (from 1), probability, decision, text."""

    number: int
    probability: float
    keep: bool
    text: str


@dataclass(frozen=True)
class Drafted:
    """A page drafted by a model: the draft's text, its number of lines and of lines marked
    keep, and its uncertain lines, least certain first."""

    text: str
    lines: int
    kept: int
    unsure: list[UnsureLine]


def format_draft(lines: Sequence[str], keep: Sequence[bool], uncertain: Sequence[bool]) -> str:
    """The draft of a page given as its lines (with their endings) and a decision per line."""
    if not len(lines) == len(keep) == len(uncertain):
        raise ValueError("lines, keep and uncertain must be as long as each other")
    out = []
    for line, k, u in zip(lines, keep, uncertain, strict=True):
        if body(line):
            out.append((UNSURE if u else "") + (KEEP if k else DROP) + MARK_SEP)
        out.append(line)
    return "".join(out)


EDITOR_BOM = "\ufeff"  # some editors (Windows Notepad) save UTF-8 with a byte-order mark


def parse_draft(text: str, name: str = "<draft>") -> Draft:
    """Read a draft (see the module docstring); ``name`` is for messages.

    Raises :class:`TrainingDataError` naming ``name`` and the line number when a non-empty line
    does not start with a mark.
    """
    page: list[str] = []
    keep: list[bool] = []
    unsure: list[bool] = []
    if text.startswith(EDITOR_BOM) and text[1:].startswith(tuple(m for m, _, _ in MARKS)):
        text = text[1:]  # a byte-order mark an editor saved before the first mark
    for number, line in enumerate(split_lines(text), start=1):
        content = body(line)
        if not content:
            page.append(line)
            keep.append(False)
            unsure.append(False)
            continue
        found = next(((m, k, u) for m, k, u in MARKS if content.startswith(m)), None)
        if found is not None:
            page.append(line[len(found[0]) :])
            k, u = found[1], found[2]
        elif content in BARE_MARKS:
            # A mark with nothing after it: an editor stripped the trailing space of a
            # whitespace-only line.
            page.append(line[len(content) :])
            k, u = BARE_MARKS[content], content.startswith(UNSURE)
        else:
            raise TrainingDataError(
                f"{name}:{number}: a draft line must start with '+ ' (keep), '- ' (drop), "
                f"'?+ ' or '?- ', not {content[:24]!r}"
            )
        keep.append(k)
        unsure.append(u)
    return Draft("".join(page), np.array(keep, dtype=bool), np.array(unsure, dtype=bool))


def _logit(p: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
    q = np.clip(p.astype(np.float64), 1e-7, 1 - 1e-7)
    return np.asarray(np.log(q / (1 - q)))


def draft_pages(cleaner: Cleaner, texts: Sequence[str]) -> list[Drafted]:
    """Draft a batch of pages with ``cleaner``: its decisions, and as uncertain the lines
    whose log-odds lie within :data:`UNCERTAIN_LOGIT` of the threshold's."""
    cut = float(_logit(np.array([cleaner.threshold]))[0])
    out = []
    for result in cleaner.process(texts):
        scored = ~np.isnan(result.proba)
        distance = np.full(len(result.proba), np.inf)
        distance[scored] = np.abs(_logit(result.proba[scored]) - cut)
        uncertain = distance < UNCERTAIN_LOGIT
        order = sorted(np.flatnonzero(uncertain), key=lambda i: (distance[i], i))
        unsure = [
            UnsureLine(
                int(i) + 1, float(result.proba[i]), bool(result.keep[i]), body(result.lines[i])
            )
            for i in order
        ]
        out.append(
            Drafted(
                format_draft(result.lines, result.keep.tolist(), uncertain.tolist()),
                len(result.lines),
                sum(
                    k and bool(body(line))
                    for line, k in zip(result.lines, result.keep, strict=True)
                ),
                unsure,
            )
        )
    return out


def draft_targets(inputs: Iterable[Path], out_dir: Path) -> list[tuple[Path, Path]]:
    """Each page to draft and its draft's path: ``out_dir / NAME.draft.txt`` for ``NAME.txt``
    (a folder's pages, ``*.txt`` without drafts and ``.clean.txt`` copies, keep their paths
    relative to it). Raises :class:`UsageError` when two pages would write one draft."""
    pairs: list[tuple[Path, Path]] = []
    seen: dict[Path, Path] = {}
    for path in inputs:
        if path.is_dir():
            members = [
                (f, f.relative_to(path))
                for f in sorted(path.rglob("*.txt"))
                if f.is_file() and not f.name.endswith(_EXCLUDED_SUFFIXES)
            ]
        else:
            members = [(path, Path(path.name))]
        for source, relative in members:
            stem = relative.name[: -len(".txt")] if relative.suffix == ".txt" else relative.name
            target = out_dir / relative.parent / (stem + DRAFT_SUFFIX)
            if target in seen:
                raise UsageError(f"{source} and {seen[target]} would both write {target}")
            seen[target] = source
            pairs.append((source, target))
    return pairs
