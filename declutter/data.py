"""Read labelled pages for training and evaluation.

Three formats (see training_data/README.md):

1. *pairs*: ``NAME.txt`` (the raw dump) next to ``NAME.clean.txt`` (the dump with its chrome
   lines deleted). Line labels come from aligning the two (:mod:`declutter.align`).
2. *JSON Lines* (``.jsonl`` or ``.jsonl.gz``), one page per line:
   ``{"lines": [...], "labels": [1, 0, ...]}``; 1 is content, 0 chrome, -1 or null unlabelled.
   Optional fields: ``id``, ``group`` (pages of one site), ``style``, ``page_type``, ``lang``,
   and ``clean`` (the gold main text, used by ``declutter eval`` for word F1).
3. *drafts*: ``NAME.draft.txt``, the page with a keep or drop mark before every line, as
   ``declutter label`` writes it and a person corrects it (:mod:`declutter.drafts`).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from declutter.align import CHROME, CONTENT, UNLABELLED, align_lines
from declutter.drafts import DRAFT_SUFFIX, parse_draft
from declutter.errors import DeclutterError, TrainingDataError
from declutter.lines import body, split_lines
from declutter.textio import decode

CLEAN_SUFFIX = ".clean.txt"
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz")
LABEL_VALUES = frozenset({CONTENT, CHROME, UNLABELLED, None})  # what a JSONL label may be


@dataclass(frozen=True)
class LabelledPage:
    """A page dump with a label per line (content 1, chrome 0, unlabelled -1)."""

    page_id: str
    text: str
    labels: npt.NDArray[np.int8]
    group: str
    style: str = ""
    page_type: str = ""
    lang: str = ""
    clean: str | None = None  # the gold main text when known

    @property
    def gold(self) -> str:
        """The reference text: the gold main text, else the content lines."""
        if self.clean is not None:
            return self.clean
        lines = split_lines(self.text)
        return "\n".join(
            body(line) for line, lab in zip(lines, self.labels, strict=True) if lab == CONTENT
        )


def read_pair(raw_path: Path, clean_path: Path) -> LabelledPage:
    """A page from a raw dump and its hand-cleaned copy."""
    text = _read_text(raw_path)
    clean = _read_text(clean_path)
    lines = [body(line) for line in split_lines(text)]
    alignment = align_lines(lines, clean)
    # The group is the file name, not the path typed: splits must not depend on the caller.
    return LabelledPage(str(raw_path), text, alignment.labels, group=raw_path.name, clean=clean)


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise TrainingDataError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise TrainingDataError(f"{path}: cannot read ({exc.strerror})") from None


def read_draft(path: Path) -> LabelledPage:
    """A page from a (corrected) draft; raises :class:`TrainingDataError` naming the file and
    line of a bad mark."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TrainingDataError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        draft = parse_draft(decode(data, str(path)).text, str(path))
    except DeclutterError as exc:
        raise TrainingDataError(str(exc)) from None
    return LabelledPage(str(path), draft.text, draft.labels, group=path.name)


def read_jsonl(path: Path) -> Iterator[LabelledPage]:
    """Pages from a JSON Lines file (gzip-compressed if it ends in ``.gz``)."""
    opener: Any = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                if line.strip():
                    yield _record(json.loads(line), f"{path}:{number}")
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TrainingDataError(f"{path}: unreadable JSON Lines ({exc})") from None


def _record(record: object, where: str) -> LabelledPage:
    if not isinstance(record, dict):
        raise TrainingDataError(f"{where}: a record must be a JSON object")
    lines, labels = record.get("lines"), record.get("labels")
    # Checked by type sets and joins, not per-item generators: a corpus has millions of lines.
    if not isinstance(lines, list) or not set(map(type, lines)) <= {str}:
        raise TrainingDataError(f"{where}: 'lines' must be a list of strings")
    if not isinstance(labels, list) or len(labels) != len(lines):
        raise TrainingDataError(f"{where}: 'labels' must be a list as long as 'lines'")
    if not set(map(type, labels)) <= {int, type(None)} or not set(labels) <= LABEL_VALUES:
        raise TrainingDataError(f"{where}: labels must be 1, 0, -1 or null")
    text = "\n".join(lines)
    if text.count("\n") != max(len(lines) - 1, 0) or "\r" in text:
        raise TrainingDataError(f"{where}: a line contains a line break")
    if None in labels:
        labels = [UNLABELLED if x is None else x for x in labels]
    arr = np.array(labels, dtype=np.int8)
    page_id = str(record.get("id") or where)
    clean = record.get("clean")
    return LabelledPage(
        page_id=page_id,
        text=text + "\n" if lines else "",
        labels=arr,
        group=str(record.get("group") or page_id.split("/")[0]),
        style=str(record.get("style") or ""),
        page_type=str(record.get("page_type") or ""),
        lang=str(record.get("lang") or ""),
        clean=clean if isinstance(clean, str) else None,
    )


def _is_jsonl(path: Path) -> bool:
    return path.name.endswith(JSONL_SUFFIXES)


def iter_pages(paths: Sequence[Path]) -> Iterator[LabelledPage]:
    """Labelled pages from files and folders (searched recursively), in sorted order.

    A file named twice, or both files of a ``NAME.txt`` + ``NAME.clean.txt`` pair, give the
    page once.
    """
    seen: set[Path] = set()
    for path in paths:
        key = path.resolve()
        if path.name.endswith(CLEAN_SUFFIX):
            key = key.with_name(path.name[: -len(CLEAN_SUFFIX)] + ".txt")
        if path.is_file() and key in seen:
            continue
        seen.add(key)
        if path.is_dir():
            yield from _from_dir(path)
        elif _is_jsonl(path):
            yield from read_jsonl(path)
        elif path.name.endswith(DRAFT_SUFFIX):
            yield read_draft(path)
        elif path.name.endswith(CLEAN_SUFFIX):
            raw = path.with_name(path.name[: -len(CLEAN_SUFFIX)] + ".txt")
            yield read_pair(raw, path)
        elif path.suffix == ".txt":
            clean = path.with_name(path.stem + CLEAN_SUFFIX)
            if not clean.is_file():
                raise TrainingDataError(f"{path}: no {clean.name} beside it to label it")
            yield read_pair(path, clean)
        elif not path.exists():
            raise TrainingDataError(f"no such file or folder: {path}")
        else:
            raise TrainingDataError(f"{path}: not a .txt pair, a .jsonl file or a .draft.txt")


def _from_dir(folder: Path) -> Iterator[LabelledPage]:
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        if _is_jsonl(path):
            yield from read_jsonl(path)
        elif path.name.endswith(DRAFT_SUFFIX):
            yield read_draft(path)
        elif path.name.endswith(CLEAN_SUFFIX):
            raw = path.with_name(path.name[: -len(CLEAN_SUFFIX)] + ".txt")
            if not raw.is_file():
                raise TrainingDataError(f"{path}: no raw dump {raw.name} beside it")
            yield read_pair(raw, path)


def load_pages(paths: Sequence[Path]) -> list[LabelledPage]:
    """All labelled pages under ``paths``; raises :class:`TrainingDataError` when there are none."""
    pages = list(iter_pages(paths))
    if not pages:
        raise TrainingDataError(
            "no labelled pages found (expected NAME.txt + NAME.clean.txt pairs, .jsonl files "
            "or NAME.draft.txt drafts)"
        )
    return pages
