"""Shared test helpers: the metafor fixtures written by tests/reference/*.R."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "reference" / "fixtures"


@cache
def load_fixture(name: str) -> Any:
    """A JSON fixture written by one of the R scripts in tests/reference/."""
    with (FIXTURES / name).open(encoding="utf-8") as handle:
        return json.load(handle)


#: The project's shared folder (DESIGN.md, seeds, reference facts, fixtures from other
#: tools), which sits beside the repository on every machine and in CI.
SHARED = Path(__file__).resolve().parents[2] / "shared"
assert SHARED.is_dir(), f"the shared folder is missing: expected it at {SHARED}"

# pandas 3 stores str columns in pyarrow when pyarrow is installed (the simulation extra
# brings it) and pyarrow refuses lone surrogates, which the hostile-label tests hand srma.
# The suite keeps pandas' Python storage, as on a machine without pyarrow; srma's own
# frames of labels under pyarrow storage are a known gap (CHANGELOG, 0.2.0).
import pandas as _pandas  # noqa: E402

_pandas.set_option("mode.string_storage", "python")


# --- review projects on both database back ends ----------------------------------------------

import os  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

#: Exported by `make test` / .ci/run, which start a PostgreSQL server on loopback.
POSTGRES_URL = os.environ.get("SRMA_TEST_POSTGRES_URL")


def _postgres_admin_url() -> str:
    if not POSTGRES_URL:
        pytest.fail(
            "SRMA_TEST_POSTGRES_URL is not set: run the tests with `make test`, which starts "
            "PostgreSQL on loopback (.ci/postgres.sh), or export the URL of a server"
        )
    return POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a new database on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    admin = create_engine(_postgres_admin_url(), isolation_level="AUTOCOMMIT")
    name = f"srma_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    base = _postgres_admin_url().rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def srma(*args: object, input: str | None = None, code: int = 0) -> str:
    """Run ``srma ARGS`` in-process (Typer's runner); check the exit code; its output."""
    from typer.testing import CliRunner

    from srma.cli import app

    result = CliRunner().invoke(app, [str(a) for a in args], input=input)
    assert result.exit_code == code, result.output
    return result.output
