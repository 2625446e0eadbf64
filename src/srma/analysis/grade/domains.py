"""The rules that propose each GRADE domain's rating, each reason with its numbers and source.

Every function returns a :class:`~srma.analysis.grade.levels.DomainRating`
whose ``reason`` gives the numbers the rule read and whose ``reference`` names
the rule.  Effects are read on the analysis scale (log scale for ratios), so
the null is 0 for every measure.  Where the data a rule needs are missing, the
rating is 0 and the reason says, in words, what was missing.

* Risk of bias (GRADE 4): the share of the meta-analysis weight from studies at
  high risk; -1 when it is most of the weight (>= 50%) or when leaving those
  studies out changes the conclusion (the CI's side of the null), -2 when both.
* Inconsistency (GRADE 7; Cochrane Handbook 10.10.2): I² >= 50% ("substantial")
  with Cochran's Q p < 0.10 or a prediction interval that includes the null:
  -1; I² >= 75% ("considerable") with Q p < 0.10 and the prediction interval
  (where there is one) including the null: -2.
* Indirectness (GRADE 8): the reviewer's judgement from the protocol; 0 when none.
* Imprecision (GRADE 6): the CI against the null and the minimal important
  difference (MID; for ratios GRADE 6's rough guide RR 0.75 / 1.25 when no MID
  is given), and the participants against the optimal information size: -2
  when the CI includes appreciable effects on both sides, -1 when it includes
  the null, crosses the MID, or the OIS is not met.
* Publication bias (GRADE 5; Cochrane Handbook 13.3.5.4): with k >= 10,
  Egger's test p < 0.10 (Egger et al. 1997) or a trim-and-fill estimate whose
  CI is on another side of the null: -1; with fewer studies a note, 0.
* Rating up (GRADE 9), for observational evidence with no domain rated down:
  a ratio of 2 or more (or 0.5 or less) with its CI excluding the null +1, of 5
  or more (0.2 or less) +2; a dose-response slope with p < 0.05 +1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from srma.analysis.grade.levels import REFERENCES, DomainRating, Override
from srma.analysis.results import MetaResult
from srma.errors import InputError
from srma.formatting import format_ci, format_count, format_number, format_p
from srma.vocabulary import RATIO_MEASURES

#: Overall risk-of-bias judgements srma reads, by the words a judgement may use.
JUDGEMENTS: Final = {
    "low": "low",
    "low risk": "low",
    "some concerns": "some concerns",
    "unclear": "unclear",
    "unclear risk": "unclear",
    "high": "high",
    "high risk": "high",
}
MAJORITY: Final = 50.0
I2_SUBSTANTIAL: Final = 50.0
I2_CONSIDERABLE: Final = 75.0
Q_ALPHA: Final = 0.10
EGGER_ALPHA: Final = 0.10
MIN_STUDIES_EGGER: Final = 10
DOSE_ALPHA: Final = 0.05
#: Ratios of risks, odds, hazards or rates: GRADE's thresholds for ratios apply to them (not
#: to a ratio of means).
RISK_RATIOS: Final = frozenset({"RR", "OR", "PETO", "HR", "IRR"})
#: GRADE 6's rough guide of appreciable benefit or harm for ratios (RR 0.75 / 1.25).
DEFAULT_RATIO_THRESHOLD: Final = 1.25
LARGE_RATIO: Final = 2.0
VERY_LARGE_RATIO: Final = 5.0


# --- shared helpers -------------------------------------------------------------------


def side_of_null(lower: float | None, upper: float | None) -> str:
    """Where a CI lies: ``"above"`` or ``"below"`` the null, or ``"includes"`` it."""
    if lower is None or upper is None:
        return "undefined"
    if lower > 0:
        return "above"
    if upper < 0:
        return "below"
    return "includes"


def shown(measure: str | None, value: float | None) -> str:
    """A value on the scale a reader sees: ``exp`` for ratios."""
    if value is None:
        return "NA"
    if measure in RATIO_MEASURES:
        return format_number(math.exp(min(value, 700.0)), 2)
    return format_number(value, 2)


def effect_text(
    measure: str | None, estimate: float | None, lower: float | None, upper: float | None
) -> str:
    """``RR 0.80 (0.70 to 0.91)``: an estimate and CI on the reader's scale."""
    name = measure or "effect"
    interval = format_ci(None, None)
    if lower is not None and upper is not None:
        interval = f"{shown(measure, lower)} to {shown(measure, upper)}"
    return f"{name} {shown(measure, estimate)} ({interval})"


def _side_words(side: str) -> str:
    return {
        "above": "above the null",
        "below": "below the null",
        "includes": "including the null",
        "undefined": "undefined",
    }[side]


def threshold_on_scale(measure: str | None, mid: float | None) -> float | None:
    """The MID as a positive distance from the null on the analysis scale (log for ratios)."""
    if mid is None:
        return None
    value = float(mid)
    if not math.isfinite(value):
        raise InputError(f"the minimal important difference must be a finite number, got {mid!r}")
    if measure in RATIO_MEASURES:
        if value <= 0 or value == 1.0:
            raise InputError(
                f"the minimal important difference of a ratio ({measure}) must be a ratio > 0 "
                f"other than 1, such as 1.25, got {mid!r}"
            )
        return abs(math.log(value))
    if value == 0.0:
        raise InputError("the minimal important difference must not be 0")
    return abs(value)


def _rating(
    domain: str,
    proposed: int,
    reason: str,
    override: Override | None,
    values: dict[str, Any],
    *,
    rule: str = "",
) -> DomainRating:
    """A proposal whose reason ends with its source; the reviewer's override applied."""
    reference = REFERENCES[domain]
    rating = DomainRating(
        domain=domain,
        rating=proposed,
        proposed=proposed,
        reason=f"{reason}; source: {reference}",
        reference=reference,
        rule=rule,
        values=values,
    )
    return rating.with_override(override)


# --- risk of bias ------------------------------------------------------------------------


def normalise_judgements(judgements: Mapping[str, str]) -> dict[str, str]:
    """Each study's overall judgement as ``low``, ``some concerns``, ``unclear`` or ``high``."""
    out = {}
    for study, judgement in judgements.items():
        key = " ".join(str(judgement).strip().lower().split())
        if key not in JUDGEMENTS:
            raise InputError(
                f"study {study!r}: risk of bias {judgement!r} is not one of low, some concerns, "
                "unclear, high"
            )
        out[str(study)] = JUDGEMENTS[key]
    return out


def rate_risk_of_bias(
    result: MetaResult,
    judgements: Mapping[str, str] | None,
    without_high_risk: MetaResult | None,
    override: Override | None = None,
) -> DomainRating:
    """Risk of bias from the weight of high-risk studies and the refit without them."""
    if not judgements:
        return _rating(
            "risk_of_bias",
            0,
            "no risk-of-bias judgements were given: not rated "
            "down by srma; the reviewer must judge this domain",
            override,
            {},
        )
    levels = normalise_judgements(judgements)
    shares = {"low": 0.0, "some concerns": 0.0, "unclear": 0.0, "high": 0.0, "not assessed": 0.0}
    counts = dict.fromkeys(shares, 0)
    for label, weight in zip(result.labels, result.weights, strict=True):
        level = levels.get(label, "not assessed")
        shares[level] += weight
        counts[level] += 1
    high = shares["high"]
    values: dict[str, Any] = {
        "weight_high": high,
        "weight_some_concerns_or_unclear": shares["some concerns"] + shares["unclear"],
        "weight_low": shares["low"],
        "weight_not_assessed": shares["not assessed"],
        "studies_high": counts["high"],
        "k": result.k,
    }
    parts = [
        f"{format_count(counts['high'])} of {format_count(result.k)} studies at high risk carry "
        f"{format_number(high, 1)}% of the weight",
        f"{format_number(values['weight_some_concerns_or_unclear'], 1)}% some concerns or "
        f"unclear, {format_number(shares['low'], 1)}% low",
    ]
    strangers = sorted(set(levels) - set(result.labels))
    if strangers:
        values["judged_studies_not_analysed"] = strangers
        parts.append(
            f"{format_count(len(strangers))} judged "
            f"{'study is' if len(strangers) == 1 else 'studies are'} not in the analysis "
            f"({', '.join(strangers[:5])}{', ...' if len(strangers) > 5 else ''})"
        )
    if counts["not assessed"]:
        parts.append(
            f"{format_count(counts['not assessed'])} studies not assessed "
            f"({format_number(shares['not assessed'], 1)}%)"
        )
    changes = False
    full_side = side_of_null(result.ci_lower, result.ci_upper)
    if counts["high"] == 0:
        parts.append("no study at high risk to leave out")
    elif counts["high"] == result.k:
        parts.append("every study is at high risk: no analysis without them is possible")
    elif without_high_risk is None:
        parts.append(
            "no analysis without the high-risk studies was given: the effect of "
            "leaving them out is not known"
        )
    else:
        refit = without_high_risk
        restricted = side_of_null(refit.ci_lower, refit.ci_upper)
        changes = restricted != full_side
        values["without_high_risk"] = {
            "k": without_high_risk.k,
            "estimate": without_high_risk.estimate,
            "ci_lower": without_high_risk.ci_lower,
            "ci_upper": without_high_risk.ci_upper,
        }
        measure = result.measure
        parts.append(
            f"without them (k = {format_count(without_high_risk.k)}) "
            f"{effect_text(measure, refit.estimate, refit.ci_lower, refit.ci_upper)}"
            f", CI {_side_words(restricted)}, against "
            f"{effect_text(measure, result.estimate, result.ci_lower, result.ci_upper)} "
            f"({_side_words(full_side)}): the conclusion "
            + ("changes" if changes else "does not change")
        )
    values["conclusion_changes"] = changes
    majority = high >= MAJORITY
    proposed = -2 if (majority and changes) else -1 if (majority or changes) else 0
    rule = (
        f"rule: -1 when studies at high risk carry >= {format_number(MAJORITY, 0)}% of the weight "
        "or leaving them out changes the conclusion, -2 when both"
    )
    return _rating("risk_of_bias", proposed, "; ".join(parts), override, values, rule=rule)


# --- inconsistency -------------------------------------------------------------------------


def rate_inconsistency(
    result: MetaResult, threshold: float | None = None, override: Override | None = None
) -> DomainRating:
    """Inconsistency from I², Cochran's Q and the prediction interval."""
    if result.k < 2 or result.i2 is None:
        return _rating(
            "inconsistency",
            0,
            f"k = {format_count(result.k)}: inconsistency cannot be judged from a single study",
            override,
            {"k": result.k},
        )
    i2, q_p = float(result.i2), result.q_pvalue
    q_flag = q_p is not None and q_p < Q_ALPHA
    values: dict[str, Any] = {"i2": i2, "q": result.q, "q_pvalue": q_p, "k": result.k}
    parts = [
        f"I² = {format_number(i2, 1)}%",
        f"Cochran's Q = {format_number(result.q, 2)} (df = {format_count(result.q_df)}, "
        f"{format_p(q_p)})",
    ]
    pi_flag: bool | None = None
    if result.pi_lower is None or result.pi_upper is None:
        parts.append("no prediction interval (a common-effect model)")
    else:
        pi_side = side_of_null(result.pi_lower, result.pi_upper)
        pi_flag = pi_side == "includes"
        values.update(pi_lower=result.pi_lower, pi_upper=result.pi_upper)
        text = (
            f"prediction interval {shown(result.measure, result.pi_lower)} to "
            f"{shown(result.measure, result.pi_upper)}, {_side_words(pi_side)}"
        )
        if threshold is not None:
            both = result.pi_lower < -threshold and result.pi_upper > threshold
            values["pi_beyond_threshold_both_sides"] = both
            text += (
                "; it reaches beyond the important threshold on both sides"
                if both
                else "; it does not reach beyond the important threshold on both sides"
            )
        parts.append(text)
    if i2 >= I2_CONSIDERABLE and q_flag and pi_flag is not False:
        proposed = -2
    elif i2 >= I2_SUBSTANTIAL and (q_flag or pi_flag):
        proposed = -1
    else:
        proposed = 0
    rule = (
        "-1 when I² >= 50% with Q p < 0.10 or a prediction interval including the null; "
        "-2 when I² >= 75% with Q p < 0.10 and the prediction interval including the null"
    )
    return _rating("inconsistency", proposed, "; ".join(parts), override, values, rule=rule)


# --- indirectness ----------------------------------------------------------------------------


def rate_indirectness(judgement: Override | None, override: Override | None = None) -> DomainRating:
    """Indirectness as the reviewer judged it from the protocol (GRADE 8); 0 when not judged."""
    if judgement is None:
        return _rating(
            "indirectness",
            0,
            "not judged: indirectness (population, intervention, "
            "comparator, outcome against the protocol's question) is the reviewer's "
            "judgement and none was given, so it is not rated down",
            override,
            {},
        )
    judgement.check("indirectness", (0, -1, -2))
    reason = (
        f"the reviewer's judgement from the protocol ({judgement.reviewer}): {judgement.reason}"
    )
    return _rating(
        "indirectness", int(judgement.rating), reason, override, {"judged_by": judgement.reviewer}
    )


# --- imprecision ---------------------------------------------------------------------------


def rate_imprecision(
    result: MetaResult,
    *,
    threshold: float | None,
    threshold_source: str,
    participants: int | None,
    ois: int | None,
    ois_basis: str,
    override: Override | None = None,
) -> DomainRating:
    """Imprecision from the CI against the null and the MID, and the OIS."""
    lower, upper, estimate = result.ci_lower, result.ci_upper, result.estimate
    if lower is None or upper is None or estimate is None:
        return _rating(
            "imprecision",
            -2,
            "the pooled effect has no confidence interval: the "
            "estimate is as imprecise as it can be",
            override,
            {},
        )
    side = side_of_null(lower, upper)
    includes_null = side == "includes"
    values: dict[str, Any] = {
        "ci_lower": lower,
        "ci_upper": upper,
        "includes_null": includes_null,
        "threshold": threshold,
        "participants": participants,
        "ois": ois,
    }
    parts = [f"{effect_text(result.measure, estimate, lower, upper)}, CI {_side_words(side)}"]
    both_sides = crosses = False
    if threshold is None:
        parts.append(f"{threshold_source}: the CI is judged against the null only")
    else:
        both_sides = lower <= -threshold and upper >= threshold
        important = threshold if estimate >= 0 else -threshold
        crosses = not includes_null and lower < important < upper
        values.update(both_sides=both_sides, crosses_threshold=crosses)
        where = (
            "includes appreciable effects on both sides of the null"
            if both_sides
            else "crosses the important threshold (it includes important and unimportant effects)"
            if crosses
            else "does not cross the important threshold"
        )
        parts.append(
            f"threshold {shown(result.measure, important)} and "
            f"{shown(result.measure, -important)} ({threshold_source}): the CI {where}"
        )
    ois_met: bool | None = None
    if ois is None:
        parts.append(f"optimal information size not computed: {ois_basis}")
    elif participants is None:
        parts.append(
            f"the optimal information size is {format_count(ois)} ({ois_basis}), but "
            "the number of participants was not given: not checked"
        )
    else:
        ois_met = participants >= ois
        parts.append(
            f"{format_count(participants)} participants against an optimal information size of "
            f"{format_count(ois)} ({ois_basis}): " + ("met" if ois_met else "not met")
        )
    values["ois_met"] = ois_met
    if both_sides:
        proposed = -2
    elif includes_null or crosses or ois_met is False:
        proposed = -1
    else:
        proposed = 0
    rule = (
        "-2 when the CI includes appreciable benefit and harm; -1 when it includes the "
        "null, crosses the threshold, or the optimal information size is not met"
    )
    return _rating("imprecision", proposed, "; ".join(parts), override, values, rule=rule)


# --- publication bias -----------------------------------------------------------------------


def rate_publication_bias(
    result: MetaResult, small_study: Any | None, override: Override | None = None
) -> DomainRating:
    """Publication bias from Egger's test and trim-and-fill, with k >= 10 (GRADE 5)."""
    if small_study is None:
        return _rating(
            "publication_bias",
            0,
            "no analysis of small-study effects was given: "
            "publication bias not assessed by srma (undetected)",
            override,
            {"k": result.k},
        )
    k = int(small_study.k)
    values: dict[str, Any] = {"k": k}
    if k < MIN_STUDIES_EGGER:
        return _rating(
            "publication_bias",
            0,
            f"k = {format_count(k)}, fewer than {MIN_STUDIES_EGGER} studies: Egger's test and "
            "trim-and-fill have too little power to tell chance from asymmetry (Cochrane "
            "Handbook 13.3.5.4) and are not used; publication bias undetected, the reviewer "
            "may still suspect it",
            override,
            values,
        )
    parts = []
    egger_flag = False
    egger = small_study.egger
    if egger is None:
        parts.append("Egger's test is undefined for these data")
    else:
        egger_flag = egger.pvalue < EGGER_ALPHA
        values.update(egger_pvalue=egger.pvalue, egger_intercept=egger.coefficient)
        parts.append(
            f"Egger's test: bias coefficient {format_number(egger.coefficient, 3)}, "
            f"{format_p(egger.pvalue)}" + (" (< 0.10)" if egger_flag else "")
        )
    fill_flag = False
    fill = small_study.trimfill
    if fill is None:
        parts.append("trim-and-fill is undefined for these data")
    else:
        filled_side = side_of_null(fill.ci_lower, fill.ci_upper)
        fill_flag = filled_side != side_of_null(result.ci_lower, result.ci_upper)
        values.update(
            trimfill_k0=fill.k0,
            trimfill_estimate=fill.estimate,
            trimfill_changes_conclusion=fill_flag,
        )
        parts.append(
            f"trim-and-fill adds {format_count(fill.k0)} "
            f"{'study' if fill.k0 == 1 else 'studies'} on the {fill.side}: "
            f"{effect_text(result.measure, fill.estimate, fill.ci_lower, fill.ci_upper)}, CI "
            f"{_side_words(filled_side)}: the conclusion "
            + ("changes" if fill_flag else "does not change")
        )
    proposed = -1 if (egger_flag or fill_flag) else 0
    rule = "-1 when Egger's p < 0.10 or trim-and-fill changes the conclusion"
    return _rating("publication_bias", proposed, "; ".join(parts), override, values, rule=rule)


# --- rating up --------------------------------------------------------------------------------


def _no_upgrade_reason(design: str, downgraded: bool) -> str | None:
    if design != "observational":
        return (
            f"{design} evidence starts high: rating up is for observational evidence "
            "(GRADE guidelines 9)"
        )
    if downgraded:
        return "a domain is rated down: GRADE rates up only evidence with no serious limitation"
    return None


def rate_large_effect(
    result: MetaResult, design: str, downgraded: bool, override: Override | None = None
) -> DomainRating:
    """A large effect (GRADE 9): ratio >= 2 (<= 0.5) +1, >= 5 (<= 0.2) +2, CI excluding 1."""
    blocked = _no_upgrade_reason(design, downgraded)
    if blocked is not None:
        return _rating("large_effect", 0, blocked, override, {})
    if result.measure not in RISK_RATIOS or result.estimate is None:
        return _rating(
            "large_effect",
            0,
            f"GRADE 9's thresholds of a large effect are for ratios "
            f"(RR, OR, HR); the measure is {result.measure or 'generic'}",
            override,
            {},
        )
    ratio = math.exp(abs(result.estimate))
    side = side_of_null(result.ci_lower, result.ci_upper)
    values = {"ratio_away_from_null": ratio, "ci_excludes_null": side != "includes"}
    proposed = 0

    def reaches(threshold: float) -> bool:  # on the log scale, equal to rounding included
        bound = math.log(threshold)
        return abs(result.estimate) >= bound or math.isclose(abs(result.estimate), bound)

    if side != "includes":
        proposed = 2 if reaches(VERY_LARGE_RATIO) else 1 if reaches(LARGE_RATIO) else 0
    reason = (
        f"{effect_text(result.measure, result.estimate, result.ci_lower, result.ci_upper)}: "
        f"{format_number(ratio, 2)}-fold from the null, CI {_side_words(side)}"
    )
    rule = "+1 from 2-fold, +2 from 5-fold, the CI excluding the null"
    return _rating("large_effect", proposed, reason, override, values, rule=rule)


def rate_dose_response(
    regression: Any | None, design: str, downgraded: bool, override: Override | None = None
) -> DomainRating:
    """A dose-response gradient (GRADE 9): the slope of a meta-regression on dose, p < 0.05."""
    blocked = _no_upgrade_reason(design, downgraded)
    if blocked is not None:
        return _rating("dose_response", 0, blocked, override, {})
    if regression is None or len(regression.names) < 2:
        return _rating(
            "dose_response",
            0,
            "no meta-regression on dose was given: no dose-response gradient assessed",
            override,
            {},
        )
    name = regression.names[1]
    slope, p = float(regression.estimate[1]), float(regression.pvalue[1])
    proposed = 1 if p < DOSE_ALPHA else 0
    reason = f"meta-regression slope on {name}: {format_number(slope, 4)} per unit, {format_p(p)}"
    return _rating(
        "dose_response",
        proposed,
        reason,
        override,
        {"moderator": name, "slope": slope, "pvalue": p},
        rule="+1 when the slope's p < 0.05",
    )
