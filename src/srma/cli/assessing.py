"""What ``srma extract`` and ``srma rob`` share: a reviewer's form, its import, submission.

Both assessments work alike (docs/extraction.md, docs/risk_of_bias.md): a form
per reviewer, imported all or nothing with every problem named by sheet and
cell, studies submitted, then compared and resolved.  Registers no command.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from srma.cli import print_json, stderr
from srma.cli.projects import say

if TYPE_CHECKING:
    from srma.review.extract.importing import ImportResult

Result = TypeVar("Result")

FormOutputOption = Annotated[
    Path, typer.Option("-o", "--output", help="FILE.xlsx (a workbook) or FILE.csv (long form).")
]
FormArgument = Annotated[Path, typer.Argument(help="A form: FILE.xlsx or the long FILE.csv.")]
SubmitStudyOption = Annotated[
    list[str] | None, typer.Option("--study", help="A study to submit (repeatable).")
]
AllStudiesOption = Annotated[bool, typer.Option("--all", help="Submit every study.")]
CsvOutputOption = Annotated[
    Path | None, typer.Option("-o", "--output", help="CSV file (default: standard output).")
]


def consensus_option(reviewers: str, reconciled: str) -> Any:
    """The ``--consensus`` option of a form or import; ``reviewers`` names who submits
    ("extractor"), ``reconciled`` what the consensus workbook holds ("values")."""
    return Annotated[
        bool,
        typer.Option(
            "--consensus",
            help=f"A consensus workbook: the studies every {reviewers} submitted, reconciled "
            f"{reconciled} filled in, open discrepancies marked; its import records resolutions.",
        ),
    ]


def import_or_exit(load: Callable[[], Result], *, as_json: bool) -> Result:
    """Run an import; a form with problems is reported (as JSON with ``--json``), nothing is
    stored, and the command ends with status 1."""
    from srma.review.extract.reading import FormError

    try:
        return load()
    except FormError as error:
        if as_json:
            print_json(error.to_dict())
        else:
            say(f"error: {error.file}: {len(error.problems)} problem(s), nothing stored",
                console=stderr)  # fmt: skip
            for line in str(error).splitlines():
                say(f"  {line}", console=stderr)
        raise typer.Exit(code=1) from None


def say_imported(result: ImportResult, summary: str, *, as_json: bool) -> None:
    """An import's summary line and the studies it submitted (or its JSON)."""
    if as_json:
        print_json(result.to_dict())
        return
    say(summary)
    for label in result.submitted:
        say(f"  submitted: {label}")
