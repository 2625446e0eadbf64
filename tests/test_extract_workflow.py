"""From included studies to analysable data: two extractors' workbooks, submit, compare,
resolve, export, and the export run through ``srma meta`` as it is."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from conftest import srma
from test_extract_helpers import NORMAND, fill, included_project, labels


@pytest.fixture
def project(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SRMA_DATABASE_URL", database_url)
    return included_project(tmp_path / "review")


def normand_rows(names: list[str], *, typo: bool = False) -> dict:
    rows = {}
    for label, (n1, m1, s1, n2, m2, s2) in zip(names, NORMAND, strict=True):
        for arm, n, m, s in (("MSC", n1, m1, s1), ("control", n2, m2, s2)):
            rows[("NIHSS", label, arm, "90 days")] = {
                "n_randomised": n,
                "n_analysed": n,
                "value_type": "final value",
                "dispersion": "SD",
                "mean": m,
                "sd": s,
                "source": "Table 2",
            }
    if typo:  # Ben reads 74 for the SD of 47 in the first trial's experimental arm
        rows[("NIHSS", names[0], "MSC", "90 days")]["sd"] = 74
        rows[("NIHSS", names[0], "MSC", "90 days")]["mean"] = 55.0  # 55.0 and 55 agree
    return rows


def characteristics(names: list[str]) -> dict:
    found = {}
    for number, label in enumerate(names):
        found[(label, "design")] = "parallel RCT"
        found[(label, "cell source")] = "bone marrow" if number % 2 else "adipose tissue"
        found[(label, "dose")] = 10 * (number + 1)
    return found


def test_two_extractors_to_srma_meta(project: Path, tmp_path: Path) -> None:
    names = labels(project)
    assert len(names) == 6
    for name, typo in (("Ana", False), ("Ben", True)):
        form = tmp_path / f"{name}.xlsx"
        srma("extract", "form", project, "--reviewer", name, "-o", form)
        fill(
            form,
            rows=normand_rows(names, typo=typo),
            characteristics=characteristics(names),
            submitted=tuple(names),
        )
        out = json.loads(srma("extract", "import", project, form, "--reviewer", name, "--json"))
        assert out["values_changed"] == 6 * 2 * 6 + 6 * 3 and len(out["submitted"]) == 6
    compared = json.loads(srma("extract", "compare", project, "--json"))
    assert compared["open_studies"] == 6 and compared["blinded"] == []
    [discrepancy] = compared["discrepancies"]
    assert (discrepancy["study"], discrepancy["arm"], discrepancy["field"]) == (
        names[0],
        "MSC",
        "sd",
    )
    assert [v["value"] for v in discrepancy["values"]] == ["47", "74"]
    [pair] = compared["agreement"]
    numbers = 6 * 2 * 4 + 6  # n twice, mean, sd per arm; dose per study
    assert (pair["number_items"], pair["numbers_agreed"]) == (numbers, numbers - 1)
    design = next(c for c in pair["categories"] if c["field"] == "cell source")
    assert design["kappa"]["kappa"] == pytest.approx(1.0)
    # before resolving, the study is in the export with the reason
    export = tmp_path / "nihss.csv"
    srma("extract", "export", project, "--outcome", "NIHSS", "-o", export)
    table = pd.read_csv(export, keep_default_na=False).set_index("study")
    assert table.loc[names[0], "missing"] == "unresolved discrepancy: sd (MSC)"
    srma(
        "extract",
        "resolve",
        project,
        "--study",
        names[0],
        "--outcome",
        "NIHSS",
        "--arm",
        "MSC",
        "--time-point",
        "90 days",
        "--field",
        "sd",
        "--value",
        "47",
        "--reviewer",
        "Cy",
        "--note",
        "Table 2",
    )
    assert json.loads(srma("extract", "compare", project, "--json"))["discrepancies"] == []
    srma("extract", "export", project, "--outcome", "NIHSS", "-o", export)
    table = pd.read_csv(export, keep_default_na=False)
    assert list(table["missing"]) == [""] * 6
    assert list(table.columns[:13]) == [
        "study",
        "study_id",
        "records",
        "outcome",
        "time_point",
        "arm1",
        "arm2",
        "mean1",
        "sd1",
        "n1",
        "mean2",
        "sd2",
        "n2",
    ]
    assert {"design", "cell_source", "dose"} <= set(table.columns)
    # the export runs through srma meta as it is, and gives what the data give directly
    from srma import meta

    expected = pd.DataFrame(NORMAND, columns=["n1", "mean1", "sd1", "n2", "mean2", "sd2"])
    expected["study"] = names
    direct = meta(expected, measure="SMD", method="REML")
    piped = json.loads(srma("meta", export, "--measure", "SMD", "--json"))
    assert piped["k"] == 6
    assert piped["estimate"] == pytest.approx(direct.estimate, rel=1e-12)
    assert piped["tau2"] == pytest.approx(direct.tau2, rel=1e-12)
    by = json.loads(srma("subgroup", export, "--measure", "SMD", "--by", "cell_source", "--json"))
    assert len(by["subgroups"]) == 2
