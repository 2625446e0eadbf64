"""A risk-of-bias or quality tool as data: its domains, questions, judgement levels and rules.

Each tool lives in its own module (``rob1``, ``rob2``, ``robins_i``,
``quadas2``, ``syrcle``, ``camarades``) as a :class:`Tool`; the catalogue in
:mod:`srma.review.appraise.catalogue` finds one by name.  The figures'
robvis-style tables (:mod:`srma.review.appraise.risk_of_bias`) keep their own
smaller description of the same tools.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from srma.errors import InputError
from srma.review.appraise.signalling import Question

#: A domain's algorithm: answers (question id -> code, ``NA`` where not asked) to a
#: proposed judgement, or None where the tool leaves the judgement to the assessor.
DomainRule = Callable[[Mapping[str, str]], str | None]
#: A tool's overall rule: domain judgements (domain id -> level) and the domains the
#: protocol names as key to a proposed overall judgement, or None.
OverallRule = Callable[[Mapping[str, str], frozenset[str]], str | None]

STUDY, RESULT = "study", "result"


@dataclass(frozen=True)
class Domain:
    """One domain (RoB 2, ROBINS-I, QUADAS-2) or item (RoB 1, SYRCLE, CAMARADES) of a tool.

    ``effect`` names the effect of interest a variant answers (RoB 2's domain 2
    and ROBINS-I's domain 4 differ for the effect of assignment and of
    adhering to intervention); None for domains every assessment has.
    ``prompt`` is the item's own question or the guidance on supporting the
    judgement, as the source words it.  ``propose`` is the domain's algorithm.
    ``applicability`` holds QUADAS-2's applicability question where the
    domain has one.
    """

    id: str
    name: str
    questions: tuple[Question, ...] = ()
    effect: str | None = None
    prompt: str | None = None
    propose: DomainRule | None = None
    applicability: str | None = None
    source: str = ""


@dataclass(frozen=True)
class Tool:
    """A tool: its domains, judgement levels from least to most concern, and its rules.

    ``unit`` is ``"study"`` or ``"result"`` (RoB 2 and ROBINS-I judge one
    numerical result of a study).  ``levels`` are ordered from least to most
    concern; ``other_levels`` are judgements outside that order (ROBINS-I's
    "No information").  ``effects`` are the effects of interest a protocol
    chooses between; ``overall`` is the rule that proposes the overall
    judgement.  ``score_level`` names the item judgement a score counts
    (CAMARADES: the number of items met).  ``synonyms`` are other spellings
    read as a level (lower case).
    """

    name: str
    title: str
    citation: str
    unit: str
    levels: tuple[str, ...]
    domains: tuple[Domain, ...]
    other_levels: tuple[str, ...] = ()
    effects: tuple[str, ...] = ()
    overall: OverallRule | None = None
    overall_source: str = ""
    applicability_levels: tuple[str, ...] = ()
    score_level: str | None = None
    synonyms: Mapping[str, str] = field(default_factory=dict)

    @property
    def judgements(self) -> tuple[str, ...]:
        """Every judgement the tool allows: the ordered levels, then the others."""
        return (*self.levels, *self.other_levels)

    def domains_for(self, effect: str | None = None) -> tuple[Domain, ...]:
        """The domains of one assessment: the variants for ``effect`` where the tool has any."""
        if self.effects:
            if effect is None:
                raise InputError(
                    f"{self.title} needs the effect of interest; expected one of "
                    f"{', '.join(self.effects)}"
                )
            if effect not in self.effects:
                raise InputError(
                    f"{effect!r} is not an effect of interest of {self.title}; expected one of "
                    f"{', '.join(self.effects)}"
                )
        elif effect is not None:
            raise InputError(f"{self.title} has no effect of interest to choose (got {effect!r})")
        return tuple(d for d in self.domains if d.effect in (None, effect))

    def level(self, value: object, *, where: str, levels: tuple[str, ...] | None = None) -> str:
        """The judgement ``value`` names (case-insensitive, or a synonym), else InputError."""
        allowed = levels if levels is not None else self.judgements
        text = str(value).strip() if value is not None else ""
        text = self.synonyms.get(text.lower(), text)
        for option in allowed:
            if text.lower() == option.lower():
                return option
        raise InputError(f"{where}: {value!r} is not a judgement; expected {', '.join(allowed)}")
