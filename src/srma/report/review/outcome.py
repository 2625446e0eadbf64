"""The section of one outcome: data, pooled result, heterogeneity, the policy's decisions,
the forest plot with risk-of-bias columns, every follow-up (or why it was not done), the
studies without usable data, and notes.

Every number is a field of a result object held by the
:class:`srma.review.synthesize.results.OutcomeAnalysis`; ratio measures are shown
back-transformed (``exp``), as the forest plot shows them.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from srma.analysis.bias import SmallStudyResult, funnel_contours
from srma.analysis.results import MetaResult
from srma.figures.forest import forest_plot
from srma.figures.funnel import funnel_plot
from srma.figures.limits import FOREST_ROWS
from srma.formatting import format_ci, format_count, format_number, format_p
from srma.report.document import bias_sentence, describe, result_sentence
from srma.report.methods import bias_methods, methods_paragraph
from srma.report.review.blocks import Heading, Items, Picture, Report, Table, Text
from srma.review.appraise.risk_of_bias import RobAssessment
from srma.review.synthesize.results import FollowUp, OutcomeAnalysis

#: The columns that hold participants per arm, by data type.
PARTICIPANTS = (("total1", "total2"), ("n1", "n2"))


def outcome_title(analysis: OutcomeAnalysis) -> str:
    name = analysis.outcome.name
    return f"{name} ({analysis.time_point})" if analysis.time_point else name


def participants(analysis: OutcomeAnalysis) -> int | None:
    """Participants in the studies analysed: the sum of both arms' totals (None: not known)."""
    if analysis.policy is None:
        return None
    used = analysis.table[analysis.table["study"].isin(analysis.policy.result.labels)]
    for first, second in PARTICIPANTS:
        if first in used and second in used:
            values = pd.to_numeric(used[first]).to_numpy(float) + pd.to_numeric(
                used[second]
            ).to_numpy(float)
            return None if np.isnan(values).any() else int(values.sum())
    return None


def _shown(result: MetaResult, values: list[float | None]) -> list[float | None]:
    """Values on the reported scale: ratios back-transformed from the log scale."""
    if not result.is_ratio:
        return values
    return [None if v is None else float(np.exp(v)) for v in values]


def _rob_of(rob: RobAssessment | None, result: MetaResult) -> RobAssessment | None:
    """The judgements of the studies in ``result`` (None: no study of it was assessed)."""
    if rob is None:
        return None
    labels = set(result.labels)
    keep = [i for i, study in enumerate(rob.studies) if study in labels]
    return rob.subset(keep) if keep else None


def _forest(
    result: MetaResult,
    rob: RobAssessment | None,
    favours: tuple[str, str],
    forest_rows: int | None,
    plot_width: float,
):  # type: ignore[no-untyped-def]
    return forest_plot(
        result, rob=rob, favours=favours, plot_width=plot_width, max_rows=forest_rows
    )


def _funnel(result: MetaResult, tests: SmallStudyResult):  # type: ignore[no-untyped-def]
    return funnel_plot(
        result, contours=funnel_contours(result), trimfill=tests.trimfill, egger=tests.egger
    )


def _study_table(report: Report, result: MetaResult, index: str) -> None:
    """Each study's effect, interval and weight: the numbers a condensed forest plot omits."""
    frame = result.to_frame()
    percent = round(100 * result.level)
    estimate, lower, upper = (
        _shown(result, frame[c].tolist()) for c in ("yi", "ci_lower", "ci_upper")
    )
    table = pd.DataFrame(
        {
            "Study": frame["label"],
            "Estimate": estimate,
            f"{percent}% CI": [format_ci(a, b) for a, b in zip(lower, upper, strict=True)],
            "Weight (%)": frame["weight"],
        }
    )
    caption = "Each study's effect and weight (the forest plot is condensed)."
    report.add(Table(table, caption, index))


def _favours(analysis: OutcomeAnalysis) -> tuple[str, str]:
    """RevMan's labels under the plot: which side favours which arm, from the direction."""
    first, second = analysis.outcome.arms[:2]
    if analysis.outcome.direction == "higher is better":
        return second, first
    return first, second


def _leave_one_out(report: Report, follow: FollowUp, result: MetaResult, index: str) -> None:
    rows = follow.result.to_records()
    percent = round(100 * result.level)
    frame = pd.DataFrame(
        {
            "Study omitted": [r["omitted"] for r in rows],
            "k": [None if r["k"] is None else int(r["k"]) for r in rows],
            "Estimate": _shown(result, [r["estimate"] for r in rows]),
            f"{percent}% CI": [
                format_ci(*_shown(result, [r["ci_lower"], r["ci_upper"]])) for r in rows
            ],
            "p": [format_p(r["pvalue"]).removeprefix("p ").removeprefix("= ") for r in rows],
            "I² (%)": [r.get("i2") for r in rows],
        }
    )
    report.add(
        Table(frame, f"{_capital(follow.name)}: the model refitted without each study.", index)
    )
    for note in follow.result.notes:
        report.add(Text(f"Note: {note}", note=True))


def _subgroups(report: Report, follow: FollowUp, result: MetaResult, index: str) -> None:
    found = follow.result
    percent = round(100 * result.level)
    frame = pd.DataFrame(
        {
            found.variable: list(found.groups),
            "k": [r.k for r in found.subgroups],
            "Estimate": _shown(result, [r.estimate for r in found.subgroups]),
            f"{percent}% CI": [
                format_ci(*_shown(result, [r.ci_lower, r.ci_upper])) for r in found.subgroups
            ],
            "I² (%)": [r.i2 for r in found.subgroups],
        }
    )
    report.add(Table(frame, f"{_capital(follow.name)}: pooled result of each subgroup.", index))
    statistic = "Chi²" if found.test_between == "chi2" else "F"
    df = format_count(found.df_between)
    if found.df_between_denominator is not None:
        df += f", {format_count(found.df_between_denominator)}"
    report.add(
        Text(
            f"Test for subgroup differences: {statistic} = {format_number(found.q_between)}, "
            f"df = {df}, {format_p(found.pvalue_between)}."
        )
    )
    for note in found.notes:
        report.add(Text(f"Note: {note}", note=True))


def _metaregression(report: Report, follow: FollowUp, index: str) -> None:
    found = follow.result
    percent = round(100 * found.level)
    table = found.coefficients()
    frame = pd.DataFrame(
        {
            "Term": table["term"],
            "Coefficient": [format_number(v, 4) for v in table["estimate"]],
            "SE": [format_number(v, 4) for v in table["se"]],
            f"{percent}% CI": [
                format_ci(lo, hi, 4)
                for lo, hi in zip(table["ci_lower"], table["ci_upper"], strict=True)
            ],
            "p": [format_p(p).removeprefix("p ").removeprefix("= ") for p in table["pvalue"]],
        }
    )
    scale = " (log scale)" if found.measure in ("RR", "OR", "ROM", "HR", "PETO") else ""
    report.add(Table(frame, f"{_capital(follow.name)}: coefficients{scale}.", index))
    text = (
        f"Test of moderators: {format_p(found.qm_pvalue)}; residual heterogeneity "
        f"Q = {format_number(found.qe)} ({format_p(found.qe_pvalue)})"
    )
    if found.r2 is not None:
        text += f"; R² = {format_number(found.r2, 1)}%"
    report.add(Text(text + "."))


def _small_study(report: Report, follow: FollowUp, result: MetaResult, title: str) -> None:
    tests = follow.result
    sentence, refs = bias_methods(tests)
    report.cite(*refs)
    if sentence:
        report.add(Text(sentence))
    report.add(Text(bias_sentence(tests)))
    for note in tests.notes:
        report.add(Text(f"Note: {note}", note=True))
    if tests.k >= 3:
        report.add(
            Picture(partial(_funnel, result, tests), f"Contour-enhanced funnel plot of {title}.")
        )


def _follow_up(
    report: Report, follow: FollowUp, result: MetaResult, title: str, number: str
) -> None:
    report.add(Heading(_capital(follow.name), level=3))
    if not follow.done:
        report.add(Text(f"Not done: {follow.reason}.".replace("..", "."), note=True))
        return
    if follow.reason:
        report.add(Text(f"Why: {follow.reason}.".replace("..", "."), note=True))
    name = f"{number}_{follow.kind}"
    if follow.kind == "leave_one_out":
        _leave_one_out(report, follow, result, name)
    elif follow.kind == "exclude_high_risk":
        report.add(Text(result_sentence(follow.result)))
    elif follow.kind == "subgroup":
        _subgroups(report, follow, result, name)
    elif follow.kind == "metaregression":
        _metaregression(report, follow, name)
    elif follow.kind == "small_study":
        _small_study(report, follow, result, title)
    else:
        report.add(Text(f"A follow-up of kind {follow.kind!r} is not shown in this report."))


def outcome_section(
    report: Report,
    analysis: OutcomeAnalysis,
    number: int,
    rob: RobAssessment | None,
    forest_rows: int | None = FOREST_ROWS,
) -> None:
    """Add the section of one outcome to ``report`` (a forest plot of more than
    ``forest_rows`` studies is drawn condensed, with a table of the studies)."""
    title = outcome_title(analysis)
    report.add(Heading(f"Outcome {number}: {title}", level=2))
    tag = f"outcome{number}"
    if analysis.stale:
        report.add(
            Text(
                "These results are stale: the data have changed since they were computed "
                f"(data version {analysis.data_version}). Run the analyses again.",
                note=True,
            )
        )
    policy = analysis.policy
    if analysis.network is not None:
        from srma.report.review.network import network_section

        network_section(
            report, analysis.network, title, tag, order=analysis.outcome.arms,
            risk_of_bias=analysis.rob_overall,
        )  # fmt: skip
    elif policy is None:
        report.add(
            Text(
                f"No pooled result: no study has usable data for {title} "
                f"(measure {analysis.outcome.measure})."
            )
        )
    else:
        result = policy.result
        people = participants(analysis)
        report.add(
            Text(
                f"Measure: {describe(result)}. {_count(result.k, 'study', 'studies')}"
                + ("" if people is None else f", {format_count(people)} participants")
                + "."
            )
        )
        methods, refs = methods_paragraph(result)
        report.cite(*refs)
        report.add(Text(methods))
        report.add(Heading("Decisions of the analysis policy", level=3))
        report.add(Items(policy.decisions))
        report.add(Heading("Pooled result", level=3))
        if result.k == 1:
            report.add(
                Text(
                    "Only one study has usable data: its result is shown, and no pooling, "
                    "heterogeneity or follow-up across studies is possible.",
                    note=True,
                )
            )
        report.add(Text(result_sentence(result)))
        if result.tau2 is not None and result.k > 1:
            report.add(Text(f"Between-study variance tau² = {format_number(result.tau2, 4)}."))
        high = _all_high(rob, result)
        if high:
            report.add(Text(high, note=True))
        shown_rob = _rob_of(rob, result)
        favours = _favours(analysis)
        draw = partial(_forest, result, shown_rob, favours, forest_rows)
        from srma.figures.forest import PLOT_WIDTH

        what = " with risk-of-bias judgements" if shown_rob is not None else ""
        if rob is not None and shown_rob is None:
            report.add(
                Text(
                    "No study of this outcome has reconciled risk-of-bias judgements "
                    "yet, so the forest plot has no risk-of-bias columns.",
                    note=True,
                )
            )
        report.add(
            Picture(
                partial(draw, PLOT_WIDTH),
                f"Forest plot of {title}{what}: {describe(result)}.",
                draw,
            )
        )
        if forest_rows is not None and result.k > forest_rows:
            _study_table(report, result, f"{tag}_studies")
        for warning in dict.fromkeys((*policy.warnings, *result.warnings)):
            report.add(Text(f"Note: {warning}", note=True))
        if analysis.follow_ups:
            report.add(Heading("Sensitivity, subgroup and small-study analyses", level=3))
        for index, follow in enumerate(analysis.follow_ups, start=1):
            _follow_up(report, follow, result, title, f"{tag}_{index}")
    report.add(Heading("Studies without usable data", level=3))
    if analysis.missing:
        frame = pd.DataFrame(
            {
                "Study": [m.study for m in analysis.missing],
                "Reason": [m.reason for m in analysis.missing],
            }
        )
        report.add(
            Table(
                frame, f"Studies of the review without usable data for {title}.", f"{tag}_missing"
            )
        )
    else:
        report.add(Text("None: every study of the review has usable data for this outcome."))
    for note in analysis.notes:
        report.add(Text(f"Note: {note}", note=True))


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _count(n: int, one: str, many: str) -> str:
    return f"{format_count(n)} {one if n == 1 else many}"


def _all_high(rob: RobAssessment | None, result: MetaResult) -> str | None:
    """A caution when every study of the result is at high overall risk of bias."""
    shown = _rob_of(rob, result)
    if shown is None or shown.overall is None or len(shown.studies) < result.k:
        return None
    if all(str(j).lower() in ("high", "serious", "critical") for j in shown.overall):
        return (
            "Every study of this outcome is at high overall risk of bias: the pooled result "
            "rests on no study at lower risk."
        )
    return None
