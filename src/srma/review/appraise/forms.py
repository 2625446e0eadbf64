"""The risk-of-bias form of a review: its rows (study, or study x outcome) and its columns.

The protocol's ``[risk_of_bias]`` names the tool and the level: ``study`` (one
assessment per study) or ``result`` (one per study x outcome, the outcomes
the protocol names).  A form has one row per assessment and, per domain of the
tool, in the tool's order:

* a column per signalling question (its id, ``1.1``), holding one of the
  question's answers; a question asked only after certain earlier answers
  ("2.4 If Y/PY to 2.3") is marked "only if ..." and may be left blank (or
  ``NA``) when it is not asked;
* ``D1 applicability`` where the tool judges applicability (QUADAS-2);
* ``D1 proposal`` where the tool has an algorithm: srma's proposal from the
  assessor's answers, computed at import (:func:`~srma.review.appraise.assessment.assess`),
  shown on the next form and never read from one;
* ``D1 judgement``: the assessor's judgement (blank takes the proposal);
* ``D1 support``: the support for the judgement (free text);
* ``D1 reason`` where the tool proposes: why a judgement differs from the
  proposal (an *override* needs one);

then the same for ``overall`` (judgement, support, and proposal and reason where
the tool has an overall rule).  Every column is also a stored item: the value
of field ``D1 judgement`` of study 7 (and outcome ``NIHSS``) is
``ItemKey(7, "NIHSS", "", "", "D1 judgement")`` in the ``rob`` assessment
(:mod:`srma.review.extract.assessment`).

RoB 2 and ROBINS-I need the effect of interest; the protocol does not name it
yet, so srma assesses the effect of assignment to intervention (the
"intention-to-treat" effect, :data:`DEFAULT_EFFECT`; RoB 2 guidance, section
1.3) and writes it into every form, which is refused once it differs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from srma.errors import InputError
from srma.review.appraise.assessment import APPLICABILITY, JUDGEMENT, OVERALL, REASON
from srma.review.appraise.catalogue import tool as find_tool
from srma.review.appraise.signalling import NA, Question
from srma.review.appraise.tools import Domain, Tool
from srma.review.extract.studies import Studies
from srma.review.protocol import Protocol

#: The assessment's name in the log (events ``rob``, ``rob_submit``, ``rob_resolve``).
ASSESSMENT = "rob"
#: The effect of interest of RoB 2 and ROBINS-I until the protocol names one.
DEFAULT_EFFECT = "assignment"
STUDY_LEVEL, RESULT_LEVEL = "study", "result"

#: Kinds of column.  Answers, applicability and judgements are compared between
#: assessors; support and reasons are each assessor's text; proposals are derived.  A
#: judgement's, reason's or applicability's column is named by the part an
#: :class:`~srma.review.appraise.assessment.AssessmentError` names.
ANSWER, PROPOSAL, SUPPORT = "answer", "proposal", "support"
COMPARED = (ANSWER, APPLICABILITY, JUDGEMENT)
TEXT = (SUPPORT, REASON)
#: The kinds read from a form (proposals are srma's).
INPUT = (ANSWER, APPLICABILITY, JUDGEMENT, SUPPORT, REASON)


def field_name(domain: str, kind: str) -> str:
    """The column (and stored field) of a domain's judgement, support, ...: ``D1 judgement``."""
    return f"{domain} {kind}"


@dataclass(frozen=True)
class RobField:
    """One column of the form: its name (the header, and the stored field), kind, domain
    (a domain id or ``overall``), allowed values (none for text), the signalling question
    it answers, and the header's note."""

    name: str
    kind: str
    domain: str
    choices: tuple[str, ...] = ()
    question: Question | None = None
    note: str = ""

    @property
    def conditional(self) -> bool:
        """Whether the column answers a question that may be left blank (or NA)."""
        return self.question is not None and may_be_na(self.question)


@dataclass(frozen=True)
class RobForm:
    """A review's risk-of-bias form: the tool, effect of interest and level, the scopes
    (``""`` at study level, else the outcomes), the columns, the studies of the review and
    the ids of those the form covers (in label order)."""

    tool: Tool
    effect: str | None
    level: str
    scopes: tuple[str, ...]
    fields: tuple[RobField, ...]
    studies: Studies
    ids: tuple[int, ...]

    @property
    def domains(self) -> tuple[Domain, ...]:
        return self.tool.domains_for(self.effect)

    @property
    def rows(self) -> tuple[tuple[int, str], ...]:
        """Every assessment the form holds: ``(study id, scope)``, study by study."""
        return tuple((study, scope) for study in self.ids for scope in self.scopes)

    @cached_property
    def _by_name(self) -> dict[str, RobField]:
        return {f.name: f for f in self.fields}

    @cached_property
    def _by_domain(self) -> dict[str, tuple[RobField, ...]]:
        found: dict[str, list[RobField]] = {}
        for f in self.fields:
            found.setdefault(f.domain, []).append(f)
        return {d: tuple(fields) for d, fields in found.items()}

    def field(self, name: str) -> RobField | None:
        return self._by_name.get(name)

    def of(self, domain: str) -> tuple[RobField, ...]:
        """The columns of one domain (or of ``overall``)."""
        return self._by_domain.get(domain, ())

    def scope(self, outcome: str | None) -> str:
        """The scope an outcome name gives (``""`` at study level; an outcome is required,
        or taken when the protocol has one, at result level)."""
        if self.level == STUDY_LEVEL:
            if outcome:
                raise InputError(
                    f"risk of bias is judged per study in this review: no outcome ({outcome!r})"
                )
            return ""
        if not outcome:
            if len(self.scopes) == 1:
                return self.scopes[0]
            raise InputError(
                "risk of bias is judged per result in this review: give --outcome "
                f"({', '.join(self.scopes)})"
            )
        for scope in self.scopes:
            if scope.lower() == outcome.strip().lower():
                return scope
        raise InputError(
            f"unknown outcome {outcome!r}; the protocol's outcomes are: {', '.join(self.scopes)}"
        )


def _lower(text: str) -> str:
    return text[:1].lower() + text[1:]


def may_be_na(question: Question) -> bool:
    """Whether a question may be left blank or answered NA: asked only after certain
    answers, "[If applicable:]", or optional."""
    return question.condition is not None or question.na_allowed or not question.required


def _answer(question: Question, domain: str) -> RobField:
    choices = (*question.answers, NA) if may_be_na(question) else question.answers
    asked = ""
    if question.condition_text:
        asked = f"\nOnly {_lower(question.condition_text)}: leave blank (or NA) otherwise."
    if question.na_allowed:
        asked += "\n[If applicable:] NA where it does not apply."
    if not question.required:
        asked += "\nOptional (offered to assist judgement)."
    note = f"{question.id} {question.text}\nAnswers: {'/'.join(choices)}{asked}"
    return RobField(question.id, ANSWER, domain, choices, question, note)


def domain_fields(tool: Tool, domain: Domain) -> tuple[RobField, ...]:
    """The columns of one domain, in the form's order."""
    judged = (
        "blank takes srma's proposal; another judgement is an override and needs a reason"
        if domain.propose is not None
        else f"{tool.title} leaves it to the assessor: required"
    )
    fields = [_answer(q, domain.id) for q in domain.questions]
    if domain.applicability is not None:
        fields.append(
            RobField(
                field_name(domain.id, APPLICABILITY),
                APPLICABILITY,
                domain.id,
                tool.applicability_levels,
                note=f"Applicability: {domain.applicability} "
                f"({'/'.join(tool.applicability_levels)})",
            )
        )
    if domain.propose is not None:
        fields.append(_proposal(domain.id, f"{domain.id} {domain.name}"))
    fields += [
        RobField(
            field_name(domain.id, JUDGEMENT),
            JUDGEMENT,
            domain.id,
            tool.judgements,
            note=f"{domain.id} {domain.name}: your judgement ({'/'.join(tool.judgements)}); "
            + judged,
        ),
        _support(domain.id),
    ]
    if domain.propose is not None:
        fields.append(_reason(domain.id))
    return tuple(fields)


def _proposal(domain: str, name: str) -> RobField:
    return RobField(
        field_name(domain, PROPOSAL),
        PROPOSAL,
        domain,
        note=f"{name}: srma's proposal from your answers at your last import (the tool's "
        "algorithm); written by srma, never read",
    )


def _support(domain: str) -> RobField:
    return RobField(
        field_name(domain, SUPPORT),
        SUPPORT,
        domain,
        note="support for judgement: what the report says (with page or table) and why",
    )


def _reason(domain: str) -> RobField:
    return RobField(
        field_name(domain, REASON),
        REASON,
        domain,
        note="why your judgement differs from srma's proposal (an override needs a reason; "
        "leave blank otherwise)",
    )


def overall_fields(tool: Tool) -> tuple[RobField, ...]:
    """The overall judgement's columns (none for a score, CAMARADES)."""
    if tool.score_level is not None:
        return ()
    ruled = tool.overall is not None
    judged = (
        "blank takes srma's proposal from the domain judgements; another is an override and "
        "needs a reason"
        if ruled
        else "optional"
    )
    fields = [_proposal(OVERALL, "Overall")] if ruled else []
    fields += [
        RobField(
            field_name(OVERALL, JUDGEMENT),
            JUDGEMENT,
            OVERALL,
            tool.judgements,
            note=f"overall risk of bias ({'/'.join(tool.judgements)}); {judged}",
        ),
        _support(OVERALL),
    ]
    if ruled:
        fields.append(_reason(OVERALL))
    return tuple(fields)


@dataclass(frozen=True)
class RobSettings:
    """What the protocol says about risk of bias: tool, effect of interest, level, scopes."""

    tool: Tool
    effect: str | None
    level: str
    scopes: tuple[str, ...]


def rob_settings(protocol: Protocol) -> RobSettings:
    """The protocol's ``[risk_of_bias]``; InputError naming the file when it has none."""
    found = protocol.risk_of_bias
    if found is None or not found.tool:
        raise InputError(
            "the protocol has no [risk_of_bias] table: name the tool and the level "
            '(tool = "rob2", level = "result"; docs/risk_of_bias.md)',
            file=protocol.path,
        )
    chosen = find_tool(found.tool)
    effect = DEFAULT_EFFECT if chosen.effects else None
    level = found.level or chosen.unit
    scopes = ("",) if level == STUDY_LEVEL else tuple(o.name for o in protocol.outcomes)
    return RobSettings(chosen, effect, level, scopes)


def rob_form(protocol: Protocol, studies: Studies, *, only: Sequence[int] | None = None) -> RobForm:
    """The risk-of-bias form of ``studies`` (or of those ``only`` names)."""
    settings = rob_settings(protocol)
    chosen = settings.tool
    fields = [f for d in chosen.domains_for(settings.effect) for f in domain_fields(chosen, d)]
    fields += overall_fields(chosen)
    ids = tuple(s.id for s in studies if only is None or s.id in only)
    return RobForm(
        chosen, settings.effect, settings.level, settings.scopes, tuple(fields), studies, ids
    )
