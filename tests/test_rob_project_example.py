"""The example review (BCG trials) taken through risk of bias as docs/risk_of_bias.md shows:
two assessors' RoB 1 forms, one disagreement, its resolution, robvis's table, figures."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from conftest import srma
from srma.datasets import load

DOCS = Path(__file__).resolve().parents[1] / "docs" / "risk_of_bias.md"
DOMAINS = (
    "Random.sequence.generation",
    "Allocation.concealment",
    "Blinding.of.participants.and.personnel",
    "Blinding.of.outcome.assessment",
    "Incomplete.outcome.data",
    "Selective.reporting",
    "Other.bias",
)


def expected_table(studies: list[str]) -> pd.DataFrame:
    """The example's judgements, from dat.bcg's allocation as the docs state the rules."""
    bcg = load("bcg")
    rows = []
    for label in studies:
        name, year = label.rsplit(" ", 1)
        [alloc] = bcg.loc[bcg["author"].str.startswith(name) & (bcg["year"] == int(year)), "alloc"]
        random = alloc == "random"
        first = ("Low", "Unclear") if random else ("High", "High")
        rows.append([label, *first, *["Unclear"] * 5, "Unclear" if random else "High"])
    return pd.DataFrame(rows, columns=["Study", *DOMAINS, "Overall"])


def test_the_example_review_through_risk_of_bias(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SRMA_DATABASE_URL", raising=False)
    project = tmp_path / "bcg"
    srma("extract", "example", project)
    forms = project / "example"
    srma("rob", "import", project, forms / "rob_ana.csv", "--reviewer", "Ana")
    srma("rob", "import", project, forms / "rob_ben.csv", "--reviewer", "Ben")
    before = json.loads(srma("rob", "compare", project, "--json"))
    assert before["open_studies"] == 0 and len(before["blinded"]) == 13
    srma("rob", "submit", project, "--all", "--reviewer", "Ana")
    srma("rob", "submit", project, "--all", "--reviewer", "Ben")
    compared = json.loads(srma("rob", "compare", project, "--json"))
    [disagreement] = compared["discrepancies"]
    assert (disagreement["study"], disagreement["domain"]) == ("Comstock 1974", "D1")
    assert [j["judgement"] for j in disagreement["judgements"]] == ["High", "Unclear"]
    d1 = compared["agreement"][0]["domains"][0]
    # Ana 7 Low, 6 High; Ben 7 Low, 1 Unclear, 5 High: kappa 77/90; linear weights 77/83.5
    assert d1["kappa"]["kappa"] == pytest.approx(77 / 90, rel=1e-12)
    assert d1["weighted_kappa"]["kappa"] == pytest.approx(77 / 83.5, rel=1e-12)
    # the page shows what the commands print
    text = srma("rob", "compare", project)
    docs = DOCS.read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.startswith(("13 studies", "  Comstock", "Ana vs Ben", "  D1:", "  D2:", "  D3:")):
            assert line in docs, line
    srma("rob", "resolve", project, "--study", "Comstock 1974", "--domain", "D1",
         "--value", "High", "--reviewer", "Cy", "--note",
         "systematic allocation is not random (Handbook 5.1, Table 8.5.d)")  # fmt: skip
    export = tmp_path / "rob.csv"
    srma("rob", "export", project, "-o", export)
    table = pd.read_csv(export, dtype=str)
    pd.testing.assert_frame_equal(table, expected_table(list(table["Study"])))
    assert len(table) == 13 and list(table["Study"]) == sorted(table["Study"], key=str.lower)
    for line in export.read_text(encoding="utf-8").splitlines()[:4]:
        assert line in docs, line
    # every support says the judgement is illustrative
    for name in ("rob_ana.csv", "rob_ben.csv"):
        lines = pd.read_csv(forms / name, dtype=str)
        support = lines[lines["field"].str.endswith("support")]["value"]
        assert support.str.contains("not a published assessment").all()
    figure = tmp_path / "rob.png"
    srma("rob", "figure", project, "-o", figure)
    assert figure.stat().st_size > 10_000
    # and the forest plot of the extracted data, with the judgements as its columns
    srma("extract", "import", project, forms / "ana.csv", "--reviewer", "Ana")
    srma("extract", "import", project, forms / "ben.csv", "--reviewer", "Ben")
    srma("extract", "submit", project, "--all", "--reviewer", "Ana")
    srma("extract", "submit", project, "--all", "--reviewer", "Ben")
    srma("extract", "resolve", project, "--study", "Hart 1977", "--outcome", "tuberculosis",
         "--arm", "BCG", "--field", "events", "--value", "62", "--reviewer", "Cy")  # fmt: skip
    data = tmp_path / "tb.csv"
    srma("extract", "export", project, "--outcome", "tuberculosis", "-o", data)
    forest = tmp_path / "forest.png"
    output = srma("forest", data, "--measure", "RR", "--rob-from", project, "-o", forest)
    assert forest.stat().st_size > 10_000 and "warning" not in output
