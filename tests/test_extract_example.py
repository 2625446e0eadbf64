"""The example review shipped with srma (BCG trials), taken through extraction as
docs/extraction.md shows, ends in the data set's own meta-analysis."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from conftest import srma
from srma import meta, meta_regression
from srma.datasets import load
from test_extract_helpers import resolve_misread


def test_the_example_review_from_extraction_to_meta(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("SRMA_DATABASE_URL", raising=False)
    project = tmp_path / "bcg"
    srma("extract", "example", project)
    assert "already holds a project" in srma("extract", "example", project, code=1)
    forms = project / "example"
    srma("extract", "import", project, forms / "ana.csv", "--reviewer", "Ana")
    srma("extract", "import", project, forms / "ben.csv", "--reviewer", "Ben")
    before = json.loads(srma("extract", "compare", project, "--json"))
    assert before["open_studies"] == 0 and len(before["blinded"]) == 13
    srma("extract", "submit", project, "--all", "--reviewer", "Ana")
    srma("extract", "submit", project, "--all", "--reviewer", "Ben")
    compared = json.loads(srma("extract", "compare", project, "--json"))
    [misread] = compared["discrepancies"]
    assert (misread["study"], misread["field"], [v["value"] for v in misread["values"]]) == (
        "Hart 1977",
        "events",
        ["62", "26"],
    )
    resolve_misread(project)
    export = tmp_path / "tb.csv"
    srma("extract", "export", project, "--outcome", "tuberculosis", "-o", export)
    table = pd.read_csv(export, keep_default_na=False)
    assert list(table["missing"]) == [""] * 13
    assert {"allocation", "latitude"} <= set(table.columns)
    bcg = load("bcg")
    piped = json.loads(srma("meta", export, "--measure", "RR", "--json"))
    direct = meta(bcg, measure="RR")
    assert piped["estimate"] == pytest.approx(direct.estimate, rel=1e-12)
    assert piped["tau2"] == pytest.approx(direct.tau2, rel=1e-12)
    regression = json.loads(
        srma("metareg", export, "--measure", "RR", "--mods", "~ latitude", "--json")
    )
    expected = meta_regression(bcg, "~ ablat", measure="RR")
    assert regression["coefficients"][1]["estimate"] == pytest.approx(
        expected.to_dict()["coefficients"][1]["estimate"], rel=1e-10
    )
    assert "log intact" in srma("verify", project)
