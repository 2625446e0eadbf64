"""The review report's risk-of-bias traffic light is drawn in page-sized parts when there are
many studies (each part fits an A4 page), and a part holds exactly its studies' judgements."""

from __future__ import annotations

from types import SimpleNamespace

from srma.report.document import fit_to_page
from srma.report.review.blocks import Picture, Report
from srma.report.review.sections import TRAFFIC_LIGHT_ROWS, _rob
from srma.review.appraise.risk_of_bias import RobAssessment, get_tool


def _assessment(studies: int) -> RobAssessment:
    tool = get_tool("rob1")
    cycle = ("Low", "High", "Unclear")
    return RobAssessment(
        tool=tool,
        studies=tuple(f"Study {i}" for i in range(studies)),
        domains=tool.domains,
        judgements=tuple(
            tuple(cycle[(i + j) % 3] for j in range(len(tool.domains))) for i in range(studies)
        ),
        overall=tuple(cycle[i % 3] for i in range(studies)),
    )


def _pictures(studies: int) -> list[Picture]:
    rob = SimpleNamespace(
        assessment=_assessment(studies), tool_title="RoB 1", reason=None, not_ready=()
    )
    report = Report("rob")
    _rob(report, SimpleNamespace(rob=rob))  # type: ignore[arg-type]
    return [block for block in report.blocks if isinstance(block, Picture)]


def test_few_studies_get_one_traffic_light() -> None:
    pictures = _pictures(TRAFFIC_LIGHT_ROWS)
    assert [p.caption for p in pictures] == [
        "Risk of bias of each study (RoB 1).",
        "Risk of bias across studies (share of studies).",
    ]


def test_many_studies_are_drawn_in_parts_that_fit_a_page() -> None:
    studies = 2 * TRAFFIC_LIGHT_ROWS + 4
    pictures = _pictures(studies)
    parts = pictures[:-1]
    assert [p.caption.split(": ")[1] for p in parts] == [
        f"studies 1 to {TRAFFIC_LIGHT_ROWS} of {studies}.",
        f"studies {TRAFFIC_LIGHT_ROWS + 1} to {2 * TRAFFIC_LIGHT_ROWS} of {studies}.",
        f"studies {2 * TRAFFIC_LIGHT_ROWS + 1} to {studies} of {studies}.",
    ]
    for part in parts:
        figure = part.draw()
        width, height = figure.get_size_inches()
        # at its drawn size on a portrait page, or shrunk by less than a tenth
        assert fit_to_page(width, height, landscape=False) >= 0.9 * min(width, 6.69)
    labels = [t.get_text() for t in parts[-1].draw().findobj() if hasattr(t, "get_text")]
    assert f"Study {studies - 1}" in labels and "Study 0" not in labels


def test_subset_keeps_the_rows_asked_for() -> None:
    assessment = _assessment(6)
    part = assessment.subset([4, 1])
    assert part.studies == ("Study 4", "Study 1")
    assert part.judgements == (assessment.judgements[4], assessment.judgements[1])
    assert part.overall == (assessment.overall[4], assessment.overall[1])  # type: ignore[index]
