"""What every project command shares: the project argument, ``--db``, ``--json``,
``--reviewer``, opening a project in one transaction, and printing a line for people.

Registers no command, so any topic module may import it whatever the order in
which :data:`srma.cli.COMMAND_MODULES` registers them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from srma.text_safety import printable

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from srma.review.project import Project

#: Lines of these commands are not wrapped at the terminal's width (they are read by scripts).
stdout = Console(soft_wrap=True)

ProjectArgument = Annotated[Path, typer.Argument(help="The project folder (holds review.toml).")]
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (default: srma.db in the folder, or $SRMA_DATABASE_URL), "
        "e.g. postgresql://user@localhost/review.",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
ReviewerOption = Annotated[str, typer.Option(help="Your reviewer name.")]


def say(text: str, *, console: Console = stdout) -> None:
    """Print one line for people: made printable (line breaks and tabs become spaces, so text
    cannot forge a line), never read as markup."""
    console.print(printable(text, newlines=False, tabs=False), markup=False)


@contextmanager
def project_session(folder: Path, url: str | None) -> Iterator[tuple[Project, Session]]:
    """Open a project and run the block in one transaction; close the project afterwards."""
    from srma.review.project import open_project

    opened = open_project(folder, url=url)
    try:
        with opened.store.transaction() as session:
            yield opened, session
    finally:
        opened.close()
