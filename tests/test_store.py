"""The review project's store on SQLite and PostgreSQL: migrations, append-only log,
transactional imports, deduplication merges, blinded screening, conflicts, agreement, status."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from conftest import SHARED
from srma.errors import InputError
from srma.review.decision_log import load_events
from srma.review.flow.status import prisma_counts, project_status
from srma.review.identify.importing import import_files
from srma.review.identify.merging import deduplicate, judge_pair, undo_merge
from srma.review.project import Project, add_reviewer, init_project
from srma.review.screen.agreement import stage_agreement
from srma.review.screen.decisions import (
    all_record_ids,
    blinded_view,
    conflicts,
    decide,
    resolve,
    to_screen,
)
from srma.review.screen.kappa import cohen_kappa, fleiss_kappa
from srma.store import Event, ImportBatch, RecordRow

EXPORTS = SHARED / "fixtures" / "exports"


@pytest.fixture
def project(tmp_path: Path, database_url: str) -> Project:
    opened = init_project(tmp_path / "review", title="Test review", url=database_url)
    with opened.store.transaction() as session:
        for name in ("ana", "ben", "cy"):
            add_reviewer(session, name)
    yield opened
    opened.close()


def count(project: Project, model: type) -> int:
    with project.store.transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_schema_is_migrated_once(project: Project, database_url: str) -> None:
    assert project.store.schema_revision() == "0004"
    again = init_project(project.folder, title="ignored", url=database_url)
    assert again.store.schema_revision() == "0004"
    assert "Test review" in (project.folder / "review.toml").read_text()
    again.close()


@pytest.mark.parametrize(
    "statement", ["UPDATE events SET decision = 'exclude'", "DELETE FROM events"]
)
def test_events_are_append_only_in_the_database(project: Project, statement: str) -> None:
    import_files(project, [EXPORTS / "scopus.ris"])
    with project.store.transaction() as session:
        decide(session, project, reviewer="ana", record_id=1, stage="ta", decision="include")
    with pytest.raises(DBAPIError, match="append-only"), project.store.transaction() as session:
        session.execute(text(statement))
    with project.store.transaction() as session:
        assert session.scalar(select(Event.decision)) == "include"


def test_import_records_counts_and_detects_the_same_file(project: Project, tmp_path: Path) -> None:
    broken = tmp_path / "broken.ris"
    broken.write_text("TY  - JOUR\nTI  - A title\nER  - \n\nTY  - JOUR\nPY  - 2020\nER  - \n")
    first = import_files(project, [EXPORTS / "scopus.ris", broken], search_date="2024-03-31")
    scopus, missing = first
    assert (scopus.source, scopus.records_read, scopus.records_stored) == ("Scopus", 6, 6)
    assert missing.records_read == missing.records_stored + len(missing.problems)
    assert [(p.line, p.message) for p in missing.problems] == [
        (5, "record has no title, abstract or DOI")
    ]
    again = import_files(project, [EXPORTS / "scopus.ris"], source="Scopus")
    assert again[0].already_imported_as == scopus.import_id
    assert again[0].records_stored == 0
    assert count(project, RecordRow) == scopus.records_stored + missing.records_stored
    with project.store.transaction() as session:
        batch = session.get(ImportBatch, scopus.import_id)
        assert (batch.search_date, batch.records_read, len(batch.sha256)) == ("2024-03-31", 6, 64)


def test_an_unreadable_file_stops_the_import_before_anything_is_written(
    project: Project, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.ris"
    empty.write_text("")
    with pytest.raises(InputError, match="empty"):
        import_files(project, [EXPORTS / "scopus.ris", empty])
    assert count(project, RecordRow) == 0
    assert count(project, ImportBatch) == 0


def test_a_failure_while_storing_rolls_everything_back(project: Project) -> None:
    stored: list[int] = []

    def crash(n: int) -> None:
        stored.append(n)
        if len(stored) == 2:
            raise RuntimeError("disk full")

    files = [EXPORTS / "scopus.ris", EXPORTS / "embase.ris", EXPORTS / "pubmed_zotero.ris"]
    with pytest.raises(RuntimeError, match="disk full"):
        import_files(project, files, on_stored=crash, chunk_size=2)
    assert stored == [2, 2]
    assert count(project, RecordRow) == 0
    assert count(project, ImportBatch) == 0
    assert len(import_files(project, files)) == 3
    assert count(project, RecordRow) == 18


def test_bad_search_date_and_no_files(project: Project) -> None:
    with pytest.raises(InputError, match="not a date"):
        import_files(project, [EXPORTS / "scopus.ris"], search_date="31/03/2024")
    with pytest.raises(InputError, match="no files"):
        import_files(project, [])


def test_reviewer_names_are_unique_without_case(project: Project) -> None:
    import_files(project, [EXPORTS / "scopus.ris"])
    with project.store.transaction() as session:
        add_reviewer(session, "Dee")
        with pytest.raises(InputError, match="already exists"):
            add_reviewer(session, " dee ")
        with pytest.raises(InputError, match="reserved"):
            add_reviewer(session, "SRMA")
        with pytest.raises(InputError, match="unknown reviewer 'Anna'"):
            decide(session, project, reviewer="Anna", record_id=1, stage="ta", decision="include")
        decide(session, project, reviewer="DEE", record_id=1, stage="ta", decision="include")
        assert load_events(session)[-1].reviewer == "Dee"


def screened_project(project: Project) -> list[int]:
    import_files(project, [EXPORTS / "scopus.ris", EXPORTS / "embase.ris"])
    with project.store.transaction() as session:
        return all_record_ids(session)


def test_decisions_are_validated(project: Project) -> None:
    ids = screened_project(project)
    with project.store.transaction() as session:
        with pytest.raises(InputError, match="no record 999"):
            decide(session, project, reviewer="ana", record_id=999, stage="ta", decision="include")
        with pytest.raises(InputError, match="unknown decision"):
            decide(session, project, reviewer="ana", record_id=ids[0], stage="ta", decision="yes")
        with pytest.raises(InputError, match="not in the protocol's list"):
            decide(session, project, reviewer="ana", record_id=ids[0], stage="ta",
                   decision="exclude", reason="boring")  # fmt: skip
        with pytest.raises(InputError, match="unknown stage"):
            decide(session, project, reviewer="ana", record_id=ids[0], stage="abstract",
                   decision="include")  # fmt: skip
        with pytest.raises(InputError, match="was not included"):
            decide(session, project, reviewer="ana", record_id=ids[0], stage="ft",
                   decision="include")  # fmt: skip
        with pytest.raises(InputError, match="does not screen"):
            decide(session, project, reviewer="srma", record_id=ids[0], stage="ta",
                   decision="include")  # fmt: skip


def test_blinding_conflicts_and_resolution(project: Project) -> None:
    ids = screened_project(project)
    record = ids[0]
    with project.store.transaction() as session:
        decide(session, project, reviewer="ana", record_id=record, stage="ta", decision="include")
        events = load_events(session)
        hidden = blinded_view(events, reviewer="ben", record_id=record, stage="ta", required=2)
        assert hidden.own is None and hidden.others == () and hidden.others_hidden == 1
        assert record in to_screen(events, ids, reviewer="ben", stage="ta", required=2)
        assert record not in to_screen(events, ids, reviewer="ana", stage="ta", required=2)
        decide(session, project, reviewer="ben", record_id=record, stage="ta",
               decision="exclude", reason="wrong population", note="rats, not humans")  # fmt: skip
        events = load_events(session)
        shown = blinded_view(events, reviewer="ben", record_id=record, stage="ta", required=2)
        assert [e.reviewer for e in shown.others] == ["ana"]
        found = conflicts(events, ids, stage="ta", required=2)
        assert [c.record_id for c in found] == [record]
        assert found[0].decisions == (
            ("ana", "include", None), ("ben", "exclude", "wrong population")
        )  # fmt: skip
        with pytest.raises(InputError, match="third reviewer must not"):
            resolve(session, project, reviewer="Ana", record_id=record, stage="ta",
                    decision="include", method="third reviewer")  # fmt: skip
        with pytest.raises(InputError, match="has no conflict at title_abstract"):
            resolve(session, project, reviewer="cy", record_id=ids[1], stage="ta",
                    decision="include", method="third reviewer")  # fmt: skip
        resolve(session, project, reviewer="cy", record_id=record, stage="ta",
                decision="include", method="third reviewer", note="mixed")  # fmt: skip
        events = load_events(session)
        assert conflicts(events, ids, stage="ta", required=2) == []
        # the record now goes on to full text, where excluding needs a reason
        with pytest.raises(InputError, match="needs a reason"):
            decide(session, project, reviewer="ana", record_id=record, stage="ft",
                   decision="exclude")  # fmt: skip
        decide(session, project, reviewer="ana", record_id=record, stage="ft",
               decision="exclude", reason="Wrong outcome")  # fmt: skip
        assert load_events(session)[-1].reason == "wrong outcome"


def test_a_changed_decision_is_a_new_event(project: Project) -> None:
    ids = screened_project(project)
    with project.store.transaction() as session:
        for decision in ("include", "maybe", "exclude"):
            decide(session, project, reviewer="ana", record_id=ids[0], stage="ta",
                   decision=decision)  # fmt: skip
        decide(session, project, reviewer="ben", record_id=ids[0], stage="ta", decision="exclude")
        events = load_events(session)
    assert [e.decision for e in events if e.reviewer == "ana"] == ["include", "maybe", "exclude"]
    with project.store.transaction() as session:
        status = project_status(session, project)
    assert status.stages[0].excluded == 1 and status.stages[0].conflicts == 0


def test_maybe_goes_on_at_title_abstract_but_conflicts_at_full_text(project: Project) -> None:
    ids = screened_project(project)
    with project.store.transaction() as session:
        for reviewer, decision in (("ana", "include"), ("ben", "maybe")):
            decide(session, project, reviewer=reviewer, record_id=ids[0], stage="ta",
                   decision=decision)  # fmt: skip
        for reviewer, decision in (("ana", "include"), ("ben", "maybe")):
            decide(session, project, reviewer=reviewer, record_id=ids[0], stage="ft",
                   decision=decision)  # fmt: skip
        status = project_status(session, project)
    screening, full_text = status.stages
    assert (screening.included, full_text.records, full_text.conflicts) == (1, 1, 1)


def test_agreement_matches_a_hand_worked_table(project: Project) -> None:
    """Ten records; ana includes 1-4, ben includes 1-3 and 10.  Table: both include 3,
    ana only 1, ben only 1, both exclude 5: p_o = 0.8, p_e = 0.4*0.4 + 0.6*0.6 = 0.52,
    kappa = (0.8 - 0.52) / 0.48 = 0.58333..., PABAK = 2 * 0.8 - 1 = 0.6."""
    import_files(project, [EXPORTS / "scopus.ris", EXPORTS / "embase.ris"])
    with project.store.transaction() as session:
        ids = all_record_ids(session)[:10]
        for number, record in enumerate(ids, start=1):
            ana = "include" if number <= 4 else "exclude"
            ben = "include" if number <= 3 or number == 10 else "exclude"
            decide(session, project, reviewer="ana", record_id=record, stage="ta", decision=ana)
            decide(session, project, reviewer="ben", record_id=record, stage="ta", decision=ben)
        result = stage_agreement(load_events(session), ids, stage="ta", required=2)
    kappa = result.pairs[0].kappa
    assert kappa.n == 10
    assert kappa.observed_agreement == pytest.approx(0.8, rel=1e-12)
    assert kappa.kappa == pytest.approx(0.28 / 0.48, rel=1e-12)
    assert kappa.pabak == pytest.approx(0.6, rel=1e-12)
    assert result.fleiss is None


def test_three_reviewers_get_pairwise_and_fleiss_kappa(project: Project) -> None:
    ids = screened_project(project)
    votes = {
        "ana": ["include", "include", "exclude", "exclude", "maybe", "include"],
        "ben": ["include", "exclude", "exclude", "exclude", "include", "include"],
        "cy": ["include", "include", "exclude", "maybe", "maybe", "exclude"],
    }
    with project.store.transaction() as session:
        for name, decisions in votes.items():
            for record, decision in zip(ids, decisions, strict=False):
                decide(session, project, reviewer=name, record_id=record, stage="ta",
                       decision=decision)  # fmt: skip
        result = stage_agreement(load_events(session), ids, stage="ta", required=2)
    assert result.reviewers == ("ana", "ben", "cy")
    expected = cohen_kappa(votes["ana"], votes["cy"], categories=["exclude", "include", "maybe"])
    assert result.pairs[1].kappa.kappa == pytest.approx(expected.kappa, rel=1e-12)
    direct = fleiss_kappa(list(zip(votes["ana"], votes["ben"], votes["cy"], strict=True)))
    assert result.fleiss.kappa == pytest.approx(direct.kappa, rel=1e-12)


def test_dedup_merges_keep_records_and_can_be_undone(project: Project) -> None:
    import_files(project, [EXPORTS / "ovid_psycinfo.ris", EXPORTS / "ovid_zotero.ris"])
    with project.store.transaction() as session:
        run = deduplicate(session)
    assert len(run.merged_now) == 6 and run.unique_records == 6
    duplicate, kept, _ = run.merged_now[0]
    with project.store.transaction() as session:
        assert deduplicate(session).merged_now == ()
        ids = all_record_ids(session)
        assert len(ids) == 12  # nothing deleted
        with pytest.raises(InputError, match="merged duplicate"):
            decide(session, project, reviewer="ana", record_id=duplicate, stage="ta",
                   decision="include")  # fmt: skip
        undo_merge(session, reviewer="ana", record_id=duplicate, note="different editions")
        with pytest.raises(InputError, match="not merged"):
            undo_merge(session, reviewer="ana", record_id=duplicate)
    with project.store.transaction() as session:
        assert deduplicate(session).merged_now == ()  # a person said no: never re-merged
        decide(
            session, project, reviewer="ana", record_id=duplicate, stage="ta", decision="include"
        )
        judge_pair(session, reviewer="ana", first=kept, second=duplicate, same=True)
        status = project_status(session, project)
    assert status.duplicates_merged == 6 and status.stages[0].records == 6


def test_state_at_a_past_moment(project: Project) -> None:
    ids = screened_project(project)
    with project.store.transaction() as session:
        decide(session, project, reviewer="ana", record_id=ids[0], stage="ta", decision="exclude")
    moment = datetime.now(UTC)
    with project.store.transaction() as session:
        decide(session, project, reviewer="ben", record_id=ids[0], stage="ta", decision="exclude")
        then = project_status(session, project, until=moment)
        now = project_status(session, project)
    assert then.stages[0].decisions_by_reviewer == {"ana": 1}
    assert then.stages[0].excluded == 0 and now.stages[0].excluded == 1


def test_prisma_counts_from_the_project(project: Project) -> None:
    import_files(project, [EXPORTS / "ovid_psycinfo.ris", EXPORTS / "ovid_zotero.ris",
                           EXPORTS / "scopus.ris"])  # fmt: skip
    with project.store.transaction() as session:
        deduplicate(session)
        ids = to_screen(load_events(session), all_record_ids(session), reviewer="ana",
                        stage="ta", required=2)  # fmt: skip
        for number, record in enumerate(ids):
            decision = "include" if number < 3 else "exclude"
            for reviewer in ("ana", "ben"):
                decide(session, project, reviewer=reviewer, record_id=record, stage="ta",
                       decision=decision)  # fmt: skip
        for number, record in enumerate(ids[:3]):
            reason = [None, "full text not available", "wrong outcome"][number]
            decision = "include" if reason is None else "exclude"
            for reviewer in ("ana", "ben"):
                decide(session, project, reviewer=reviewer, record_id=record, stage="ft",
                       decision=decision, reason=reason)  # fmt: skip
        counts = prisma_counts(session, project)
    assert counts.counts["database_results"] == 18
    assert counts.counts["duplicates"] == 6
    assert counts.counts["records_screened"] == 12
    assert counts.counts["records_excluded"] == 9
    assert counts.counts["dbr_sought_reports"] == 3
    assert counts.counts["dbr_notretrieved_reports"] == 1
    assert counts.counts["dbr_assessed"] == 2
    assert counts.exclusion_reasons == (("wrong outcome", 1),)
    assert counts.counts["new_studies"] == 1
    assert counts.inconsistencies() == []


def test_models_and_migrations_agree(project: Project) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from srma.store import Base

    with project.store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_the_migration_goes_down_and_up_again(project: Project) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from srma.store.database import alembic_config

    config = alembic_config()
    with project.store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert project.store.schema_revision() is None
    assert set(inspect(project.store.engine).get_table_names()) <= {"alembic_version"}
    with project.store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    assert project.store.schema_revision() == "0004"
    assert {"events", "records", "imports", "reviewers"} <= set(
        inspect(project.store.engine).get_table_names()
    )
