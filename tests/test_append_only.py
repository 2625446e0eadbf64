"""Every table is append-only against every statement, on SQLite and PostgreSQL (issue 10).

UPDATE, DELETE, REPLACE INTO, INSERT OR REPLACE, upserts and TRUNCATE are refused on
reviewers, imports, import_problems, records and events; a dropped trigger is detected
(srma refuses to open the database) and a rewrite made without triggers breaks the
events' hash chain; a rename of a reviewer is an event; on PostgreSQL an application
role that does not own the tables cannot drop or disable the triggers.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from conftest import SHARED
from srma.errors import InputError
from srma.review.decision_log import load_events
from srma.review.identify.importing import import_files
from srma.review.identify.merging import deduplicate, undo_merge
from srma.review.project import (
    Project,
    add_reviewer,
    init_project,
    open_project,
    rename_reviewer,
    reviewer_id,
    reviewer_names,
)
from srma.review.screen.decisions import all_record_ids, decide, resolve
from srma.review.state import load_state, record_unblinding
from srma.store import APPEND_ONLY_TABLES, AccountRow, AnalysisRow, Event, Reviewer

EXPORTS = SHARED / "fixtures" / "exports"
#: A column of each table to try to change.
CHANGE = {
    "reviewers": "name = 'mallory'",
    "imports": "source = 'elsewhere'",
    "import_problems": "message = 'nothing wrong'",
    "records": "title = 'another title'",
    "events": "decision = 'exclude'",
    "analyses": "outcome = 'another outcome'",
    "accounts": "password_hash = 'forged'",
}


def populate(project: Project, tmp_path: Path) -> list[int]:
    """Rows in every table: reviewers, two imports (one with a problem), decisions, a merge."""
    broken = tmp_path / "broken.ris"
    broken.write_text("TY  - JOUR\nTI  - A title\nER  - \n\nTY  - JOUR\nPY  - 2020\nER  - \n")
    with project.store.transaction() as session:
        for name in ("ana", "ben", "cy"):
            add_reviewer(session, name)
    import_files(project, [EXPORTS / "ovid_psycinfo.ris", EXPORTS / "ovid_zotero.ris", broken])
    with project.store.transaction() as session:
        deduplicate(session)
        ids = [r for r in all_record_ids(session) if r not in load_state(session, project).merges]
        decide(session, project, reviewer="ana", record_id=ids[0], stage="ta", decision="include")
        decide(session, project, reviewer="ben", record_id=ids[0], stage="ta", decision="exclude",
               reason="wrong population")  # fmt: skip
        session.add(AnalysisRow(run=1, outcome="o", time_point="", data_version="0" * 64,
                                srma_version="0", log_position=0, result={}))  # fmt: skip
        session.add(AccountRow(reviewer_id=1, role="lead", password_hash="argon2-hash"))
    return ids


@pytest.fixture
def project(tmp_path: Path, database_url: str) -> Iterator[Project]:
    opened = init_project(tmp_path / "review", title="Append-only", url=database_url)
    populate(opened, tmp_path)
    yield opened
    opened.close()


@pytest.fixture
def sqlite_project(tmp_path: Path) -> Iterator[Project]:
    """A populated project on SQLite, for what only SQLite has (REPLACE, no privileges)."""
    opened = init_project(tmp_path / "review", title="Append-only", url=None)
    populate(opened, tmp_path)
    yield opened
    opened.close()


def snapshot(project: Project) -> dict[str, list[tuple]]:
    with project.store.engine.connect() as connection:
        return {
            table: [
                tuple(row) for row in connection.execute(text(f"SELECT * FROM {table} ORDER BY id"))
            ]
            for table in APPEND_ONLY_TABLES
        }


def statements(table: str, dialect: str) -> dict[str, str]:
    """Every statement that could change or remove a row of ``table``."""
    first = f"(SELECT min(id) FROM {table})"
    found = {
        "update": f"UPDATE {table} SET {CHANGE[table]}",
        "delete": f"DELETE FROM {table}",
        "delete one": f"DELETE FROM {table} WHERE id = {first}",
        "upsert": f"INSERT INTO {table} SELECT * FROM {table} WHERE id = {first} "
        f"ON CONFLICT (id) DO UPDATE SET {CHANGE[table]}",
    }
    if dialect == "sqlite":
        found["replace into"] = f"REPLACE INTO {table} SELECT * FROM {table} WHERE id = {first}"
        found["insert or replace"] = (
            f"INSERT OR REPLACE INTO {table} SELECT * FROM {table} WHERE id = {first}"
        )
        found["update or replace"] = f"UPDATE OR REPLACE {table} SET {CHANGE[table]}"
    else:
        found["truncate"] = f"TRUNCATE {table} CASCADE"
    return found


def refused(project: Project, statement: str) -> None:
    with pytest.raises(DBAPIError, match="append-only"), project.store.engine.begin() as connection:
        connection.execute(text(statement))


@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_no_statement_changes_or_removes_a_row(project: Project, table: str) -> None:
    before = snapshot(project)
    assert all(before.values()), "every table holds rows"
    for statement in statements(table, project.store.dialect).values():
        refused(project, statement)
        assert snapshot(project) == before, statement


def test_an_upsert_that_does_nothing_is_harmless(project: Project) -> None:
    before = snapshot(project)
    for table in APPEND_ONLY_TABLES:
        try:
            with project.store.engine.begin() as connection:
                connection.execute(
                    text(
                        f"INSERT INTO {table} SELECT * FROM {table} WHERE id = 1 "
                        "ON CONFLICT DO NOTHING"
                    )
                )
        except DBAPIError as error:  # SQLite's insert trigger refuses it outright
            assert "append-only" in str(error)
    assert snapshot(project) == before


def test_replace_on_a_unique_key_is_refused_too(sqlite_project: Project) -> None:
    """REPLACE with a new id but a taken name (or file hash) would delete the old row."""
    before = snapshot(sqlite_project)
    refused(sqlite_project, "INSERT OR REPLACE INTO reviewers (id, name, created_at) "
            "VALUES (999, 'ana', '2020-01-01 00:00:00')")  # fmt: skip
    refused(sqlite_project, "REPLACE INTO imports SELECT 999, path, file_name, format, sha256, "
            "source, search_date, records_read, records_stored, imported_at, imported_by "
            "FROM imports WHERE id = 1")  # fmt: skip
    assert snapshot(sqlite_project) == before


def plain_sqlite(project: Project) -> sqlite3.Connection:
    """Another program's connection: no srma, no recursive_triggers."""
    path = make_url(str(project.store.engine.url)).database
    return sqlite3.connect(path, isolation_level=None)


def test_another_sqlite_connection_without_recursive_triggers_cannot_replace(
    sqlite_project: Project,
) -> None:
    before = snapshot(sqlite_project)
    other = plain_sqlite(sqlite_project)
    assert other.execute("PRAGMA recursive_triggers").fetchone() == (0,)
    for table in APPEND_ONLY_TABLES:
        for statement in statements(table, "sqlite").values():
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                other.execute(statement)
    other.close()
    assert snapshot(sqlite_project) == before


def test_the_log_is_chained_and_intact(project: Project) -> None:
    check = project.store.verify()
    with project.store.transaction() as session:
        events = load_events(session)
    assert check.intact, check.problems
    assert check.events == len(events) > 5
    assert len(check.head) == 64
    assert [e.id for e in events] == list(range(1, len(events) + 1))


def test_dropped_triggers_are_detected_and_a_rewrite_breaks_the_chain(
    sqlite_project: Project,
) -> None:
    """SQLite has no privileges: the file's owner can drop triggers.  srma then refuses to
    open the project, and the hash chain shows which events were rewritten."""
    head = sqlite_project.store.verify().head
    other = plain_sqlite(sqlite_project)
    other.execute("DROP TRIGGER events_no_update")
    other.execute("DROP TRIGGER reviewers_no_update")
    other.execute("UPDATE events SET decision = 'include' WHERE decision = 'exclude'")
    other.execute("UPDATE reviewers SET name = 'mallory' WHERE name = 'cy'")
    other.close()
    with pytest.raises(InputError, match="triggers were dropped or disabled"):
        open_project(sqlite_project.folder, url=str(sqlite_project.store.engine.url))
    check = sqlite_project.store.verify()
    assert not check.intact
    assert any("events_no_update" in p for p in check.problems)
    assert any("reviewers_no_update" in p for p in check.problems)
    assert any(p.startswith("event ") for p in check.problems)
    assert check.head == head  # the stored hashes were not recomputed


def test_a_recomputed_chain_ends_in_another_head(sqlite_project: Project) -> None:
    """Someone who rewrites an event and recomputes every later hash gets an intact chain,
    but not the head hash noted before: that is why ``LogCheck.head`` is worth keeping."""
    from srma.store.chain import GENESIS, event_hash

    noted = sqlite_project.store.verify().head
    other = plain_sqlite(sqlite_project)
    other.row_factory = sqlite3.Row
    for trigger in ("events_no_update", "events_no_replace"):
        other.execute(f"DROP TRIGGER {trigger}")
    other.execute("UPDATE events SET decision = 'include' WHERE decision = 'exclude'")
    names = dict(other.execute("SELECT id, name FROM reviewers").fetchall())
    previous = GENESIS
    with sqlite_project.store.engine.connect() as connection:
        rows = connection.execute(select(Event.__table__).order_by(Event.id)).mappings().all()
    for row in rows:
        previous = event_hash(previous, row, names[row["reviewer_id"]])
        other.execute("UPDATE events SET hash = ? WHERE id = ?", (previous, row["id"]))
    other.close()
    check = sqlite_project.store.verify()
    assert [p for p in check.problems if p.startswith("event ")] == []
    assert check.head != noted


def test_a_rewrite_of_a_reviewer_name_breaks_the_chain(sqlite_project: Project) -> None:
    other = plain_sqlite(sqlite_project)
    other.execute("DROP TRIGGER reviewers_no_update")
    other.execute("UPDATE reviewers SET name = 'mallory' WHERE name = 'ana'")
    other.close()
    problems = sqlite_project.store.verify().problems
    assert any(p.startswith("event ") for p in problems)


def test_a_rename_is_an_event_and_past_decisions_keep_their_reviewer(project: Project) -> None:
    with project.store.transaction() as session:
        before = {e.id: e.reviewer for e in load_events(session)}
        ana = reviewer_id(session, "ana")
        event = rename_reviewer(session, "Ana", "Anna Smith")
    with project.store.transaction() as session:
        events = load_events(session)
        assert events[-1].id == event and events[-1].kind == "rename_reviewer"
        assert events[-1].payload == {"from": "ana", "to": "Anna Smith"}
        assert {e.id: e.reviewer for e in events[:-1]} == {
            i: "Anna Smith" if name == "ana" else name for i, name in before.items()
        }
        assert reviewer_id(session, "anna smith") == ana
        assert session.get(Reviewer, ana).name == "ana"  # the row is never changed
        with pytest.raises(InputError, match="renamed: their name is now 'Anna Smith'"):
            decide(session, project, reviewer="ana", record_id=1, stage="ta", decision="include")
        with pytest.raises(InputError, match="names are never reused"):
            add_reviewer(session, "ANA")
        with pytest.raises(InputError, match="names are never reused"):
            rename_reviewer(session, "ben", "ana")
        with pytest.raises(InputError, match="already exists"):
            rename_reviewer(session, "ben", "cy")
        with pytest.raises(InputError, match="cannot be renamed"):
            rename_reviewer(session, "srma", "robot")
        with pytest.raises(InputError, match="reserved"):
            rename_reviewer(session, "ben", "srma")
        state = load_state(session, project)
        decided = [e.reviewer for entry in state.at("ta").values() for e in entry.decisions]
        assert sorted(decided) == ["Anna Smith", "ben"]
        rename_reviewer(session, "anna smith", "ana")  # back to one's own former name
        assert reviewer_names(session)[ana] == "ana"
    assert project.store.verify().intact


def test_the_whole_workflow_works_under_the_triggers(tmp_path: Path, database_url: str) -> None:
    opened = init_project(tmp_path / "flow", title="Workflow", url=database_url)
    try:
        ids = populate(opened, tmp_path)
        with opened.store.transaction() as session:
            merged = next(iter(load_state(session, opened).merges))
            undo_merge(session, reviewer="cy", record_id=merged, note="two editions")
            resolve(session, opened, reviewer="cy", record_id=ids[0], stage="ta",
                    decision="include", method="third reviewer")  # fmt: skip
            decide(session, opened, reviewer="ana", record_id=ids[0], stage="ft",
                   decision="include")  # fmt: skip
            record_unblinding(session, reviewer="cy", command="srma audit --unblind")
            rename_reviewer(session, "cy", "Cyrus")
        with opened.store.transaction() as session:
            state = load_state(session, opened)
        assert state.at("ta")[ids[0]].outcome == "include"
        assert state.at("ta")[ids[0]].resolution.reviewer == "Cyrus"
        assert [e.reviewer for e in state.unblindings] == ["Cyrus"]
        assert merged in state.at("ta")
        assert opened.store.verify().intact
    finally:
        opened.close()


def test_events_written_before_0002_get_their_hashes(tmp_path: Path, database_url: str) -> None:
    from alembic import command

    from srma.store.database import alembic_config

    opened = init_project(tmp_path / "old", title="Old", url=database_url)
    populate(opened, tmp_path)
    head = opened.store.verify().head
    config = alembic_config()
    with opened.store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
    assert opened.store.schema_revision() == "0001"
    with opened.store.engine.connect() as connection:
        columns = list(connection.execute(text("SELECT * FROM events LIMIT 1")).keys())
    assert "hash" not in columns
    opened.close()
    again = open_project(opened.folder, url=database_url)  # migrates on (0002 hashes the log)
    try:
        assert again.store.schema_revision() == "0004"
        check = again.store.verify()
        assert check.intact and check.head == head
    finally:
        again.close()


# --- PostgreSQL: an application role that does not own the tables -----------------------------


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_app_role_cannot_drop_or_disable_triggers(
    tmp_path: Path, database_url: str
) -> None:
    from alembic import command

    from srma.store.database import alembic_config

    suffix = uuid.uuid4().hex[:10]
    owner, app = f"srma_owner_{suffix}", f"srma_app_{suffix}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    url = make_url(database_url)
    owner_url = url.set(username=owner).render_as_string(hide_password=False)
    app_url = url.set(username=app).render_as_string(hide_password=False)
    setup = [
        f"CREATE ROLE {owner} LOGIN",
        f"CREATE ROLE {app} LOGIN",
        f"ALTER SCHEMA public OWNER TO {owner}",
        f"GRANT USAGE ON SCHEMA public TO {app}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        f"GRANT SELECT, INSERT ON TABLES TO {app}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        f"GRANT USAGE ON SEQUENCES TO {app}",
    ]
    try:
        with admin.connect() as connection:
            for statement in setup:
                connection.execute(text(statement))
        init_project(tmp_path / "team", title="Team", url=owner_url).close()  # owner migrates
        project = open_project(tmp_path / "team", url=app_url)
        try:
            populate(project, tmp_path)  # INSERT works
            before = snapshot(project)
            forbidden = [
                *[s for t in APPEND_ONLY_TABLES for s in statements(t, "postgresql").values()],
                "DROP TRIGGER events_append_only ON events",
                "ALTER TABLE events DISABLE TRIGGER events_append_only",
                "ALTER TABLE events DISABLE TRIGGER ALL",
                "ALTER TABLE records DISABLE TRIGGER USER",
                "DROP FUNCTION srma_append_only() CASCADE",
                "SET session_replication_role = replica",
                "DROP TABLE events CASCADE",
                "ALTER TABLE events DROP COLUMN hash",
            ]
            for statement in forbidden:
                with pytest.raises(DBAPIError), project.store.engine.begin() as connection:
                    connection.execute(text(statement))
            assert snapshot(project) == before
            assert project.store.verify().intact
        finally:
            project.close()
        # a schema behind the newest migration is migrated by the owner, not the app role
        owned = open_project(tmp_path / "team", url=owner_url)
        config = alembic_config()
        with owned.store.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0001")
        owned.close()
        with pytest.raises(InputError, match="run srma once as the tables' owner"):
            open_project(tmp_path / "team", url=app_url)
        open_project(tmp_path / "team", url=owner_url).close()
        again = open_project(tmp_path / "team", url=app_url)
        assert again.store.schema_revision() == "0004" and again.store.verify().intact
        again.close()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP OWNED BY {app}"))
            connection.execute(text(f"DROP OWNED BY {owner}"))
            connection.execute(text(f"DROP ROLE IF EXISTS {app}"))
            connection.execute(text(f"DROP ROLE IF EXISTS {owner}"))
        admin.dispose()


def test_srma_reviewer_rename(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from srma.cli import app

    runner = CliRunner()
    folder = str(tmp_path / "cli")
    assert runner.invoke(app, ["init", folder, "--title", "CLI"]).exit_code == 0
    added = runner.invoke(app, ["reviewer", folder, "--add", "Ana", "--add", "Ben"])
    assert added.exit_code == 0 and added.stdout.split() == ["Ana", "Ben"]
    renamed = runner.invoke(app, ["reviewer", folder, "--rename", "ana", "Anna"])
    assert renamed.exit_code == 0 and renamed.stdout.split() == ["Anna", "Ben"]
    reused = runner.invoke(app, ["reviewer", folder, "--add", "Ana"])
    assert reused.exit_code != 0 and "never reused" in reused.output


def test_srma_verify_reports_an_intact_log_and_then_a_rewritten_one(
    sqlite_project: Project,
) -> None:
    from typer.testing import CliRunner

    from srma.cli import app

    folder = str(sqlite_project.folder)
    intact = CliRunner().invoke(app, ["verify", folder, "--json"])
    assert intact.exit_code == 0, intact.output
    assert '"intact": true' in intact.stdout
    other = plain_sqlite(sqlite_project)
    other.execute("DROP TRIGGER events_no_update")
    other.execute("UPDATE events SET note = 'rewritten' WHERE id = 1")
    other.close()
    broken = CliRunner().invoke(app, ["verify", folder])
    assert broken.exit_code == 1
    assert "NOT intact" in broken.stdout
    assert "events_no_update" in broken.stdout and "event 1" in broken.stdout
