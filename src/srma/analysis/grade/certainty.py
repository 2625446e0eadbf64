"""The certainty of the evidence for one outcome: start, five domains, rating up, effects.

:func:`assess_certainty` proposes every domain by its rule
(:mod:`srma.analysis.grade.domains`), applies the reviewer's overrides, adds
the reasons to rate up, and clamps the sum to very low..high (GRADE handbook
5.1, Schünemann et al. 2013).  Evidence from randomised trials starts high,
from observational studies low (Balshem et al., GRADE guidelines 3, J Clin
Epidemiol 2011;64:401-406); preclinical (animal) evidence starts high, as
randomised animal studies do in GRADE for preclinical evidence (Hooijmans et
al., PLoS ONE 2018;13:e0187271).  Binary outcomes get their absolute effect
per 1,000 (:mod:`srma.analysis.grade.absolute`); continuous ones their
difference in words, the SMD read by Cohen's rule of thumb; every outcome a
plain-language statement (:mod:`srma.analysis.grade.statements`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from srma.analysis.bias import SmallStudyResult
from srma.analysis.grade import domains as rules
from srma.analysis.grade.absolute import (
    ABSOLUTE_MEASURES,
    AbsoluteEffect,
    absolute_effect,
    assumed_comparator_risk,
    check_risk,
)
from srma.analysis.grade.continuous import interpret_continuous
from srma.analysis.grade.information_size import (
    DEFAULT_RRR,
    binary_ois,
    continuous_ois,
)
from srma.analysis.grade.levels import (
    DESIGNS,
    DIRECTIONS,
    DOMAINS,
    REFERENCES,
    UPGRADES,
    DomainRating,
    Override,
    clamp,
    level_name,
    symbols,
)
from srma.analysis.grade.statements import conclusion, statement
from srma.analysis.results import MetaResult
from srma.errors import InputError
from srma.formatting import format_number
from srma.vocabulary import RATIO_MEASURES

#: Where each design starts (score) and why.
STARTS: Final = {
    "randomised": (4, f"randomised trials start at high certainty ({REFERENCES['start']})"),
    "observational": (2, f"observational studies start at low certainty ({REFERENCES['start']})"),
    "preclinical": (
        4,
        f"preclinical evidence starts at high certainty ({REFERENCES['preclinical']})",
    ),
}
IMPORTANCE: Final = ("critical", "important", "")


@dataclass(frozen=True)
class GradeInputs:
    """What rating one outcome needs; everything but ``outcome`` and ``result`` is optional.

    ``risk_of_bias`` maps a study label (as in ``result.labels``) to its overall
    judgement; ``without_high_risk`` is the same model refitted without the
    high-risk studies; ``small_study`` is :func:`srma.analysis.bias.small_study_tests`
    of ``result``; ``control_risks`` the studies' comparator event risks (their
    median is the assumed comparator risk unless ``assumed_risk`` is given);
    ``mid`` the minimal important difference on the effect's own scale (a ratio
    such as 1.25 for RR, OR, HR); ``indirectness`` the reviewer's judgement;
    ``dose_response`` a meta-regression on dose; ``overrides`` maps a domain or
    reason to rate up to the reviewer's :class:`Override`.
    """

    outcome: str
    result: MetaResult
    direction: str = "higher is better"
    design: str = "randomised"
    risk_of_bias: Mapping[str, str] | None = None
    without_high_risk: MetaResult | None = None
    small_study: SmallStudyResult | None = None
    participants: int | None = None
    participants_intervention: int | None = None
    participants_control: int | None = None
    control_risks: Sequence[float] | None = None
    assumed_risk: float | None = None
    mid: float | None = None
    indirectness: Override | None = None
    dose_response: Any | None = None
    follow_up: str = ""
    importance: str = ""
    overrides: Mapping[str, Override] = field(default_factory=dict)

    @property
    def total_participants(self) -> int | None:
        """``participants``, or the two arms' sum when only they are given."""
        if self.participants is not None:
            return int(self.participants)
        if self.participants_intervention is not None and self.participants_control is not None:
            return int(self.participants_intervention) + int(self.participants_control)
        return None


@dataclass(frozen=True)
class Certainty:
    """The GRADE rating of one outcome, with the effects a summary of findings shows.

    ``start`` and ``certainty`` are level names; ``score`` is 1..4; ``domains``
    and ``upgrades`` hold one :class:`DomainRating` each; ``absolute`` is the
    absolute effect of a binary outcome (None when there is no comparator risk,
    with the reason in ``footnotes``); ``effect`` the relative effect or
    difference as a reader sees it (ratio scale for ratios).
    """

    outcome: str
    design: str
    start: str
    start_reason: str
    certainty: str
    score: int
    domains: tuple[DomainRating, ...]
    upgrades: tuple[DomainRating, ...]
    absolute: AbsoluteEffect | None
    interpretation: str
    footnotes: tuple[str, ...]
    measure: str | None
    effect: Mapping[str, float | None]
    k: int
    participants: int | None
    follow_up: str = ""
    importance: str = ""
    direction: str = "higher is better"
    level: float = 0.95
    conclusion: str = ""
    statement: str = ""

    @property
    def symbols(self) -> str:
        return symbols(self.score)

    @property
    def is_binary(self) -> bool:
        return self.measure in ABSOLUTE_MEASURES

    def domain(self, name: str) -> DomainRating:
        for rating in (*self.domains, *self.upgrades):
            if rating.domain == name:
                return rating
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON: ``certainty``, ``domains`` (each ``rating``, ``proposed``, ``reason``,
        ``overridden_by``...), ``absolute`` for binary outcomes, and the rest."""
        out: dict[str, Any] = {
            "outcome": self.outcome,
            "certainty": self.certainty,
            "symbols": self.symbols,
            "score": self.score,
            "design": self.design,
            "start": self.start,
            "start_reason": self.start_reason,
            "domains": {rating.domain: rating.to_dict() for rating in self.domains},
            "upgrades": {rating.domain: rating.to_dict() for rating in self.upgrades},
            "measure": self.measure,
            "effect": dict(self.effect),
            "interpretation": self.interpretation,
            "k": self.k,
            "participants": self.participants,
            "follow_up": self.follow_up,
            "importance": self.importance,
            "direction": self.direction,
            "level": self.level,
            "conclusion": self.conclusion,
            "statement": self.statement,
            "footnotes": list(self.footnotes),
        }
        if self.is_binary:
            out["absolute"] = None if self.absolute is None else self.absolute.to_dict()
        return out


def _check(inputs: GradeInputs) -> None:
    if inputs.design not in DESIGNS:
        raise InputError(f"design must be one of {', '.join(DESIGNS)}, got {inputs.design!r}")
    if inputs.direction not in DIRECTIONS:
        raise InputError(
            f"direction must be {DIRECTIONS[0]!r} or {DIRECTIONS[1]!r}, got {inputs.direction!r}"
        )
    if inputs.importance not in IMPORTANCE:
        raise InputError(
            f"importance must be critical, important or empty, got {inputs.importance!r}"
        )
    if inputs.result.estimate is None:
        raise InputError(f"outcome {inputs.outcome!r}: the pooled estimate is undefined")
    if inputs.assumed_risk is not None:
        check_risk(inputs.assumed_risk, "the assumed comparator risk")
    for name in ("participants", "participants_intervention", "participants_control"):
        value = getattr(inputs, name)
        if value is not None and (isinstance(value, bool) or int(value) != value or value < 0):
            raise InputError(f"{name} must be a whole number >= 0, got {value!r}")
    known = set(DOMAINS) | set(UPGRADES)
    for name, override in inputs.overrides.items():
        if name not in known:
            raise InputError(f"override of {name!r}: expected one of {', '.join(sorted(known))}")
        override.check(name, (0, 1, 2) if name in UPGRADES else (0, -1, -2))


def _threshold(result: MetaResult, mid: float | None) -> tuple[float | None, str]:
    if mid is not None:
        source = "the protocol's minimal important difference"
        return rules.threshold_on_scale(result.measure, mid), source
    if result.measure in rules.RISK_RATIOS:
        value = rules.DEFAULT_RATIO_THRESHOLD
        return math.log(value), (
            f"no MID given: GRADE 6's rough guide of appreciable benefit or harm, "
            f"{format_number(1 / value, 2)} / {format_number(value, 2)}"
        )
    return None, "no minimal important difference given"


def _information_size(inputs: GradeInputs, acr: float | None) -> tuple[int | None, str]:
    measure = inputs.result.measure
    if measure in ABSOLUTE_MEASURES:
        if acr is None:
            return None, "a binary outcome's OIS needs the comparator risk, and there is none"
        rrr = DEFAULT_RRR
        if inputs.mid is not None and measure in RATIO_MEASURES:
            rrr = 1.0 - 1.0 / max(float(inputs.mid), 1.0 / float(inputs.mid))
        ois = binary_ois(acr, rrr)
        return ois, (
            f"alpha 0.05, power 0.80, comparator risk {format_number(acr, 3)}, relative risk "
            f"reduction {format_number(100 * rrr, 0)}%"
        )
    if measure == "SMD":
        delta = abs(float(inputs.mid)) if inputs.mid is not None else 0.2
        basis = "the MID" if inputs.mid is not None else "a small effect, Cohen's 0.2 SD"
        return continuous_ois(
            delta
        ), f"alpha 0.05, power 0.80, {format_number(delta, 2)} SD ({basis})"
    return None, (
        f"the OIS of a {measure or 'generic'} outcome needs its standard deviation, which the "
        "result does not hold"
    )


def _effect(result: MetaResult) -> dict[str, float | None]:
    values = {"estimate": result.estimate, "ci_lower": result.ci_lower, "ci_upper": result.ci_upper}
    if result.is_ratio:
        exp = result.back_transformed() or {}
        values = {name: exp.get(name) for name in values}
    return {**values, "scale": "ratio" if result.is_ratio else "difference"}  # type: ignore[dict-item]


def _binary_interpretation(absolute: AbsoluteEffect) -> str:
    def words(value: float) -> str:
        count = format_number(abs(value), 0)
        return f"{count} more" if value >= 0 else f"{count} fewer"

    return (
        f"{words(absolute.difference_per_1000)} per 1,000 "
        f"({words(absolute.difference_ci_lower)} to {words(absolute.difference_ci_upper)}), "
        f"from {format_number(absolute.assumed_per_1000, 0)} per 1,000 with the comparator "
        f"({absolute.assumed_risk_source})"
    )


def assess_certainty(inputs: GradeInputs) -> Certainty:
    """Rate the certainty of the evidence for one outcome (every rule in its module).

    Raises :class:`InputError` for a bad design, direction, override, risk or
    judgement.
    """
    _check(inputs)
    result = inputs.result
    overrides = inputs.overrides
    threshold, threshold_source = _threshold(result, inputs.mid)
    acr, acr_source = (None, "")
    if result.measure in ABSOLUTE_MEASURES:
        acr, acr_source = assumed_comparator_risk(inputs.control_risks, inputs.assumed_risk)
    ois, ois_basis = _information_size(inputs, acr)
    participants = inputs.total_participants
    rated = (
        rules.rate_risk_of_bias(
            result, inputs.risk_of_bias, inputs.without_high_risk, overrides.get("risk_of_bias")
        ),
        rules.rate_inconsistency(result, threshold, overrides.get("inconsistency")),
        rules.rate_indirectness(inputs.indirectness, overrides.get("indirectness")),
        rules.rate_imprecision(
            result,
            threshold=threshold,
            threshold_source=threshold_source,
            participants=participants,
            ois=ois,
            ois_basis=ois_basis,
            override=overrides.get("imprecision"),
        ),
        rules.rate_publication_bias(result, inputs.small_study, overrides.get("publication_bias")),
    )
    downgraded = any(rating.rating < 0 for rating in rated)
    upgrades = (
        rules.rate_large_effect(result, inputs.design, downgraded, overrides.get("large_effect")),
        rules.rate_dose_response(
            inputs.dose_response, inputs.design, downgraded, overrides.get("dose_response")
        ),
    )
    start, start_reason = STARTS[inputs.design]
    side = rules.side_of_null(result.ci_lower, result.ci_upper)
    score = clamp(start + sum(r.rating for r in rated) + sum(r.rating for r in upgrades))
    footnotes = [r.explanation() for r in (*rated, *upgrades) if r.rating != 0]
    absolute = None
    if result.measure in ABSOLUTE_MEASURES:
        if acr is None:
            footnotes.append(f"Absolute effect not computed: {acr_source}.")
        else:
            absolute = absolute_effect(
                result.measure,
                result.estimate,
                result.ci_lower,
                result.ci_upper,
                acr,
                source=acr_source,
            )
            footnotes.append(
                f"Assumed comparator risk {format_number(absolute.assumed_per_1000, 0)} per "
                f"1,000: {acr_source}; risk with the intervention by {absolute.formula}."
            )
            footnotes.extend(absolute.notes)
        interpretation = (
            _binary_interpretation(absolute)
            if absolute is not None
            else rules.effect_text(
                result.measure, result.estimate, result.ci_lower, result.ci_upper
            )
        )
    elif result.is_ratio:
        interpretation = rules.effect_text(
            result.measure, result.estimate, result.ci_lower, result.ci_upper
        )
    else:
        interpretation = interpret_continuous(
            result.measure or "Difference", result.estimate, result.ci_lower, result.ci_upper
        )  # type: ignore[arg-type]
    return Certainty(
        outcome=inputs.outcome,
        design=inputs.design,
        start=level_name(start),
        start_reason=start_reason,
        certainty=level_name(score),
        score=score,
        domains=rated,
        upgrades=upgrades,
        absolute=absolute,
        interpretation=interpretation,
        footnotes=tuple(footnotes),
        measure=result.measure,
        effect=_effect(result),
        k=result.k,
        participants=participants,
        follow_up=inputs.follow_up,
        importance=inputs.importance,
        direction=inputs.direction,
        level=result.level,
        conclusion=conclusion(side, inputs.direction),
        statement=statement(level_name(score), side, inputs.outcome, inputs.direction),
    )


__all__ = ["Certainty", "GradeInputs", "assess_certainty"]
