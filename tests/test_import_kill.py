"""An import killed in the middle leaves the project as it was (SQLite and PostgreSQL).

A large RIS file is imported by ``srma import`` in a child process, which is
killed with SIGKILL while its transaction is writing records: for SQLite once
the rollback journal exists, for PostgreSQL once the server shows srma's
session inside a transaction.  The project must then hold exactly what it
held before, and the same import must succeed afterwards.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from conftest import SHARED
from srma.review.identify.importing import import_files
from srma.review.project import init_project
from srma.store import ImportBatch, RecordRow

RECORDS = 30_000


def big_ris(path: Path) -> Path:
    words = "infarct size reduction after ischaemic conditioning in a randomised trial of rats"
    with path.open("w", encoding="utf-8") as handle:
        for number in range(RECORDS):
            handle.write(
                f"TY  - JOUR\nTI  - Study {number}: {words}\nAU  - Author{number}, A\n"
                f"PY  - {1990 + number % 30}\nAB  - {words * 8}\nER  - \n\n"
            )
    return path


def start_import(folder: Path, export: Path, url: str) -> subprocess.Popen[bytes]:
    command = "from srma.cli import main; main()"
    return subprocess.Popen(
        [sys.executable, "-c", command, "import", str(folder), str(export), "--db", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "SRMA_DATABASE_URL": ""},
    )


def wait_until(condition: object, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(
                f"the import ended before it could be killed: {process.stderr.read().decode()}"
            )
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("the import never started writing")
        time.sleep(0.002)


def writing_postgres(url: str) -> object:
    engine = create_engine(url.rsplit("/", 1)[0] + "/postgres")  # watch from another database
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'srma' "
        "AND query LIKE 'INSERT INTO records%'"
    )

    def condition() -> bool:
        with engine.connect() as connection:
            return bool(connection.scalar(query))

    return condition


def test_a_killed_import_leaves_the_project_as_before(tmp_path: Path, database_url: str) -> None:
    folder = tmp_path / "review"
    project = init_project(folder, title="Kill test", url=database_url)
    import_files(project, [SHARED / "fixtures" / "exports" / "scopus.ris"])
    export = big_ris(tmp_path / "big.ris")
    process = start_import(folder, export, database_url)
    if database_url.startswith("sqlite"):
        journal = folder.parent / "test.db-journal"
        wait_until(journal.exists, process)
    else:
        wait_until(writing_postgres(database_url), process)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
    if database_url.startswith("sqlite"):
        with sqlite3.connect(folder.parent / "test.db") as connection:  # rolls the journal back
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with project.store.transaction() as session:
        assert session.scalar(select(func.count()).select_from(RecordRow)) == 6
        assert session.scalar(select(func.count()).select_from(ImportBatch)) == 1
    (result,) = import_files(project, [export])
    assert (result.records_read, result.records_stored) == (RECORDS, RECORDS)
    project.close()


@pytest.fixture(autouse=True)
def _no_inherited_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SRMA_DATABASE_URL", raising=False)
