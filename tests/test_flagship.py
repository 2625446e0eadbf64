"""The flagship review (`srma demo`): every value in the project is a shipped file's row.

Compared against the reference tables themselves (../shared/reference: the seed's
PRISMA counts and RoB 1 judgements, msc_trials_found.csv), read here with the csv
module, not through srma.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import SHARED
from srma.analysis.meta import meta
from srma.cli import app
from srma.errors import InputError
from srma.review.flagship import SEED, TABLE, build_msc_stroke, outcome_exports, seed_prisma

REFERENCE = SHARED / "reference"
SHIPPED = Path(__file__).resolve().parents[1] / "src" / "srma" / "datasets" / "msc_stroke"


def _rows(name: str) -> list[dict[str, str]]:
    with (REFERENCE / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("flagship") / "project"
    start = time.perf_counter()
    project = build_msc_stroke(folder)
    seconds = time.perf_counter() - start
    with project.store.transaction() as session:
        exports = {(e.outcome, e.time_point): e for e in outcome_exports(session, project)}
        prisma = seed_prisma(session, project)
    yield project, exports, prisma, seconds
    project.close()


def test_the_shipped_copies_are_the_reference_files() -> None:
    for name in ("huang2024_prisma.csv", "huang2024_rob.csv", "msc_trials_found.csv"):
        assert (SHIPPED / name).read_bytes() == (REFERENCE / name).read_bytes()


def test_the_project_builds_from_a_fresh_folder_in_seconds(built) -> None:  # type: ignore[no-untyped-def]
    assert built[3] < 30


def test_each_binary_value_is_its_row_of_msc_trials_found_with_the_citation(built) -> None:  # type: ignore[no-untyped-def]
    _, exports, _, _ = built
    table = _rows("msc_trials_found.csv")
    mapping = pd.read_csv(SHIPPED / "outcome_map.csv", dtype=str, keep_default_na=False)
    used = mapping[mapping["why_not_used"] == ""]
    assert len(used) == 10
    for entry in used.itertuples(index=False):
        source = table[int(entry.row) - 1]
        export = exports[(entry.outcome, entry.time_point)].table
        side = "1" if entry.group == "MSC" else "2"
        row = export[export[f"source{side}"].str.startswith(f"{TABLE} row {entry.row}:")]
        assert len(row) == 1, entry
        row = row.iloc[0]
        assert int(row[f"events{side}"]) == int(source["events"])
        assert int(row[f"total{side}"]) == int(source["total"])
        assert source["source_citation"] in row[f"source{side}"]
        assert f"value_status: {source['value_status']}" in row[f"status{side}"]
        assert source["trial"] == row["trial"]


def test_studies_without_values_say_why(built) -> None:  # type: ignore[no-untyped-def]
    _, exports, _, _ = built
    for export in exports.values():
        without = export.table[export.table["missing"].fillna("") != ""]
        assert (without["reason"].str.len() > 0).all()
        assert export.analysable["reason"].eq("").all()
    for outcome in ("NIHSS", "Barthel index", "mRS"):
        export = exports[(outcome, "end of follow-up")]
        assert len(export.analysable) == 0 and len(export.table) == 11
        assert export.table["mean1"].isna().all()
    reasons = dict(exports[("NIHSS", "end of follow-up")].without_values())
    assert reasons["Houkin 2024"].startswith(f"{TABLE} row 15: dichotomised")
    assert "Huang et al. 2024 print no per-study numbers" in reasons["Law 2021"]
    later = dict(
        exports[("mortality", "longest follow-up")].table[["study", "in_seed_meta_analyses"]].values
    )
    assert later["Houkin 2024"].startswith("no (published Jan 2024, after both seed MAs' searches)")


def test_prisma_counts_are_the_seeds_as_reported(built) -> None:  # type: ignore[no-untyped-def]
    _, _, prisma, _ = built
    reported = {r["data"]: int(r["n"]) for r in _rows("huang2024_prisma.csv")}
    assert {k: prisma.get(k) for k in reported} == reported
    assert prisma.inconsistencies() == []
    assert "as reported" in str(prisma.source)


def test_rob_judgements_are_the_seeds(built) -> None:  # type: ignore[no-untyped-def]
    from srma.review.appraise.export import reconciled_judgements
    from srma.review.appraise.project import load_rob
    from srma.review.flagship import ROB_COLUMNS, study_links

    project = built[0]
    with project.store.transaction() as session:
        found = reconciled_judgements(load_rob(session, project))
        links = {link.study_id: link for link in study_links(session, project)}
        state = load_rob(session, project).state
    reference = {(r["study"], r["year"]): r for r in _rows("huang2024_rob.csv")}
    assert len(found.table) == len(reference) == 9
    for row in found.table.to_dict("records"):
        link = links[row["study_id"]]
        expected = reference[(link.rob_study, link.rob_year)]
        for domain, column in ROB_COLUMNS.items():
            assert row[domain] == expected[column].capitalize()
    assert set(state.values["reviewer"]) == {SEED}
    assert [label for label, _ in found.not_ready] == ["Hess 2017", "Houkin 2024"]


def test_srma_meta_on_the_mortality_export_is_meta_on_the_shipped_rows(
    built,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    import json

    _, exports, _, _ = built
    path = tmp_path / "mortality.csv"
    exports[("mortality", "longest follow-up")].table.to_csv(path, index=False)
    result = CliRunner().invoke(app, ["meta", str(path), "--measure", "RR", "--json"])
    assert result.exit_code == 0, result.output
    pooled = json.loads(result.stdout)
    table = _rows("msc_trials_found.csv")
    pairs = [(23, 24), (57, 58), (59, 60)]  # TREASURE day 365, MASTERS 1 year, Lee 2010
    direct = pd.DataFrame(
        {
            "events1": [int(table[a - 1]["events"]) for a, _ in pairs],
            "total1": [int(table[a - 1]["total"]) for a, _ in pairs],
            "events2": [int(table[b - 1]["events"]) for _, b in pairs],
            "total2": [int(table[b - 1]["total"]) for _, b in pairs],
        }
    )
    expected = meta(direct, measure="RR")
    assert pooled["k"] == 3
    assert pooled["estimate"] == pytest.approx(expected.estimate, rel=1e-9)
    assert pooled["ci_lower"] == pytest.approx(expected.ci_lower, rel=1e-9)


def test_build_refuses_a_folder_holding_a_project(built) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="already holds a project"):
        build_msc_stroke(built[0].folder)


def test_srma_demo_out_builds_everything_and_says_where(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Review project:" in result.stdout
    for name in ("prisma_huang2024", "prisma_review", "rob1_traffic_light", "rob1_summary"):
        assert (out / "figures" / f"{name}.png").stat().st_size > 10_000
    names = sorted(p.name for p in (out / "exports").iterdir())
    assert "mortality_longest_follow-up.csv" in names and len(names) == 6
    again = CliRunner().invoke(app, ["demo", "--out", str(out)])
    assert again.exit_code == 1 and "already exists" in again.stderr
