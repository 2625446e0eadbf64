"""Blinding in every view (status, export CSV and RIS, audit, conflicts, agreement, PRISMA
counts, the screening queue and screen), --unblind recorded in the log, and the conflict
workflow: resolve without --stage, replaced resolutions, reopened conflicts, conflicts on
the full-text reason."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pandas as pd
import pytest

from conftest import SHARED, srma
from srma.review.flow.status import prisma_counts
from srma.review.project import open_project
from srma.review.screen.decisions import view_of
from srma.review.screen.queue import screening_queue
from srma.review.state import load_state

EXPORTS = SHARED / "fixtures" / "exports"
SECRET = "rats-not-humans-SECRET"
FIRST_TITLE = "Stress and the brain-gut axis"


@pytest.fixture
def project(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SRMA_DATABASE_URL", database_url)
    folder = tmp_path / "review"
    srma("init", folder, "--title", "Blinding")
    srma("import", folder, EXPORTS / "scopus.ris")
    srma("reviewer", folder, "--add", "Ana", "--add", "Ben", "--add", "Cy")
    return folder


def export_csv(project: Path, *args: object) -> pd.DataFrame:
    path = project.parent / "export.csv"
    srma("export", project, "-o", path, *args)
    return pd.read_csv(path, keep_default_na=False).set_index("record_id")


def export_ris(project: Path, *args: object) -> str:
    path = project.parent / "export.ris"
    srma("export", project, "-o", path, *args)
    return path.read_text()


def audit_rows(project: Path, *args: object) -> pd.DataFrame:
    path = project.parent / "audit.csv"
    srma("audit", project, "--out", path, *args)
    return pd.read_csv(path, keep_default_na=False)


def test_one_of_two_decided_is_blinded_in_every_view_then_shown(project: Path) -> None:
    srma("decide", project, "exclude", "--record", 1, "--reviewer", "Ana",
         "--reason", "wrong population", "--note", SECRET)  # fmt: skip

    # status: counts only
    status_text = srma("status", project, "--json")
    status = json.loads(status_text)["stages"][0]
    assert status["decisions_by_reviewer"] == {"Ana": 1} and status["partly_decided"] == 1
    assert (status["pending"], status["excluded"], status["exclusion_reasons"]) == (6, 0, {})
    assert SECRET not in status_text and "wrong population" not in status_text
    assert "partly decided (of 2 needed)" in srma("status", project)

    # export CSV and RIS: the count, not the decision; Ana sees her own
    rows = export_csv(project)
    assert rows.loc[1, "title_abstract_decisions"] == "1 of 2 decided, blinded"
    assert rows.loc[1, "title_abstract_outcome"] == "pending"
    assert rows.loc[2, "title_abstract_decisions"] == ""
    assert export_csv(project, "--reviewer", "Ben").loc[1, "title_abstract_decisions"] == (
        "1 of 2 decided, blinded"
    )
    own = export_csv(project, "--reviewer", "ana").loc[1, "title_abstract_decisions"]
    assert own == "Ana: exclude (wrong population)"
    ris = export_ris(project)
    assert "title_abstract: pending (1 of 2 decided, blinded)" in ris
    assert "Ana" not in ris and "wrong population" not in ris

    # audit: the row is there (who, when, which record) but not what was decided
    log = audit_rows(project)
    row = log[log["kind"] == "screening"].iloc[0]
    assert (row["reviewer"], row["record_id"], row["decision"]) == ("Ana", 1, "blinded")
    assert (row["reason"], row["note"]) == ("", "")
    printed = srma("audit", project)
    assert SECRET not in printed and "wrong population" not in printed
    mine = audit_rows(project, "--reviewer", "Ana")
    assert mine[mine["kind"] == "screening"].iloc[0]["note"] == SECRET

    # conflicts and agreement: nothing to show, nothing leaked
    assert srma("conflicts", project).strip() == "0 open conflicts"
    assert json.loads(srma("conflicts", project, "--json")) == []
    refused = srma("agreement", project, "--json", code=1)
    assert "agreement needs two reviewers" in refused and "Ana" not in refused

    # PRISMA counts, the queue and the screen: Ben gets record 1 like any other
    opened = open_project(project)
    with opened.store.transaction() as session:
        counts = prisma_counts(session, opened)
        state = load_state(session, opened)
        queue = screening_queue(session, opened, reviewer="Ben", stage="ta", order="id")
    opened.close()
    assert counts.counts["records_excluded"] == 0 and counts.exclusion_reasons == ()
    assert queue.record_ids == (1, 2, 3, 4, 5, 6)
    hidden = view_of(state, reviewer="Ben", record_id=1, stage="ta")
    assert (hidden.own, hidden.others, hidden.others_hidden) == (None, (), 1)
    assert view_of(state, reviewer="Ana", record_id=1, stage="ta").own.note == SECRET
    screen = srma("screen", project, "--reviewer", "Ben", "--order", "id", input="q")
    assert "record 1" in screen and FIRST_TITLE in screen
    assert SECRET not in screen and "wrong population" not in screen

    # Ben decides: the conflict, its title, both notes and every view show it all
    srma("decide", project, "include", "--record", 1, "--reviewer", "Ben",
         "--note", "an RCT in people")  # fmt: skip
    conflicts = srma("conflicts", project)
    assert f"record 1 at title_abstract: {FIRST_TITLE}" in conflicts
    assert "Ana: exclude (wrong population), Ben: include" in conflicts
    assert f"note by Ana: {SECRET}" in conflicts and "note by Ben: an RCT in people" in conflicts
    found = json.loads(srma("conflicts", project, "--json"))
    assert found[0]["title"].startswith(FIRST_TITLE) and found[0]["on"] == "decision"
    assert found[0]["notes"] == [["Ana", SECRET], ["Ben", "an RCT in people"]]
    assert export_csv(project).loc[1, "title_abstract_decisions"] == (
        "Ana: exclude (wrong population); Ben: include"
    )
    assert "Ana: exclude (wrong population); Ben: include" in export_ris(project)
    log = audit_rows(project)
    assert list(log.loc[log["kind"] == "screening", "note"]) == [SECRET, "an RCT in people"]
    status = json.loads(srma("status", project, "--json"))["stages"][0]
    assert (status["conflicts"], status["partly_decided"]) == (1, 0)
    agreement = json.loads(srma("agreement", project, "--json"))
    assert agreement["reviewers"] == ["Ana", "Ben"] and agreement["pairs"][0]["kappa"]["n"] == 1
    opened = open_project(project)
    with opened.store.transaction() as session:
        shown = view_of(load_state(session, opened), reviewer="Ben", record_id=1, stage="ta")
    opened.close()
    assert [e.note for e in shown.others] == [SECRET] and shown.others_hidden == 0


def test_unblind_shows_everything_and_is_recorded_in_the_log(project: Path) -> None:
    srma("decide", project, "exclude", "--record", 2, "--reviewer", "Ana",
         "--reason", "wrong outcome", "--note", SECRET)  # fmt: skip
    assert "--unblind needs --reviewer" in srma("audit", project, "--unblind", code=1)
    assert "unknown reviewer 'Dee'" in srma(
        "export", project, "-o", project.parent / "x.csv", "--unblind", "--reviewer", "Dee",
        code=1,
    )  # fmt: skip
    assert "unblind" not in set(audit_rows(project)["kind"])  # refused: nothing recorded
    log = audit_rows(project, "--unblind", "--reviewer", "Cy")
    assert log[log["kind"] == "screening"].iloc[0]["note"] == SECRET
    rows = export_csv(project, "--unblind", "--reviewer", "Cy")
    assert rows.loc[2, "title_abstract_decisions"] == "Ana: exclude (wrong outcome)"
    later = audit_rows(project)
    unblinded = later[later["kind"] == "unblind"]
    assert list(unblinded["reviewer"]) == ["Cy", "Cy"]
    assert all(unblinded["created_at"] != "")
    commands = [ast.literal_eval(p)["command"] for p in unblinded["payload"]]
    audit_file = project.parent / "audit.csv"
    assert commands[0] == f"srma audit {project} --out {audit_file} --reviewer Cy --unblind"
    export_file = project.parent / "export.csv"
    assert commands[1] == f"srma export {project} -o {export_file} --stage title_abstract " + (
        "--reviewer Cy --unblind"
    )
    # still blinded for everyone else afterwards
    assert later[later["kind"] == "screening"].iloc[0]["decision"] == "blinded"


def test_resolve_finds_the_stage_and_a_later_resolution_replaces_the_earlier(
    project: Path,
) -> None:
    srma("decide", project, "exclude", "--record", 1, "--reviewer", "Ana")
    srma("decide", project, "include", "--record", 1, "--reviewer", "Ben")
    srma("resolve", project, "include", "--record", 1, "--reviewer", "Cy",
         "--method", "third reviewer")  # fmt: skip
    status = json.loads(srma("status", project, "--json"))["stages"]
    assert (status[0]["included"], status[0]["resolved"], status[1]["records"]) == (1, 1, 1)
    # the same conflict resolved again: the latest resolution counts, both stay in the log
    srma("resolve", project, "exclude", "--record", 1, "--reviewer", "Cy",
         "--method", "third reviewer", "--note", "on reflection")  # fmt: skip
    status = json.loads(srma("status", project, "--json"))["stages"]
    assert (status[0]["included"], status[0]["excluded"], status[1]["records"]) == (0, 1, 0)
    log = audit_rows(project)
    assert list(log.loc[log["kind"] == "resolution", "decision"]) == ["include", "exclude"]
    assert export_csv(project).loc[1, "title_abstract_resolution"] == "exclude by Cy"
    assert "has no conflict to resolve" in srma(
        "resolve", project, "include", "--record", 2, "--reviewer", "Cy",
        "--method", "third reviewer", code=1,
    )  # fmt: skip


def test_a_decision_changed_after_a_resolution_reopens_the_conflict(project: Path) -> None:
    srma("decide", project, "exclude", "--record", 3, "--reviewer", "Ana")
    srma("decide", project, "include", "--record", 3, "--reviewer", "Ben")
    srma("resolve", project, "include", "--record", 3, "--reviewer", "Cy",
         "--method", "third reviewer")  # fmt: skip
    assert json.loads(srma("conflicts", project, "--json")) == []
    srma("decide", project, "maybe", "--record", 3, "--reviewer", "Ben")  # still disagrees
    reopened = json.loads(srma("conflicts", project, "--json"))
    assert [(c["record_id"], c["stage"]) for c in reopened] == [(3, "title_abstract")]
    status = json.loads(srma("status", project, "--json"))["stages"][0]
    assert (status["conflicts"], status["resolved"], status["included"]) == (1, 0, 0)
    srma("resolve", project, "include", "--record", 3, "--reviewer", "Cy",
         "--method", "third reviewer")  # fmt: skip
    assert json.loads(srma("conflicts", project, "--json")) == []
    srma("decide", project, "include", "--record", 3, "--reviewer", "Ana")  # now they agree
    status = json.loads(srma("status", project, "--json"))["stages"][0]
    assert (status["conflicts"], status["resolved"], status["included"]) == (0, 0, 1)


def test_full_text_exclusions_for_different_reasons_are_a_conflict_on_the_reason(
    project: Path,
) -> None:
    for record in (4, 5):
        for reviewer in ("Ana", "Ben"):
            srma("decide", project, "include", "--record", record, "--reviewer", reviewer)
    srma("decide", project, "exclude", "--record", 4, "--reviewer", "Ana", "--stage", "ft",
         "--reason", "wrong outcome", "--note", "no infarct size")  # fmt: skip
    srma("decide", project, "exclude", "--record", 4, "--reviewer", "Ben", "--stage", "ft",
         "--reason", "wrong population")  # fmt: skip
    listed = srma("conflicts", project, "--stage", "ft")
    assert "record 4 at full_text on the reason" in listed
    assert "Ana: exclude (wrong outcome), Ben: exclude (wrong population)" in listed
    assert "note by Ana: no infarct size" in listed
    assert json.loads(srma("conflicts", project, "--json"))[0]["on"] == "reason"
    assert "disagree only on the reason" in srma(
        "resolve", project, "include", "--record", 4, "--reviewer", "Cy",
        "--method", "third reviewer", code=1,
    )  # fmt: skip
    srma("resolve", project, "exclude", "--record", 4, "--reviewer", "Cy",
         "--method", "third reviewer", "--reason", "wrong outcome")  # fmt: skip
    full_text = json.loads(srma("status", project, "--json"))["stages"][1]
    assert full_text["exclusion_reasons"] == {"wrong outcome": 1}
    assert (full_text["excluded"], full_text["conflicts"]) == (1, 0)
    assert export_csv(project).loc[4, "full_text_resolution"] == "exclude (wrong outcome) by Cy"
    # the same reason from both is no conflict
    for reviewer in ("Ana", "Ben"):
        srma("decide", project, "exclude", "--record", 5, "--reviewer", reviewer,
             "--stage", "ft", "--reason", "wrong comparator")  # fmt: skip
    opened = open_project(project)
    with opened.store.transaction() as session:
        counts = prisma_counts(session, opened)
    opened.close()
    assert counts.exclusion_reasons == (("wrong comparator", 1), ("wrong outcome", 1))
    assert counts.counts["dbr_excluded"] == 2


def test_resolve_asks_for_the_stage_when_two_stages_qualify(project: Path) -> None:
    srma("decide", project, "include", "--record", 6, "--reviewer", "Ana")
    srma("decide", project, "exclude", "--record", 6, "--reviewer", "Ben")
    srma("resolve", project, "include", "--record", 6, "--reviewer", "Cy",
         "--method", "third reviewer")  # fmt: skip
    srma("decide", project, "include", "--record", 6, "--reviewer", "Ana", "--stage", "ft")
    srma("decide", project, "exclude", "--record", 6, "--reviewer", "Ben", "--stage", "ft",
         "--reason", "wrong outcome")  # fmt: skip
    # an open conflict at full text is found without --stage
    found = srma("resolve", project, "include", "--record", 6, "--reviewer", "Cy",
                 "--method", "third reviewer")  # fmt: skip
    assert found.startswith("resolved record 6 at full_text: include (event ")
    status = json.loads(srma("status", project, "--json"))["stages"]
    assert (status[0]["resolved"], status[1]["resolved"], status[1]["included"]) == (1, 1, 1)
    # now both stages hold a resolved conflict: which one to replace must be said
    out = srma("resolve", project, "exclude", "--record", 6, "--reviewer", "Cy",
               "--method", "third reviewer", "--reason", "wrong outcome", code=1)  # fmt: skip
    assert "resolved conflicts at title_abstract and full_text; say which with --stage" in out
    srma("resolve", project, "exclude", "--record", 6, "--reviewer", "Cy", "--stage", "ft",
         "--method", "third reviewer", "--reason", "wrong outcome")  # fmt: skip
    assert json.loads(srma("status", project, "--json"))["stages"][1]["excluded"] == 1


def test_srma_itself_is_never_listed_as_a_reviewer(project: Path) -> None:
    srma("import", project, EXPORTS / "ovid_psycinfo.ris", EXPORTS / "ovid_zotero.ris")
    assert json.loads(srma("dedup", project, "--json"))["merged_now"]
    assert srma("reviewer", project).split() == ["Ana", "Ben", "Cy"]
    log = audit_rows(project)
    assert "srma" in set(log["reviewer"])  # the merges are srma's, in the log
    for reviewer in ("Ana", "Ben"):
        srma("decide", project, "include", "--record", 1, "--reviewer", reviewer)
    status = json.loads(srma("status", project, "--json"))["stages"][0]
    assert status["decisions_by_reviewer"] == {"Ana": 1, "Ben": 1}
    assert json.loads(srma("agreement", project, "--json"))["reviewers"] == ["Ana", "Ben"]
    table = srma("status", project)
    assert "decided by srma" not in table and "decided by Ana" in table
    message = srma("decide", project, "include", "--record", 1, "--reviewer", "Dee", code=1)
    assert message.strip().endswith("`srma reviewer PROJECT --add Dee`")


def test_a_past_state_is_blinded_as_the_present_is(project: Path) -> None:
    srma("decide", project, "include", "--record", 1, "--reviewer", "Ana", "--note", SECRET)
    log = audit_rows(project)
    moment = log["created_at"].iloc[-1]
    assert SECRET not in srma("audit", project, "--until", moment)
    srma("decide", project, "exclude", "--record", 1, "--reviewer", "Ben")
    # Ben has decided since: the past (Ana alone) is no longer blinded either
    past = audit_rows(project, "--until", moment)
    assert list(past["note"]) == [SECRET] and list(past["decision"]) == ["include"]
    then = json.loads(srma("status", project, "--json", "--at", moment))["stages"][0]
    assert (then["decisions_by_reviewer"], then["partly_decided"]) == ({"Ana": 1}, 1)


def test_an_empty_project_exports_the_header(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SRMA_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    folder = tmp_path / "empty"
    srma("init", folder)
    out = tmp_path / "empty.csv"
    assert "wrote 0 records" in srma("export", folder, "-o", out)
    header = out.read_text().splitlines()[0].split(",")
    assert header[:2] == ["record_id", "title"] and header[-1] == "full_text_resolution"


def test_audit_record_ids_stay_integers_beside_an_unblind_event(project: Path) -> None:
    srma("decide", project, "include", "--record", 4, "--reviewer", "Ana")
    srma("audit", project, "--unblind", "--reviewer", "Cy")
    lines = srma("audit", project).splitlines()
    assert ",Ana,screening,title_abstract,4,blinded,,,," in lines[1]
    assert ",Cy,unblind,,,,,,," in lines[2]


def test_the_ris_export_reads_back_record_for_record(project: Path) -> None:
    from srma.review.identify.records import read_records

    ris = export_ris(project)
    assert ris.startswith("TY  - ")  # no "1." line before a record
    assert not any(line.strip().rstrip(".").isdigit() for line in ris.splitlines())
    again = read_records(project.parent / "export.ris")
    assert len(again.records) == len(export_csv(project)) == ris.count("TY  - ")
