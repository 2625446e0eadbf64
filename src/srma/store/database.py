"""Opening a project's database and running commands in transactions.

``open_store(url)`` connects (SQLite file by default, PostgreSQL by URL),
brings the schema up to date with Alembic, and returns a :class:`Store` whose
``transaction()`` is the unit of work of every srma command: everything it
writes is committed together or not at all, so an interrupted import leaves
the project as it was.

Every table is append-only (:data:`~srma.store.models.APPEND_ONLY_TABLES`):
the migrations install triggers that refuse any change or removal of a row,
SQLite connections run with ``recursive_triggers`` on, and ``open_store``
refuses a database whose triggers were dropped or disabled.  New events are
given their ids and chained hashes when a session flushes
(:mod:`srma.store.chain`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from srma.errors import InputError
from srma.store.chain import LogCheck, chain_new_events, missing_triggers, verify_chain


def resolve_url(url: str | None, folder: Path) -> str:
    """The SQLAlchemy URL of a project's database.

    No URL means ``sqlite:///<folder>/srma.db``; ``postgresql://`` URLs use
    the psycopg (version 3) driver.
    """
    if url is None:
        return f"sqlite:///{(folder / 'srma.db').resolve()}"
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise InputError(f"not a database URL: {url!r}") from error
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if not parsed.drivername.startswith(("sqlite", "postgresql")):
        raise InputError(f"unsupported database {parsed.drivername!r}: use SQLite or PostgreSQL")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 10000")
    # REPLACE deletes a conflicting row; with recursive triggers the delete triggers fire
    cursor.execute("PRAGMA recursive_triggers = ON")
    cursor.close()


def alembic_config() -> Config:
    """Alembic's configuration for srma's migrations (pass a connection in ``attributes``)."""
    config = Config()
    config.set_main_option("script_location", str(files("srma.store") / "migrations"))
    return config


@dataclass(frozen=True)
class Store:
    """A connected, migrated project database."""

    engine: Engine
    sessions: sessionmaker[Session]

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: committed when the block ends, rolled back if it raises."""
        with self.sessions.begin() as session:
            yield session

    def schema_revision(self) -> str | None:
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def verify(self) -> LogCheck:
        """Recompute the events' hash chain and check the append-only triggers."""
        with self.engine.connect() as connection:
            return verify_chain(connection)

    def dispose(self) -> None:
        self.engine.dispose()


def open_store(url: str) -> Store:
    """Connect to ``url`` and upgrade the schema to the newest migration."""
    is_sqlite = url.startswith("sqlite")
    connect_args = {} if is_sqlite else {"application_name": "srma"}
    engine = create_engine(url, connect_args=connect_args)
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    config = alembic_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    try:
        with engine.begin() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
            if current != head:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
            missing = missing_triggers(connection)
    except OperationalError as error:
        engine.dispose()
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise InputError(f"cannot open the database: {reason}") from error
    except DBAPIError as error:  # e.g. an application role may not migrate the schema
        engine.dispose()
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise InputError(
            f"cannot bring the database's schema up to date: {reason} (run srma once as "
            "the tables' owner to migrate; see docs/review.md)"
        ) from error
    if missing:
        engine.dispose()
        raise InputError(
            "the database's append-only triggers were dropped or disabled "
            f"({', '.join(missing)}): srma will not write to it. The log may have been "
            "rewritten; check it with `srma verify` and restore the project from a copy "
            "you trust"
        )
    sessions = sessionmaker(engine, expire_on_commit=False)
    event.listen(sessions, "before_flush", chain_new_events)
    return Store(engine, sessions)


def check_log(url: str) -> LogCheck:
    """Verify the log of the database at ``url`` without migrating or writing anything.

    Unlike :func:`open_store` this also reads a database whose triggers were
    dropped, which is when the check matters most.
    """
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return verify_chain(connection)
    except OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise InputError(f"cannot read the database: {reason}") from error
    finally:
        engine.dispose()
