"""One row of a risk-of-bias form (one assessment), read and checked against the tool.

A form file is read into :class:`Cell` values by row, ``(study, scope)``, and
:func:`check_row` turns a row into the values stored for it, or into problems,
each naming the cell (sheet and cell, or line and column) and what was
expected:

* every cell on its own: an answer among the question's options (``NA`` where
  the question may be left out), a judgement among the tool's levels;
* each domain that has anything filled in, as the tool judges it
  (:func:`srma.review.appraise.assessment.judge_domain`): a question that is
  asked must be answered, one that is not asked must not be, a judgement is
  needed where the tool proposes none, and an override of the proposal needs
  a reason (and a reason is only for an override).  The first problem of a
  domain is reported (what follows in it depends on it); every domain is checked;
* the overall judgement once every domain is judged (before that, none may be
  given), by the tool's overall rule.

A domain left entirely blank is *not assessed yet*: nothing is stored for it
and its study cannot be submitted.  What is stored for a domain that passes:
every answer (``NA`` where a question is not asked), the judgement that stands
(the proposal where the cell was blank), the proposal, the support and the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from srma.errors import InputError
from srma.review.appraise.assessment import OVERALL, AssessmentError, assess, judge_domain
from srma.review.appraise.forms import (
    ANSWER,
    APPLICABILITY,
    INPUT,
    JUDGEMENT,
    PROPOSAL,
    REASON,
    SUPPORT,
    RobField,
    RobForm,
    field_name,
)
from srma.review.appraise.signalling import NA, AnswerError, canonical_answer
from srma.review.extract.values import Problem, clean_text, is_blank

#: A value as stored: canonical, and as written (None when the same or blank).
Value = tuple[str | None, str | None]


@dataclass(frozen=True)
class Cell:
    """One cell of a form as read: what it holds (None when blank), where it is (for
    messages: ``sheet 'risk of bias', cell F3``, ``line 5, column 'value'``), and the sheet
    and cell stored with its value."""

    raw: object
    where: str
    sheet: str = ""
    ref: str = ""


@dataclass(frozen=True)
class RobRead:
    """A form file as read: whose it is (None: the long CSV form names nobody), whether it is
    a consensus form, its cells by row ``(study, scope)`` and column, the studies it marks
    submitted or not (with where), the problems found while reading, the cells read."""

    file: str
    sha256: str
    reviewer: str | None
    consensus: bool
    rows: Mapping[tuple[int, str], Mapping[str, Cell]]
    submitted: tuple[tuple[int, str], ...] = ()
    not_submitted: tuple[tuple[int, str], ...] = ()
    problems: tuple[Problem, ...] = ()
    cells: int = 0


@dataclass(frozen=True)
class RowResult:
    """What a checked row stores (every field of the form: ``(value, written)``) and its
    problems."""

    values: Mapping[str, Value]
    problems: tuple[Problem, ...]


def text(raw: object) -> str | None:
    """A cell's text as stored (one line, no control characters), None when blank."""
    if is_blank(raw):
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return clean_text(raw)


def parse_cell(form: RobForm, field: RobField, raw: object) -> Value:
    """``(canonical, written)`` of one cell, or ``ValueError`` saying what was expected."""
    written = text(raw)
    if written is None:
        return None, None
    if field.kind == ANSWER:
        assert field.question is not None
        code = canonical_answer(written, field.question.answers)
        if code not in field.choices:
            raise ValueError(
                f"{written!r} is not an answer to {field.name}; expected "
                f"{'/'.join(field.choices)}" + (" (or blank)" if field.conditional else "")
            )
        return code, written
    if field.kind in (JUDGEMENT, APPLICABILITY):
        levels = (
            form.tool.applicability_levels if field.kind == APPLICABILITY else form.tool.judgements
        )
        try:
            level = form.tool.level(written, where=field.name, levels=levels)
        except InputError:
            raise ValueError(
                f"{written!r} is not a judgement of {form.tool.name}; expected one of "
                f"{', '.join(levels)}"
            ) from None
        return level, written
    return written, written


def _stored(value: Value) -> Value:
    """A value with ``written`` dropped where it says the same."""
    canonical, written = value
    return canonical, (written if written != canonical else None)


def check_row(form: RobForm, cells: Mapping[str, Cell], *, fallback: str) -> RowResult:
    """Check one assessment's cells (keyed by column; a column not given is blank) and
    return what it stores, or its problems.  ``fallback`` names the row for a problem
    of a column the file does not hold (the long form)."""
    tool = form.tool
    problems: list[Problem] = []

    def where(name: str) -> str:
        cell = cells.get(name)
        return cell.where if cell is not None else f"{fallback} ({name})"

    parsed: dict[str, Value] = {}
    bad: set[str] = set()  # domains with a cell that does not parse
    for field in form.fields:
        if field.kind not in INPUT:
            continue
        cell = cells.get(field.name)
        try:
            parsed[field.name] = parse_cell(form, field, cell.raw if cell is not None else None)
        except ValueError as error:
            problems.append(Problem(where(field.name), str(error)))
            bad.add(field.domain)
    values: dict[str, Value] = {f.name: (None, None) for f in form.fields}
    judged: dict[str, str] = {}
    answers: dict[str, str] = {}
    reasons: dict[str, str] = {}
    concerns: dict[str, str] = {}
    unassessed = []
    for domain in form.domains:
        own = [f for f in form.of(domain.id) if f.kind in INPUT]
        if all(parsed.get(f.name, (None, None))[0] is None for f in own):
            if domain.id not in bad:
                unassessed.append(domain.id)
            continue
        if domain.id in bad:
            continue
        given = {f.name: parsed[f.name][0] for f in own if f.kind == ANSWER}
        judgement = parsed[field_name(domain.id, JUDGEMENT)][0]
        reason = parsed.get(field_name(domain.id, REASON), (None, None))[0]
        concern = parsed.get(field_name(domain.id, APPLICABILITY), (None, None))[0]
        try:
            read, result = judge_domain(
                tool,
                domain,
                {k: v for k, v in given.items() if v is not None},
                judgement=judgement,
                reason=reason,
                applicability=concern,
            )
        except AnswerError as error:
            problems.append(Problem(where(error.question), error.reason))
            continue
        except AssessmentError as error:
            problems.append(Problem(where(_column(error)), error.reason))
            continue
        for question, code in read.items():
            values[question] = _stored((code, parsed[question][1]))
        for kind, value in (
            (JUDGEMENT, result.judgement),
            (PROPOSAL, result.proposal),
            (APPLICABILITY, result.applicability),
            (SUPPORT, parsed.get(field_name(domain.id, SUPPORT), (None, None))[0]),
            (REASON, result.reason),
        ):
            name = field_name(domain.id, kind)
            if form.field(name) is not None:
                values[name] = _stored((value, parsed.get(name, (None, None))[1]))
        answers.update({q: c for q, c in read.items() if c != NA})
        judged[domain.id] = result.judgement
        if result.reason is not None:
            reasons[domain.id] = result.reason
        if result.applicability is not None:
            concerns[domain.id] = result.applicability
    overall = [f for f in form.of(OVERALL) if f.kind in INPUT]
    given_overall = any(parsed.get(f.name, (None, None))[0] is not None for f in overall)
    if overall and not problems:
        if unassessed:
            if given_overall:
                problems.append(
                    Problem(
                        where(field_name(OVERALL, JUDGEMENT)),
                        f"the overall judgement comes once every domain is judged "
                        f"({', '.join(unassessed)} not assessed yet)",
                    )
                )
        else:
            _overall(form, parsed, answers, judged, reasons, concerns, values, problems, where)
    return RowResult(values, tuple(problems))


def _column(error: AssessmentError) -> str:
    """The column a judgement's, reason's or applicability's problem is about."""
    return field_name(error.domain, error.part)


def _overall(
    form: RobForm,
    parsed: Mapping[str, Value],
    answers: Mapping[str, str],
    judged: Mapping[str, str],
    reasons: Mapping[str, str],
    concerns: Mapping[str, str],
    values: dict[str, Value],
    problems: list[Problem],
    where: Callable[[str], str],
) -> None:
    """The overall judgement, by the tool's rule from the domain judgements that stand."""
    judgement = field_name(OVERALL, JUDGEMENT)
    reason = field_name(OVERALL, REASON)
    given = {**judged, OVERALL: parsed[judgement][0]}
    why = {**reasons}
    if parsed.get(reason, (None, None))[0] is not None:
        why[OVERALL] = parsed[reason][0]  # type: ignore[assignment]
    try:
        result = assess(
            form.tool,
            answers,
            effect=form.effect,
            judgements={k: v for k, v in given.items() if v is not None},
            reasons=why,
            applicability=concerns,
        )
    except AssessmentError as error:
        problems.append(Problem(where(_column(error)), error.reason))
        return
    for kind, value in (
        (JUDGEMENT, result.overall),
        (PROPOSAL, result.overall_proposal),
        (SUPPORT, parsed.get(field_name(OVERALL, SUPPORT), (None, None))[0]),
        (REASON, result.overall_reason),
    ):
        name = field_name(OVERALL, kind)
        if form.field(name) is not None:
            values[name] = _stored((value, parsed.get(name, (None, None))[1]))
