"""Summary of findings tables and evidence profiles in GRADEpro's layout: HTML, DOCX, CSV.

The summary of findings (Cochrane Handbook v6 chapter 14; GRADE handbook,
Schünemann et al. 2013, section 5.2) has one row per outcome: the outcome with
its follow-up, the anticipated absolute effects (risk with the comparator, risk
with the intervention, per 1,000, with the CI), the relative effect, the
participants and studies, the certainty with its symbols, and comments; every
domain rated down (or up) gets a footnote with its reason.  The evidence
profile lays out the five domains per outcome (GRADEpro's "not serious",
"serious", "very serious").  Everything shown is read from
:class:`~srma.analysis.grade.Certainty` objects and formatted by
:mod:`srma.formatting`; nothing is computed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader
from markupsafe import Markup

from srma import __version__
from srma.analysis.grade import Certainty
from srma.figures.text import safe_text
from srma.formatting import format_count, format_number
from srma.review.flow.export import to_csv
from srma.vocabulary import MEASURE_NAMES

#: How a row names its studies' design.
DESIGN_WORDS = {
    "randomised": "RCTs",
    "observational": "observational studies",
    "preclinical": "animal studies",
}
#: The words of the evidence profile's "other considerations" for each rating.
UPGRADE_WORDS = {
    "large_effect": {1: "strong association", 2: "very strong association"},
    "dose_response": {1: "dose-response gradient", 2: "dose-response gradient"},
}
NOT_APPLICABLE = "—"
LEVELS_NOTE = "⊕⊕⊕⊕ high, ⊕⊕⊕◯ moderate, ⊕⊕◯◯ low, ⊕◯◯◯ very low"
SOF_COLUMNS = (
    "Outcomes",
    "Risk with comparator",
    "Risk with intervention",
    "Relative effect (95% CI)",
    "No of participants (studies)",
    "Certainty of the evidence (GRADE)",
    "Comments",
)
#: The text width of a landscape A4 page with 15 mm margins, and the SoF's column widths:
#: the comments, which hold the absolute effect in words, get the most room.
PAGE_TEXT_MM = 267.0
SOF_WIDTHS_MM = (38.0, 28.0, 34.0, 30.0, 30.0, 32.0, 75.0)
CSP = (
    "default-src 'none'; script-src 'none'; object-src 'none'; style-src 'unsafe-inline'; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)


def footnote_letters(certainties: Sequence[Certainty]) -> dict[str, str]:
    """One letter per distinct footnote across the table, in order of appearance: a, b, ..."""
    letters: dict[str, str] = {}
    for certainty in certainties:
        for note in certainty.footnotes:
            if note not in letters:
                letters[note] = _letter(len(letters))
    return letters


def _letter(index: int) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz"
    text = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        text = alphabet[rest] + text
    return text


def _marks(
    certainty: Certainty,
    letters: dict[str, str],
    names: Sequence[str] | None = None,
) -> str:
    """The letters of a row's footnotes (of the named domains only, when given)."""
    notes = list(certainty.footnotes)
    if names is not None:
        wanted = {certainty.domain(name).explanation() for name in names}
        notes = [note for note in notes if note in wanted]
    return ",".join(letters[note] for note in notes if note in letters)


def _absolute_marks(certainty: Certainty, letters: dict[str, str]) -> str:
    """The letters of the footnotes about the comparator risk (those of no domain)."""
    ratings = (*certainty.domains, *certainty.upgrades)
    domain_notes = {rating.explanation() for rating in ratings if rating.rating != 0}
    return ",".join(letters[n] for n in certainty.footnotes if n not in domain_notes)


def _percent(certainty: Certainty) -> str:
    return f"{round(100 * certainty.level)}% CI"


def _outcome_cell(certainty: Certainty) -> str:
    if certainty.follow_up:
        return f"{certainty.outcome} (follow-up: {certainty.follow_up})"
    return certainty.outcome


def _per_1000(value: float) -> str:
    return f"{format_number(value, 0)} per 1,000"


def _relative(certainty: Certainty) -> str:
    effect = certainty.effect
    if effect.get("scale") != "ratio":
        return NOT_APPLICABLE
    return (
        f"{certainty.measure} {format_number(effect['estimate'])} "
        f"({format_number(effect['ci_lower'])} to {format_number(effect['ci_upper'])})"
    )


def _risks(certainty: Certainty) -> tuple[str, str]:
    absolute = certainty.absolute
    if absolute is not None:
        risk, lower, upper = absolute.risk_per_1000
        return _per_1000(absolute.assumed_per_1000), (
            f"{_per_1000(risk)} ({format_number(lower, 0)} to {format_number(upper, 0)})"
        )
    if certainty.is_binary:
        return "not estimable", "not estimable (no comparator risk)"
    if certainty.effect.get("scale") == "ratio":
        return NOT_APPLICABLE, NOT_APPLICABLE
    return NOT_APPLICABLE, certainty.interpretation.split(":")[0]


def _participants(certainty: Certainty) -> str:
    studies = DESIGN_WORDS.get(certainty.design, "studies")
    if certainty.k == 1:
        studies = {
            "RCTs": "RCT",
            "observational studies": "observational study",
            "animal studies": "animal study",
        }[studies]
    people = (
        "not reported" if certainty.participants is None else format_count(certainty.participants)
    )
    return f"{people} ({format_count(certainty.k)} {studies})"


def _certainty_cell(
    certainty: Certainty,
    letters: dict[str, str],
    *,
    symbols: bool = True,
) -> str:
    names = [r.domain for r in (*certainty.domains, *certainty.upgrades) if r.rating != 0]
    marks = _marks(certainty, letters, names)
    text = certainty.certainty.capitalize()
    if symbols:
        text = f"{certainty.symbols} {text}"
    return f"{text} {marks}".strip()


def _comment(certainty: Certainty) -> str:
    """The plain-language statement; for an SMD also Cohen's reading of its size."""
    if certainty.measure == "SMD" and ": " in certainty.interpretation:
        size = certainty.interpretation.split(": ", 1)[1]
        return f"{certainty.statement} {size[0].upper()}{size[1:]}."
    return certainty.statement


def sof_frame(certainties: Sequence[Certainty], *, footnotes: bool = True) -> pd.DataFrame:
    """The summary of findings, one row per outcome (the CSV rows).

    With ``footnotes`` a last column gives each row's footnotes as ``a. text``.
    """
    letters = footnote_letters(certainties)
    rows = []
    for certainty in certainties:
        comparator, intervention = _risks(certainty)
        marks = _absolute_marks(certainty, letters)
        comparator = f"{comparator} {marks}".strip()
        row = {
            "Outcomes": _outcome_cell(certainty),
            "Risk with comparator": comparator,
            "Risk with intervention": intervention,
            "Relative effect (95% CI)": _relative(certainty),
            "No of participants (studies)": _participants(certainty),
            "Certainty of the evidence (GRADE)": _certainty_cell(certainty, letters),
            "Comments": _comment(certainty),
        }
        if footnotes:
            row["Footnotes"] = " ".join(f"{letters[note]}. {note}" for note in certainty.footnotes)
        rows.append(row)
    columns = [*SOF_COLUMNS, "Footnotes"] if footnotes else list(SOF_COLUMNS)
    return pd.DataFrame(rows, columns=columns)


def _other_considerations(certainty: Certainty, letters: dict[str, str]) -> str:
    words = []
    bias = certainty.domain("publication_bias")
    if bias.rating < 0:
        marks = _marks(certainty, letters, ["publication_bias"])
        words.append(f"publication bias strongly suspected {marks}".strip())
    for rating in certainty.upgrades:
        if rating.rating > 0:
            marks = _marks(certainty, letters, [rating.domain])
            words.append(f"{UPGRADE_WORDS[rating.domain][rating.rating]} {marks}".strip())
    return "; ".join(words) if words else "none"


def evidence_profile_frame(certainties: Sequence[Certainty]) -> pd.DataFrame:
    """GRADEpro's evidence profile: one row per outcome, one column per domain."""
    letters = footnote_letters(certainties)
    rows = []
    for certainty in certainties:
        row: dict[str, Any] = {
            "Outcome": _outcome_cell(certainty),
            "No of studies": format_count(certainty.k),
            "Study design": DESIGN_WORDS.get(certainty.design, certainty.design),
        }
        for name in ("risk_of_bias", "inconsistency", "indirectness", "imprecision"):
            rating = certainty.domain(name)
            row[rating.name] = f"{rating.concern} {_marks(certainty, letters, [name])}".strip()
        row["Other considerations"] = _other_considerations(certainty, letters)
        row["No of participants"] = (
            "not reported"
            if certainty.participants is None
            else format_count(certainty.participants)
        )
        row["Relative effect (95% CI)"] = _relative(certainty)
        row["Absolute effect (95% CI)"] = certainty.interpretation
        row["Certainty"] = _certainty_cell(certainty, letters)
        row["Importance"] = certainty.importance.upper() if certainty.importance else ""
        rows.append(row)
    return pd.DataFrame(rows)


def _measure_note(certainties: Sequence[Certainty]) -> str:
    names = sorted({c.measure for c in certainties if c.measure})
    levels = sorted({_percent(c) for c in certainties})
    named = ", ".join(f"{m}: {MEASURE_NAMES.get(m, m).lower()}" for m in names)
    return f"{', '.join(levels)}: confidence interval; {named}." if named else ""


def _finalize(value: object) -> object:
    if isinstance(value, str) and not isinstance(value, Markup):
        return safe_text(value)
    return value


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("srma.report", "templates"), autoescape=True, finalize=_finalize
    )


def _frame_rows(frame: pd.DataFrame) -> dict[str, Any]:
    return {"columns": list(frame.columns), "rows": frame.astype(str).values.tolist()}


def sof_html(
    certainties: Sequence[Certainty],
    *,
    title: str,
    population: str = "",
    setting: str = "",
    intervention: str = "",
    comparison: str = "",
    profile: bool = True,
    heading_level: int = 2,
) -> str:
    """The summary of findings (and the evidence profile) as an HTML ``<section>`` fragment
    (its title a heading of ``heading_level``, its two tables' one level below).

    Autoescaped Jinja2: text from data prints as text.  Embed it in a report or
    write it alone with :func:`write_sof_html`.
    """
    letters = footnote_letters(certainties)
    context = {
        "title": title,
        "population": population,
        "setting": setting,
        "intervention": intervention,
        "comparison": comparison,
        "sof": _frame_rows(sof_frame(certainties, footnotes=False)),
        "profile": _frame_rows(evidence_profile_frame(certainties)) if profile else None,
        "footnotes": [(letter, note) for note, letter in letters.items()],
        "measure_note": _measure_note(certainties),
        "levels": LEVELS_NOTE,
        "level": heading_level,
    }
    return _environment().get_template("sof.html.j2").render(**context)


def write_sof_html(
    certainties: Sequence[Certainty], path: str | Path, *, title: str, **options: Any
) -> Path:
    """Write a standalone HTML page holding :func:`sof_html` (no script, CSP as the report's)."""
    path = Path(path)
    section = Markup(sof_html(certainties, title=title, **options))  # rendered autoescaped
    page = (
        _environment()
        .get_template("sof_page.html.j2")
        .render(title=title, csp=CSP, section=section, version=__version__)
    )
    path.write_text(page, encoding="utf-8")
    return path


def write_sof_csv(
    certainties: Sequence[Certainty], path: str | Path, *, profile: bool = False
) -> Path:
    """Write the summary of findings (or, with ``profile``, the evidence profile) as CSV."""
    path = Path(path)
    frame = evidence_profile_frame(certainties) if profile else sof_frame(certainties)
    to_csv(frame, path)
    return path


def add_sof_docx(
    document: Any,
    certainties: Sequence[Certainty],
    *,
    title: str,
    profile: bool = True,
    heading_level: int = 1,
    text_width_mm: float = PAGE_TEXT_MM,
    **options: str,
) -> None:
    """Add the summary of findings (and the evidence profile) to a python-docx ``Document``
    whose current section is landscape, ``text_width_mm`` wide between its margins."""
    from docx.shared import Mm, Pt

    scale = text_width_mm / PAGE_TEXT_MM

    document.add_heading(safe_text(title), level=heading_level)
    for label in ("population", "setting", "intervention", "comparison"):
        if options.get(label):
            document.add_paragraph(safe_text(f"{label.capitalize()}: {options[label]}"))
    letters = footnote_letters(certainties)

    def table(frame: pd.DataFrame, caption: str, widths_mm: Sequence[float]) -> None:
        document.add_paragraph(safe_text(caption), style="Caption")
        grid = document.add_table(rows=1, cols=len(frame.columns), style="Table Grid")
        grid.autofit = False
        widths = [Mm(w * scale) for w in widths_mm]
        for cell, name, width in zip(grid.rows[0].cells, frame.columns, widths, strict=True):
            run = cell.paragraphs[0].add_run(safe_text(name))
            run.bold, run.font.size = True, Pt(8)
            cell.width = width
        for values in frame.astype(str).itertuples(index=False):
            for cell, value, width in zip(grid.add_row().cells, values, widths, strict=True):
                cell.paragraphs[0].add_run(safe_text(value)).font.size = Pt(8)
                cell.width = width

    table(sof_frame(certainties, footnotes=False), "Summary of findings", SOF_WIDTHS_MM)
    document.add_paragraph(
        safe_text(f"GRADE certainty: {LEVELS_NOTE}. {_measure_note(certainties)}")
    )
    for note, letter in letters.items():
        document.add_paragraph(safe_text(f"{letter}. {note}"))
    if profile:
        frame = evidence_profile_frame(certainties)
        table(frame, "Evidence profile", [PAGE_TEXT_MM / len(frame.columns)] * len(frame.columns))


def write_sof_docx(
    certainties: Sequence[Certainty],
    path: str | Path,
    *,
    title: str,
    profile: bool = True,
    **options: str,
) -> Path:
    """Write the summary of findings (and the evidence profile) as a landscape A4 Word file."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm, Pt

    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(15))
    document.styles["Normal"].font.size = Pt(9)
    add_sof_docx(document, certainties, title=title, profile=profile, **options)
    document.add_paragraph(f"Generated by srma {__version__} from its GRADE result objects.")
    path = Path(path)
    document.save(str(path))
    return path
