"""Every command's help reads as help: no ``<str>``, ``<bool>`` or ``{data}`` placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from srma.cli import app

COMMANDS = sorted(command.name or command.callback.__name__ for command in app.registered_commands)
PLACEHOLDER = re.compile(r"<[a-z\[\]]+>|\{[a-z_]+\}")


def test_every_topic_registers_its_commands() -> None:
    for name in ("meta", "forest", "report", "import", "screen", "simulate"):
        assert name in COMMANDS


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_has_no_type_placeholders(command: str | None) -> None:
    arguments = ["--help"] if command is None else [command, "--help"]
    result = CliRunner().invoke(app, arguments, env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert PLACEHOLDER.findall(result.output) == []


@pytest.mark.parametrize("command", ["meta", "subgroup", "metareg", "sensitivity", "bias",
                                     "forest", "funnel"])  # fmt: skip
def test_shared_options_come_from_one_declaration(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "100"})
    usage = next(line for line in result.output.splitlines() if "Usage:" in line)
    assert usage.split()[-1] == "DATA"
    for option in ("--measure", "--yi", "--vi", "--sei", "--label", "--col", "--method", "--test"):
        assert re.findall(rf"{option}\b", result.output) == [option], option


def test_error_lines_cannot_act_on_the_terminal(tmp_path: Path) -> None:
    data = tmp_path / "escape.csv"
    data.write_text('study,yi,vi\nS1,"1\x1b]0;pwned\x07\x1b[2J",0.1\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["meta", str(data), "--yi", "yi", "--vi", "vi"])
    assert result.exit_code == 1
    error = result.stderr.strip()
    assert error.startswith("error:") and "row 1" in error and "'yi'" in error
    assert "\x1b" not in error and "\x07" not in error
