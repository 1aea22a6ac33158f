"""Speed benchmark: declutter against the baselines on the same inputs, written to BENCHMARKS.md.

    python benchmarks/speed.py               # full run (~10 min)
    python benchmarks/speed.py --quick --out /tmp/b.md   # a few seconds (CI)

Inputs are WCXB test pages dumped with html-text (the quality benchmark's headline style).
Measured in one run, on this machine, medians of ``--repeats`` runs after a warm-up (the
in-process systems in alternating rounds):

- throughput (MB/s of dump text, pages/s) of declutter's library call, of the ``declutter clean``
  command as a process, of the C4 line rules in plain Python, and of trafilatura on the pages'
  HTML (pages/s; it reads more bytes, of another kind);
- start-up: ``echo 'one line' | declutter clean`` as a whole process;
- peak memory (RSS) of the command on a JSON Lines file of at least 300 MB, and on one page of
  ``HUGE_PAGE_MB`` (the test pages joined into one text file), per line and per MB of the page;
- ``--jobs 2`` against ``--jobs 1`` on that file;
- training time on the full multi-style WCXB dev corpus (when ``.cache/corpus`` exists);
- where the library's time goes (a cProfile of one run, by stage), beside the cost of one numpy
  table lookup over every character of the same text, and how fast two ``--jobs 1`` processes
  run side by side: what bounds the throughput and the ``--jobs 2`` speed-up.
"""

from __future__ import annotations

import argparse
import cProfile
import inspect
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C

from declutter.cleaner import Cleaner

STYLE = "html-text"
BIG_MB = 300  # the memory and --jobs input: at least this many MB of JSON Lines
# Runs of each --jobs setting on that input, alternating: one run apiece swung the --jobs 2
# speed-up between 1.60x and 1.90x on this noisy 2-core machine.
BIG_RUNS = 3
# One page this large (the test pages joined): issue 17 asks for its memory, stated per line.
HUGE_PAGE_MB = 100
LIBRARY_BATCH = 256  # pages per library call, as the CLI batches JSON Lines
TARGET_MB_S = 20.0  # issue 4's throughput target for the library, one core
# The library's stages, as (label, module file, function) whose cumulative profile time they
# are; what else featurize() spends is the "text to units" stage, and what the whole call
# spends besides featurize() and the model is decoding and writing.
STAGES = (
    ("character pass (classes, words, hashes per line)", "features.py", "_char_pass"),
    ("unit pass (shape ratios, neighbours, windows)", "features.py", "_unit_pass"),
    ("model (lexicon, line, page and context stages)", "model.py", "scores"),
)


def alternating_medians(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median seconds of each function, timed in alternating rounds after one warm-up each.

    Alternating keeps the ratios between them honest when the machine's speed drifts during
    the run (it does here: code with the same features measured 14.1 and 12.6 MB/s in two runs
    15 minutes apart, while the C4 rules measured 32.1 and 32.2).
    """
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            times[name].append(C.timed(fn))
    return {name: C.median(ts) for name, ts in times.items()}


def median_time(fn: Callable[[], object], repeats: int) -> float:
    """Median seconds of ``fn`` over ``repeats`` runs after a warm-up."""
    return alternating_medians({"fn": fn}, repeats)["fn"]


def declutter_cmd(*args: str) -> list[str]:
    exe = shutil.which("declutter")
    return [exe, *args] if exe else [sys.executable, "-m", "declutter", *args]


def peak_rss_of(args: list[str]) -> tuple[float, float, float]:
    """Wall seconds, peak RSS in MB and CPU seconds (user + system, with children) of one
    declutter process, measured by /usr/bin/time."""
    cmd = declutter_cmd(*args)
    timer = "/usr/bin/time"
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as report:
        start = time.perf_counter()
        subprocess.run(
            [timer, "-f", "%M %U %S", "-o", report.name, *cmd],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        elapsed = time.perf_counter() - start
        kib, user, system = report.read().strip().splitlines()[-1].split()
    return elapsed, int(kib) / 1024, float(user) + float(system)


def stage_times(fn: Callable[[], object]) -> tuple[float, list[tuple[str, float]]]:
    """Seconds of one profiled run of ``fn``, and of each stage of the library within it.

    The library makes few Python calls (numpy does the work), so cProfile's overhead is small.
    """
    profile = cProfile.Profile()
    profile.runcall(fn)
    stats = pstats.Stats(profile)
    cumulative: dict[tuple[str, str], float] = {}
    for (filename, _, name), row in stats.stats.items():  # type: ignore[attr-defined]
        key = (Path(filename).name, name)
        cumulative[key] = cumulative.get(key, 0.0) + row[3]
    total = float(stats.total_tt)  # type: ignore[attr-defined]
    stages = [(label, cumulative.get((file, name), 0.0)) for label, file, name in STAGES]
    featurize = cumulative.get(("features.py", "featurize"), 0.0)
    inside = sum(
        t for (_, file, _), (_, t) in zip(STAGES, stages, strict=True) if file == "features.py"
    )
    stages.insert(0, ("text to units (line ends, wrapped lines, sampling)", featurize - inside))
    stages.append(("decoding, writing the kept lines, the rest", total - sum(t for _, t in stages)))
    return total, stages


def one_lookup_seconds(texts: list[str]) -> float:
    """Median seconds of one numpy table lookup over every UTF-16 code unit of ``texts``: the
    cheapest whole pass over the characters, of which the featurizer's character pass is made."""
    units = np.frombuffer("\n".join(texts).encode("utf-16-le"), dtype=np.uint16)
    table = np.arange(1 << 16, dtype=np.uint16)
    return median_time(lambda: table[units], 5)


def side_by_side(first: list[str], second: list[str]) -> float:
    """Median wall seconds of two declutter processes started together."""
    with ThreadPoolExecutor(2) as pool:
        return C.median([r[0] for r in pool.map(peak_rss_of, [first, second])])


def c4_split_clean(text: str) -> str:
    """The C4 line rules over lines split by the standard library (``str.split``), as the
    speed baseline is defined: nothing of declutter's own code."""
    return "\n".join(line for line in text.split("\n") if C.c4_keep(line))


# The whole-process baseline: a C4-rules script reading and writing JSON Lines with the
# standard library's json, as a user would write it; self-contained (the rules' source is
# pasted in), so it imports nothing of declutter's or numpy's.
C4_JSONL_LOOP = """
import json, sys
with open(sys.argv[1], encoding="utf-8") as src, open(sys.argv[2], "w", encoding="utf-8") as out:
    for raw in src:
        record = json.loads(raw)
        lines = record["text"].split("\\n")
        record["text"] = "\\n".join(line for line in lines if c4_keep(line))
        out.write(json.dumps(record, ensure_ascii=False) + "\\n")
"""


def c4_jsonl_script() -> str:
    rules = "".join(
        f"{name} = {getattr(C, name)!r}\n"
        for name in ("C4_TERMINAL", "C4_MIN_WORDS", "C4_MAX_WORD_CHARS", "C4_POLICY")
    )
    return rules + inspect.getsource(C.c4_keep) + C4_JSONL_LOOP


def c4_jsonl_cpu(src: Path, dst: Path) -> float:
    """CPU seconds (user + system) of the C4 JSON Lines script as a whole process."""
    timer = "/usr/bin/time"
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as report:
        subprocess.run(
            [
                timer,
                "-f",
                "%U %S",
                "-o",
                report.name,
                sys.executable,
                "-c",
                c4_jsonl_script(),
                str(src),
                str(dst),
            ],
            check=True,
        )
        user, system = report.read().strip().splitlines()[-1].split()
    return float(user) + float(system)


# The library as issue 17 found it (pure numpy), run from a git worktree of that commit in a
# fresh process on the same texts, alternating with this checkout's library in its own fresh
# process: "3x the pages per second, one page per call" is measured against it.
REFERENCE = "c825738"
_LIBRARY_TIMER = """
import json, sys, time
from declutter.cleaner import Cleaner
texts = json.load(open(sys.argv[1], encoding="utf-8"))
batch_size = int(sys.argv[2])
cleaner = Cleaner()
cleaner.clean_many(texts[:16])
start = time.perf_counter()
for i in range(0, len(texts), batch_size):
    cleaner.clean_many(texts[i : i + batch_size])
batch = time.perf_counter() - start
start = time.perf_counter()
for text in texts:
    cleaner.clean(text)
print(json.dumps([batch, time.perf_counter() - start]))
"""


def library_times(source: Path, texts_json: Path) -> tuple[float, float]:
    """Seconds of the library in the checkout at ``source`` on the texts, in batches of
    LIBRARY_BATCH and one page per call, in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(source)}
    done = subprocess.run(
        [sys.executable, "-c", _LIBRARY_TIMER, str(texts_json), str(LIBRARY_BATCH)],
        env=env,
        cwd=source,
        capture_output=True,
        text=True,
        check=True,
    )
    batch, single = json.loads(done.stdout)
    return float(batch), float(single)


def against_reference(texts: list[str], rev: str, repeats: int) -> tuple[float, ...]:
    """Median seconds (reference batch, reference one per call, ours batch, ours one per call)
    over ``repeats`` alternating rounds; the reference is ``rev`` in a temporary worktree."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "reference"
        git = ["git", "-C", str(C.ROOT)]
        subprocess.run(
            [*git, "worktree", "add", "--detach", str(tree), rev], check=True, capture_output=True
        )
        try:
            texts_json = Path(tmp) / "texts.json"
            texts_json.write_text(json.dumps(texts), encoding="utf-8")
            theirs, ours = [], []
            for _ in range(repeats):
                theirs.append(library_times(tree, texts_json))
                ours.append(library_times(C.ROOT, texts_json))
        finally:
            subprocess.run([*git, "worktree", "remove", "--force", str(tree)], check=True)
    return tuple(C.median([r[k] for r in runs]) for runs in (theirs, ours) for k in (0, 1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small inputs, few repeats (CI)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=C.BENCHMARKS_MD)
    parser.add_argument("--no-training", action="store_true", help="skip the training timing")
    parser.add_argument(
        "--reference",
        default=REFERENCE,
        help=f"commit whose library is timed side by side (default {REFERENCE}; '' for none)",
    )
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else args.repeats
    if not (C.DATASETS / "wcxb" / "test").is_dir():
        print(f"[speed] {C.DATASETS}/wcxb/test not found", file=sys.stderr)
        return 1
    pages = C.load_test_pages(10 if args.quick else None)
    pages = [p for p in pages if p.source == "wcxb"]
    dumps = C.dumps(pages, STYLE)
    texts = [dumps[p.page_id] for p in pages]
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    n = len(texts)
    rows: list[tuple[str, str, str, str]] = []

    cleaner = Cleaner()

    def library() -> None:
        for batch in C.chunks(texts, LIBRARY_BATCH):
            cleaner.clean_many(batch)

    def library_single() -> None:
        for t in texts:
            cleaner.clean(t)

    def c4() -> None:
        for t in texts:
            c4_split_clean(t)

    def split_only() -> None:
        for t in texts:
            t.split("\n")

    medians = alternating_medians(
        {"library": library, "single": library_single, "c4": c4, "split": split_only}, repeats
    )
    t_lib, t_single, t_c4, t_split = (medians[k] for k in ("library", "single", "c4", "split"))
    t_profiled, stages = stage_times(library)
    t_lookup = one_lookup_seconds(texts)
    with tempfile.TemporaryDirectory() as tmp:
        jsonl = Path(tmp) / "pages.jsonl"
        with jsonl.open("w", encoding="utf-8") as f:
            for i, t in enumerate(texts):
                f.write(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n")
        t_cli = median_time(
            lambda: subprocess.run(
                declutter_cmd("clean", "--jsonl", str(jsonl), "-q"),
                stdout=subprocess.DEVNULL,
                check=True,
            ),
            repeats,
        )
    traf_pages = pages[: (5 if args.quick else 100)]
    t_traf = None
    if C.trafilatura_extract("<p>x</p>") is not None:
        htmls = [p.html for p in traf_pages]
        t_traf = median_time(lambda: [C.trafilatura_extract(h) for h in htmls], min(repeats, 3))
    rows.append(
        ("declutter, library (batches of 256 pages)", f"{mb / t_lib:.1f}", f"{n / t_lib:.0f}", "")
    )
    rows.append(
        (
            "declutter, library (one page per call)",
            f"{mb / t_single:.1f}",
            f"{n / t_single:.0f}",
            "",
        )
    )
    rows.append(
        (
            "declutter clean --jsonl (process, incl. start-up)",
            f"{mb / t_cli:.1f}",
            f"{n / t_cli:.0f}",
            "",
        )
    )
    rows.append(("C4 line rules, plain Python", f"{mb / t_c4:.1f}", f"{n / t_c4:.0f}", ""))
    rows.append(("str.split('\\n') alone", f"{mb / t_split:.0f}", f"{n / t_split:.0f}", ""))
    if t_traf is not None:
        rows.append(
            (
                "trafilatura on the HTML",
                "–",
                f"{len(traf_pages) / t_traf:.1f}",
                f"{len(traf_pages)} pages",
            )
        )

    reference = None
    if args.reference and not args.quick:
        reference = against_reference(texts, args.reference, min(repeats, 3))

    # Start-up of a whole process.
    startups = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        subprocess.run(
            declutter_cmd("clean"), input=b"one line\n", stdout=subprocess.DEVNULL, check=True
        )
        startups.append(time.perf_counter() - start)
    startup = C.median(startups[1:] or startups)

    # Memory and --jobs scaling on a big JSON Lines file.
    big_mb_target = 5 if args.quick else BIG_MB
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.jsonl"
        written = 0
        with big.open("w", encoding="utf-8") as f:
            while written < big_mb_target * 1e6:
                for i, t in enumerate(texts):
                    line = json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n"
                    f.write(line)
                    written += len(line.encode("utf-8"))
        size_mb = big.stat().st_size / 1e6
        out1, out2 = str(Path(tmp) / "o1.jsonl"), str(Path(tmp) / "o2.jsonl")
        one_job = ["clean", "--jsonl", str(big), "-o", out1, "-q"]
        two_jobs = ["clean", "--jsonl", str(big), "-o", out2, "-q", "--jobs", "2"]
        other_job = ["clean", "--jsonl", str(big), "-o", str(Path(tmp) / "o3.jsonl"), "-q"]
        runs1, runs2, pairs, c4_cpus = [], [], [], []
        for _ in range(1 if args.quick else BIG_RUNS):
            runs1.append(peak_rss_of(one_job))
            runs2.append(peak_rss_of(two_jobs))
            pairs.append(side_by_side(one_job, other_job))
            c4_cpus.append(c4_jsonl_cpu(big, Path(tmp) / "c4.jsonl"))
        cpu_c4 = C.median(c4_cpus)
        # Median wall and CPU seconds; the largest peak RSS of any run.
        t1, cpu1 = C.median([r[0] for r in runs1]), C.median([r[2] for r in runs1])
        t2, cpu2 = C.median([r[0] for r in runs2]), C.median([r[2] for r in runs2])
        rss1, rss2 = max(r[1] for r in runs1), max(r[1] for r in runs2)
        t_pair = C.median(pairs)
        same = (Path(tmp) / "o1.jsonl").read_bytes() == (Path(tmp) / "o2.jsonl").read_bytes()

    # Memory of one huge page: peak RSS above the start-up's, per line and per MB of the page.
    huge_mb_target = 2 if args.quick else HUGE_PAGE_MB
    with tempfile.TemporaryDirectory() as tmp:
        huge = Path(tmp) / "huge.txt"
        page = "".join(t if t.endswith("\n") else t + "\n" for t in texts).encode("utf-8")
        with huge.open("wb") as sink:
            written = 0
            while written < huge_mb_target * 1e6:
                sink.write(page)
                written += len(page)
        huge_lines = written // len(page) * page.count(b"\n")
        tiny = Path(tmp) / "tiny.txt"
        tiny.write_text("one line\n")
        _, rss_start, _ = peak_rss_of(["clean", str(tiny), "-o", str(Path(tmp) / "t.txt"), "-q"])
        huge_args = ["clean", str(huge), "-o", str(Path(tmp) / "o.txt"), "-q"]
        t_huge, rss_huge, _ = peak_rss_of(huge_args)
    huge_line = (
        f"- One page of {written / 1e6:.0f} MB ({huge_lines / 1e6:.2f} M lines; the test pages "
        f"joined into one text file): {t_huge:.0f} s, peak RSS **{rss_huge:.0f} MB**, "
        f"{rss_huge - rss_start:.0f} MB above the start-up's {rss_start:.0f} MB: "
        f"**{1e6 * (rss_huge - rss_start) / huge_lines:.0f} bytes a line**, "
        f"{(rss_huge - rss_start) / (written / 1e6):.1f} MB per MB of page."
    )

    train_line = ""
    corpus_dir = C.ROOT / ".cache" / "corpus" / "train"
    if not args.quick and not args.no_training and corpus_dir.is_dir():
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            subprocess.run(
                declutter_cmd(
                    "train",
                    str(corpus_dir / "wcxb-dev.jsonl.gz"),
                    "-o",
                    str(Path(tmp) / "m.joblib"),
                ),
                stdout=subprocess.DEVNULL,
                check=True,
            )
            train_line = (
                f"- Training on the full multi-style WCXB dev corpus "
                f"(`declutter train .cache/corpus/train/wcxb-dev.jsonl.gz`): "
                f"**{time.perf_counter() - start:.0f} s** wall, one run."
            )

    quick = " --quick" if args.quick else ""
    traf_ratio = (n / t_lib) / (len(traf_pages) / t_traf) if t_traf else None
    out = [
        f"Measured {C.environment()}.",
        "",
        f"Command: `python benchmarks/speed.py{quick}`. Inputs: {n} WCXB "
        f"test pages dumped with {STYLE} ({mb:.1f} MB of text); medians of {repeats} runs after a "
        "warm-up, all systems in this one run; the library, C4 and split rows in alternating "
        "rounds.",
        "",
        "| system | MB/s | pages/s | note |",
        "| --- | ---: | ---: | --- |",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows],
        "",
        f"- declutter library / C4 rules: **{t_c4 / t_lib:.2f}×**"
        + (f"; declutter library / trafilatura (pages/s): **{traf_ratio:.0f}×**" if t_traf else "")
        + ".",
        "- Start-up, `echo 'one line' | declutter clean` as a whole process: "
        f"**{startup:.2f} s** (median).",
        f"- `declutter clean --jsonl` on a {size_mb:.0f} MB file ({len(runs1)} alternating run(s) "
        f"each, medians): {t1:.1f} s with `--jobs 1` "
        f"({cpu1:.1f} s of CPU), peak RSS **{rss1:.0f} MB**; {t2:.1f} s with `--jobs 2` "
        f"(**{t1 / t2:.2f}×**; {cpu2:.1f} s of CPU in all processes), peak RSS of the largest "
        f"process {rss2:.0f} MB; outputs identical: {same}.",
        f"- Whole process, CPU time on that file: `declutter clean --jsonl` {cpu1:.1f} s against "
        f"{cpu_c4:.1f} s for a C4-rules script reading and writing the same JSON Lines with the "
        f"standard library's `json` (**{cpu1 / cpu_c4:.2f}×** its CPU; medians).",
    ]
    if reference is not None:
        ref_batch, ref_single, our_batch, our_single = reference
        out.append(
            f"- Against the library at {args.reference} (pure numpy, as issue 17 found it), each "
            f"in a fresh process on the same {n} pages, {min(repeats, 3)} alternating rounds: "
            f"batches of {LIBRARY_BATCH} {mb / ref_batch:.1f} → {mb / our_batch:.1f} MB/s "
            f"(**{ref_batch / our_batch:.2f}×**); one page per call {n / ref_single:.0f} → "
            f"{n / our_single:.0f} pages/s (**{ref_single / our_single:.2f}×**)."
        )
    out.append(huge_line)
    if train_line:
        out.append(train_line)
    budget = 1000 / TARGET_MB_S
    char_pass = dict(stages)[STAGES[0][0]]
    out += [
        "",
        f"Where the library's time goes: one run under cProfile ({t_profiled:.2f} s, "
        f"{mb / t_profiled:.1f} MB/s), by stage.",
        "",
        "| stage | ms per MB | share |",
        "| --- | ---: | ---: |",
        *[f"| {label} | {1000 * t / mb:.1f} | {t / t_profiled:.0%} |" for label, t in stages],
        f"| all | {1000 * t_profiled / mb:.1f} | 100% |",
        "",
        f"- At {TARGET_MB_S:.0f} MB/s a MB of text has {budget:.0f} ms. One numpy table lookup "
        f"over every character of the same text takes {1000 * t_lookup / mb:.1f} ms per MB: the "
        f"character pass costs as much as {char_pass / t_lookup:.0f} of them, the whole call "
        f"{t_profiled / t_lookup:.0f}.",
        f"- Two `--jobs 1` processes on the {size_mb:.0f} MB file, started together: "
        f"{t_pair:.1f} s each (median), against {t1:.1f} s alone, so each ran at "
        f"{t1 / t_pair:.2f}× its speed alone. With no cost of its own, `--jobs 2` could reach at "
        f"most **{2 * t1 / t_pair:.2f}×** on this machine.",
    ]
    C.replace_section(args.out, "speed", "\n".join(out) + "\n", "Speed")
    if args.out.resolve() == C.BENCHMARKS_MD.resolve() and not args.quick:
        summary = (
            f"- Speed: {mb / t_lib:.1f} MB/s of dump text per core through the library "
            f"({t_c4 / t_lib:.2f}× the C4 line rules in plain Python"
            + (
                f", {(n / t_lib) / (len(traf_pages) / t_traf):.0f}× trafilatura's pages/s"
                if t_traf
                else ""
            )
            + f"); start-up {startup:.2f} s; peak RSS {rss1:.0f} MB on a {size_mb:.0f} MB "
            "JSON Lines file."
        )
        C.replace_section(C.ROOT / "README.md", "speed-headline", summary)
        C.replace_section(C.ROOT / "models" / "MODEL_CARD.md", "speed-numbers", summary)
    print(f"[speed] wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
