"""Site context: in how many of a site's *other* pages each line of a page occurs.

Boilerplate repeats across a site's pages (footers, disclaimers, newsletter appeals that read
as prose, "related" lists); content rarely does. A batch is read twice: the first pass counts,
per site, in how many pages each line key occurs (:class:`SiteIndex`); the second cleans each
page with the share of its site's other pages holding each of its lines
(:meth:`SiteIndex.shares`), which the model's site stage turns into a change of the line's
log-odds (:class:`SiteStageParams`). Counts are sums over pages, so they do not depend on the
order the pages came in or on how the batch is split among processes.

Keys
    A line's *exact* key is its text without the line ending, whitespace runs collapsed and
    lower-cased; its *masked* key is the same with every digit written ``0`` (dates, counts and
    prices vary from page to page). Lines with nothing but whitespace have no key. Keys are
    hashed to 64 bits with BLAKE2b (the same in every process and run, unlike ``hash``); two
    different lines share a hash with probability about ``2**-64`` per pair.

Pages
    A page is counted once per site however often its exact text occurs (the same page fetched
    under two URLs is not another page of the site), and once per key however often the line
    occurs on it. The shares of a page exclude the page itself: with no other page of its site,
    a page has no site context and is cleaned exactly as alone.

Memory (per site)
    A site's counts are exact while it has at most :data:`EXACT_KEYS` distinct keys (a Python
    dict, about 100 bytes a key: at most ~1 MB). Past that the site's table becomes a
    count-min sketch of :data:`SKETCH_DEPTH` x :data:`SKETCH_WIDTH` 32-bit counters (1 MiB),
    whatever the site's size. A count-min sketch never undercounts; it overcounts a key by at
    most ``e / SKETCH_WIDTH`` of all the increments it holds with probability at least
    ``1 - e**-SKETCH_DEPTH`` (98%), so a share is too high by at most ``e * K / 65536``, where
    ``K`` is the mean number of distinct keys per page (about 0.02 for pages of 250 lines).
    Each site also keeps a 16-byte digest per distinct page (about 100 bytes in a set). In all:
    about ``sites x 1 MB + pages x 100 bytes`` at most, independent of the pages' length.
    Which of the two tables a site ends with depends only on its final number of keys, so the
    counts are the same in any page order.

The site of a page is the host of its URL (:func:`site_of_url`: lower-cased, without a
leading ``www.``) or, for files, their folder.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt

from declutter.lines import split_lines

F32 = npt.NDArray[np.float32]
U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]

# Distinct keys a site's table holds exactly; past it, a count-min sketch. 2**13 keys are
# about 1 MB in a dict (~100 bytes a key), the sketch's own size: 20-40 pages of a few hundred
# lines. Every WCXB site (at most ~10 pages) and the benchmark's 30-page site stay exact.
EXACT_KEYS = 1 << 13
# Four rows of 2**16 counters: each row's column is one 16-bit slice of the 64-bit key.
SKETCH_DEPTH = 4
SKETCH_BITS = 16
SKETCH_WIDTH = 1 << SKETCH_BITS
_DIGIT = re.compile(r"\d")
_EXACT = b"exact"  # BLAKE2b personalization: the two kinds of key never share a hash
_MASKED = b"masked"
_MASKED_FLIP = 0x9E3779B97F4A7C15  # any constant: the 64-bit golden ratio
# The site stage's inputs, per row: the largest share over the row's lines.
SITE_FEATURES = ("share_exact", "share_masked")


def _digest(text: str, person: bytes) -> bytes:
    return hashlib.blake2b(
        text.encode("utf-8", "surrogatepass"), digest_size=8, person=person
    ).digest()


def line_keys(lines: Sequence[str]) -> tuple[U64, U64, npt.NDArray[np.bool_]]:
    """The exact and masked keys of each line, shape ``(len(lines),)`` each, and which lines
    have keys (lines of whitespace only have none; their keys read 0)."""
    # str.split() drops the line ending with the other whitespace. A page repeats many lines
    # (blank ones, menus): each distinct one is hashed once.
    seen: dict[str, int] = {}
    index = np.zeros(len(lines), dtype=np.int64)
    exact_digests: list[bytes] = [bytes(8)]
    masked_digests: list[bytes] = [b""]
    for i, line in enumerate(lines):
        text = " ".join(line.lower().split())
        k = seen.get(text)
        if k is None:
            k = seen[text] = len(exact_digests) if text else 0
            if text:
                exact_digests.append(_digest(text, _EXACT))
                digits = _DIGIT.search(text) is not None
                masked_digests.append(_digest(_DIGIT.sub("0", text), _MASKED) if digits else b"")
        index[i] = k
    exact = np.frombuffer(b"".join(exact_digests), dtype="<u8").astype(np.uint64)
    # A line without digits is its own masked text: its masked key is its exact key with the
    # masked flag bits flipped (one hash, not two; the masked namespace stays apart).
    masked = exact ^ np.uint64(_MASKED_FLIP)
    with_digits = np.array([len(d) > 0 for d in masked_digests])
    masked[with_digits] = np.frombuffer(b"".join(masked_digests), dtype="<u8")
    masked[0] = 0  # lines without a key
    return exact[index], masked[index], index > 0


def page_digest(text: str) -> bytes:
    """A page's identity for counting it once: 16 bytes of BLAKE2b of its text."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def page_keys(text: str) -> tuple[bytes, U64]:
    """A page's :func:`page_digest` and its distinct line keys, exact and masked, sorted."""
    exact, masked, has = line_keys(split_lines(text))
    return page_digest(text), np.unique(np.concatenate([exact[has], masked[has]]))


@dataclass(frozen=True)
class LineShares:
    """Per line of one page (as :func:`declutter.lines.split_lines` splits it): the share of
    the site's other pages holding an equal line, exactly and with digits masked, in [0, 1];
    ``others`` is how many other pages the site has (at least 1)."""

    exact: F32
    masked: F32
    others: int


class SiteCounts:
    """In how many pages of one site each line key occurs (see the module docstring for the
    memory bound and the sketch's error)."""

    def __init__(self) -> None:
        self.pages = 0
        self._digests: set[bytes] = set()
        self._exact: dict[int, int] | None = {}
        self._sketch: npt.NDArray[np.uint32] | None = None

    @property
    def exact(self) -> bool:
        """Whether the counts are exact (else a count-min sketch)."""
        return self._sketch is None

    def add(self, text: str) -> bool:
        """Count a page; returns False (and counts nothing) when its text was counted before."""
        return self.add_keys(*page_keys(text))

    def add_keys(self, digest: bytes, keys: U64) -> bool:
        """Count a page given by its :func:`page_keys` (computed elsewhere, e.g. in a worker
        process); as :meth:`add`."""
        if digest in self._digests:
            return False
        self._digests.add(digest)
        self.pages += 1
        if self._exact is not None:
            table = self._exact
            for key in keys.tolist():
                table[key] = table.get(key, 0) + 1
            if len(table) > EXACT_KEYS:
                self._to_sketch()
        else:
            self._sketch_add(keys, np.ones(len(keys), dtype=np.uint32))
        return True

    def has_page(self, text: str) -> bool:
        """Whether this page's text was counted."""
        return page_digest(text) in self._digests

    def _to_sketch(self) -> None:
        assert self._exact is not None
        self._sketch = np.zeros((SKETCH_DEPTH, SKETCH_WIDTH), dtype=np.uint32)
        keys = np.fromiter(self._exact.keys(), dtype=np.uint64, count=len(self._exact))
        counts = np.fromiter(self._exact.values(), dtype=np.uint32, count=len(self._exact))
        self._exact = None
        self._sketch_add(keys, counts)

    def _sketch_add(self, keys: U64, counts: npt.NDArray[np.uint32]) -> None:
        assert self._sketch is not None
        for row in range(SKETCH_DEPTH):
            np.add.at(self._sketch[row], _column(keys, row), counts)

    def counts(self, keys: U64) -> I64:
        """In how many counted pages each key occurs (an upper bound once sketched)."""
        if self._exact is not None:
            table = self._exact
            return np.array([table.get(k, 0) for k in keys.tolist()], dtype=np.int64)
        assert self._sketch is not None
        rows = [self._sketch[row][_column(keys, row)] for row in range(SKETCH_DEPTH)]
        return np.asarray(np.min(rows, axis=0), dtype=np.int64)

    def shares(self, text: str) -> LineShares | None:
        """The shares of ``text``'s lines among the *other* counted pages; None when the site
        has no other page. ``text`` need not have been counted (if it was, it is left out)."""
        own = 1 if self.has_page(text) else 0
        others = self.pages - own
        if others <= 0:
            return None
        exact, masked, has = line_keys(split_lines(text))
        share_exact = np.zeros(len(has), dtype=np.float32)
        share_masked = np.zeros(len(has), dtype=np.float32)
        # A key on the page counts it once: subtract it when the page itself was counted.
        share_exact[has] = np.clip(self.counts(exact[has]) - own, 0, others) / others
        share_masked[has] = np.clip(self.counts(masked[has]) - own, 0, others) / others
        return LineShares(share_exact, share_masked, others)


def _column(keys: U64, row: int) -> I64:
    column = (keys >> np.uint64(SKETCH_BITS * row)) & np.uint64(SKETCH_WIDTH - 1)
    return np.asarray(column, dtype=np.int64)


class SiteIndex:
    """Per-site line counts of a batch of pages: the first of the two passes.

    >>> index = SiteIndex()
    >>> index.add("example.org", "Home\\nA story.\\nFooter\\n")
    >>> index.add("example.org", "Home\\nAnother story.\\nFooter\\n")
    >>> index.shares("example.org", "Home\\nA story.\\nFooter\\n").exact.tolist()
    [1.0, 0.0, 1.0]
    >>> index.shares("other.org", "Home\\n") is None
    True
    """

    def __init__(self) -> None:
        self.sites: dict[str, SiteCounts] = {}

    def add(self, site: str | None, text: str) -> None:
        """Count a page of ``site`` (None: a page of no known site, not counted)."""
        if site is not None:
            self.add_keys(site, *page_keys(text))

    def add_keys(self, site: str | None, digest: bytes, keys: U64) -> None:
        """Count a page of ``site`` given by its :func:`page_keys`."""
        if site is None:
            return
        counts = self.sites.get(site)
        if counts is None:
            counts = self.sites[site] = SiteCounts()
        counts.add_keys(digest, keys)

    def shares(self, site: str | None, text: str) -> LineShares | None:
        """The page's :class:`LineShares` among its site's other pages, or None when it has
        no site or its site no other page."""
        counts = self.sites.get(site) if site is not None else None
        return None if counts is None else counts.shares(text)

    @property
    def pages(self) -> int:
        return sum(c.pages for c in self.sites.values())

    @classmethod
    def of_pages(cls, pages: Iterable[tuple[str | None, str]]) -> SiteIndex:
        """The index of ``(site, text)`` pairs."""
        index = cls()
        for site, text in pages:
            index.add(site, text)
        return index


def site_of_url(url: object) -> str | None:
    """The site of a URL: its host, lower-cased, without a leading ``www.``; None when ``url``
    is not a string or has no host.

    >>> site_of_url("https://WWW.Example.org:8080/a?b")
    'example.org'
    >>> site_of_url("not a url") is None
    True
    """
    if not isinstance(url, str):
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    if not host:
        return None
    return host[4:] if host.startswith("www.") else host


def row_site_columns(
    shares: Sequence[LineShares | None], line_rows: I64, page_lines: I64, n_rows: int
) -> tuple[F32, npt.NDArray[np.bool_]]:
    """The site stage's inputs per row (:data:`SITE_FEATURES`: the largest share over the
    row's lines), shape ``(n_rows, 2)``, and which rows' pages have site context.

    ``shares`` has one entry per page of the batch; ``line_rows`` gives each line's row (-1
    for unscored lines) and ``page_lines`` the pages' line offsets, as in
    :class:`declutter.features.Features`.
    """
    n_lines = len(line_rows)
    per_line = np.zeros((n_lines, len(SITE_FEATURES)), dtype=np.float32)
    has_line = np.zeros(n_lines, dtype=bool)
    bounds = page_lines.tolist()
    for k, share in enumerate(shares):
        if share is None:
            continue
        lo, hi = bounds[k], bounds[k + 1]
        if len(share.exact) != hi - lo:
            raise ValueError(f"page {k}: shares for {len(share.exact)} lines, it has {hi - lo}")
        per_line[lo:hi, 0] = share.exact
        per_line[lo:hi, 1] = share.masked
        has_line[lo:hi] = True
    out = np.zeros((n_rows, len(SITE_FEATURES)), dtype=np.float32)
    has_row = np.zeros(n_rows, dtype=bool)
    scored = line_rows >= 0
    for c in range(len(SITE_FEATURES)):
        np.maximum.at(out[:, c], line_rows[scored], per_line[scored, c])
    has_row[line_rows[scored & has_line]] = True
    return out, has_row


@dataclass(frozen=True)
class SiteStageParams:
    """The site stage: ``z' = z + x @ coef`` for rows whose page has site context, where ``z``
    is the model's final log-odds and ``x`` the row's :data:`SITE_FEATURES`.

    No intercept: a row no other page shares keeps its log-odds, and a page without site
    context is untouched.
    """

    coef: F32  # shape (len(SITE_FEATURES),)
    features: tuple[str, ...] = SITE_FEATURES

    def apply(self, z: F32, x: F32, has_context: npt.NDArray[np.bool_]) -> F32:
        """The log-odds with site context, shape ``(n_rows,)``."""
        out = np.array(z, dtype=np.float32)
        out[has_context] += np.einsum("ij,j->i", x[has_context], self.coef).astype(np.float32)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"features": list(self.features), "coef": self.coef}

    @classmethod
    def from_dict(cls, raw: Any) -> SiteStageParams:
        """Validate a saved stage; raises ``ValueError`` when it does not fit this declutter."""
        if tuple(raw["features"]) != SITE_FEATURES:
            raise ValueError("site stage features differ from this declutter's")
        coef = np.asarray(raw["coef"], dtype=np.float32)
        if coef.shape != (len(SITE_FEATURES),) or not np.isfinite(coef).all():
            raise ValueError("site stage coefficients damaged")
        return cls(coef)


def share_error_bound(keys_per_page: float) -> float:
    """The count-min sketch's bound on a share's overestimate (probability >= 98%) for pages
    of ``keys_per_page`` distinct keys."""
    return math.e * keys_per_page / SKETCH_WIDTH
