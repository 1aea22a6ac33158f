"""The README's label -> correct -> train -> clean walkthrough runs as written."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from declutter.cli import app

from .conftest import ROOT

runner = CliRunner()


def walkthrough_commands() -> list[list[str]]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- walkthrough:start -->")[1].split("<!-- walkthrough:end -->")[0]
    code = re.search(r"```\n(.*?)```", block, re.S)
    assert code is not None
    return [shlex.split(line) for line in code.group(1).splitlines() if line.strip()]


def test_the_readme_walkthrough_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "training_data").symlink_to(ROOT / "training_data")
    monkeypatch.chdir(tmp_path)
    commands = walkthrough_commands()
    assert [c[:2] for c in commands] == [
        ["declutter", "label"],
        ["declutter", "eval"],
        ["declutter", "train"],
        ["declutter", "eval"],
        ["declutter", "clean"],
    ]
    outputs = []
    for command in commands:
        result = runner.invoke(app, command[1:])
        assert result.exit_code == 0, (command, result.stderr)
        outputs.append(result.stdout)
        if command[1] == "label":
            # Step 2, a person's correction: the first line the model was unsure of, flipped.
            drafts = sorted((tmp_path / "drafts").glob("*.draft.txt"))
            assert len(drafts) == 2
            text = drafts[0].read_text(encoding="utf-8")
            pattern = r"^\?([+-]) " if re.search(r"^\?", text, re.M) else r"^([+-]) "
            flipped = re.sub(
                pattern, lambda m: "- " if m[1] == "+" else "+ ", text, count=1, flags=re.M
            )
            assert flipped != text
            drafts[0].write_text(flipped, encoding="utf-8")
    assert (tmp_path / "my-site.joblib").exists()
    assert outputs[-1].strip(), "the adapted model keeps some of the page"
