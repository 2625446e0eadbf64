"""``srma serve`` (the browser workspace) and ``srma user add`` (its accounts)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from srma.cli import CommandError, app, run
from srma.cli.projects import DbOption, ProjectArgument, project_session, say

user_app = typer.Typer(help="Accounts of the browser workspace (srma serve).", no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("add")
def user_add_command(
    project: ProjectArgument,
    name: Annotated[str, typer.Argument(help="The reviewer's name (registered if new).")],
    role: Annotated[str, typer.Option(help="lead or reviewer.")] = "reviewer",
    password_file: Annotated[
        Path | None,
        typer.Option(help="A file whose first line is the password (default: ask for it)."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Give a reviewer a sign-in (again: a new password or role; the log keeps the old row)."""
    from srma.web.accounts import add_account

    def action() -> None:
        if password_file is not None:
            try:
                lines = password_file.read_text().splitlines()
            except OSError as error:
                raise CommandError(f"{password_file}: {error.strerror}") from None
            password = lines[0] if lines else ""
        else:
            password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
        with project_session(project, db) as (_project, session):
            account = add_account(session, name, role=role, password=password)
        say(f"account {account.name} ({account.role}) saved")

    run(action)


@app.command("serve")
def serve_command(
    project: ProjectArgument,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    db: DbOption = None,
) -> None:
    """Start the browser workspace of a project (sign in with `srma user add` accounts)."""

    def action() -> None:
        import uvicorn
        from threadpoolctl import threadpool_limits

        from srma.web.app import create_app

        # requests are served by many threads at once: BLAS threads of their own would
        # only compete with them (and spin when the cores are busy)
        threadpool_limits(limits=1, user_api="blas")

        say(f"srma workspace on http://{host}:{port}/ (Ctrl-C stops it)")
        uvicorn.run(create_app(project, url=db), host=host, port=port, log_level="warning")

    run(action)
