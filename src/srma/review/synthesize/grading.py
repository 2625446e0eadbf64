"""GRADE certainty of each analysed outcome, from its analyses, the protocol and the overrides.

:func:`grade_inputs` turns an :class:`~.results.OutcomeAnalysis` into
:class:`srma.analysis.grade.GradeInputs`: the policy's pooled result; each
analysed study's reconciled overall risk-of-bias judgement in GRADE's words
(:data:`GRADE_JUDGEMENTS`); the refit without the studies at high risk and the
small-study tests the plan ran; participants per arm and the comparator risks
of the studies; the protocol's design, minimal important difference, assumed
comparator risk, importance, follow-up and indirectness judgement; a
meta-regression on a dose characteristic, where the plan ran one, for the
dose-response gradient; and the reviewers' overrides (events, replayed by
:mod:`.overrides`).  :func:`rated` attaches the certainty, or says in a note why
an outcome cannot be rated.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from srma.analysis.grade import GradeInputs, Override, assess_certainty
from srma.errors import InputError
from srma.review.synthesize.results import OutcomeAnalysis

#: The reconciled overall judgements of srma's tools in GRADE's words (RoB 2's "some
#: concerns"; ROBINS-I's moderate as some concerns, serious and critical as high); a study
#: without information is left out of the weights (GRADE's "not assessed").
GRADE_JUDGEMENTS: Final = {
    "low": "low",
    "some concerns": "some concerns",
    "moderate": "some concerns",
    "unclear": "unclear",
    "high": "high",
    "serious": "high",
    "critical": "high",
}
#: Who judged indirectness when the protocol states it.
PROTOCOL_JUDGE: Final = "the protocol ([[outcomes]] indirectness)"


def _judgements(analysis: OutcomeAnalysis) -> dict[str, str] | None:
    labels = set(analysis.policy.result.labels) if analysis.policy is not None else set()
    found = {
        label: GRADE_JUDGEMENTS[str(judgement).strip().lower()]
        for label, judgement in analysis.rob_overall.items()
        if label in labels
        and judgement is not None
        and str(judgement).strip().lower() in GRADE_JUDGEMENTS
    }
    return found or None


def _dose_regression(analysis: OutcomeAnalysis) -> object | None:
    """A done meta-regression on one characteristic whose name says dose."""
    for follow_up in analysis.follow_up("metaregression"):
        names = getattr(follow_up.result, "names", ())
        if follow_up.done and len(names) == 2 and "dose" in follow_up.variable.lower():
            return follow_up.result
    return None


def grade_inputs(analysis: OutcomeAnalysis) -> GradeInputs | None:
    """What GRADE needs for one analysed outcome (None when nothing was pooled)."""
    if analysis.policy is None:
        return None
    outcome = analysis.outcome
    indirectness = None
    if outcome.indirectness or outcome.indirectness_reason:
        indirectness = Override(outcome.indirectness, outcome.indirectness_reason, PROTOCOL_JUDGE)
    return GradeInputs(
        outcome=outcome.name,
        result=analysis.policy.result,
        direction=outcome.direction or "higher is better",
        design=analysis.design or "randomised",
        risk_of_bias=_judgements(analysis),
        without_high_risk=analysis.without_high_risk,
        small_study=analysis.small_study,
        participants=analysis.participants,
        participants_intervention=analysis.participants_intervention,
        participants_control=analysis.participants_control,
        control_risks=analysis.control_risks or None,
        assumed_risk=outcome.assumed_risk,
        mid=outcome.mid,
        indirectness=indirectness,
        dose_response=_dose_regression(analysis),
        follow_up=outcome.follow_up or analysis.time_point,
        importance=outcome.importance,
        overrides={
            domain: Override(rating, reason, reviewer)
            for domain, (rating, reason, reviewer) in analysis.overrides.items()
        },
    )


def rated(analysis: OutcomeAnalysis) -> OutcomeAnalysis:
    """``analysis`` with its GRADE certainty, or a note saying why it has none."""
    if analysis.network is not None:
        note = (
            "GRADE: not rated: srma rates pairwise results; the certainty of a network's "
            "comparisons (CINeMA, GRADE for NMA) is not implemented"
        )
        return replace(analysis, notes=(*analysis.notes, note))
    inputs = grade_inputs(analysis)
    if inputs is None:
        note = "GRADE: not rated, no pooled result"
        return replace(analysis, notes=(*analysis.notes, note))
    try:
        certainty = assess_certainty(inputs)
    except InputError as error:
        note = f"GRADE: not rated: {error.reason}"
        return replace(analysis, notes=(*analysis.notes, note))
    notes = analysis.notes
    if not analysis.design:
        notes = (*notes, "GRADE: the protocol states no [grade] design; randomised trials assumed")
    return replace(analysis, grade=certainty, notes=notes)
