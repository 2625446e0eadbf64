"""``srma audit-published``: check a table of published pooled results for internal consistency."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from srma.cli.app import app
from srma.cli.shell import JsonOption, print_json, read_table, run, stdout, terminal_line

if TYPE_CHECKING:
    import pandas as pd


def printed_table(path: Path) -> pd.DataFrame:
    """The table with every cell as printed (``0.40`` keeps its two decimals).

    :func:`read_table` reads it first, for its one-line errors about unreadable
    files; its numbers are floats, which forget how many decimals were printed.
    """
    import pandas as pd

    read_table(path)
    separator = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
    return pd.read_csv(path, sep=separator, skipinitialspace=True, dtype=str,
                       keep_default_na=False, na_values=[""])  # fmt: skip


@app.command("audit-published")
def audit_published_command(
    data: Annotated[
        Path, typer.Argument(help="CSV (or TSV) of reported pooled results, one per row.")
    ],
    as_json: JsonOption = False,
) -> None:
    """Check reported pooled results: CI, p, I², Q, participants, direction (docs/audit.md)."""

    def action() -> None:
        from rich.table import Table
        from rich.text import Text

        from srma.analysis.audit import audit_published

        result = audit_published(printed_table(data), source=str(data))
        if as_json:
            print_json(result.to_dict())
            return
        if result.findings:
            table = Table("row", "source", "outcome", "check", "reported", "recomputed",
                          "severity", "detail")  # fmt: skip
            for finding in result.findings:
                cells = (str(finding.row), finding.source or "", finding.outcome or "",
                         finding.check, finding.reported, finding.recomputed_text(),
                         finding.severity, finding.detail)  # fmt: skip
                # data may hold markup ([bold]) or terminal escapes: shown as text
                table.add_row(*(Text(terminal_line(cell)) for cell in cells))
            stdout.print(table, markup=False)
        stdout.print(result.summary(), markup=False, highlight=False)

    run(action, data)
