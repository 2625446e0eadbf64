"""Forms round trip: re-imports record only changes (with file, sheet and cell), the long CSV
form, consensus workbooks, study links and arms from the command line, the protocol's
extraction tables."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from conftest import srma
from srma.review.project import PROTOCOL_TEMPLATE
from srma.review.protocol import ProtocolError, read_protocol
from test_extract_helpers import fill, header, included_project, labels

ROW = {
    "n_randomised": 20,
    "n_analysed": 20,
    "value_type": "final value",
    "dispersion": "SD",
    "mean": 12.1,
    "sd": 3.5,
    "source": "Table 2",
}


@pytest.fixture
def project(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SRMA_DATABASE_URL", database_url)
    return included_project(tmp_path / "review")


def extraction_events(project: Path) -> list:  # type: ignore[type-arg]
    from srma.review.project import open_project
    from srma.review.state import load_state

    opened = open_project(project)
    try:
        with opened.store.transaction() as session:
            return [e for e in load_state(session, opened).events if e.kind == "extraction"]
    finally:
        opened.close()


def test_reimport_records_only_changes_with_where_they_came_from(
    project: Path, tmp_path: Path
) -> None:
    names = labels(project)
    form = tmp_path / "ana.xlsx"
    srma("extract", "form", project, "--reviewer", "Ana", "-o", form)
    fill(form, rows={("NIHSS", names[0], "MSC", "90 days"): ROW})
    first = json.loads(srma("extract", "import", project, form, "--reviewer", "Ana", "--json"))
    assert first["values_changed"] == 6 and first["studies_changed"] == [names[0]]
    again = json.loads(srma("extract", "import", project, form, "--reviewer", "Ana", "--json"))
    assert (again["values_changed"], again["events"]) == (0, [])
    fill(form, rows={("NIHSS", names[0], "MSC", "90 days"): {"sd": 3.6, "n_randomised": None}})
    third = json.loads(srma("extract", "import", project, form, "--reviewer", "Ana", "--json"))
    assert third["values_changed"] == 2
    [*_, last] = extraction_events(project)
    changed = {v["field"]: v for v in last.payload["values"]}
    assert changed["sd"]["value"] == "3.6" and changed["n_randomised"]["value"] is None
    sd_cell = load_workbook(form)["NIHSS"].cell(
        row=2, column=header(load_workbook(form)["NIHSS"])["sd"]
    )
    assert (changed["sd"]["sheet"], changed["sd"]["cell"]) == ("NIHSS", sd_cell.coordinate)
    assert changed["sd"]["source"] == "Table 2" and last.payload["file"] == "ana.xlsx"
    assert len(last.payload["sha256"]) == 64 and last.reviewer == "Ana"
    # the fresh form shows numbers as written (12.10 keeps its two decimals); 12.10 after
    # 12.1 is no change
    fill(form, rows={("NIHSS", names[0], "control", "90 days"): {**ROW, "mean": "12.10"}})
    srma("extract", "import", project, form, "--reviewer", "Ana")
    fresh = tmp_path / "fresh.xlsx"
    srma("extract", "form", project, "--reviewer", "Ana", "-o", fresh)
    sheet = load_workbook(fresh)["NIHSS"]
    cell = sheet.cell(row=3, column=header(sheet)["mean"])
    assert (cell.value, cell.number_format) == (12.1, "0.00")


def test_the_long_csv_form_round_trip(project: Path, tmp_path: Path) -> None:
    names = labels(project)
    form = tmp_path / "ben.csv"
    srma("extract", "form", project, "--reviewer", "Ben", "-o", form)
    with form.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {"study", "outcome", "arm", "time_point", "field", "value"} <= set(rows[0])
    wanted = {
        ("", "", "", "country"): "Spain",
        ("NIHSS", "MSC", "90 days", "mean"): "7.50",
        ("NIHSS", "MSC", "90 days", "sd"): "2",
        ("NIHSS", "MSC", "90 days", "dispersion"): "sd",
        ("NIHSS", "MSC", "90 days", "n_analysed"): "14",
        ("NIHSS", "MSC", "90 days", "value_type"): "Final value",
    }
    for row in rows:
        key = (row["outcome"], row["arm"], row["time_point"], row["field"])
        if row["study"] == names[1] and key in wanted:
            row["value"], row["source"] = wanted[key], "p. 4"
    with form.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = json.loads(srma("extract", "import", project, form, "--reviewer", "Ben", "--json"))
    assert out["values_changed"] == 6
    [event] = extraction_events(project)
    values = {v["field"]: v for v in event.payload["values"]}
    # choices in the protocol's spelling; numbers canonical, as written kept
    assert values["dispersion"]["value"] == "SD" and values["value_type"]["value"] == "final value"
    assert (values["mean"]["value"], values["mean"]["written"]) == ("7.5", "7.50")
    assert values["mean"]["cell"].startswith("line ") and values["country"]["source"] == "p. 4"
    again = tmp_path / "again.csv"
    srma("extract", "form", project, "--reviewer", "Ben", "-o", again)
    assert f"{names[1]},,,,country,Spain,p. 4" in again.read_text(encoding="utf-8")


def test_a_consensus_workbook_settles_discrepancies(project: Path, tmp_path: Path) -> None:
    names = labels(project)
    for name, sd in (("Ana", 3.5), ("Ben", 5.3)):
        form = tmp_path / f"{name}.xlsx"
        srma("extract", "form", project, "--reviewer", name, "-o", form)
        fill(
            form,
            rows={("NIHSS", names[0], "MSC", "90 days"): {**ROW, "sd": sd}},
            characteristics={
                (names[0], "design"): "parallel RCT",
                (names[0], "cell source"): "other",
            },
            submitted=(names[0],),
        )
        srma("extract", "import", project, form, "--reviewer", name)
    consensus = tmp_path / "consensus.xlsx"
    srma("extract", "form", project, "--consensus", "--reviewer", "Cy", "-o", consensus)
    book = load_workbook(consensus)
    assert [r[1].value for r in book["studies"].iter_rows(min_row=2)] == [names[0]]
    sheet = book["NIHSS"]
    columns = header(sheet)
    row = next(r for r in sheet.iter_rows(min_row=2) if r[2].value == "MSC")
    sd, mean = row[columns["sd"] - 1], row[columns["mean"] - 1]
    assert sd.value is None and sd.comment.text == "Ana: 3.5 (Table 2); Ben: 5.3 (Table 2)"
    assert mean.value == 12.1  # agreed, filled in
    sd.value = 3.5
    book.save(consensus)
    out = srma("extract", "import", project, consensus, "--reviewer", "Cy", code=1)
    assert "a consensus workbook: import it with --consensus" in out
    out = json.loads(
        srma("extract", "import", project, consensus, "--reviewer", "Cy", "--consensus", "--json")
    )
    assert out["values_changed"] == 1 and out["consensus"]
    compared = json.loads(srma("extract", "compare", project, "--json"))
    assert compared["discrepancies"] == []
    [resolved] = compared["resolved"]
    assert (resolved["field"], resolved["resolved"], resolved["resolved_by"]) == ("sd", "3.5", "Cy")


def test_links_and_arms_from_the_command_line(project: Path, tmp_path: Path) -> None:
    names = labels(project)
    srma("extract", "link", project, "--records", "1,3", "--study", "MASTERS", "--reviewer", "Ana")
    status = json.loads(srma("extract", "status", project, "--json"))["studies"]
    masters = next(s for s in status if s["study"] == "MASTERS")
    assert masters["records"] == [1, 3] and len(status) == 5
    assert "taken by study 1" in srma(
        "extract",
        "link",
        project,
        "--records",
        "2",
        "--study",
        "masters",
        "--reviewer",
        "Ana",
        code=1,
    )
    srma(
        "extract",
        "arms",
        project,
        "--study",
        "MASTERS",
        "--arm",
        "low dose=MSC",
        "--arm",
        "high dose=MSC",
        "--arm",
        "placebo=control",
        "--reviewer",
        "Ana",
    )
    form = tmp_path / "ana.xlsx"
    srma("extract", "form", project, "--reviewer", "Ana", "-o", form)
    sheet = load_workbook(form)["NIHSS"]
    arms = [(r[2].value, r[3].value) for r in sheet.iter_rows(min_row=2) if r[1].value == "MASTERS"]
    assert arms[:3] == [("low dose", "MSC"), ("high dose", "MSC"), ("placebo", "control")]
    fill(form, rows={("NIHSS", "MASTERS", "high dose", "90 days"): ROW})
    srma("extract", "import", project, form, "--reviewer", "Ana")
    assert "already holds extracted values" in srma(
        "extract",
        "arms",
        project,
        "--study",
        "MASTERS",
        "--arm",
        "low dose=MSC",
        "--arm",
        "placebo=control",
        "--reviewer",
        "Ana",
        code=1,
    )
    assert "unknown group 'drug'" in srma(
        "extract",
        "arms",
        project,
        "--study",
        "MASTERS",
        "--arm",
        "x=drug",
        "--reviewer",
        "Ana",
        code=1,
    )
    assert "group 'control' has no arm" in srma(
        "extract",
        "arms",
        project,
        "--study",
        names[1],
        "--arm",
        "x=MSC",
        "--reviewer",
        "Ana",
        code=1,
    )
    # record 1 now holds values: it cannot become a secondary report of another study
    assert "already holds extracted values" in srma(
        "extract", "link", project, "--records", "2,1", "--reviewer", "Ana", code=1
    )
    assert "not included at full text" in srma(
        "extract", "link", project, "--records", "99", "--reviewer", "Ana", code=1
    )


def test_the_protocol_names_every_extraction_problem_with_its_line(tmp_path: Path) -> None:
    text = PROTOCOL_TEMPLATE.format(title="T")
    text = text.replace('multi_arm = "combine"', 'multi_arm = "merge"')
    text = text.replace('type = "text"', 'type = "string"', 1)
    text = text.replace('data = "binary"', 'data = "continuous"')
    text = text.replace('tool = "rob2"', 'tool = "jadad"')
    text = text.replace('level = "result"', 'level = "outcome"\ncolour = "red"')
    text = text.replace('name = "dose"\ntype = "number"', 'name = "dose"\ntype = "choice"')
    text = text.replace('time_points = ["90 days"]', 'time_points = ["90 days", "90 days"]')
    path = tmp_path / "review.toml"
    path.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    with pytest.raises(ProtocolError) as caught:
        read_protocol(path)
    found = {message: line for line, message in caught.value.problems}
    expected = {
        "multi_arm must be one of: combine, choose, split": 'multi_arm = "merge"',
        "unknown field type 'string'; expected one of text, number": 'type = "string"',
        "continuous data cannot give measure RR; they give MD, SMD, ROM": 'data = "continuous"',
        "unknown risk-of-bias tool 'jadad'; expected rob1, rob2": 'tool = "jadad"',
        "level must be one of: study, result": 'level = "outcome"',
        "time point '90 days' is listed twice": 'time_points = ["90 days", "90 days"]',
        "a choice field needs its choices": "[[extraction.fields]]",
        "a unit is given only for a number field": 'unit = "million cells"',
    }
    for start, line in expected.items():
        message = next((m for m in found if m.startswith(start)), None)
        assert message is not None, start
        assert lines[found[message] - 1].split("#")[0].strip() == line, start
    assert any(m.startswith("unknown key 'colour' in [risk_of_bias]") for m in found)


def test_a_protocol_without_extraction_tables_keeps_its_defaults(tmp_path: Path) -> None:
    text = PROTOCOL_TEMPLATE.format(title="T")
    start, end = text.index("# What to extract"), text.index("[[outcomes]]")
    text = text[:start] + text[end:]
    text = text[: text.index("[risk_of_bias]")] + text[text.index("[analysis]") :]
    for key in ('data = "continuous"\n', 'data = "binary"\n'):
        text = text.replace(key, "")
    path = tmp_path / "review.toml"
    path.write_text(text, encoding="utf-8")
    protocol = read_protocol(path)
    assert protocol.extraction.fields == () and protocol.risk_of_bias is None
    assert [o.data for o in protocol.outcomes] == ["continuous", "continuous", "binary"]
    assert protocol.outcomes[0].arms == ("intervention", "control")
