"""Site context, measured: ``declutter clean --site-context`` against each page cleaned alone.

    python benchmarks/site_context.py [--corpus .cache/corpus] [--model MODEL]   # ~3 min

With site context the cleaner reads, for each line, the share of the site's *other* pages in
the batch holding an equal line (and the same with digits masked), and the model's site stage
moves the line's log-odds by it (:mod:`declutter.site`). This script measures it on:

- WCXB test pages whose site has other pages: pages come from the labelled corpus
  ``declutter corpus`` builds (html-text dumps; the site is the corpus' ``group``, the page's
  registered host); a test page's batch is its site's other pages from dev and test, their text
  only, never their gold, a page repeated byte for byte counted once. Test pages that are byte
  for byte dev pages are left out (the model was trained on them).
- a 30-page site written here, whose footer is a grammatical sentence on every page and whose
  one page quotes, on a line of its own and as content, a sentence of another page's body.

The model is ``--model`` (its site stage), or by default the shipped model; a model without a
site stage gets one fitted here exactly as ``declutter train`` fits it
(:func:`declutter.site_fit.fit_site_stage`) on the WCXB dev pages of the corpus, all styles.
Figures: mean word F1 against the gold, by page type, alone and with site context, and the
paired difference with its standard error; the time of the counting pass against cleaning.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C

from declutter.cleaner import Cleaner
from declutter.data import LabelledPage, read_jsonl
from declutter.metrics import word_scores
from declutter.model import LineModel, load_model
from declutter.site import SITE_FEATURES, SiteIndex

STYLE = "html-text"
DEFAULT_CORPUS = C.ROOT / ".cache" / "corpus"


def with_site_stage(
    model: LineModel, dev: list[LabelledPage], templates: bool = True
) -> tuple[LineModel, str]:
    """The model, with a site stage fitted on ``dev`` when it has none; and how it got it."""
    if model.site is not None:
        return model, "the model's own site stage"
    from declutter.site_fit import fit_site_stage

    stage, summary = fit_site_stage(model, dev, templates=templates)
    if stage is None:
        raise SystemExit("no site of the dev pages has two pages: nothing to fit")
    how = (
        f"a site stage fitted here on the model as `declutter train` fits it: {summary['rows']} "
        f"rows of {summary['pages']} WCXB dev pages in {summary['sites']} (site, dump style) "
        f"batches of two pages or more and {summary['template_sites']} template sites "
        "(declutter.site_fit.template_batches)"
    )
    return dataclasses.replace(model, site=stage), how


def paired_row(name: str, pairs: np.ndarray) -> str:
    diff = pairs[:, 1] - pairs[:, 0]
    se = diff.std(ddof=1) / math.sqrt(len(diff)) if len(diff) > 1 else float("nan")
    return (
        f"| {name} | {len(pairs)} | {pairs[:, 0].mean():.3f} | {pairs[:, 1].mean():.3f} "
        f"| {diff.mean():+.4f} ({se:.4f}) | {int((diff > 0).sum())} / {int((diff < 0).sum())} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=C.BENCHMARKS_MD)
    parser.add_argument(
        "--no-templates", action="store_true", help="fit the stage on real sites only"
    )
    args = parser.parse_args(argv)

    dev_all = list(read_jsonl(args.corpus / "train/wcxb-dev.jsonl.gz"))
    test = [p for p in read_jsonl(args.corpus / "test/wcxb-test.jsonl.gz") if p.style == STYLE]
    model, how = with_site_stage(load_model(args.model), dev_all, not args.no_templates)
    dev = [p for p in dev_all if p.style == STYLE]
    cleaner = Cleaner(model)

    # The batch: every dev and test page's text, by site; a page's shares leave itself out.
    index = SiteIndex.of_pages((p.group, p.text) for p in [*dev, *test])
    dev_texts = {p.text for p in dev}
    in_dev = sum(p.text in dev_texts for p in test)
    seen: set[str] = set()
    evaluated = []
    for page in test:
        counts = index.sites[page.group]
        if page.text in dev_texts or page.text in seen or counts.pages < 2:
            continue
        seen.add(page.text)
        evaluated.append(page)
    texts = [p.text for p in evaluated]
    start = time.perf_counter()
    alone = cleaner.clean_many(texts)
    t_alone = time.perf_counter() - start
    start = time.perf_counter()
    timed = SiteIndex.of_pages((p.group, p.text) for p in [*dev, *test])
    t_count = time.perf_counter() - start
    site_cleaner = Cleaner(model, site_index=timed)
    start = time.perf_counter()
    with_site = [r.text for r in site_cleaner.process(texts, [p.group for p in evaluated])]
    t_site = time.perf_counter() - start
    by_type: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for page, a, s in zip(evaluated, alone, with_site, strict=True):
        pair = (word_scores(a, page.gold).f1, word_scores(s, page.gold).f1)
        by_type[page.page_type or "unknown"].append(pair)
        by_type["all"].append(pair)
    n_pages = len(dev) + len(test)
    coef = ", ".join(
        f"{name} {w:+.2f}"
        for name, w in zip(SITE_FEATURES, model.site.coef, strict=True)  # type: ignore[union-attr]
    )
    lines = [
        f"Measured {C.environment()}. Model: {args.model or 'the shipped model'}, with {how}; "
        f"site stage weights {coef} (added to the line's log-odds; no intercept). "
        f"Evaluated on the {len(evaluated)} WCXB test pages ({STYLE} dumps) whose site has "
        f"other pages in dev or test, each cleaned with its site's other pages as the batch "
        f"(text only). {in_dev} of WCXB's {len(test)} test pages are byte for byte dev pages "
        "(the same URL and HTML in both splits): they are left out, and a page is counted once "
        "in its site however often it occurs. Without site context the output is "
        "`declutter clean`'s.",
        "",
        "| page type | pages | word F1 alone | with site context | difference (SE) "
        "| pages better / worse |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name in ["all", *sorted(k for k in by_type if k != "all")]:
        lines.append(paired_row(name, np.array(by_type[name])))
    lines += [
        "",
        f"Time, one process: the counting pass over all {n_pages} dev and test pages "
        f"{t_count:.2f} s; cleaning the {len(evaluated)} evaluated pages alone {t_alone:.2f} s, "
        f"with site context {t_site:.2f} s.",
        "",
        *synthetic_table(model),
    ]
    C.replace_section(args.out, "site-context", "\n".join(lines), "Site context")
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


def synthetic_table(model: LineModel) -> list[str]:
    """Word F1 on the written site, alone and with site context; is the quote kept?"""
    pages = synthetic_site()
    texts = [text for text, _ in pages]
    cleaner = Cleaner(model)
    outs = [cleaner.clean_many(texts), cleaner.clean_site(texts)]
    quoted = pages[QUOTED_PAGE][1].split("\n\n")[1].split(". ")[0] + "."
    f1 = [np.mean([word_scores(o, gold).f1 for o, (_, gold) in zip(out, pages, strict=True)])
          for out in outs]  # fmt: skip
    footer = [sum(FOOTER in o for o in out) for out in outs]
    quote = ["yes" if f"{quoted}\n" in out[QUOTING_PAGE] else "no" for out in outs]
    return [
        f"A {SYNTHETIC_PAGES}-page site written for this benchmark (its footer a grammatical "
        "sentence on every page; one page quotes a sentence of another page's body on a line "
        "of its own, as content), cleaned with `Cleaner.clean_site`:",
        "",
        "| | alone | with site context |",
        "| --- | --- | --- |",
        f"| mean word F1 | {f1[0]:.3f} | {f1[1]:.3f} |",
        f"| pages keeping the footer sentence | {footer[0]} | {footer[1]} |",
        f"| the quoted sentence kept | {quote[0]} | {quote[1]} |",
    ]


if __name__ == "__main__":
    raise SystemExit(main())
