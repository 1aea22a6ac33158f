"""Quality benchmark: declutter against the baselines on held-out pages, written to BENCHMARKS.md.

    python benchmarks/quality.py              # full run (~10 min the first time, dumps cached)
    python benchmarks/quality.py --limit 5 --out /tmp/b.md   # a quick slice (CI)

Test pages: WCXB's test split (never trained on) and the Readability pages held out from
training, each dumped in every style of ``declutter.corpus``. Systems, on the same dumps:
keep everything; the C4 line rules; jusText with each line a paragraph (if installed);
declutter with the shipped model at its default threshold and two other operating points; and,
for reference only, trafilatura on the HTML (it sees the DOM). Metrics: WCXB's mean per-page
word precision/recall/F1, the share of WCXB's "with" snippets present and "without" snippets
absent, and line precision/recall/F1 of the content class (lines labelled by aligning each dump
with the gold text, as for training).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C

from declutter.align import CHROME, CONTENT, WORD_PATTERN, align_lines
from declutter.cleaner import Cleaner
from declutter.lines import body, split_lines
from declutter.metrics import prf, word_scores
from declutter.model import load_model

OPERATING_POINT_STEP = 0.15  # the two extra declutter thresholds: default minus/plus this
CURVE_THRESHOLDS = tuple(np.round(np.arange(0.05, 0.96, 0.05), 2))
HEADLINE_STYLE = "html-text"
TRAFILATURA = "trafilatura (HTML)"
# Keeping exactly the lines aligned to the gold text: the best any line-by-line cleaner can do on
# a dump, short of 1 where a line mixes content and chrome or the alignment misses.
CEILING = "aligned lines (ceiling)"
# Worst pages (issue 15): a page under this word F1 has lost most of its text or kept mostly
# chrome; the low percentile says how bad the bad tail is, beside the mean.
FAILED_F1 = 0.5
LOW_PERCENTILE = 10
WORST_SHARE = 0.1  # the worst tenth of pages: what share of all lost F1 (1 - F1) they hold


@dataclass(frozen=True)
class PageScore:
    page_id: str
    source: str
    page_type: str
    precision: float
    recall: float
    f1: float
    with_rate: float | None
    without_rate: float | None
    tp: int
    fp: int
    fn: int
    # Words of chrome lines kept before the first content line, between content lines, and
    # after the last (when the line's word counts were given).
    chrome_kept: tuple[int, int, int] = (0, 0, 0)


def chrome_kept(
    keep: np.ndarray, labels: np.ndarray, line_words: np.ndarray
) -> tuple[int, int, int]:
    """Words of kept chrome lines before, among and after the content lines (see PageScore);
    on a page without content lines, all of them count as after."""
    content = np.flatnonzero(labels == CONTENT)
    wrong = keep & (labels == CHROME)
    at = np.arange(len(labels))
    before = wrong & (at < content[0]) if len(content) else np.zeros_like(wrong)
    after = wrong & (at > content[-1]) if len(content) else wrong
    among = wrong & ~before & ~after
    return (
        int(line_words[before].sum()),
        int(line_words[among].sum()),
        int(line_words[after].sum()),
    )


def score(
    page: C.TestPage,
    output: str,
    keep: Sequence[bool] | None,
    labels: np.ndarray | None,
    line_words: np.ndarray | None = None,
) -> PageScore:
    ws = word_scores(output, page.gold)
    words = C.word_string(output)
    with_rate = (
        float(np.mean([C.snippet_present(s, words) for s in page.with_snippets]))
        if page.with_snippets
        else None
    )
    without_rate = (
        float(np.mean([not C.snippet_present(s, words) for s in page.without_snippets]))
        if page.without_snippets
        else None
    )
    tp = fp = fn = 0
    where = (0, 0, 0)
    if keep is not None and labels is not None:
        k = np.asarray(keep, dtype=bool)
        tp = int(np.sum(k & (labels == CONTENT)))
        fp = int(np.sum(k & (labels == CHROME)))
        fn = int(np.sum(~k & (labels == CONTENT)))
        if line_words is not None:
            where = chrome_kept(k, labels, line_words)
    return PageScore(
        page.page_id,
        page.source,
        page.page_type,
        ws.precision,
        ws.recall,
        ws.f1,
        with_rate,
        without_rate,
        tp,
        fp,
        fn,
        where,
    )


def summarize(scores: Sequence[PageScore]) -> dict[str, float]:
    def mean(values: list[float]) -> float:
        return float(np.mean(values)) if values else float("nan")

    tp = sum(s.tp for s in scores)
    fp = sum(s.fp for s in scores)
    fn = sum(s.fn for s in scores)
    lp, lr, lf = prf(tp, fp, fn, empty=float("nan"))
    return {
        "pages": len(scores),
        "f1": mean([s.f1 for s in scores]),
        "precision": mean([s.precision for s in scores]),
        "recall": mean([s.recall for s in scores]),
        "median_f1": C.median([s.f1 for s in scores]),
        "with": mean([s.with_rate for s in scores if s.with_rate is not None]),
        "without": mean([s.without_rate for s in scores if s.without_rate is not None]),
        "line_f1": lf,
        "line_precision": lp,
        "line_recall": lr,
    }


def prf_row(name: str, m: dict[str, float]) -> str:
    return (
        f"| {name} | {m['pages']} | {fmt(m['f1'])} | {fmt(m['precision'])} | {fmt(m['recall'])} |"
    )


def fmt(x: float) -> str:
    return "–" if x != x else f"{x:.3f}"


def run(args: argparse.Namespace) -> tuple[str, str]:
    pages = C.load_test_pages(args.limit)
    model = load_model(args.model)
    default = model.threshold
    points = sorted(
        {
            round(min(max(default + d, 0.05), 0.95), 2)
            for d in (-OPERATING_POINT_STEP, 0.0, OPERATING_POINT_STEP)
        }
    )
    systems = ["keep everything", "C4 line rules", "jusText (lines)"] + [
        f"declutter t={t:.2f}" + (" (default)" if abs(t - default) < 1e-9 else "") for t in points
    ]
    results: dict[tuple[str, str], list[PageScore]] = defaultdict(list)
    curve: dict[float, list[PageScore]] = defaultdict(list)
    have_justext = C.justext_keep_mask("x\n", "en") is not None
    for style in C.STYLES + C.UNSEEN_STYLES:
        print(f"[quality] {style}: dumping {len(pages)} pages", file=sys.stderr, flush=True)
        texts = C.dumps(pages, style, args.jobs)
        labels = {
            p.page_id: align_lines([body(x) for x in split_lines(texts[p.page_id])], p.gold).labels
            for p in pages
        }
        for page in pages:
            text, lab = texts[page.page_id], labels[page.page_id]
            lines = split_lines(text)
            n = len(lines)
            results[(systems[0], style)].append(score(page, text, [True] * n, lab))
            gold = lab == CONTENT
            kept = "".join(x for x, k in zip(lines, gold, strict=True) if k)
            results[(CEILING, style)].append(score(page, kept, gold.tolist(), lab))
            mask = C.c4_keep_mask(text)
            results[(systems[1], style)].append(score(page, C.c4_clean(text), mask, lab))
            if have_justext:
                jt = C.justext_keep_mask(text, page.lang) or [False] * n
                out = "".join(x for x, k in zip(split_lines(text), jt, strict=True) if k)
                results[(systems[2], style)].append(score(page, out, jt, lab))
        for t, name in zip(points, systems[3:], strict=True):
            cleaner = Cleaner(model, threshold=t)
            for batch in C.chunks(pages, 128):
                outs = cleaner.process([texts[p.page_id] for p in batch])
                for page, res in zip(batch, outs, strict=True):
                    words = np.array([len(WORD_PATTERN.findall(x)) for x in res.lines])
                    results[(name, style)].append(
                        score(page, res.text, res.keep.tolist(), labels[page.page_id], words)
                    )
        if style == HEADLINE_STYLE:
            for t in CURVE_THRESHOLDS:
                cleaner = Cleaner(model, threshold=float(t))
                for batch in C.chunks(pages, 128):
                    outs = cleaner.process([texts[p.page_id] for p in batch])
                    for page, res in zip(batch, outs, strict=True):
                        curve[float(t)].append(score(page, res.text, None, None))
    trafilatura = C.cached_trafilatura(pages, args.jobs) if not args.no_trafilatura else None
    if trafilatura is not None:
        for page in pages:
            results[(TRAFILATURA, "html")].append(
                score(page, trafilatura[page.page_id], None, None)
            )
    if not have_justext:
        systems.remove("jusText (lines)")
    return report(pages, systems, points, default, results, curve, args), headline(results, default)


def report(
    pages: Sequence[C.TestPage],
    systems: list[str],
    points: list[float],
    default: float,
    results: dict[tuple[str, str], list[PageScore]],
    curve: dict[float, list[PageScore]],
    args: argparse.Namespace,
) -> str:
    def wcxb(scores: list[PageScore]) -> list[PageScore]:
        return [s for s in scores if s.source == "wcxb"]

    has_traf = (TRAFILATURA, "html") in results
    n_wcxb = sum(p.source == "wcxb" for p in pages)
    limit = f" --limit {args.limit}" if args.limit else ""
    out = [
        f"Measured {C.environment()}.",
        "",
        f"Command: `python benchmarks/quality.py{limit}`. "
        f"{n_wcxb} WCXB test pages (all with gold text) and "
        f"{len(pages) - n_wcxb} held-out Readability pages; each dumped in {len(C.STYLES)} styles "
        f"the model is trained on and {len(C.UNSEEN_STYLES)} it is not. "
        "Word scores are WCXB's (mean over pages); *with* / *without* are the shares of WCXB's "
        "must-appear snippets present and must-not-appear snippets absent; line scores count "
        "lines labelled by aligning each dump with the gold text.",
        "",
        f"### WCXB test, {HEADLINE_STYLE} dumps (the headline)",
        "",
        "| system | word F1 | word P | word R | median F1 | with | without "
        "| line P | line R | line F1 |",
        "| --- |" + " ---: |" * 9,
    ]
    rows = [(s, HEADLINE_STYLE) for s in [*systems, CEILING]]
    rows += [(TRAFILATURA, "html")] if has_traf else []
    for name, style in rows:
        m = summarize(wcxb(results[(name, style)]))
        out.append(
            f"| {name} | **{fmt(m['f1'])}** | {fmt(m['precision'])} | {fmt(m['recall'])} | "
            f"{fmt(m['median_f1'])} | {fmt(m['with'])} | {fmt(m['without'])} | "
            f"{fmt(m['line_precision'])} | {fmt(m['line_recall'])} | {fmt(m['line_f1'])} |"
        )
    out += ["", "### WCXB test, word F1 by dump style", ""]
    out.append("| system | " + " | ".join(C.STYLES) + " |")
    out.append("| --- |" + " ---: |" * len(C.STYLES))
    for name in [*systems, CEILING]:
        cells = [fmt(summarize(wcxb(results[(name, st)]))["f1"]) for st in C.STYLES]
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    if has_traf:
        f1 = fmt(summarize(wcxb(results[(TRAFILATURA, "html")]))["f1"])
        out.append(f"| {TRAFILATURA} | " + " | ".join([f1] * len(C.STYLES)) + " |")
    out += [
        "",
        "### WCXB test, word F1 on dump styles the model was not trained on",
        "",
        "`lynx-numbered`: `lynx -dump` as it is by default, each link's number before its text "
        "(`[12]Home`; the numbers count as words against the gold text) and the numbered link "
        "targets at the end. `markdown`: html2text's Markdown without wrapping, one line per "
        "paragraph. Beside them, the trained styles they are closest to.",
        "",
    ]
    near = ("lynx", "html2text")
    out.append("| system | " + " | ".join(C.UNSEEN_STYLES + near) + " |")
    out.append("| --- |" + " ---: |" * (len(C.UNSEEN_STYLES) + len(near)))
    for name in [*systems, CEILING]:
        cells = [fmt(summarize(wcxb(results[(name, st)]))["f1"]) for st in C.UNSEEN_STYLES + near]
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    types = sorted({p.page_type for p in pages if p.source == "wcxb"})
    out += ["", f"### WCXB test, word F1 by page type ({HEADLINE_STYLE} dumps)", ""]
    out.append(
        "| system | "
        + " | ".join(
            f"{t} ({sum(p.page_type == t and p.source == 'wcxb' for p in pages)})" for t in types
        )
        + " |"
    )
    out.append("| --- |" + " ---: |" * len(types))
    for name, style in rows:
        cells = []
        for t in types:
            sel = [s for s in wcxb(results[(name, style)]) if s.page_type == t]
            cells.append(fmt(summarize(sel)["f1"]))
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    ours = next(s for s in systems if s.endswith("(default)"))
    out += loss_table(results, ours, types)
    out += worst_table(results, ours, types)
    readability = [s for s in results[(systems[0], HEADLINE_STYLE)] if s.source == "readability"]
    if readability:
        out += ["", "### Readability pages held out from training (all dump styles pooled)", ""]
        out.append("| system | pages × styles | word F1 | word P | word R |")
        out.append("| --- | ---: | ---: | ---: | ---: |")
        for name in systems:
            sel = [s for st in C.STYLES for s in results[(name, st)] if s.source == "readability"]
            out.append(prf_row(name, summarize(sel)))
        if has_traf:
            sel = [s for s in results[(TRAFILATURA, "html")] if s.source == "readability"]
            out.append(prf_row(TRAFILATURA, summarize(sel)))
    out += [
        "",
        f"### declutter's threshold: precision against recall (WCXB test, {HEADLINE_STYLE})",
        "",
        f"The default threshold is {default:.2f}. Lower thresholds keep more (recall), higher keep "
        "less (precision).",
        "",
        "| threshold | word P | word R | word F1 |",
        "| ---: | ---: | ---: | ---: |",
    ]
    for point in sorted(curve):
        m = summarize(wcxb(curve[point]))
        mark = " (default)" if abs(point - default) < 0.026 else ""
        out.append(
            f"| {point:.2f}{mark} | {fmt(m['precision'])} | {fmt(m['recall'])} | {fmt(m['f1'])} |"
        )
    if args.plot and curve and plot_curve(curve, default, Path(args.plot)):
        link = os.path.relpath(Path(args.plot).resolve(), Path(args.out).resolve().parent)
        out += ["", f"![declutter precision-recall curve]({link})"]
    return "\n".join(out) + "\n"


def loss_table(
    results: dict[tuple[str, str], list[PageScore]], ours: str, types: list[str]
) -> list[str]:
    """Word precision and recall by page type beside the ceiling: whether declutter loses a
    type's F1 by keeping chrome or by dropping content, and how much line selection could get."""
    out = [
        "",
        f"### Where declutter loses word F1, by page type ({HEADLINE_STYLE} dumps, default "
        "threshold)",
        "",
        "*Ceiling*: the word F1 of keeping exactly the lines aligned to the gold text; under 1 "
        "where a line mixes content and chrome or the alignment misses words. *Share of "
        "ceiling*: declutter's F1 over the ceiling's. *Chrome kept before / among / after*: of "
        "the words on chrome lines that declutter keeps, the shares before the page's first "
        "content line, between content lines, and after its last.",
        "",
        "| page type | pages | word P | word R | word F1 | ceiling F1 | share of ceiling "
        "| chrome kept before / among / after |"
        + (" trafilatura P | trafilatura R |" if (TRAFILATURA, "html") in results else ""),
        "| --- |" + " ---: |" * (9 if (TRAFILATURA, "html") in results else 7),
    ]

    def pick(name: str, style: str, page_type: str) -> list[PageScore]:
        return [
            s
            for s in results.get((name, style), [])
            if s.source == "wcxb" and page_type in ("all", s.page_type)
        ]

    for t in [*types, "all"]:
        ours_t = pick(ours, HEADLINE_STYLE, t)
        m, ceil = summarize(ours_t), summarize(pick(CEILING, HEADLINE_STYLE, t))
        kept = np.sum([s.chrome_kept for s in ours_t] or [(0, 0, 0)], axis=0)
        where = " / ".join(f"{x / max(kept.sum(), 1):.0%}" for x in kept)
        row = (
            f"| {t} | {m['pages']} | {fmt(m['precision'])} | {fmt(m['recall'])} | "
            f"{fmt(m['f1'])} | {fmt(ceil['f1'])} | {fmt(m['f1'] / ceil['f1'])} | {where} |"
        )
        if (TRAFILATURA, "html") in results:
            tr = summarize(pick(TRAFILATURA, "html", t))
            row += f" {fmt(tr['precision'])} | {fmt(tr['recall'])} |"
        out.append(row)
    return out


def tail(scores: Sequence[PageScore]) -> tuple[float, float, float]:
    """The share of pages under :data:`FAILED_F1`, the :data:`LOW_PERCENTILE`-th percentile of
    page F1, and the share of all lost F1 held by the worst :data:`WORST_SHARE` of pages."""
    f1 = np.sort([s.f1 for s in scores])
    if not len(f1):
        return float("nan"), float("nan"), float("nan")
    lost = 1.0 - f1
    worst = max(1, round(WORST_SHARE * len(f1)))
    held = float(lost[:worst].sum() / lost.sum()) if lost.sum() > 0 else 0.0
    return float(np.mean(f1 < FAILED_F1)), float(np.percentile(f1, LOW_PERCENTILE)), held


def worst_table(
    results: dict[tuple[str, str], list[PageScore]], ours: str, types: list[str]
) -> list[str]:
    """The bad tail beside the mean, by page type and by dump style (issue 15's targets)."""
    out = [
        "",
        "### The worst pages, by page type and by dump style (default threshold)",
        "",
        f"*Under {FAILED_F1}*: the share of pages whose word F1 is under {FAILED_F1}. "
        f"*P{LOW_PERCENTILE}*: the {LOW_PERCENTILE}th percentile of page word F1. *Worst "
        f"{WORST_SHARE:.0%} hold*: the share of all lost F1 (1 − F1, summed over pages) that the "
        f"worst {WORST_SHARE:.0%} of pages hold. Page types on {HEADLINE_STYLE} dumps.",
        "",
        f"| pages | n | word F1 | under {FAILED_F1} | P{LOW_PERCENTILE} | worst {WORST_SHARE:.0%} "
        "hold |",
        "| --- |" + " ---: |" * 5,
    ]

    def row(label: str, sel: list[PageScore]) -> str:
        under, low, held = tail(sel)
        return (
            f"| {label} | {len(sel)} | {fmt(summarize(sel)['f1'])} | {under:.1%} | {fmt(low)} "
            f"| {held:.0%} |"
        )

    wcxb = [s for s in results.get((ours, HEADLINE_STYLE), []) if s.source == "wcxb"]
    for t in types:
        out.append(row(t, [s for s in wcxb if s.page_type == t]))
    out.append(row(f"all, {HEADLINE_STYLE}", wcxb))
    for style in C.STYLES + C.UNSEEN_STYLES:
        if style == HEADLINE_STYLE:
            continue
        sel = [s for s in results.get((ours, style), []) if s.source == "wcxb"]
        out.append(row(f"all, {style}", sel))
    return out


def plot_curve(curve: dict[float, list[PageScore]], default: float, path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("[quality] matplotlib not installed: no plot", file=sys.stderr)
        return False
    ts = sorted(curve)
    ps = [summarize([s for s in curve[t] if s.source == "wcxb"])["precision"] for t in ts]
    rs = [summarize([s for s in curve[t] if s.source == "wcxb"])["recall"] for t in ts]
    fig, ax = plt.subplots(figsize=(5, 4), dpi=120)
    ax.plot(rs, ps, marker="o", markersize=3)
    for t, p, r in zip(ts, ps, rs, strict=True):
        if abs(t - default) < 0.026 or t in (0.05, 0.5, 0.95):
            ax.annotate(f"{t:.2f}", (r, p), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.set_xlabel("mean word recall")
    ax.set_ylabel("mean word precision")
    ax.set_title(f"declutter on WCXB test ({HEADLINE_STYLE} dumps)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return True


EXAMPLE_PAGE = "training_data/pages/en-news-01.txt"
EXAMPLE_IN_LINES = 34  # lines of the raw page shown
EXAMPLE_OUT_LINES = 9  # lines of the cleaned page shown
EXAMPLE_WIDTH = 96  # longer lines are cut for display, marked with …


def readme_example(model_path: Path | None) -> str:
    """The README's before/after: a page written for the project, cleaned by the model."""
    path = C.ROOT / EXAMPLE_PAGE
    text = path.read_text(encoding="utf-8")
    cleaned = Cleaner(load_model(model_path)).clean(text)

    def show(lines: list[str], n: int) -> str:
        cut = [x if len(x) <= EXAMPLE_WIDTH else x[: EXAMPLE_WIDTH - 1] + "…" for x in lines[:n]]
        return "\n".join(cut)

    raw_lines, out_lines = text.splitlines(), cleaned.splitlines()
    return "\n".join(
        [
            f"A page written for this project ({len(raw_lines)} lines), as a browser copy "
            "gives it:",
            "",
            "```",
            f"$ head -n {EXAMPLE_IN_LINES} {EXAMPLE_PAGE}",
            show(raw_lines, EXAMPLE_IN_LINES),
            "```",
            "",
            f"`declutter clean` keeps {len(out_lines)} lines, the article's body (long lines cut "
            "here for display):",
            "",
            "```",
            f"$ declutter clean {EXAMPLE_PAGE} | head -n {EXAMPLE_OUT_LINES}",
            show(out_lines, EXAMPLE_OUT_LINES),
            "```",
        ]
    )


def headline(results: dict[tuple[str, str], list[PageScore]], default: float) -> str:
    """The README's and model card's summary, from the same scores as the tables."""

    def f1(name: str, style: str = HEADLINE_STYLE, page_type: str | None = None) -> float:
        sel = [
            s
            for s in results.get((name, style), [])
            if s.source == "wcxb" and (page_type is None or s.page_type == page_type)
        ]
        return summarize(sel)["f1"] if sel else float("nan")

    ours = next(name for name, _ in results if name.endswith("(default)"))
    wcxb_ours = [s for s in results[(ours, HEADLINE_STYLE)] if s.source == "wcxb"]
    m = summarize(wcxb_ours)
    by_style = [f1(ours, st) for st in C.STYLES]
    lines = [
        f"- declutter, default threshold {default:.2f}: word F1 **{m['f1']:.3f}** on WCXB test "
        f"{HEADLINE_STYLE} dumps (precision {m['precision']:.3f}, recall {m['recall']:.3f}); "
        f"{min(by_style):.3f} to {max(by_style):.3f} across the {len(C.STYLES)} dump styles; "
        + ", ".join(f"{st} {f1(ours, st):.3f}" for st in C.UNSEEN_STYLES)
        + " on dump styles it was not trained on.",
        "- Worst pages ({style}): {under:.1%} of pages under {cut} word F1, 10th percentile "
        "{low:.3f}; articles {article:.3f}.".format(
            style=HEADLINE_STYLE,
            under=tail(wcxb_ours)[0],
            cut=FAILED_F1,
            low=tail(wcxb_ours)[1],
            article=f1(ours, page_type="article"),
        ),
        "- On the same dumps: "
        + ", ".join(
            f"{name.split(' (')[0]} {f1(name):.3f}"
            for name in ("keep everything", "C4 line rules", "jusText (lines)")
            if (name, HEADLINE_STYLE) in results
        )
        + ".",
    ]
    if (TRAFILATURA, "html") in results:
        traf = f1(TRAFILATURA, "html")
        types = sorted({s.page_type for s in results[(ours, HEADLINE_STYLE)]})
        behind = [
            f"{t} {f1(ours, page_type=t):.3f} against {f1(TRAFILATURA, 'html', t):.3f}"
            for t in types
            if f1(ours, page_type=t) < f1(TRAFILATURA, "html", t)
        ]
        gap = m["f1"] - traf
        where = f"{-gap:.3f} behind it" if gap < 0 else f"{gap:.3f} ahead of it"
        lines.append(
            f"- For reference, trafilatura reading the pages' HTML (which declutter never sees) "
            f"scores {traf:.3f}: declutter is {where}"
            + (f"; declutter trails it on {', '.join(behind)}." if behind else ".")
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, help="only the first N WCXB test pages (a CI slice)")
    parser.add_argument("--out", type=Path, default=C.BENCHMARKS_MD, help="Markdown file to update")
    parser.add_argument("--model", type=Path, help="model file (default: the shipped model)")
    parser.add_argument("--jobs", type=int, default=2, help="processes for dumping HTML")
    parser.add_argument("--no-trafilatura", action="store_true", help="skip the HTML reference")
    parser.add_argument(
        "--plot", default=None, help="PNG for the precision-recall curve (default: beside --out)"
    )
    args = parser.parse_args(argv)
    if args.plot is None:
        args.plot = str(args.out.resolve().parent / "benchmarks" / "pr-curve.png")
    if not (C.DATASETS / "wcxb" / "test").is_dir():
        print(f"[quality] {C.DATASETS}/wcxb/test not found", file=sys.stderr)
        return 1
    section, summary = run(args)
    C.replace_section(args.out, "quality", section, "Quality")
    if args.out.resolve() == C.BENCHMARKS_MD.resolve() and args.limit is None:
        # A full run on the shipped model also refreshes the numbers quoted elsewhere.
        C.replace_section(C.ROOT / "README.md", "headline", summary)
        C.replace_section(C.ROOT / "models" / "MODEL_CARD.md", "numbers", summary)
        C.replace_section(C.ROOT / "README.md", "example", readme_example(args.model))
    print(f"[quality] wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
