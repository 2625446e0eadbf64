"""The whole review report as blocks: protocol, methods, study selection, characteristics,
risk of bias, each outcome, the summary of findings and what is missing, then references.

A part without content says why in words (nothing imported yet, no outcome
with usable data, risk of bias not assessed, no outcome rated with GRADE).
"""

from __future__ import annotations

import re
from functools import partial

import pandas as pd

from srma import __version__
from srma.figures.limits import FOREST_ROWS
from srma.figures.prisma import prisma_flow
from srma.figures.rob import summary_plot, traffic_light
from srma.report.review import methods
from srma.report.review.blocks import Heading, Items, Picture, Report, Sof, SofPart, Table, Text
from srma.report.review.outcome import outcome_section, outcome_title
from srma.review.flow.overview import ReviewOverview
from srma.review.synthesize.results import ReviewAnalysis


def _times(outcome: object) -> str:
    return ", ".join(t for t in outcome.time_points if t) or "one"  # type: ignore[attr-defined]


def _protocol(report: Report, overview: ReviewOverview) -> None:
    report.add(Heading("Protocol"))
    question = overview.question
    report.add(
        Heading("Question", level=2),
        Items(
            (
                f"Population: {question.population}",
                f"Intervention: {question.intervention}",
                f"Comparator: {question.comparator}",
                f"Outcome: {question.outcome}",
            )
        ),
        Heading("Eligibility", level=2),
        Text("Included: " + ("; ".join(overview.include) or "no criterion given") + "."),
        Text("Excluded: " + ("; ".join(overview.exclude) or "no criterion given") + "."),
        Heading("Outcomes", level=2),
    )
    if overview.outcomes:
        report.add(
            Items(
                tuple(
                    f"{o.name} ({'primary' if o.primary else 'secondary'}; measure {o.measure}; "
                    f"{o.direction}; time points: {_times(o)})"
                    for o in overview.outcomes
                )
            )
        )
    else:
        report.add(Text("The protocol names no outcome."))


def _methods(report: Report, overview: ReviewOverview) -> None:
    report.add(Heading("Methods"))
    report.add(
        Text(
            "The review is reported following PRISMA 2020; every count and statistic below "
            "is read from the project and srma's stored results."
        )
    )
    report.cite(methods.PRISMA)
    report.add(Heading("Searches and deduplication", level=2), Text(methods.search_text(overview)))
    for title, write in (
        ("Screening", methods.screening_text),
        ("Data extraction", methods.extraction_text),
        ("Risk of bias", methods.rob_text),
        ("Synthesis", methods.synthesis_text),
    ):
        text, refs = write(overview)
        report.cite(*refs)
        report.add(Heading(title, level=2), Text(text))


def _characteristics(report: Report, overview: ReviewOverview, evidence_by: str | None) -> None:
    report.add(Heading("Characteristics of included studies", level=2))
    frame = overview.characteristics
    fields = [c for c in frame.columns if c != "study"]
    if frame.empty:
        report.add(Text("No study has reconciled data yet, so none is described here."))
    elif not fields:
        report.add(Text("The protocol extracts no study characteristic."))
    else:
        shown = frame.rename(columns={"study": "Study"})
        report.add(Table(shown, "Characteristics of included studies.", "characteristics"))
        empty = [c for c in fields if frame[c].isna().all()]
        if empty:
            report.add(
                Text(
                    f"Not reported by any study (or not yet reconciled): {', '.join(empty)}.",
                    note=True,
                )
            )
    for note in overview.notes:
        report.add(Text(f"Note: {note}", note=True))
    if evidence_by is None:
        return
    report.add(Heading(f"Evidence by {evidence_by}", level=2))
    if evidence_by not in frame.columns:
        report.add(
            Text(
                f"No evidence table by {evidence_by}: the protocol extracts no characteristic "
                f"of that name (it extracts: {', '.join(fields) or 'none'})."
            )
        )
        return
    if frame.empty:
        report.add(Text(f"No evidence table by {evidence_by}: no study has reconciled data yet."))
        return
    grouped = frame.assign(**{evidence_by: frame[evidence_by].fillna("not reported")})
    for group, part in grouped.groupby(evidence_by, sort=True):
        rows = part.drop(columns=evidence_by).rename(columns={"study": "Study"})
        report.add(
            Table(
                rows.reset_index(drop=True),
                f"Studies with {evidence_by} {group} ({len(rows)}).",
                "evidence_" + re.sub(r"[^A-Za-z0-9]+", "_", str(group)).strip("_"),
            )
        )


#: Studies per traffic-light figure: a figure of 0.42 inch per study and its domain legend
#: fits one A4 page (:func:`srma.figures.rob.traffic_light`).
TRAFFIC_LIGHT_ROWS = 15


def _rob(report: Report, overview: ReviewOverview) -> None:
    report.add(Heading("Risk of bias", level=2))
    rob = overview.rob
    if rob is None:
        report.add(Text("Risk of bias was not assessed: the protocol plans no assessment."))
        return
    if rob.assessment is None:
        report.add(Text(f"No risk-of-bias figure: {rob.reason}."))
        return
    studies = len(rob.assessment.studies)
    if studies <= TRAFFIC_LIGHT_ROWS:
        report.add(
            Picture(
                partial(traffic_light, rob.assessment),
                f"Risk of bias of each study ({rob.tool_title}).",
            )
        )
    for start in range(0, studies if studies > TRAFFIC_LIGHT_ROWS else 0, TRAFFIC_LIGHT_ROWS):
        end = min(start + TRAFFIC_LIGHT_ROWS, studies)
        part = rob.assessment.subset(range(start, end))
        report.add(
            Picture(
                partial(traffic_light, part),
                f"Risk of bias of each study ({rob.tool_title}): studies {start + 1} to {end} "
                f"of {studies}.",
            )
        )
    report.add(
        Picture(
            partial(summary_plot, rob.assessment), "Risk of bias across studies (share of studies)."
        )
    )
    for study, why in rob.not_ready:
        report.add(Text(f"{study} is not shown: {why}.", note=True))


def _missing(report: Report, analysis: ReviewAnalysis) -> None:
    report.add(Heading("What is missing"))
    rows = [(outcome_title(a), m.study, m.reason) for a in analysis.outcomes for m in a.missing]
    if rows:
        frame = pd.DataFrame(rows, columns=["Outcome", "Study", "Reason"])
        report.add(Table(frame, "Studies without usable data, per outcome, and why.", "missing"))
    elif analysis.outcomes:
        report.add(Text("Nothing: every study of the review has usable data for every outcome."))
    empty = [outcome_title(a) for a in analysis.outcomes if a.policy is None and a.network is None]
    if empty:
        report.add(Text(f"Outcomes without any pooled result: {', '.join(empty)}."))


def build_review_report(
    overview: ReviewOverview,
    analysis: ReviewAnalysis,
    *,
    sof: SofPart | None = None,
    evidence_by: str | None = None,
    forest_rows: int | None = FOREST_ROWS,
) -> Report:
    """Every block of the report, text written from the result objects, figures ready to draw."""
    report = Report(analysis.title or overview.title)
    report.add(
        Text(
            f"Generated by srma {__version__} from the analyses run on {analysis.created} "
            f"(srma {analysis.srma_version}). Every number is read from the project and "
            "srma's stored results.",
            note=True,
        )
    )
    for note in analysis.notes:
        report.add(Text(f"Note: {note}", note=True))
    _protocol(report, overview)
    _methods(report, overview)
    report.add(Heading("Results"), Heading("Study selection", level=2))
    report.add(Picture(partial(prisma_flow, overview.prisma), "PRISMA 2020 flow diagram."))
    for problem in overview.prisma.inconsistencies():
        report.add(Text(f"Check: {problem}", note=True))
    for note in overview.prisma.notes.values():
        report.add(Text(f"Note: {note}.", note=True))
    _characteristics(report, overview, evidence_by)
    _rob(report, overview)
    report.add(Heading("Outcomes"))
    if not analysis.outcomes:
        report.add(Text("No outcome has been analysed yet: run srma analyze on the project."))
    rob = None if overview.rob is None else overview.rob.assessment
    for number, outcome in enumerate(analysis.outcomes, start=1):
        outcome_section(report, outcome, number, rob, forest_rows)
    report.add(Heading("Summary of findings"), Sof(sof))
    _missing(report, analysis)
    return report
