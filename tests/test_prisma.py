"""PRISMA 2020 counts and flow diagram: the seed's Figure 1 and the PRISMA2020 template."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import SHARED
from srma import InputError
from srma.cli import app
from srma.figures.axes import save_figure
from srma.figures.prisma import prisma_flow
from srma.review.flow.prisma import read_prisma

HUANG = SHARED / "reference" / "huang2024_prisma.csv"
TEMPLATE = SHARED / "fixtures" / "prisma2020" / "PRISMA.csv"


def _texts(figure) -> str:
    return "\n".join(t.get_text() for ax in figure.axes for t in ax.texts)


def test_huang_2024_figure_1(tmp_path: Path) -> None:
    counts = read_prisma(HUANG)
    assert counts.get("database_results") == 3059 and counts.get("new_studies") == 9
    assert counts.inconsistencies() == []
    text = _texts(prisma_flow(counts))
    for phrase in (
        "Databases (n = 3,059)",
        "Duplicate records removed (n = 400)",
        "Records screened (n = 2,659)",
        "Records excluded (n = 2,636)",
        "Reports assessed for eligibility (n = 23)",
        "Reports excluded (n = 14)",
        "reasons not reported",
        "Studies included in review (n = 9)",
        "Records marked as ineligible by automation tools (n = NR)",
    ):
        assert phrase in text
    svg = save_figure(prisma_flow(counts), tmp_path / "prisma.svg").read_text()
    assert "2,659" in svg


def test_template_with_per_database_counts_and_reasons() -> None:
    counts = read_prisma(TEMPLATE)
    assert [name for name, _ in counts.database_specific] == [
        "Database 1",
        "Database 2",
        "Database 3",
    ]
    frame = pd.DataFrame(
        {
            "data": [
                "database_results",
                "database_specific_results",
                "duplicates",
                "records_screened",
                "dbr_excluded",
            ],
            "n": ["30", "PubMed, 20; Embase, 10", "5", "24", "Wrong population, 3; No control, 2"],
        }
    )
    filled = read_prisma(frame)
    assert filled.database_specific == (("PubMed", 20), ("Embase", 10))
    assert filled.get("dbr_excluded") == 5
    assert filled.inconsistencies() == [
        "records identified (30) minus removed (5) is 25, not records_screened (24)"
    ]
    assert "Wrong population (n = 3)" in _texts(prisma_flow(filled))


def test_bad_counts_and_cli(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="row 1, column 'n'"):
        read_prisma(pd.DataFrame({"data": ["duplicates"], "n": ["many"]}))
    with pytest.raises(InputError, match="'data' column"):
        read_prisma(pd.DataFrame({"field": ["duplicates"], "n": ["1"]}))
    out = tmp_path / "prisma.png"
    result = CliRunner().invoke(app, ["prisma", str(HUANG), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:4] == b"\x89PNG"
    bad = tmp_path / "bad.csv"
    pd.DataFrame(
        {"data": ["database_results", "duplicates", "records_screened"], "n": [10, 2, 9]}
    ).to_csv(bad, index=False)
    result = CliRunner().invoke(app, ["prisma", str(bad), "-o", str(out)])
    assert result.exit_code == 0 and "warning:" in result.stderr


def test_other_methods_column(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "data": [
                "database_results",
                "duplicates",
                "records_screened",
                "records_excluded",
                "dbr_sought_reports",
                "dbr_notretrieved_reports",
                "dbr_assessed",
                "dbr_excluded",
                "new_studies",
                "website_results",
                "citations_results",
                "other_sought_reports",
                "other_notretrieved_reports",
                "other_assessed",
                "other_excluded",
            ],
            "n": [
                "120",
                "20",
                "100",
                "80",
                "20",
                "2",
                "18",
                "Wrong design, 8; No outcome, 4",
                "8",
                "5",
                "7",
                "12",
                "1",
                "11",
                "Wrong population, 9",
            ],
        }
    )
    counts = read_prisma(frame)
    assert counts.get("other_excluded") == 9 and counts.inconsistencies() == []
    figure = prisma_flow(counts)
    text = _texts(figure)
    assert "Identification of new studies via other methods" in text
    assert "Citation searching (n = 7)" in text and "Wrong population (n = 9)" in text
    wrong = read_prisma(frame.assign(n=frame["n"].where(frame["data"] != "new_studies", "7")))
    assert wrong.inconsistencies() == [
        "reports assessed minus excluded is 8, not new_studies (7) (fine if some studies have "
        "several reports)"
    ]
    assert save_figure(figure, tmp_path / "p.png").stat().st_size > 10_000
