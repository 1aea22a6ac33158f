from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from declutter import site
from declutter.cleaner import Cleaner
from declutter.cli import app
from declutter.errors import ModelError
from declutter.model import LineModel, load_model
from declutter.site import (
    SiteCounts,
    SiteIndex,
    SiteStageParams,
    line_keys,
    row_site_columns,
    site_of_url,
)

runner = CliRunner()
# A footer that reads as prose: the shipped model keeps it on a page alone.
FOOTER = (
    "The Valley Herald is an independent newsroom, and we rely on readers like you to keep "
    "reporting on the towns along the river.\n"
)
# A strong stage, so that site context visibly changes decisions on tiny pages.
STAGE = SiteStageParams(np.array([-8.0, -1.0], dtype=np.float32))


def story(k: int) -> str:
    return (
        f"Home | News | Sport\n\nThe council met on day {k} to discuss the harbour plan.\n"
        f"Residents asked {k + 2} questions about the new ferry timetable and its costs.\n\n"
        + FOOTER
    )


@pytest.fixture(scope="module")
def site_model(tiny_model: LineModel) -> LineModel:
    return replace(tiny_model, site=STAGE)


# --- keys and counts ---------------------------------------------------------------------------
def test_keys_ignore_case_spacing_and_line_ending() -> None:
    exact, masked, has = line_keys(["Read  More\n", "read more\r\n", "read more"])
    assert has.all() and len(set(exact.tolist())) == 1 and len(set(masked.tolist())) == 1


def test_masked_keys_ignore_digits_only() -> None:
    exact, masked, _ = line_keys(["Posted 12 May\n", "Posted 13 May\n", "Posted May\n"])
    assert exact[0] != exact[1] and masked[0] == masked[1] != masked[2]


def test_blank_lines_have_no_key() -> None:
    assert line_keys([" \t\n", "\n"])[2].tolist() == [False, False]


def test_shares_count_the_other_pages_only() -> None:
    pages = [
        "Story one is about the river.\n" + FOOTER,
        "Story two is about the hills.\n" + FOOTER,
        "Posted 12 May by the desk.\n" + FOOTER.upper(),
        "Posted 13 May by the desk.\nAnother line.\n",
    ]
    index = SiteIndex.of_pages(("s", p) for p in pages)
    shares = index.shares("s", pages[0])
    assert shares is not None and shares.others == 3
    assert shares.exact.tolist() == [0.0, pytest.approx(2 / 3)]
    shares = index.shares("s", pages[2])
    assert shares is not None and shares.exact[0] == 0.0
    assert shares.masked[0] == pytest.approx(1 / 3)  # only the digits differ


def test_a_line_repeated_on_a_page_counts_the_page_once() -> None:
    counts = SiteCounts()
    counts.add("Menu\nMenu\nText one.\n")
    counts.add("Menu\nText two.\n")
    assert counts.counts(line_keys(["Menu"])[0]).tolist() == [2]


def test_a_repeated_page_counts_once() -> None:
    counts = SiteCounts()
    assert counts.add(story(1)) and not counts.add(story(1))
    assert counts.pages == 1 and counts.shares(story(1)) is None


def test_a_page_not_counted_sees_every_counted_page() -> None:
    counts = SiteCounts()
    counts.add(story(1))
    shares = counts.shares(story(2))
    assert shares is not None and shares.others == 1 and shares.exact[-1] == 1.0


def test_sites_are_apart() -> None:
    index = SiteIndex.of_pages([("a", story(1)), ("b", story(2)), (None, story(3))])
    assert index.shares("a", story(1)) is None and index.pages == 2


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.Example.org/a/b?c=1", "example.org"),
        ("http://news.example.org:8080/", "news.example.org"),
        ("http://[::1]:80/x", "::1"),
        ("no host here", None),
        ("http://[broken/", None),
        (None, None),
        (42, None),
    ],
)
def test_site_of_url(url: object, expected: str | None) -> None:
    assert site_of_url(url) == expected


def test_the_sketch_never_undercounts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(site, "EXACT_KEYS", 20)
    exact_counts, sketched = SiteCounts(), SiteCounts()
    pages = [story(k) + f"Page {k} extra words\nline {k * 7} only\n" for k in range(12)]
    monkeypatch.setattr(site, "EXACT_KEYS", 10**9)
    for page in pages:
        exact_counts.add(page)
    monkeypatch.setattr(site, "EXACT_KEYS", 20)
    for page in pages:
        sketched.add(page)
    assert exact_counts.exact and not sketched.exact
    for page in pages:
        keys = line_keys(page.splitlines())
        truth = exact_counts.counts(keys[0][keys[2]])
        assert (sketched.counts(keys[0][keys[2]]) >= truth).all()


@given(st.permutations(range(12)))
def test_sketched_counts_do_not_depend_on_page_order(order: list[int]) -> None:
    pages = [story(k % 5) + f"Note {k}: page {k}\n" for k in range(12)]
    saved = site.EXACT_KEYS
    site.EXACT_KEYS = 16  # sketched part-way, at a point that depends on the order
    try:
        a, b = SiteCounts(), SiteCounts()
        for page in pages:
            a.add(page)
        for k in order:
            b.add(pages[k])
    finally:
        site.EXACT_KEYS = saved
    for page in pages:
        sa, sb = a.shares(page), b.shares(page)
        assert sa is not None and sb is not None
        assert np.array_equal(sa.exact, sb.exact) and np.array_equal(sa.masked, sb.masked)


def test_row_columns_take_the_largest_share_of_a_rows_lines() -> None:
    shares = [site.LineShares(np.array([0.5, 0.0, 1.0], np.float32), np.ones(3, np.float32), 2)]
    x, has = row_site_columns(shares, np.array([0, -1, 0]), np.array([0, 3]), 1)
    assert x.tolist() == [[1.0, 1.0]] and has.tolist() == [True]


def test_row_columns_refuse_shares_of_another_length() -> None:
    shares = [site.LineShares(np.zeros(2, np.float32), np.zeros(2, np.float32), 1)]
    with pytest.raises(ValueError, match="lines"):
        row_site_columns(shares, np.array([0, 1, 2]), np.array([0, 3]), 3)


# --- the cleaner ------------------------------------------------------------------------------
SITE_PAGES = st.lists(st.integers(0, 6), min_size=1, max_size=8)


def test_a_page_alone_in_its_site_is_cleaned_as_today(site_model: LineModel) -> None:
    texts = [story(1), story(2), "Just one page here.\n" + FOOTER]
    cleaner = Cleaner(site_model, site_index=SiteIndex.of_pages([("a", texts[0])]))
    got = cleaner.process(texts, ["a", None, "b"])
    want = Cleaner(site_model).process(texts)
    for g, w in zip(got, want, strict=True):
        assert g.text == w.text and np.array_equal(g.proba, w.proba, equal_nan=True)


@given(st.lists(st.sampled_from(["Home\n", "A story about the river.\n", FOOTER, "\n", "© 2024\n"]),
                max_size=10).map("".join))  # fmt: skip
def test_clean_site_of_one_page_is_clean(site_model_text: str) -> None:
    cleaner = Cleaner(replace(load_model(), site=STAGE))
    assert cleaner.clean_site([site_model_text]) == [cleaner.clean(site_model_text)]


def test_site_context_drops_a_footer_every_page_holds() -> None:
    texts = [story(k) for k in range(6)]
    cleaner = Cleaner(replace(load_model(), site=STAGE))
    assert all(FOOTER in out for out in cleaner.clean_many(texts))
    assert not any(FOOTER in out for out in cleaner.clean_site(texts))


@settings(max_examples=200)  # each example cleans eight pages: CI's 1000 would take minutes
@given(st.permutations(range(8)), st.lists(st.integers(1, 8), min_size=1, max_size=8))
def test_output_does_not_depend_on_order_or_split(order: list[int], cuts: list[int]) -> None:
    model = replace(load_model(), site=STAGE)
    texts = [story(k % 5) + ("Extra line.\n" if k % 3 else "") for k in range(8)]
    sites = ["a" if k % 2 else "b" for k in range(8)]
    full = SiteIndex.of_pages(zip(sites, texts, strict=True))
    want = Cleaner(model, site_index=full).process(texts, sites)
    index = SiteIndex.of_pages((sites[k], texts[k]) for k in order)
    cleaner = Cleaner(model, site_index=index)
    got: dict[int, str] = {}
    start = 0
    for cut in [*cuts, 8]:
        chunk = order[start : start + cut]
        results = cleaner.process([texts[k] for k in chunk], [sites[k] for k in chunk])
        got.update({k: r.text for k, r in zip(chunk, results, strict=True)})
        start += cut
        if start >= 8:
            break
    assert [got[k] for k in range(8)] == [r.text for r in want]


def test_a_model_without_a_site_stage_is_refused(tiny_model: LineModel) -> None:
    without = replace(tiny_model, site=None)
    with pytest.raises(ModelError, match="site stage"):
        Cleaner(without).clean_site([story(1), story(2)])
    with pytest.raises(ModelError, match="site stage"):
        Cleaner(without, site_index=SiteIndex())


def test_sites_without_an_index_are_refused(site_model: LineModel) -> None:
    with pytest.raises(ValueError, match="site_index"):
        Cleaner(site_model).process([story(1)], ["a"])


def test_the_site_stage_survives_save_and_load(site_model: LineModel, tmp_path: Path) -> None:
    site_model.save(tmp_path / "m.joblib")
    loaded = load_model(tmp_path / "m.joblib")
    assert loaded.site is not None and np.array_equal(loaded.site.coef, STAGE.coef)


def test_a_damaged_site_stage_is_a_model_error(site_model: LineModel, tmp_path: Path) -> None:
    import joblib

    raw = site_model.to_dict()
    raw["site"]["coef"] = np.array([np.nan, 1.0])
    joblib.dump(raw, tmp_path / "m.joblib")
    with pytest.raises(ModelError, match="damaged"):
        load_model(tmp_path / "m.joblib")


# --- fitting ----------------------------------------------------------------------------------
def test_the_stage_learns_that_shared_lines_are_chrome(tiny_model: LineModel) -> None:
    from declutter.data import LabelledPage
    from declutter.site_fit import fit_site_stage

    pages = []
    for k in range(8):
        text = story(k)
        labels = np.array([0, -1, 1, 1, -1, 0], dtype=np.int8)
        pages.append(LabelledPage(f"p{k}", text, labels, group="site"))
    pages.append(LabelledPage("alone", story(9), np.array([0, -1, 1, 1, -1, 0], np.int8), "x"))
    stage, summary = fit_site_stage(tiny_model, pages)
    assert stage is not None and summary["pages"] == 8 and summary["sites"] == 1
    assert stage.coef[0] + stage.coef[1] < 0


def test_train_fits_a_site_stage_on_template_sites(tiny_model: LineModel) -> None:
    # The project's pages are each alone in their site: template sites are all there is.
    summary = tiny_model.metadata["site_stage"]
    assert summary["sites"] == 0 and summary["template_sites"] > 0
    assert tiny_model.site is not None and tiny_model.site.coef.sum() < 0


def test_no_site_with_two_pages_fits_no_stage(tiny_model: LineModel) -> None:
    from declutter.data import LabelledPage
    from declutter.site_fit import fit_site_stage

    page = LabelledPage("p", story(1), np.array([0, -1, 1, 1, -1, 0], np.int8), "a")
    assert fit_site_stage(tiny_model, [page])[0] is None


def test_template_sites_wrap_lone_pages_in_chrome() -> None:
    from declutter.data import LabelledPage
    from declutter.site_fit import SITE_TEMPLATES, TEMPLATE_SITE_PAGES, template_batches

    labels = np.array([0, -1, 1, 1, -1, 0], np.int8)
    lone = [LabelledPage(f"p{k}", story(k), labels, group=f"g{k}") for k in range(11)]
    paired = [LabelledPage(f"q{k}", story(20 + k), labels, group="site") for k in range(2)]
    batches = template_batches(lone + paired)
    assert [len(b) for b in batches] == [TEMPLATE_SITE_PAGES] * 2
    header, footer = SITE_TEMPLATES[0]
    page = batches[0][0]
    lines = page.text.splitlines()
    assert lines[: len(header)] == list(header) and lines[-len(footer) :] == list(footer)
    assert len(page.labels) == len(lines) and page.labels[: len(header)].tolist() == [0, 0]
    assert {p.group for p in batches[0]} == {"template-0"}
    assert not any(p.page_id.startswith("q") for b in batches for p in b)


def test_counting_in_two_processes_counts_as_one(site_model: LineModel) -> None:
    from declutter.batch import count_sites

    pages = [("a" if k % 3 else "b", story(k % 4)) for k in range(150)] + [(None, story(9))]
    index = count_sites(iter(pages), Cleaner(site_model), n_jobs=2)
    alone = SiteIndex.of_pages(pages)
    assert index.pages == alone.pages == 8
    for site_name, text in pages[:8]:
        got, want = index.shares(site_name, text), alone.shares(site_name, text)
        assert got is not None and want is not None
        assert np.array_equal(got.exact, want.exact) and np.array_equal(got.masked, want.masked)


# --- the command line ---------------------------------------------------------------------------
@pytest.fixture()
def site_model_file(site_model: LineModel, tmp_path: Path) -> Path:
    path = tmp_path / "site.joblib"
    site_model.save(path)
    return path


def write_jsonl(path: Path, texts: list[str], hosts: list[str]) -> None:
    records = [
        {"url": f"https://{h}/page/{k}", "text": t}
        for k, (t, h) in enumerate(zip(texts, hosts, strict=True))
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def test_cli_jsonl_site_context_matches_the_library(site_model_file: Path, tmp_path: Path) -> None:
    texts = [story(k) for k in range(5)] + ["A lonely page.\n" + FOOTER]
    hosts = ["a.org"] * 5 + ["b.org"]
    write_jsonl(tmp_path / "in.jsonl", texts, hosts)
    outs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}.jsonl"
        args = ["clean", "--jsonl", "--site-context", "-m", str(site_model_file), "-j", jobs]
        result = runner.invoke(app, [*args, str(tmp_path / "in.jsonl"), "-o", str(out)])
        assert result.exit_code == 0, result.stderr
        outs.append([json.loads(line)["text"] for line in out.read_text().splitlines()])
    model = load_model(site_model_file)
    assert outs[0] == outs[1]
    assert outs[0][:5] == Cleaner(model).clean_site(texts[:5])
    assert outs[0][5] == Cleaner(model).clean(texts[5])


def test_cli_site_from_folder(site_model_file: Path, tmp_path: Path) -> None:
    for folder in ("one", "two"):
        (tmp_path / "in" / folder).mkdir(parents=True)
    for k in range(4):
        (tmp_path / "in" / "one" / f"{k}.txt").write_text(story(k), encoding="utf-8")
    (tmp_path / "in" / "two" / "x.txt").write_text(story(9), encoding="utf-8")
    args = ["clean", "--site-context", "--site-from-folder", "-m", str(site_model_file)]
    result = runner.invoke(app, [*args, str(tmp_path / "in"), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.stderr
    model = load_model(site_model_file)
    got = [(tmp_path / "out" / "one" / f"{k}.txt").read_text() for k in range(4)]
    assert got == Cleaner(model).clean_site([story(k) for k in range(4)])
    assert (tmp_path / "out" / "two" / "x.txt").read_text() == Cleaner(model).clean(story(9))


def test_cli_site_context_refuses_standard_input(site_model_file: Path) -> None:
    args = ["clean", "--jsonl", "--site-context", "-m", str(site_model_file)]
    result = runner.invoke(app, args, input='{"text": "x"}\n')
    assert result.exit_code == 2 and "read twice" in result.stderr


def test_cli_site_context_on_text_files_needs_a_folder_site(
    site_model_file: Path, tmp_path: Path
) -> None:
    (tmp_path / "a.txt").write_text(story(1), encoding="utf-8")
    args = ["clean", "--site-context", "-m", str(site_model_file), str(tmp_path / "a.txt")]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "--site-from-folder" in result.stderr


def test_cli_site_options_need_site_context(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(story(1), encoding="utf-8")
    result = runner.invoke(app, ["clean", "--site-from-folder", str(tmp_path / "a.txt")])
    assert result.exit_code == 2 and "--site-context" in result.stderr


def test_cli_site_context_needs_a_site_stage(tiny_model: LineModel, tmp_path: Path) -> None:
    replace(tiny_model, site=None).save(tmp_path / "m.joblib")
    write_jsonl(tmp_path / "in.jsonl", [story(1)], ["a.org"])
    args = ["clean", "--jsonl", "--site-context", "-m", str(tmp_path / "m.joblib")]
    result = runner.invoke(app, [*args, str(tmp_path / "in.jsonl")])
    assert result.exit_code == 1 and "site stage" in result.stderr


def test_cli_warc_site_context(site_model_file: Path, tmp_path: Path) -> None:
    pytest.importorskip("fastwarc")
    from fastwarc.warc import WarcRecord, WarcRecordType

    path = tmp_path / "in.warc"
    texts = [story(k) for k in range(4)]
    with path.open("wb") as f:
        for k, text in enumerate(texts):
            record = WarcRecord()
            record.init_headers(WarcRecordType.conversion, f"<urn:uuid:{k}>".encode())
            record.headers["WARC-Target-URI"] = f"https://a.org/{k}"
            record.headers["Content-Type"] = "text/plain"
            record.set_bytes_content(text.encode("utf-8"))
            record.write(f, checksum_data=True)
    out = tmp_path / "out.jsonl"
    args = ["clean", "--site-context", "-m", str(site_model_file), str(path), "-o", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    got = [json.loads(line)["text"] for line in out.read_text().splitlines()]
    assert got == Cleaner(load_model(site_model_file)).clean_site(texts)


# --- the README ---------------------------------------------------------------------------------
README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_site_context_examples_run_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import re
    import shlex

    from declutter import model as model_module

    pytest.importorskip("fastwarc")
    if load_model().site is None:
        # Until the shipped model is retrained with a site stage: the shipped model with one.
        path = tmp_path / "models" / "default.joblib"
        path.parent.mkdir()
        sha = replace(load_model(), site=STAGE).save(path)
        path.with_name(path.name + ".sha256").write_text(f"{sha}  default.joblib\n")
        monkeypatch.setattr(model_module, "shipped_model", lambda: path)
    text = README.read_text(encoding="utf-8")
    section = text.split("<!-- site-examples:start -->")[1].split("<!-- site-examples:end -->")[0]
    blocks = re.findall(r"```(\w*)\n(.*?)```", section, re.DOTALL)
    assert [lang for lang, _ in blocks] == ["", "python"]
    (tmp_path / "examples").symlink_to(README.parent / "examples")
    monkeypatch.chdir(tmp_path)
    for line in blocks[0][1].splitlines():
        result = runner.invoke(app, shlex.split(line)[1:])
        assert result.exit_code == 0, (line, result.stderr)
    exec(compile(blocks[1][1], str(README), "exec"), {})
    cleaned = (tmp_path / "cleaned-site" / "slugs.txt").read_text(encoding="utf-8")
    assert "Slugs do most" in cleaned and "run entirely by volunteers" not in cleaned
    records = (tmp_path / "cleaned-site.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(r)["text"] for r in records][2] == cleaned
    assert (tmp_path / "cleaned-with-sites.jsonl").stat().st_size > 0


def test_cli_train_reports_the_site_stage(tmp_path: Path) -> None:
    data = Path(__file__).resolve().parent.parent / "training_data"
    result = runner.invoke(app, ["train", str(data), "-o", str(tmp_path / "m.joblib")])
    assert result.exit_code == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("site stage"))
    assert "0 sites + 6 template sites" in line and "share_exact" in line
    assert load_model(tmp_path / "m.joblib").site is not None
