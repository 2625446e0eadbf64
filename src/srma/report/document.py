"""The review report: one self-contained HTML file and a DOCX version.

The content is assembled once (:func:`build_report`) from result objects and
figures, then written as HTML (Jinja2, figures inlined as SVG) or DOCX
(python-docx, figures as PNG).  Numbers are formatted here but never
computed: each comes from a field of a result object.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from matplotlib.figure import Figure

from srma import __version__
from srma.analysis.bias import SmallStudyResult, funnel_contours
from srma.analysis.results import MetaResult, format_p
from srma.figures.forest import forest_plot
from srma.figures.funnel import funnel_plot
from srma.figures.prisma import prisma_flow
from srma.figures.rob import summary_plot, traffic_light
from srma.report.methods import methods_paragraph
from srma.review.appraise.risk_of_bias import RobAssessment
from srma.review.flow.prisma import PrismaCounts


@dataclass(frozen=True)
class Outcome:
    """One analysed outcome of the report."""

    title: str
    result: MetaResult
    arms: pd.DataFrame | None = None
    label: str = "study"
    favours: tuple[str, str] | None = None
    small_study: SmallStudyResult | None = None


@dataclass
class ReportContent:
    """Everything a report shows, ready to write in any format."""

    title: str
    outcomes: list[Outcome]
    rob: RobAssessment | None = None
    prisma: PrismaCounts | None = None
    characteristics: pd.DataFrame | None = None
    figures: dict[str, Figure] = field(default_factory=dict)


def build_report(
    title: str,
    outcomes: list[Outcome],
    *,
    rob: RobAssessment | None = None,
    prisma: PrismaCounts | None = None,
    characteristics: pd.DataFrame | None = None,
) -> ReportContent:
    """Draw every figure the report needs."""
    content = ReportContent(title, outcomes, rob, prisma, characteristics)
    if prisma is not None:
        content.figures["prisma"] = prisma_flow(prisma)
    if rob is not None:
        content.figures["rob_traffic_light"] = traffic_light(rob)
        content.figures["rob_summary"] = summary_plot(rob)
    for index, outcome in enumerate(outcomes):
        content.figures[f"forest_{index}"] = forest_plot(
            outcome.result, arms=outcome.arms, label=outcome.label, favours=outcome.favours
        )
        if outcome.small_study is not None:
            content.figures[f"funnel_{index}"] = funnel_plot(
                outcome.result,
                contours=funnel_contours(outcome.result),
                trimfill=outcome.small_study.trimfill,
                egger=outcome.small_study.egger,
            )
    return content


def result_sentence(result: MetaResult) -> str:
    """The pooled result in one sentence, on the reported scale."""
    shown = result.back_transformed() or {
        name: getattr(result, name)
        for name in ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper")
    }
    percent = round(100 * result.level)
    text = (
        f"Pooled {result.measure or 'effect'} {shown['estimate']:.2f} ({percent}% CI "
        f"{shown['ci_lower']:.2f} to {shown['ci_upper']:.2f}; {format_p(result.pvalue)}; "
        f"k = {result.k})."
    )
    if result.i2 is not None:
        text += (
            f" Heterogeneity: I² = {result.i2:.1f}%, Q = {result.q:.2f} "
            f"({format_p(result.q_pvalue)})."
        )
    if shown["pi_lower"] is not None:
        text += (
            f" {percent}% prediction interval {shown['pi_lower']:.2f} to {shown['pi_upper']:.2f}."
        )
    return text


def bias_sentence(tests: SmallStudyResult) -> str:
    """The small-study-effect tests in one sentence."""
    parts = []
    if tests.egger is not None:
        parts.append(
            f"Egger's test: bias {tests.egger.coefficient:.2f}, {format_p(tests.egger.pvalue)}"
        )
    if tests.begg is not None:
        parts.append(
            f"Begg's test: Kendall's tau {tests.begg.tau:.2f}, {format_p(tests.begg.pvalue)}"
        )
    if tests.trimfill is not None:
        parts.append(
            f"trim-and-fill imputed {tests.trimfill.k0} studies on the {tests.trimfill.side}"
        )
    text = "; ".join(parts) + "." if parts else "Not assessed."
    if tests.low_power:
        text += (
            " With fewer than 10 studies these tests have little power "
            "(Cochrane Handbook 13.3.5.4)."
        )
    return text


def results_table(result: MetaResult) -> pd.DataFrame:
    """One row per study and one for the total: estimate, CI and weight on the reported scale."""
    frame = result.to_frame()
    shown = result.back_transformed()
    transform = math.exp if shown else float
    rows = [
        {
            "Study": r.label,
            "Estimate": transform(r.yi),
            "CI lower": transform(r.ci_lower),
            "CI upper": transform(r.ci_upper),
            "Weight (%)": r.weight,
        }
        for r in frame.itertuples()
    ]
    total = shown or {n: getattr(result, n) for n in ("estimate", "ci_lower", "ci_upper")}
    rows.append(
        {
            "Study": "Total",
            "Estimate": total["estimate"],
            "CI lower": total["ci_lower"],
            "CI upper": total["ci_upper"],
            "Weight (%)": 100.0,
        }
    )
    return pd.DataFrame(rows)


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _html_table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, float_format=lambda x: f"{x:.2f}", border=0, na_rep="NR")


def write_html(content: ReportContent, path: str | Path) -> Path:
    """Write the report as one self-contained HTML file (figures inlined as SVG)."""
    environment = Environment(
        loader=PackageLoader("srma.report", "templates"), autoescape=select_autoescape(["html"])
    )
    references: list[str] = []
    sections = []
    for index, outcome in enumerate(content.outcomes):
        methods, refs = methods_paragraph(outcome.result)
        references.extend(refs)
        sections.append(
            {
                "title": outcome.title,
                "methods": methods,
                "sentence": result_sentence(outcome.result),
                "results_table": _html_table(results_table(outcome.result)),
                "forest": _svg(content.figures[f"forest_{index}"]),
                "data_table": None if outcome.arms is None else _html_table(outcome.arms),
                "bias": None if outcome.small_study is None else bias_sentence(outcome.small_study),
                "funnel": _svg(content.figures[f"funnel_{index}"]) if outcome.small_study else None,
                "warnings": list(outcome.result.warnings),
            }
        )
    context: dict[str, Any] = {
        "title": content.title,
        "version": __version__,
        "sections": sections,
        "references": list(dict.fromkeys(references)),
        "characteristics": None
        if content.characteristics is None
        else _html_table(content.characteristics),
        "prisma": None
        if content.prisma is None
        else {"svg": _svg(content.figures["prisma"]), "problems": content.prisma.inconsistencies()},
        "rob": None
        if content.rob is None
        else {
            "tool": content.rob.tool.title,
            "traffic_light": _svg(content.figures["rob_traffic_light"]),
            "summary": _svg(content.figures["rob_summary"]),
        },
    }
    path = Path(path)
    path.write_text(environment.get_template("report.html.j2").render(**context), encoding="utf-8")
    return path


def write_docx(content: ReportContent, path: str | Path) -> Path:
    """Write the report as a Word document (python-docx), figures as PNG."""
    from docx import Document
    from docx.shared import Inches

    document = Document()
    document.add_heading(content.title, level=0)
    document.add_paragraph(
        f"Generated by srma {__version__}. Every number is read from srma's result objects."
    )

    def picture(name: str, caption: str) -> None:
        buffer = io.BytesIO()
        content.figures[name].savefig(buffer, format="png", dpi=200)
        buffer.seek(0)
        document.add_picture(buffer, width=Inches(6.3))
        document.add_paragraph(caption, style="Caption")

    def table(frame: pd.DataFrame) -> None:
        grid = document.add_table(rows=1, cols=len(frame.columns), style="Table Grid")
        for cell, name in zip(grid.rows[0].cells, frame.columns, strict=True):
            cell.text = str(name)
        for values in frame.itertuples(index=False):
            cells = grid.add_row().cells
            for cell, value in zip(cells, values, strict=True):
                cell.text = f"{value:.2f}" if isinstance(value, float) else str(value)

    references: list[str] = []
    if content.prisma is not None:
        document.add_heading("Study selection", level=1)
        picture("prisma", "PRISMA 2020 flow diagram.")
    if content.characteristics is not None:
        document.add_heading("Characteristics of included studies", level=1)
        table(content.characteristics)
    if content.rob is not None:
        document.add_heading("Risk of bias", level=1)
        picture("rob_traffic_light", f"Risk of bias of each study ({content.rob.tool.title}).")
        picture("rob_summary", "Risk of bias across studies.")
    for index, outcome in enumerate(content.outcomes):
        document.add_heading(outcome.title, level=1)
        methods, refs = methods_paragraph(outcome.result)
        references.extend(refs)
        document.add_heading("Methods", level=2)
        document.add_paragraph(methods)
        document.add_heading("Results", level=2)
        document.add_paragraph(result_sentence(outcome.result))
        table(results_table(outcome.result))
        picture(f"forest_{index}", f"Forest plot: {outcome.title}.")
        if outcome.small_study is not None:
            document.add_heading("Small-study effects", level=2)
            document.add_paragraph(bias_sentence(outcome.small_study))
            picture(f"funnel_{index}", f"Funnel plot: {outcome.title}.")
        for warning in outcome.result.warnings:
            document.add_paragraph(f"Note: {warning}")
    document.add_heading("References", level=1)
    for number, reference in enumerate(dict.fromkeys(references), start=1):
        document.add_paragraph(f"{number}. {reference}")
    path = Path(path)
    document.save(str(path))
    return path
