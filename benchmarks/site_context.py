"""Site context, measured: does "how many of this site's other pages have this line" help?

    python benchmarks/site_context.py [--corpus .cache/corpus]   # ~3 min

An experiment, not a shipped feature: the shipped model is left as it is. On top of its logit
for each row, a small logistic stage takes what the site's *other* pages share with the row:

- ``share_exact``: the share of the site's other pages holding a line equal to one of the
  row's lines (whitespace collapsed, lower-cased);
- ``share_masked``: the same with every digit masked (dates, counts, prices vary);
- ``any_exact``: whether any other page holds it.

Pages come from the labelled corpus ``declutter corpus`` builds (html-text dumps of WCXB; the
site is the corpus' ``group``, the page's registered host). The stage is fitted on the rows of
WCXB dev pages whose site has other dev pages (their text only), and evaluated on the WCXB test
pages whose site has other pages in dev or test: the batch is those other pages' text, never
their gold. Rows are decoded as ``declutter clean`` decodes them (the model's threshold and
smoothing); the figures are mean word F1 against the gold, by page type, with and without the
stage, and the paired difference with its standard error. A page with no other page of its
site gets no stage (and so exactly today's output).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C

from declutter.cleaner import Cleaner, _fill_unscored, _keep_line_ends_apart
from declutter.data import LabelledPage, read_jsonl
from declutter.decoder import viterbi_decode
from declutter.features import Features, featurize
from declutter.lines import body, split_lines
from declutter.metrics import word_scores

STYLE = "html-text"
DEFAULT_CORPUS = C.ROOT / ".cache" / "corpus"
_DIGIT = re.compile(r"\d")
F32 = npt.NDArray[np.float32]
FEATURES = ("logit", "share_exact", "share_masked", "any_exact", "logit x share_exact")
OFFSET_COLUMNS = [1, 2, 3]  # the site columns the offset stage adds to the shipped logit


def line_keys(line: str) -> tuple[str, str]:
    """A line's exact and digits-masked keys (whitespace collapsed, lower-cased)."""
    exact = " ".join(body(line).split()).lower()
    return exact, _DIGIT.sub("0", exact)


class SiteCounts:
    """In how many pages of a site each line key occurs (each page counted once per key).

    The experiment keeps exact counts (a site here has at most a few dozen pages); a crawl
    would cap each site's table or use a count-min sketch, counts being all the stage needs.
    """

    def __init__(self) -> None:
        self.pages = 0
        self.exact: Counter[str] = Counter()
        self.masked: Counter[str] = Counter()
        self.texts: set[int] = set()

    def add(self, text: str) -> None:
        """Count a page's lines; a page whose text was already counted counts once (the same
        page fetched twice is not another page of the site)."""
        if hash(text) in self.texts:
            return
        self.texts.add(hash(text))
        keys = [line_keys(line) for line in split_lines(text)]
        self.pages += 1
        self.exact.update({k for k, _ in keys if k})
        self.masked.update({m for _, m in keys if m})

    def shares(self, text: str, counted: bool) -> tuple[F32, F32]:
        """Per line of ``text``: the share of the site's *other* pages holding it (exact,
        masked). ``counted``: ``text`` was added to these counts itself (subtracted)."""
        others = self.pages - (1 if counted else 0)
        lines = split_lines(text)
        exact = np.zeros(len(lines), np.float32)
        masked = np.zeros(len(lines), np.float32)
        if others <= 0:
            return exact, masked
        own = 1 if counted else 0  # the page's own keys were counted once each
        for i, line in enumerate(lines):
            k, m = line_keys(line)
            if k:
                exact[i] = (self.exact[k] - own) / others
                masked[i] = (self.masked[m] - own) / others
        return exact, masked


def row_max(values: F32, line_rows: npt.NDArray[np.int64], n_rows: int) -> F32:
    """Per row, the largest value among its lines."""
    out = np.zeros(n_rows, np.float32)
    scored = line_rows >= 0
    np.maximum.at(out, line_rows[scored], values[scored])
    return out


def fit_offset(site: F32, z: F32, y: npt.NDArray[np.int8], weight: F32) -> npt.NDArray[np.float64]:
    """Weights ``w`` of a logistic model ``z + site @ w`` (the shipped logit as a fixed offset,
    no intercept): a row no other page shares keeps its logit, so its decision is unchanged."""
    from scipy.optimize import minimize

    t = y.astype(np.float64)
    sw = weight.astype(np.float64) / weight.sum()

    def loss(w: npt.NDArray[np.float64]) -> tuple[float, npt.NDArray[np.float64]]:
        u = z + site @ w
        p = 1.0 / (1.0 + np.exp(-u))
        value = float(np.sum(sw * (np.logaddexp(0.0, u) - t * u)))
        return value, site.T @ (sw * (p - t))

    return np.asarray(minimize(loss, np.zeros(site.shape[1]), jac=True, method="L-BFGS-B").x)


def stage_columns(z: F32, exact: F32, masked: F32) -> F32:
    return np.column_stack([z, exact, masked, (exact > 0).astype(np.float32), z * exact]).astype(
        np.float32
    )


def page_rows_features(
    cleaner: Cleaner, page: LabelledPage, shares: tuple[F32, F32]
) -> tuple[F32, F32, Features]:
    """The page's row logits from the shipped model, its stage columns, and its features."""
    features = featurize([page.text])
    z = cleaner.model.logits(features)
    exact = row_max(shares[0], features.line_rows, features.n_rows)
    masked = row_max(shares[1], features.line_rows, features.n_rows)
    return z, stage_columns(z, exact, masked), features


def clean_with_logits(cleaner: Cleaner, text: str, f: Features, z: F32) -> str:
    """What ``Cleaner.process`` writes for one page, from the given row logits."""
    keep_rows = viterbi_decode(z, f.page_rows, cleaner.threshold, cleaner.smoothing)
    rows = f.line_rows
    scored = rows >= 0
    keep = np.zeros(len(rows), dtype=bool)
    keep[scored] = keep_rows[rows[scored]]
    keep = _fill_unscored(keep, scored, f.line_blank, f.page_lines)
    lines = split_lines(text)
    if "\r" in text:
        _keep_line_ends_apart(lines, keep)
    return "".join(line for line, k in zip(lines, keep.tolist(), strict=True) if k)


def load(corpus: Path, name: str) -> list[LabelledPage]:
    pages = [p for p in read_jsonl(corpus / name) if p.style == STYLE]
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--out", type=Path, default=C.BENCHMARKS_MD)
    args = parser.parse_args(argv)
    from declutter.train import row_labels

    dev = load(args.corpus, "train/wcxb-dev.jsonl.gz")
    test = load(args.corpus, "test/wcxb-test.jsonl.gz")
    cleaner = Cleaner()
    # Training: dev pages whose site has other dev pages; counts from dev text only.
    dev_sites: dict[str, SiteCounts] = defaultdict(SiteCounts)
    for page in dev:
        dev_sites[page.group].add(page.text)
    xs, ys, ws = [], [], []
    n_fit_pages = 0
    for page in dev:
        site = dev_sites[page.group]
        if site.pages < 2:
            continue
        n_fit_pages += 1
        z, x, features = page_rows_features(cleaner, page, site.shares(page.text, counted=True))
        y = row_labels(features, page.labels)
        xs.append(x[y >= 0])
        ys.append(y[y >= 0])
        ws.append(features.row_words[y >= 0])
    X, Y, W = np.concatenate(xs), np.concatenate(ys), np.concatenate(ws)
    stage = LogisticRegression(C=1.0, max_iter=1000).fit(X, Y)
    offset_w = fit_offset(X[:, OFFSET_COLUMNS], X[:, 0], Y, W)
    # Evaluation: test pages whose site has other pages in dev or test (their text only).
    all_sites: dict[str, SiteCounts] = defaultdict(SiteCounts)
    for page in [*dev, *test]:
        all_sites[page.group].add(page.text)
    by_type: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    same = 0
    dev_texts = {page.text for page in dev}
    in_dev = sum(page.text in dev_texts for page in test)
    for page in test:
        site = all_sites[page.group]
        if site.pages < 2 or page.text in dev_texts:
            continue
        z, x, features = page_rows_features(cleaner, page, site.shares(page.text, counted=True))
        base = clean_with_logits(cleaner, page.text, features, z)
        same += base == cleaner.clean(page.text)
        new_z = stage.decision_function(x).astype(np.float32)
        with_site = clean_with_logits(cleaner, page.text, features, new_z)
        offset_z = (z + x[:, OFFSET_COLUMNS] @ offset_w).astype(np.float32)
        with_offset = clean_with_logits(cleaner, page.text, features, offset_z)
        scores = (
            word_scores(base, page.gold).f1,
            word_scores(with_site, page.gold).f1,
            word_scores(with_offset, page.gold).f1,
        )
        by_type[page.page_type or "unknown"].append(scores)
        by_type["all"].append(scores)
    n_eval = len(by_type["all"])
    assert same == n_eval, "the experiment's decoding must equal declutter clean's"
    lines = [
        f"Measured {C.environment()}. The stage was fitted on {len(Y)} rows of {n_fit_pages} "
        f"WCXB dev pages ({STYLE} dumps) whose site has other dev pages, and evaluated on the "
        f"{n_eval} WCXB test pages whose site has other pages in dev or test. {in_dev} of WCXB's "
        f"{len(test)} test pages are byte for byte dev pages (the same URL and HTML under the "
        "same file name in both splits): they are left out of the evaluation, and a page is "
        "counted once in its site however often it occurs. Without the stage "
        "the output is exactly `declutter clean`'s (checked page by page). Coefficients: "
        + ", ".join(
            f"{name} {coef:+.2f}" for name, coef in zip(FEATURES, stage.coef_[0], strict=True)
        )
        + f", intercept {stage.intercept_[0]:+.2f} (the free stage); the offset stage adds "
        + ", ".join(
            f"{FEATURES[c]} {w:+.2f}" for c, w in zip(OFFSET_COLUMNS, offset_w, strict=True)
        )
        + " to the shipped logit (rows weighted by their words, no intercept).",
        "",
        "| page type | pages | word F1 alone | free stage | difference (SE) | offset stage "
        "| difference (SE) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name in ["all", *sorted(k for k in by_type if k != "all")]:
        pairs = np.array(by_type[name])
        cells = [f"{name}", f"{len(pairs)}", f"{pairs[:, 0].mean():.3f}"]
        for k in (1, 2):
            diff = pairs[:, k] - pairs[:, 0]
            se = diff.std(ddof=1) / math.sqrt(len(diff)) if len(diff) > 1 else float("nan")
            cells += [f"{pairs[:, k].mean():.3f}", f"{diff.mean():+.4f} ({se:.4f})"]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", *synthetic_table(cleaner, stage, offset_w)]
    C.replace_section(args.out, "site-context", "\n".join(lines), "Site context (experiment)")
    return 0


# --- a site written for this benchmark ----------------------------------------------------------
SYNTHETIC_PAGES = 30
QUOTING_PAGE, QUOTED_PAGE = 7, 3  # page 7 quotes a sentence of page 3's body, as content
FOOTER = (
    "The Valley Herald is an independent newsroom, and we rely on readers like you to keep "
    "reporting on the towns along the river."
)
NAV = ["Skip to content", "The Valley Herald", "News", "Sport", "Opinion", "Subscribe", ""]
SUBJECTS = ("The council", "Local farmers", "The school board", "Residents of Millbrook",
            "The regional hospital", "A group of volunteers", "The ferry operator",
            "Shop owners on Bridge Street")  # fmt: skip
VERBS = ("approved", "questioned", "welcomed", "delayed", "funded", "opposed", "reviewed")
OBJECTS = ("a plan to widen the old stone bridge", "the new timetable for the morning buses",
           "a proposal to reopen the swimming pool", "the budget for flood defences",
           "a study of traffic near the primary school", "the sale of the former mill")  # fmt: skip
WHEN = ("on Tuesday evening", "after a long meeting", "for the second time this year",
        "despite heavy rain", "before the summer holidays")  # fmt: skip


def synthetic_site(seed: int = 7) -> list[tuple[str, str]]:
    """(page text, gold) for a 30-page site whose footer is a grammatical sentence and whose
    page :data:`QUOTING_PAGE` quotes a sentence of page :data:`QUOTED_PAGE`'s body."""
    rng = np.random.default_rng(seed)

    def sentence() -> str:
        parts = [str(rng.choice(w)) for w in (SUBJECTS, VERBS, OBJECTS, WHEN)]
        return " ".join(parts) + "."

    bodies = [[" ".join(sentence() for _ in range(3)) for _ in range(4)] for _ in range(30)]
    quoted = bodies[QUOTED_PAGE][1].split(". ")[0] + "."
    bodies[QUOTING_PAGE][2] = f"As we reported last week: {quoted}"
    bodies[QUOTING_PAGE].insert(3, quoted)  # the quoted sentence on a line of its own
    pages = []
    for k, body_lines in enumerate(bodies):
        title = f"{SUBJECTS[k % len(SUBJECTS)]} and the town: report number {k + 1}"
        gold = "\n\n".join(body_lines)
        text = "\n".join(
            [*NAV, title, f"Published {1 + k % 28} March 2024", "", gold, "", FOOTER,
             "© 2024 The Valley Herald", ""]
        )  # fmt: skip
        pages.append((text, gold))
    return pages


def synthetic_table(
    cleaner: Cleaner, stage: LogisticRegression, offset_w: npt.NDArray[np.float64]
) -> list[str]:
    """Word F1 on the written site, alone and with site context; is the quote kept?"""
    pages = synthetic_site()
    site = SiteCounts()
    for text, _ in pages:
        site.add(text)
    scores = []
    quote_kept = []
    quoted = pages[QUOTED_PAGE][1].split("\n\n")[1].split(". ")[0] + "."
    footer_kept = []
    for text, gold in pages:
        page = LabelledPage("synthetic", text, np.zeros(0, np.int8), "synthetic")
        z, x, features = page_rows_features(cleaner, page, site.shares(text, counted=True))
        outs = [
            clean_with_logits(cleaner, text, features, z),
            clean_with_logits(
                cleaner, text, features, stage.decision_function(x).astype(np.float32)
            ),
            clean_with_logits(
                cleaner, text, features, (z + x[:, OFFSET_COLUMNS] @ offset_w).astype(np.float32)
            ),
        ]
        scores.append([word_scores(o, gold).f1 for o in outs])
        footer_kept.append([FOOTER in o for o in outs])
        if text is pages[QUOTING_PAGE][0]:
            quote_kept = [f"{quoted}\n" in o for o in outs]
    mean = np.array(scores).mean(axis=0)
    kept = np.array(footer_kept).sum(axis=0)
    return [
        f"A {SYNTHETIC_PAGES}-page site written for this benchmark (its footer a grammatical "
        "sentence on every page; one page quotes a sentence of another page's body on a line "
        "of its own, as content):",
        "",
        "| | alone | free stage | offset stage |",
        "| --- | --- | --- | --- |",
        f"| mean word F1 | {mean[0]:.3f} | {mean[1]:.3f} | {mean[2]:.3f} |",
        f"| pages keeping the footer sentence | {kept[0]} | {kept[1]} | {kept[2]} |",
        "| the quoted sentence kept | "
        + " | ".join("yes" if q else "no" for q in quote_kept)
        + " |",
    ]


def shares_for(texts: Sequence[str], index: int) -> tuple[F32, F32]:
    """The shares of page ``index`` among ``texts`` (one site): for tests."""
    site = SiteCounts()
    for text in texts:
        site.add(text)
    return site.shares(texts[index], counted=True)


if __name__ == "__main__":
    raise SystemExit(main())
