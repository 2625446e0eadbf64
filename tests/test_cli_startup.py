"""The command line starts light: ``srma --help`` and ``--version`` import no heavy library."""

from __future__ import annotations

import json
import subprocess
import sys

import srma

HEAVY = ("numpy", "scipy", "pandas", "matplotlib", "sqlalchemy", "sklearn", "alembic")

PROBE = """
import json, sys
from srma.cli import main
sys.argv = ["srma", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(m for m in {heavy} if m in sys.modules)), file=sys.stderr)
"""


def imported_by(arguments: list[str]) -> tuple[list[str], str]:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), json.dumps(arguments)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(completed.stderr.strip().splitlines()[-1]), completed.stdout


def test_help_imports_no_heavy_library() -> None:
    heavy, output = imported_by(["--help"])
    assert heavy == []
    assert "meta" in output and "screen" in output


def test_a_command_help_imports_no_heavy_library() -> None:
    heavy, output = imported_by(["meta", "--help"])
    assert heavy == []
    assert "--measure" in output


def test_version_names_the_package_version() -> None:
    heavy, output = imported_by(["--version"])
    assert output.strip() == f"srma {srma.__version__}"
    assert heavy == []
