"""GRADE's levels of certainty, their symbols, the references of every rule, and one rating.

Certainty is a score from 1 (very low) to 4 (high): the body of evidence
starts at a level set by its design, each of the five domains takes 0, 1 or 2
levels off, each reason to rate up adds 0, 1 or 2, and the sum is clamped to
the four levels (GRADE handbook, Schünemann et al. 2013, section 5;
Balshem et al., GRADE guidelines 3, J Clin Epidemiol 2011;64:401-406).
Symbols as GRADEpro prints them: ⊕⊕⊕⊕ high, ⊕⊕⊕◯ moderate, ⊕⊕◯◯ low,
⊕◯◯◯ very low.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from srma.errors import InputError

#: Certainty levels by score.
LEVELS: Final = MappingProxyType({4: "high", 3: "moderate", 2: "low", 1: "very low"})
HIGHEST, LOWEST = 4, 1

#: The five domains that can rate the evidence down, in GRADEpro's order.
DOMAINS: Final = (
    "risk_of_bias",
    "inconsistency",
    "indirectness",
    "imprecision",
    "publication_bias",
)
#: The reasons to rate up that srma proposes (GRADE guidelines 9).
UPGRADES: Final = ("large_effect", "dose_response")

DOMAIN_NAMES: Final = MappingProxyType(
    {
        "risk_of_bias": "Risk of bias",
        "inconsistency": "Inconsistency",
        "indirectness": "Indirectness",
        "imprecision": "Imprecision",
        "publication_bias": "Publication bias",
        "large_effect": "Large effect",
        "dose_response": "Dose-response gradient",
    }
)

#: Study designs and where their evidence starts.
DESIGNS: Final = ("randomised", "observational", "preclinical")
DIRECTIONS: Final = ("higher is better", "lower is better")

REFERENCES: Final = MappingProxyType(
    {
        "start": "GRADE handbook 5.1 (Schünemann et al., 2013); Balshem et al., J Clin "
        "Epidemiol 2011;64:401-406",
        "preclinical": "Hooijmans et al., PLoS ONE 2018;13:e0187271 (GRADE for preclinical "
        "animal studies: randomised animal studies start at high certainty)",
        "risk_of_bias": "GRADE guidelines 4 (Guyatt et al., J Clin Epidemiol 2011;64:407-415)",
        "inconsistency": "GRADE guidelines 7 (Guyatt et al., J Clin Epidemiol "
        "2011;64:1294-1302); Cochrane Handbook 10.10.2",
        "indirectness": "GRADE guidelines 8 (Guyatt et al., J Clin Epidemiol 2011;64:1303-1310)",
        "imprecision": "GRADE guidelines 6 (Guyatt et al., J Clin Epidemiol 2011;64:1283-1293)",
        "publication_bias": "GRADE guidelines 5 (Guyatt et al., J Clin Epidemiol "
        "2011;64:1277-1282); Cochrane Handbook 13.3.5.4",
        "large_effect": "GRADE guidelines 9 (Guyatt et al., J Clin Epidemiol 2011;64:1311-1316)",
        "dose_response": "GRADE guidelines 9 (Guyatt et al., J Clin Epidemiol 2011;64:1311-1316)",
        "absolute": "Cochrane Handbook v6 chapter 14 (v5.1 11.5.5, 12.5.4); GRADE handbook "
        "5.2 (Schünemann et al., 2013)",
        "smd": "Cochrane Handbook v6 15.5.3 (Cohen 1988: 0.2 small, 0.5 moderate, 0.8 large)",
    }
)

#: GRADEpro's words for a domain's rating in an evidence profile.
CONCERN_WORDS: Final = MappingProxyType({0: "not serious", -1: "serious", -2: "very serious"})


def level_name(score: int) -> str:
    """``"high"``, ``"moderate"``, ``"low"`` or ``"very low"`` of a score clamped to 1..4."""
    return LEVELS[clamp(score)]


def clamp(score: int) -> int:
    """The score within very low (1) .. high (4)."""
    return max(LOWEST, min(HIGHEST, score))


def symbols(score: int) -> str:
    """``⊕⊕⊕◯`` for moderate: one filled circle per level, as GRADEpro prints certainty."""
    filled = clamp(score)
    return "⊕" * filled + "◯" * (HIGHEST - filled)


@dataclass(frozen=True)
class Override:
    """A reviewer's judgement replacing a proposal, with the reason.

    ``rating`` is 0, -1 or -2 for a domain and 0, +1 or +2 for a reason to rate up.
    """

    rating: int
    reason: str
    reviewer: str

    def check(self, name: str, allowed: tuple[int, ...]) -> None:
        """Raise :class:`InputError` unless the rating is allowed and reason and reviewer given."""
        if isinstance(self.rating, bool) or self.rating not in allowed:
            raise InputError(
                f"override of {name}: rating must be one of {', '.join(map(str, allowed))}, "
                f"got {self.rating!r}"
            )
        if not str(self.reason).strip():
            raise InputError(f"override of {name}: a reason is required")
        if not str(self.reviewer).strip():
            raise InputError(f"override of {name}: the reviewer must be named")

    def to_dict(self) -> dict[str, Any]:
        return {"rating": self.rating, "reason": self.reason, "reviewer": self.reviewer}


@dataclass(frozen=True)
class DomainRating:
    """One domain (or reason to rate up): srma's proposal, the reason, and any override.

    ``proposed`` is what the rule gives, ``reason`` says why with the numbers,
    ``reference`` names the rule's source; ``rating`` is what counts: the
    proposal, or the reviewer's ``override`` (``overridden_by`` names them).
    ``rule`` states the rule that proposed the rating; ``values`` holds the
    numbers it read (I², shares of weight, ...).
    """

    domain: str
    rating: int
    proposed: int
    reason: str
    reference: str
    rule: str = ""
    overridden_by: str | None = None
    override_reason: str | None = None
    values: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return DOMAIN_NAMES[self.domain]

    @property
    def concern(self) -> str:
        """GRADEpro's words: ``not serious``, ``serious``, ``very serious`` (domains only)."""
        return CONCERN_WORDS.get(self.rating, str(self.rating))

    def explanation(self) -> str:
        """The footnote text: the override's reason when overridden, else the rule's reason."""
        if self.overridden_by is not None:
            return (
                f"{self.name}: {self.override_reason} (judged by {self.overridden_by}; srma "
                f"proposed {self.proposed:+d}: {self.reason})"
            )
        return f"{self.name}: {self.reason}"

    def with_override(self, override: Override | None) -> DomainRating:
        """This rating with a reviewer's judgement applied (unchanged when None)."""
        if override is None:
            return self
        return DomainRating(
            domain=self.domain,
            rating=int(override.rating),
            proposed=self.proposed,
            reason=self.reason,
            reference=self.reference,
            rule=self.rule,
            overridden_by=override.reviewer,
            override_reason=override.reason,
            values=self.values,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "rating": self.rating,
            "proposed": self.proposed,
            "reason": self.reason,
            "reference": self.reference,
            "rule": self.rule,
            "overridden_by": self.overridden_by,
            "override_reason": self.override_reason,
            "values": dict(self.values or {}),
        }
