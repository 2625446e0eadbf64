"""The screening queue: ranked by the reviewer's own decisions only, cached features agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SHARED
from srma.review.identify.importing import import_files
from srma.review.project import Project, add_reviewer, init_project
from srma.review.screen.decisions import all_record_ids, decide
from srma.review.screen.queue import FeatureCache, screening_queue

EXPORTS = SHARED / "fixtures" / "exports"


@pytest.fixture
def project(tmp_path: Path) -> Project:
    opened = init_project(tmp_path / "review", title="Queue", url=None)
    import_files(opened, [EXPORTS / "scopus.ris", EXPORTS / "embase.ris", EXPORTS / "proquest.ris"])
    with opened.store.transaction() as session:
        for name in ("ana", "ben"):
            add_reviewer(session, name)
    yield opened
    opened.close()


def test_ranking_uses_only_the_reviewers_own_decisions(project: Project) -> None:
    with project.store.transaction() as session:
        ids = all_record_ids(session)
        decide(session, project, reviewer="ana", record_id=ids[0], stage="ta", decision="include")
        decide(session, project, reviewer="ana", record_id=ids[1], stage="ta", decision="exclude")
        before = screening_queue(session, project, reviewer="ana", stage="ta")
        for record in ids[2:8]:  # another reviewer's decisions must not move Ana's queue
            decide(session, project, reviewer="ben", record_id=record, stage="ta",
                   decision="exclude")  # fmt: skip
        after = screening_queue(session, project, reviewer="ana", stage="ta")
        cache = FeatureCache()
        cached = screening_queue(session, project, reviewer="ana", stage="ta", features=cache)
        again = screening_queue(session, project, reviewer="ana", stage="ta", features=cache)
    assert before.ordering == "svm relevance ranking"
    assert before.record_ids == after.record_ids == cached.record_ids == again.record_ids
    assert cache.matrix.shape[0] == len(ids)
    assert set(before.record_ids) == set(ids[2:])
    assert (before.eligible, before.decided_by_reviewer) == (len(ids), 2)


def test_id_order_and_stopping_aid(project: Project) -> None:
    with project.store.transaction() as session:
        ids = all_record_ids(session)
        for record in ids[:3]:
            decide(session, project, reviewer="ana", record_id=record, stage="ta",
                   decision="exclude")  # fmt: skip
        queue = screening_queue(session, project, reviewer="ana", stage="ta", order="id",
                                stop_after=3)  # fmt: skip
    assert queue.record_ids == tuple(ids[3:])
    assert queue.stop is not None and queue.stop.consecutive_irrelevant == 3
    assert not queue.stop.stop  # no relevant record found yet
