"""Blinding of risk of bias in every view: until both assessors have submitted a study, no
form, compare, export, figure, status, audit or error shows one assessor's answers,
judgements or support to the other."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import srma
from test_extract_helpers import every_cell, included_project, labels
from test_rob_project_helpers import LOW, fill

SECRET_SUPPORT = "SECRET-SUPPORT p. 7"
SECRET_REASON = "SECRET-REASON"
#: Ana's assessment of the first study: an override (High against the proposed Low) and
#: answers no default would give.
SECRET = {
    **LOW,
    "1.3": "PN",
    "D4 judgement": "High",
    "D4 reason": SECRET_REASON,
    "D1 support": SECRET_SUPPORT,
}
STUDY_LEVEL = """
[risk_of_bias]
tool = "rob2"
level = "study"
"""


@pytest.fixture
def project(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SRMA_DATABASE_URL", database_url)
    return included_project(tmp_path / "review", protocol=study_level())


def study_level() -> str:
    """srma init's protocol, risk of bias judged per study."""
    from srma.review.project import PROTOCOL_TEMPLATE

    template = PROTOCOL_TEMPLATE.format(title="Risk of bias")
    start, end = template.index("[risk_of_bias]"), template.index("[analysis]")
    return template[:start] + STUDY_LEVEL.lstrip() + "\n" + template[end:]


def secret_free(text: str) -> bool:
    return SECRET_SUPPORT not in text and SECRET_REASON not in text


def assessed(path: Path) -> dict[str, list[object]]:
    """The filled cells of the ``risk of bias`` sheet's rows, by study label."""
    from openpyxl import load_workbook

    rows = load_workbook(path)["risk of bias"].iter_rows(min_row=2, values_only=True)
    return {row[1]: [v for v in row[2:] if v is not None] for row in rows}


def test_nothing_of_one_assessor_shows_before_both_submitted(project: Path, tmp_path: Path) -> None:
    names = labels(project)
    first = names[0]
    ana = tmp_path / "ana.xlsx"
    srma("rob", "form", project, "--reviewer", "Ana", "-o", ana)
    fill(ana, {(first, ""): SECRET}, submitted=(first,))
    srma("rob", "import", project, ana, "--reviewer", "Ana")

    # Ben's forms: the structure, none of Ana's answers, judgements or text
    ben = tmp_path / "ben.xlsx"
    srma("rob", "form", project, "--reviewer", "Ben", "-o", ben)
    assert secret_free(every_cell(ben)) and set(assessed(ben)) == set(names)
    assert all(filled == [] for filled in assessed(ben).values())
    ben_csv = tmp_path / "ben.csv"
    srma("rob", "form", project, "--reviewer", "Ben", "-o", ben_csv)
    lines = ben_csv.read_text().splitlines()[1:]
    assert secret_free("\n".join(lines)) and all(line.endswith(",") for line in lines)
    # Ana's own form keeps hers
    again = tmp_path / "ana-again.xlsx"
    srma("rob", "form", project, "--reviewer", "Ana", "-o", again)
    assert SECRET_SUPPORT in every_cell(again) and SECRET_REASON in every_cell(again)
    assert "PN" in assessed(again)[first] and "High" in assessed(again)[first]

    # compare, status: counts only
    for command in (("compare",), ("status",)):
        assert secret_free(srma("rob", *command, project, "--json"))
        assert secret_free(srma("rob", *command, project))
    compared = json.loads(srma("rob", "compare", project, "--json"))
    assert compared["discrepancies"] == [] and compared["agreement"] == []
    assert {"study": first, "submitted": 1, "required": 2} in compared["blinded"]
    status = json.loads(srma("rob", "status", project, "--json"))
    assert status["reviewers"] == {"Ana": {"submitted": 1, "assessed": 1}}

    # export, figure: refused with counts only
    for command in (("export", project), ("figure", project, "-o", tmp_path / "f.png")):
        refused = srma("rob", *command, code=1)
        assert f"{first}: blinded: 1 of 2 assessors submitted" in refused and secret_free(refused)
    # resolve and consensus: refused without a value
    refused = srma("rob", "resolve", project, "--study", first, "--domain", "D4",
                   "--value", "Low", "--reviewer", "Cy", code=1)  # fmt: skip
    assert "still blinded (1 of 2 assessors submitted)" in refused and secret_free(refused)
    refused = srma("rob", "form", project, "--consensus", "--reviewer", "Cy",
                   "-o", tmp_path / "c.xlsx", code=1)  # fmt: skip
    assert "no study has been submitted by every assessor" in refused
    # a workbook of another assessor is refused without reading its cells
    refused = srma("rob", "import", project, ana, "--reviewer", "Ben", code=1)
    assert "this workbook is Ana's form" in refused and secret_free(refused)

    # audit: the event keeps its row (who, when, study) and how many values, nothing else
    audit = tmp_path / "audit.csv"
    for viewer in ((), ("--reviewer", "Ben")):
        srma("audit", project, "--out", audit, *viewer)
        assert secret_free(audit.read_text()) and "blinded" in audit.read_text()
    srma("audit", project, "--out", audit, "--reviewer", "Ana")
    assert SECRET_SUPPORT in audit.read_text()

    # once Ben submits too, everything shows
    fill(ben, {(first, ""): LOW}, submitted=(first,))
    srma("rob", "import", project, ben, "--reviewer", "Ben")
    compared = json.loads(srma("rob", "compare", project, "--json"))
    listed = {(d["domain"], tuple(j["judgement"] for j in d["judgements"])) for d in compared["discrepancies"]}  # fmt: skip  # noqa: E501
    assert listed == {("D4", ("High", "Low")), ("overall", ("High", "Low"))}
    srma("audit", project, "--out", audit, "--reviewer", "Ben")
    assert SECRET_SUPPORT in audit.read_text()
    consensus = tmp_path / "consensus.xlsx"
    srma("rob", "form", project, "--consensus", "--reviewer", "Cy", "-o", consensus)
    assert "Ana: High; Ben: Low" in every_cell(consensus)
    assert list(assessed(consensus)) == [first]  # only the studies both submitted
