"""The review-project commands end to end: init, import --json, dedup, reviewer, screen,
decide, conflicts, resolve, agreement --json, status --json, audit."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from conftest import SHARED, srma

EXPORTS = SHARED / "fixtures" / "exports"


@pytest.fixture
def project(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SRMA_DATABASE_URL", database_url)
    folder = tmp_path / "review"
    srma("init", folder, "--title", "CLI review")
    return folder


def test_import_json_dedup_and_status(project: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.ris"
    broken.write_text("TY  - JOUR\nTI  - Kept\nER  - \nTY  - JOUR\nPY  - 2001\nER  - \n")
    files = [EXPORTS / "ovid_psycinfo.ris", EXPORTS / "ovid_zotero.ris", broken]
    out = json.loads(srma("import", project, *files, "--source", "PsycINFO", "--json"))
    rows = out["files"]
    assert [(r["records_read"], r["records_stored"]) for r in rows] == [(6, 6), (6, 0), (2, 1)]
    # the same PsycINFO search exported twice (Ovid, Zotero): the second is a repeated search
    assert rows[1]["repeat_of"] == rows[0]["import_id"] and rows[0]["source"] == "APA PsycInfo"
    assert rows[2]["problems"] == [
        {"file": str(broken), "line": 4, "message": "record has no title, abstract or DOI"}
    ]
    assert {"path", "format", "records_read", "records_stored", "problems"} <= set(rows[0])
    again = srma("import", project, EXPORTS / "ovid_psycinfo.ris")
    assert "already imported" in again
    # the same records found by two databases are duplicates for dedup
    srma("import", project, EXPORTS / "embase.ris")
    srma("import", project, EXPORTS / "embase.csv", "--source", "MEDLINE")
    dedup = json.loads(srma("dedup", project, "--json"))
    assert (len(dedup["merged_now"]), dedup["unique_records"]) == (6, 13)
    status = json.loads(srma("status", project, "--json"))
    assert status["records"] == 19 and status["duplicates_merged"] == 6
    assert status["stages"][0]["records"] == 13 and status["stages"][0]["pending"] == 13


def test_dual_screening_from_the_command_line(project: Path) -> None:
    srma("import", project, EXPORTS / "scopus.ris")
    srma("reviewer", project, "--add", "Ana", "--add", "Ben", "--add", "Cy")
    out = srma("reviewer", project, "--add", "ana", code=1)
    assert "already exists" in out
    # Ana screens in the terminal interface: include, exclude with reason 1, maybe, back
    # to change that maybe to include, a note then include, skip one, then quit
    keys = "i" + "e1\n" + "m" + "bi" + "nfrom a trial registry\ni" + "s" + "q"
    screen = srma("screen", project, "--reviewer", "Ana", "--order", "id", input=keys)
    assert screen.count("saved:") == 5 and "saved: exclude (wrong population)" in screen
    assert "back: a new decision replaces yours" in screen
    for record, decision in ((1, "exclude"), (2, "exclude"), (3, "maybe"), (4, "include")):
        args = ["--reason", "wrong outcome"] if decision == "exclude" else []
        srma("decide", project, decision, "--record", record, "--reviewer", "Ben", *args)
    conflicts = srma("conflicts", project, "--json")
    assert [c["record_id"] for c in json.loads(conflicts)] == [1]
    srma("resolve", project, "include", "--record", 1, "--reviewer", "Cy",
         "--method", "third reviewer")  # fmt: skip
    agreement = json.loads(srma("agreement", project, "--stage", "ta", "--json"))
    kappa = agreement["pairs"][0]["kappa"]
    assert kappa["n"] == 4 and kappa["observed_agreement"] == pytest.approx(0.5)
    status = json.loads(srma("status", project, "--json"))
    screening = status["stages"][0]
    assert screening["decisions_by_reviewer"] == {"Ana": 4, "Ben": 4}
    assert (screening["included"], screening["excluded"], screening["resolved"]) == (3, 1, 1)
    flow = project.parent / "flow.png"
    assert "still pending" in srma("prisma", project, "-o", flow)
    assert flow.stat().st_size > 10_000
    audit = srma("audit", project)
    assert audit.splitlines()[0].startswith("id,created_at,reviewer,kind,stage,record_id")
    assert "from a trial registry" in audit
    changed = [line for line in audit.splitlines() if ",Ana,screening,title_abstract,3," in line]
    assert [line.split(",")[6] for line in changed] == ["maybe", "include"]


def test_screen_orders_by_relevance_once_both_kinds_are_known(project: Path) -> None:
    srma("import", project, EXPORTS / "scopus.ris", EXPORTS / "embase.ris")
    assert "unknown reviewer" in srma("screen", project, "--reviewer", "Ana", code=1)
    srma("reviewer", project, "--add", "Ana")
    first = srma("screen", project, "--reviewer", "Ana", input="ie\n")
    assert "order: record id" in first
    later = srma("screen", project, "--reviewer", "Ana", input="q")
    assert "svm relevance ranking" in later


def test_bad_input_gives_one_line_errors(project: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.ris"
    empty.write_text("")
    assert "the file is empty" in srma("import", project, empty, code=1)
    srma("reviewer", project, "--add", "Ana")
    assert "no record 42" in srma(
        "decide", project, "include", "--record", 42, "--reviewer", "Ana", code=1
    )
    assert "unknown stage" in srma("agreement", project, "--stage", "abstracts", code=1)
    (project / "review.toml").write_text('[review]\ntitle = "x"\nbogus = 1\n')
    out = srma("status", project, code=1)
    assert "line 3: unknown key 'bogus'" in out
    assert "no such project folder" in srma("status", tmp_path / "absent", code=1)


def test_dedup_review_and_undo(project: Path, tmp_path: Path) -> None:
    """Same title, author and year but different pages: a pair for a person to judge."""
    export = tmp_path / "two.ris"
    export.write_text(
        "TY  - JOUR\nTI  - Neurological involvement in a child with atypical haemolytic uraemic "
        "syndrome\nAU  - Koehl, B.\nPY  - 2010\nJO  - Pediatric Nephrology\nVL  - 25\n"
        "SP  - 1875\nEP  - 1875\nER  - \n\n"
        "TY  - JOUR\nTI  - Neurological involvement in a child with atypical haemolytic uraemic "
        "syndrome\nAU  - Koehl, B.\nPY  - 2010\nJO  - Pediatric Nephrology\nVL  - 25\n"
        "SP  - 2539\nEP  - 2542\nER  - \n"
    )
    srma("import", project, export)
    srma("reviewer", project, "--add", "Ana")
    listed = json.loads(srma("dedup", project, "--json"))
    assert listed["merged_now"] == [] and len(listed["to_review"]) == 1
    assert "different pages" in listed["to_review"][0]["reason"]
    assert "--reviewer" in srma("dedup", project, "--review", code=1)
    judged = srma("dedup", project, "--review", "--reviewer", "Ana", input="d\n")
    assert "pair 1 of 1" in judged
    status = json.loads(srma("status", project, "--json"))
    assert status["duplicates_merged"] == 1 and status["stages"][0]["records"] == 1
    assert "undone" in srma("dedup", project, "--undo", 2, "--reviewer", "Ana")
    again = json.loads(srma("dedup", project, "--json"))
    assert again["merged_now"] == [] and again["to_review"] == []
    status = json.loads(srma("status", project, "--json"))
    assert status["duplicates_merged"] == 0 and status["stages"][0]["records"] == 2
    assert "not merged" in srma("dedup", project, "--undo", 2, "--reviewer", "Ana", code=1)


def test_export_records_with_their_outcomes(project: Path, tmp_path: Path) -> None:
    srma("import", project, EXPORTS / "ovid_psycinfo.ris", EXPORTS / "ovid_zotero.ris")
    srma("dedup", project)
    srma("reviewer", project, "--add", "Ana", "--add", "Ben")
    for reviewer in ("Ana", "Ben"):
        srma("decide", project, "include", "--record", 1, "--reviewer", reviewer)
        srma("decide", project, "exclude", "--record", 2, "--reviewer", reviewer)
    table = tmp_path / "all.csv"
    srma("export", project, "-o", table)
    rows = pd.read_csv(table, keep_default_na=False)
    assert len(rows) == 6  # the six unique papers; their copies are listed as merged
    first = rows.set_index("record_id").loc[1]
    assert first["title_abstract_outcome"] == "include"
    assert first["title_abstract_decisions"] == "Ana: include; Ben: include"
    assert first["full_text_outcome"] == "pending"
    assert str(first["merged_duplicates"]).isdigit()
    included = tmp_path / "included.ris"
    srma("export", project, "-o", included, "--outcome", "include")
    text = included.read_text()
    assert text.count("ER  -") == 1 and "title_abstract: include" in text
    assert "export to .csv, .xlsx or .ris" in srma(
        "export", project, "-o", tmp_path / "x.txt", code=1
    )
    assert "unknown outcome" in srma("export", project, "-o", table, "--outcome", "yes", code=1)
