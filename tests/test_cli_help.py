"""Every command's help reads as help: no ``<str>``, ``<bool>`` or ``{data}`` placeholders."""

from __future__ import annotations

import re

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
