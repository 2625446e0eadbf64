"""The review state kept between requests (srma.review.state_cache) equals a fresh replay,
on SQLite and PostgreSQL, after decisions, a rename, a late import and inside a writing
transaction; and threads reading it while others append see the log up to a moment, never
a torn one."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from conftest import SHARED
from srma.review.identify.importing import import_files
from srma.review.project import (
    Project,
    add_reviewer,
    current_name,
    init_project,
    rename_reviewer,
    reviewer_names,
)
from srma.review.screen.decisions import all_record_ids, decide, resolve
from srma.review.state import load_state
from srma.review.state_cache import StateCache

EXPORTS = SHARED / "fixtures" / "exports"


@pytest.fixture
def project(tmp_path: Path, database_url: str) -> Project:
    opened = init_project(tmp_path / "review", title="Cache", url=database_url)
    import_files(opened, [EXPORTS / "scopus.ris"])
    with opened.store.transaction() as session:
        for name in ("ana", "ben"):
            add_reviewer(session, name)
    yield opened
    opened.close()


def _same(cache: StateCache, project: Project) -> None:
    with project.store.transaction() as session:
        assert cache.state(session) == load_state(session, project)


def test_cached_state_equals_a_fresh_replay(project: Project) -> None:
    cache = StateCache(project)
    _same(cache, project)
    with project.store.transaction() as session:
        ids = all_record_ids(session)
    with project.store.transaction() as session:
        first = cache.state(session)
        assert cache.state(session) is first  # nothing appended: the same object
    pairs = [("include", "exclude"), ("include", "include"), ("exclude", "exclude"),
             ("maybe", "exclude")]  # fmt: skip
    for record, (a, b) in zip(ids[:4], pairs, strict=True):
        with project.store.transaction() as session:
            decide(session, project, reviewer="ana", record_id=record, stage="ta", decision=a)
        _same(cache, project)  # one reviewer decided: blinded
        with project.store.transaction() as session:
            decide(session, project, reviewer="ben", record_id=record, stage="ta", decision=b)
        _same(cache, project)
    with project.store.transaction() as session:
        resolve(session, project, reviewer="ana", record_id=ids[0], stage="ta",
                decision="include", method="consensus")  # fmt: skip
    _same(cache, project)
    with project.store.transaction() as session:
        rename_reviewer(session, "ben", "Benjamin")
    _same(cache, project)  # every earlier event shows the new name
    with project.store.transaction() as session:
        assert {e.reviewer for e in cache.state(session).events} >= {"Benjamin"}
        names = reviewer_names(session)  # what the workspace checks on each request, alone
        assert {i: current_name(session, i) for i in names} == names
        assert "Benjamin" in names.values()
    import_files(project, [EXPORTS / "embase.ris"])
    _same(cache, project)
    with project.store.transaction() as session:
        assert set(all_record_ids(session)) <= set(cache.state(session).records)


def test_a_writing_transaction_gets_its_own_state_and_a_rollback_leaves_no_trace(
    project: Project,
) -> None:
    cache = StateCache(project)
    with project.store.transaction() as session:
        record = all_record_ids(session)[0]
        before = cache.state(session)
    session = project.store.sessions()
    with session.begin():
        decide(session, project, reviewer="ana", record_id=record, stage="ta", decision="include")
        own = cache.state(session)  # sees its own, uncommitted decision
        assert own.at("ta")[record].decided == 1
        session.rollback()
    session.close()
    with project.store.transaction() as session:
        after = cache.state(session)
        assert after.at("ta")[record].decided == 0
        assert after == before == load_state(session, project)


def test_threads_reading_while_others_append(project: Project) -> None:
    cache = StateCache(project)
    with project.store.transaction() as session:
        ids = all_record_ids(session)[:12]
    problems: list[str] = []

    def write(reviewer: str) -> None:
        for record in ids:
            with project.store.transaction() as session:
                decide(session, project, reviewer=reviewer, record_id=record, stage="ta",
                       decision="exclude")  # fmt: skip

    def read() -> None:
        for _ in range(15):
            with project.store.transaction() as session:
                state = cache.state(session)
                seen = [e.id for e in state.events]  # the log up to some moment: no gap
                if seen != list(range(1, len(seen) + 1)):
                    problems.append(f"not a prefix of the log: {seen}")
                counted = sum(state.at("ta")[r].decided for r in ids)
                if counted != sum(e.kind == "screening" for e in state.events):
                    problems.append(f"{counted} decisions replayed from {len(seen)} events")

    threads = [threading.Thread(target=write, args=(name,)) for name in ("ana", "ben")]
    threads += [threading.Thread(target=read) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert problems == []
    assert project.store.verify().intact  # concurrent writers each took the next id
    _same(cache, project)
    with project.store.transaction() as session:
        assert all(cache.state(session).at("ta")[r].decided == 2 for r in ids)
