"""The ``srma`` command: a thin shell over the Python API (parse, call, print).

This is the composition root: the application (:mod:`srma.cli.app`) and what
the commands share (:mod:`srma.cli.shell`: options, reading and fitting a
table, errors mapped to one line) come first, then each topic module
registers its commands on the application by being imported.  No statistics
here.  Bad input ends with exit status 1 and one line on standard error
(``error: file, row, column: what was wrong``); warnings go to standard error
as ``warning: ...`` lines and never into ``--json`` output.
"""

from __future__ import annotations

import importlib

from srma.cli.app import app
from srma.cli.shell import (
    CommandError,
    fail,
    figure_path,
    print_json,
    read_table,
    run,
    stderr,
    stdout,
)

#: The topic modules, in the order of ``srma --help``; each registers its commands on ``app``
#: when imported.
COMMAND_MODULES = (
    "analyses", "sof", "figures", "report", "review", "screen", "extract", "synthesize",
    "multilevel", "network", "simulate", "simulate_methods", "audit", "web", "demo",
)  # fmt: skip
for _module in COMMAND_MODULES:
    importlib.import_module(f"srma.cli.{_module}")

__all__ = [
    "COMMAND_MODULES",
    "CommandError",
    "app",
    "fail",
    "figure_path",
    "main",
    "print_json",
    "read_table",
    "run",
    "stderr",
    "stdout",
]


def main() -> None:
    """Entry point of the ``srma`` console script."""
    app()
