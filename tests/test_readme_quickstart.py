"""The README's review quick start runs, command after command, in a fresh folder
(with the test fixtures under the file names the README uses)."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import SHARED
from srma.cli import app

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = {
    "embase.ris": SHARED / "fixtures" / "exports" / "embase.ris",
    "pubmed.nbib": ROOT / "tests" / "fixtures" / "exports" / "pubmed_medline.nbib",
    "wos.txt": ROOT / "tests" / "fixtures" / "exports" / "web_of_science_plain.txt",
}
# keys for each reviewer's `srma screen`: include, exclude (reason 1), include ..., then quit
KEYS = {"Ana": "i" + "e1\n" + "i" * 40 + "q", "Ben": "i" + "i" + "e1\n" + "i" * 40 + "q"}


def review_commands() -> list[str]:
    """The indented ``srma`` lines after "A review project" in README.md, comments removed."""
    text = (ROOT / "README.md").read_text()
    block = text[text.index("A review project") :]
    block = block[: block.index("\n\n", block.index("    srma"))]
    return [
        re.sub(r"\s+#.*$", "", line).strip()
        for line in block.splitlines()
        if line.startswith("    srma ")
    ]


def test_the_readme_quick_start_runs_in_a_fresh_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SRMA_DATABASE_URL", raising=False)
    commands = review_commands()
    assert commands[0].startswith("srma init myreview")
    assert any(c.startswith("srma reviewer myreview --add") for c in commands)
    first_screen = next(i for i, c in enumerate(commands) if c.startswith("srma screen"))
    registered = next(i for i, c in enumerate(commands) if c.startswith("srma reviewer"))
    assert registered < first_screen
    for name, source in FIXTURES.items():
        if f" {name}" in " ".join(commands):
            shutil.copy(source, tmp_path / name)
    runner = CliRunner()
    outputs = {}
    for command in commands:
        args = shlex.split(command)[1:]
        reviewer = args[args.index("--reviewer") + 1] if "--reviewer" in args else None
        result = runner.invoke(app, args, input=KEYS.get(reviewer, ""))
        assert result.exit_code == 0, f"{command}\n{result.output}"
        outputs[args[0]] = result.output
    assert "saved: exclude" in outputs["screen"]
    assert (tmp_path / "prisma.png").stat().st_size > 10_000
    assert "records" in outputs["status"]
