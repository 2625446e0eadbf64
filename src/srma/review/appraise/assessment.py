"""One assessment: answers checked, the tool's proposals beside the assessor's judgements.

:func:`assess` takes one study's (or result's) answers to a tool's signalling
questions and the assessor's judgements, checks them against the tool, runs
the tool's algorithms and returns an :class:`Assessment`: every answer (``NA``
where a question is not asked), each domain's proposed judgement and the
judgement that stands, the overall proposal and judgement, and every
override with its reason.  The rules:

* a domain (or the overall) whose algorithm proposes a judgement takes it
  unless the assessor gives another; a judgement that differs from the
  proposal is an override and needs a reason (RoB 2's guidance lets the
  assessor judge the overall High when several domains have some concerns:
  that is such an override);
* where the tool proposes nothing (RoB 1, ROBINS-I and SYRCLE domains,
  CAMARADES items, a QUADAS-2 domain with a no or unclear answer), the
  assessor's judgement is required;
* a reason is recorded only for an override;
* the overall proposal is computed from the domain judgements that stand.

Every problem raises :class:`InputError` naming the tool, the domain or the
question, and what was expected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

from srma.errors import InputError
from srma.review.appraise.catalogue import tool as find_tool
from srma.review.appraise.signalling import read_answers
from srma.review.appraise.tools import Domain, Tool

OVERALL = "overall"
#: The parts of a domain (or of the overall) that an :class:`AssessmentError` names.
JUDGEMENT, REASON, APPLICABILITY = "judgement", "reason", "applicability"


class AssessmentError(InputError):
    """A problem with one part of an assessment: ``domain`` is a domain id or ``"overall"``,
    ``part`` is :data:`JUDGEMENT`, :data:`REASON` or :data:`APPLICABILITY` (a form names
    the cell it came from; a signalling question's problem is a
    :class:`~srma.review.appraise.signalling.AnswerError`)."""

    def __init__(self, message: str, *, domain: str, part: str) -> None:
        super().__init__(message)
        self.domain = domain
        self.part = part


@dataclass(frozen=True)
class Override:
    """A judgement that differs from the tool's proposal, and why."""

    domain: str  # a domain id, or "overall"
    proposal: str
    judgement: str
    reason: str


@dataclass(frozen=True)
class DomainResult:
    """One domain: the tool's proposal (None where it proposes none) and the judgement."""

    id: str
    name: str
    proposal: str | None
    judgement: str
    reason: str | None = None
    applicability: str | None = None

    @property
    def overridden(self) -> bool:
        return self.proposal is not None and self.judgement != self.proposal


@dataclass(frozen=True)
class Assessment:
    """A checked assessment of one study (or one result) with one tool."""

    tool: str
    unit: str
    effect: str | None
    answers: tuple[tuple[str, str], ...]  # (question, code) in the tool's order
    domains: tuple[DomainResult, ...]
    overall_proposal: str | None = None
    overall: str | None = None
    overall_reason: str | None = None
    score: int | None = None
    score_max: int | None = None

    def answer(self, question: str) -> str:
        """The code recorded for ``question`` (``NA`` where it was not asked)."""
        for name, code in self.answers:
            if name == question:
                return code
        raise KeyError(question)

    def judgement(self, domain: str) -> str:
        """The judgement that stands for a domain id, or for ``"overall"``."""
        if domain == OVERALL and self.overall is not None:
            return self.overall
        for result in self.domains:
            if result.id == domain:
                return result.judgement
        raise KeyError(domain)

    @property
    def overrides(self) -> tuple[Override, ...]:
        found = [
            Override(d.id, d.proposal, d.judgement, d.reason or "")
            for d in self.domains
            if d.overridden and d.proposal is not None
        ]
        if self.overall_proposal is not None and self.overall not in (None, self.overall_proposal):
            found.append(
                Override(
                    OVERALL, self.overall_proposal, str(self.overall), self.overall_reason or ""
                )
            )
        return tuple(found)

    def to_dict(self) -> dict[str, object]:
        result = asdict(self)
        result["answers"] = dict(self.answers)
        result["overrides"] = [asdict(o) for o in self.overrides]
        return result


def _keyed(
    values: Mapping[str, object] | None, domains: tuple[Domain, ...], chosen: Tool, what: str
) -> dict[str, object]:
    """``values`` keyed by domain id, reading a domain's name (any case) or "overall" too."""
    names = {d.id.lower(): d.id for d in domains} | {d.name.lower(): d.id for d in domains}
    names[OVERALL] = OVERALL
    keyed: dict[str, object] = {}
    for key, value in (values or {}).items():
        found = names.get(str(key).strip().lower())
        if found is None:
            raise InputError(
                f"{chosen.name}: {what} for unknown domain {key!r}; expected "
                f"{', '.join(d.id for d in domains)} or overall"
            )
        keyed[found] = value
    return keyed


def _reason(value: object) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _decide(
    proposal: str | None,
    given: str | None,
    reason: str | None,
    *,
    domain: str,
    where: str,
    why_none: str,
    levels: Iterable[str],
) -> str:
    """The judgement that stands, after checking an override has its reason."""
    if given is None:
        if proposal is None:
            raise AssessmentError(
                f"{where}: no judgement given, and {why_none}; expected one of {', '.join(levels)}",
                domain=domain,
                part=JUDGEMENT,
            )
        given = proposal
    if proposal is not None and given != proposal and reason is None:
        raise AssessmentError(
            f"{where}: the judgement {given!r} overrides the proposed {proposal!r}; an override "
            "needs a reason",
            domain=domain,
            part=REASON,
        )
    if reason is not None and (proposal is None or given == proposal):
        raise AssessmentError(
            f"{where}: a reason is recorded only for an override, and {given!r} "
            + ("is the tool's proposal" if proposal is not None else "is not proposed by the tool"),
            domain=domain,
            part=REASON,
        )
    return given


def _why_none(chosen: Tool, domain: Domain) -> str:
    if domain.propose is not None:
        return "the tool proposes no judgement for these answers (potential for bias)"
    return f"{chosen.title} leaves this judgement to the assessor"


def assess(
    tool: str | Tool,
    answers: Mapping[str, object] | None = None,
    *,
    effect: str | None = None,
    judgements: Mapping[str, object] | None = None,
    reasons: Mapping[str, object] | None = None,
    applicability: Mapping[str, object] | None = None,
    key_domains: Iterable[str] | None = None,
) -> Assessment:
    """Check one assessment with ``tool`` and return it with the tool's proposals.

    ``answers`` maps question numbers ("2.3") to answers (``Y``, ``PY``,
    ``PN``, ``N``, ``NI``, ``NA`` or their words; yes/no/unclear for QUADAS-2
    and SYRCLE); a question not asked may be left out or answered ``NA``.
    ``effect`` is the protocol's effect of interest for RoB 2 and ROBINS-I
    (``"assignment"`` or ``"adhering"``).  ``judgements`` and ``reasons`` map
    domain ids ("D1"), domain names or ``"overall"`` to the assessor's
    judgement and to the reason for an override.  ``applicability`` holds
    QUADAS-2's concerns about applicability for its first three domains.
    ``key_domains`` are the domains the protocol names as key (ROBINS-I's
    "no information" rule); every domain by default.
    """
    chosen = find_tool(tool)
    domains = chosen.domains_for(effect)
    given = _keyed(judgements, domains, chosen, "a judgement")
    why = _keyed(reasons, domains, chosen, "a reason")
    concerns = _keyed(applicability, domains, chosen, "applicability")
    questions = {q.id: d for d in domains for q in d.questions}
    for key in answers or {}:
        if str(key) not in questions:
            raise InputError(
                f"{chosen.name}: unknown signalling question {key!r}; expected one of "
                f"{', '.join(questions) or 'none (the tool has no signalling questions)'}"
            )
    read: dict[str, str] = {}
    results = []
    for domain in domains:
        own = {str(k): v for k, v in (answers or {}).items() if questions[str(k)] is domain}
        domain_answers, result = judge_domain(
            chosen,
            domain,
            own,
            judgement=given.get(domain.id),
            reason=why.get(domain.id),
            applicability=concerns.get(domain.id),
        )
        read.update(domain_answers)
        results.append(result)
    extra = set(concerns) - {d.id for d in domains if d.applicability}
    if extra:
        raise InputError(
            f"{chosen.name}: applicability is judged only for "
            f"{', '.join(d.id for d in domains if d.applicability) or 'no domain of this tool'}"
            f" (got {', '.join(sorted(extra))})"
        )
    overall_proposal, overall, overall_reason = _overall(
        chosen, domains, results, given.get(OVERALL), why.get(OVERALL), key_domains
    )
    score = score_max = None
    if chosen.score_level is not None:
        score = sum(r.judgement == chosen.score_level for r in results)
        score_max = len(results)
    return Assessment(
        tool=chosen.name,
        unit=chosen.unit,
        effect=effect,
        answers=tuple(read.items()),
        domains=tuple(results),
        overall_proposal=overall_proposal,
        overall=overall,
        overall_reason=overall_reason,
        score=score,
        score_max=score_max,
    )


def judge_domain(
    tool: str | Tool,
    domain: Domain,
    answers: Mapping[str, object],
    *,
    judgement: object = None,
    reason: object = None,
    applicability: object = None,
) -> tuple[dict[str, str], DomainResult]:
    """One domain of an assessment, as :func:`assess` judges it: the domain's answers checked
    (``NA`` where a question is not asked), the tool's proposal, the judgement that stands
    (the proposal where none is given) and any override's reason.

    Raises :class:`~srma.review.appraise.signalling.AnswerError` for an answer's problem and
    :class:`AssessmentError` for the judgement's, the reason's or the applicability's.
    """
    chosen = find_tool(tool)
    where = f"{chosen.name} {domain.id} ({domain.name})"
    read = read_answers(domain.questions, answers, where=where)
    proposal = domain.propose(read) if domain.propose is not None else None
    judged = None
    if judgement is not None:
        try:
            judged = chosen.level(judgement, where=where, levels=chosen.judgements)
        except InputError as error:
            raise AssessmentError(error.reason, domain=domain.id, part=JUDGEMENT) from None
    why = _reason(reason)
    standing = _decide(
        proposal,
        judged,
        why,
        domain=domain.id,
        where=where,
        why_none=_why_none(chosen, domain),
        levels=chosen.judgements,
    )
    concern = _applicability(chosen, domain, applicability, where)
    return read, DomainResult(domain.id, domain.name, proposal, standing, why, concern)


def propose(
    tool: str | Tool, domain: str, answers: Mapping[str, object], *, effect: str | None = None
) -> str | None:
    """The judgement one domain's algorithm proposes from ``answers`` (None: none proposed).

    The answers are checked as :func:`assess` checks them (unknown question,
    answer outside the allowed set, a question asked but not answered, or
    answered though not asked: :class:`InputError` naming the question).
    """
    chosen = find_tool(tool)
    if effect is not None:
        chosen.domains_for(effect)  # checks the effect
    (domain_id,) = _keyed({domain: None}, chosen.domains, chosen, "a proposal")
    if domain_id == OVERALL:
        raise InputError(f"{chosen.name}: the overall judgement comes from the domains")
    found = [d for d in chosen.domains if d.id == domain_id and d.effect in (None, effect)]
    if not found:
        raise InputError(
            f"{chosen.name} {domain_id} depends on the effect of interest; expected one of "
            f"{', '.join(chosen.effects)}"
        )
    target = found[0]
    where = f"{chosen.name} {target.id} ({target.name})"
    read = read_answers(target.questions, answers, where=where)
    return target.propose(read) if target.propose is not None else None


def _applicability(chosen: Tool, domain: Domain, value: object, where: str) -> str | None:
    if domain.applicability is None:
        return None
    if value is None:
        raise AssessmentError(
            f"{where}: concerns about applicability are not judged; expected one of "
            f"{', '.join(chosen.applicability_levels)}",
            domain=domain.id,
            part=APPLICABILITY,
        )
    try:
        return chosen.level(
            value, where=f"{where}, applicability", levels=chosen.applicability_levels
        )
    except InputError as error:
        raise AssessmentError(error.reason, domain=domain.id, part=APPLICABILITY) from None


def _overall(
    chosen: Tool,
    domains: tuple[Domain, ...],
    results: list[DomainResult],
    given: object,
    reason: object,
    key_domains: Iterable[str] | None,
) -> tuple[str | None, str | None, str | None]:
    where = f"{chosen.name} overall"
    if chosen.score_level is not None and given is not None:
        raise AssessmentError(
            f"{where}: {chosen.title} gives a score, not an overall judgement",
            domain=OVERALL,
            part=JUDGEMENT,
        )
    ids = [d.id for d in domains]
    keys = frozenset(ids if key_domains is None else (str(k) for k in key_domains))
    unknown = sorted(keys - set(ids))
    if unknown:
        raise InputError(f"{where}: unknown key domain {unknown[0]!r}; expected {', '.join(ids)}")
    try:
        judged = chosen.level(given, where=where) if given is not None else None
    except InputError as error:
        raise AssessmentError(error.reason, domain=OVERALL, part=JUDGEMENT) from None
    why = _reason(reason)
    if chosen.overall is None:
        if why is not None:
            raise AssessmentError(
                f"{where}: a reason is recorded only for an override", domain=OVERALL, part=REASON
            )
        return None, judged, None
    proposal = chosen.overall({r.id: r.judgement for r in results}, keys)
    overall = _decide(
        proposal,
        judged,
        why,
        domain=OVERALL,
        where=where,
        why_none=(
            "the tool's rule gives no overall judgement when information is missing only in "
            "domains that are not key"
        ),
        levels=chosen.judgements,
    )
    return proposal, overall, why
