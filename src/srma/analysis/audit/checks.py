"""The numerical checks of one reported pooled result.

Every check takes the printed numbers with the intervals their rounding
allows (:mod:`srma.analysis.audit.reported`) and fails only when no value
inside those intervals is consistent.  Formulas:

* p from a CI (Altman & Bland 2011, BMJ 343:d2090): on the analysis scale
  (log for ratios), ``SE = (upper - lower) / (2 z_0.975)``, ``z = estimate /
  SE``, ``p = 2 (1 - Phi(|z|))``; a 95% CI from the normal distribution is
  assumed (a random-effects CI from t, as Hartung-Knapp's, is wider for the
  same p, so the finding stays a warning and says so).
* ``I² = 100 (Q - df) / Q``, truncated at 0, with ``df = k - 1`` (Higgins &
  Thompson 2002, Stat Med 21:1539-1558); conversely ``Q = df / (1 - I²)``.
* Q's p-value is the upper tail of chi² on df (Cochran 1954).

A check whose inputs already failed a check of possibility (a CI upside
down, a ratio bound <= 0, a p-value above 1) is not run on them.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from srma.analysis.audit.reported import Reported, overlap
from srma.analysis.audit.results import Finding, finding_for
from srma.analysis.audit.table import COUNT_COLUMNS, P_COLUMNS, PublishedRow
from srma.formatting import format_number, format_p_value
from srma.stats.heterogeneity import i2_from_q
from srma.stats.inference import chi2_pvalue, critical_value, two_sided_pvalue

#: ``z_0.975``, the normal quantile of a 95% CI (1.96).
Z_95 = float(critical_value(0.95))


def _range(low: float, high: float, digits: int = 4) -> str:
    return f"{format_number(low, digits)} to {format_number(high, digits)}"


def _p_range(low: float, high: float) -> str:
    return f"{format_p_value(low)} to {format_p_value(high)}"


# --- counts ------------------------------------------------------------------------------


def _whole(number: Reported, minimum: int) -> bool:
    return number.relation == "=" and float(number.value).is_integer() and number.value >= minimum


def count(row: PublishedRow, column: str) -> int | None:
    """The count in ``column``, or None where it is empty or not a count (see ``count_whole``)."""
    number = row.get(column)
    if number is None or not _whole(number, 1 if column == "k" else 0):
        return None
    return int(number.value)


def check_counts(row: PublishedRow) -> list[Finding]:
    """``count_whole``, ``n_sum`` and ``q_df``."""
    findings = []
    for column in COUNT_COLUMNS:
        number = row.get(column)
        if number is not None and count(row, column) is None:
            least = 1 if column == "k" else 0
            findings.append(finding_for(row, "count_whole", number.text, None,
                                        f"{column} must be a whole number >= {least}"))  # fmt: skip
    total, treatment, control = (count(row, c) for c in ("n_total", "n_treatment", "n_control"))
    arms = None if treatment is None or control is None else treatment + control
    if total is not None and arms is not None and arms != total:
        findings.append(finding_for(
            row, "n_sum", str(total), arms,
            f"n_treatment + n_control = {treatment} + {control} = {arms}, but n_total is {total}",
        ))  # fmt: skip
    k, q_df = count(row, "k"), count(row, "q_df")
    if k is not None and q_df is not None and q_df != k - 1:
        findings.append(finding_for(row, "q_df", str(q_df), k - 1,
                                    f"k = {k} studies give df = k - 1 = {k - 1}"))  # fmt: skip
    return findings


def check_ranges(row: PublishedRow) -> list[Finding]:
    """``p_range`` (each p-value in [0, 1]) and ``i2_range`` (I² in [0, 100])."""
    findings = []
    for column in P_COLUMNS:
        p = row.get(column)
        if p is not None and not _p_possible(p):
            findings.append(finding_for(row, "p_range", p.text, None,
                                        f"{column} must lie between 0 and 1"))  # fmt: skip
    i2 = row.get("i2_percent")
    if i2 is not None and not _i2_possible(i2):
        findings.append(finding_for(row, "i2_range", i2.text, None,
                                    "I² must lie between 0 and 100 percent"))  # fmt: skip
    return findings


def _p_possible(p: Reported) -> bool:
    return overlap(p.low, p.high, 0.0, 1.0)


def _i2_possible(i2: Reported) -> bool:
    return overlap(i2.low, i2.high, 0.0, 100.0)


# --- the estimate and its interval ----------------------------------------------------


def _scales(row: PublishedRow, numbers: list[Reported]) -> list[str]:
    """The analysis scales to try: ``log`` for ratios, ``difference`` otherwise; both where
    the measure is not given (and every number is positive)."""
    if row.ratio:
        return ["log"]
    if row.measure is not None:
        return ["difference"]
    return ["difference", "log"] if all(number.value > 0 for number in numbers) else ["difference"]


def _on(scale: str, number: Reported) -> tuple[float, float, float]:
    """``(low, value, high)`` of ``number`` on ``scale`` (``log`` of a positive number)."""
    if scale == "difference":
        return number.low, number.value, number.high
    tiny = math.ulp(0.0)
    return math.log(max(number.low, tiny)), math.log(number.value), math.log(number.high)


def _back(scale: str, value: float) -> float:
    return math.exp(value) if scale == "log" else value


def check_interval(row: PublishedRow) -> list[Finding]:
    """``ci_order``, ``ratio_positive``, ``direction``, ``estimate_in_ci``, ``ci_symmetry``
    and ``p_from_ci`` (the later ones only where the earlier hold)."""
    estimate, lower, upper = row.get("estimate"), row.get("ci_lower"), row.get("ci_upper")
    present = [number for number in (estimate, lower, upper) if number is not None]
    findings = []
    if row.ratio:
        for number in present:
            if number.value <= 0:
                why = f"a {row.measure} is a ratio, so it is > 0"
                findings.append(finding_for(row, "ratio_positive", number.text, None, why))
        if findings:
            return findings
    if lower is None or upper is None:
        return findings
    if lower.low > upper.high:
        return [finding_for(row, "ci_order", f"({lower.text}, {upper.text})", None,
                            "the lower bound is above the upper bound")]  # fmt: skip
    if estimate is None:
        return findings
    scale = _scales(row, present)[0]
    midpoint = _back(scale, (_on(scale, lower)[1] + _on(scale, upper)[1]) / 2)
    if estimate.high < lower.low or estimate.low > upper.high:
        null = 1.0 if scale == "log" else 0.0
        mirror = 1.0 / estimate.value if scale == "log" else -estimate.value
        flipped = estimate.value != null and lower.low <= mirror <= upper.high
        check = "direction" if flipped else "estimate_in_ci"
        why = (f"the estimate lies outside its CI ({lower.text}, {upper.text})"
               + (f", and its mirror image {format_number(mirror, 4)} lies inside: a sign "
                  "(or ratio) flipped?" if flipped else ""))  # fmt: skip
        return [
            finding_for(
                row,
                check,
                estimate.text,
                midpoint,
                f"{why}; recomputed: the CI's midpoint on the {scale} scale",
            )
        ]
    findings += _symmetry(row, estimate, lower, upper, present)
    p = row.get("p_value")
    if p is not None and _p_possible(p):
        findings += _p_from_ci(row, estimate, lower, upper, p, present)
    return findings


def _symmetry(
    row: PublishedRow, estimate: Reported, lower: Reported, upper: Reported, present: list[Reported]
) -> list[Finding]:
    scales = _scales(row, present)
    middles = {}
    for scale in scales:
        (l_low, l_value, l_high), (u_low, u_value, u_high) = _on(scale, lower), _on(scale, upper)
        e_low, _, e_high = _on(scale, estimate)
        if overlap((l_low + u_low) / 2, (l_high + u_high) / 2, e_low, e_high):
            return []
        middles[scale] = ((l_low + u_low) / 2, (l_value + u_value) / 2, (l_high + u_high) / 2)
    scale = scales[0]
    low, value, high = (_back(scale, end) for end in middles[scale])
    middle, allowed = value, _range(low, high)
    tried = " and ".join(f"the {name} scale" for name in scales)
    return [finding_for(
        row, "ci_symmetry", estimate.text, middle,
        f"a Wald CI is symmetric about the estimate on {tried}; its midpoint is "
        f"{format_number(middle, 4)} (rounding allows {allowed}), not {estimate.text} "
        "(a profile-likelihood or exact CI is not symmetric)",
    )]  # fmt: skip


def _p_of(z: float) -> float:
    return float(two_sided_pvalue(z))


def _p_from_ci(
    row: PublishedRow,
    estimate: Reported,
    lower: Reported,
    upper: Reported,
    p: Reported,
    present: list[Reported],
) -> list[Finding]:
    scales = _scales(row, present)
    ranges = []
    for scale in scales:
        e_low, e_value, e_high = _on(scale, estimate)
        l_low, l_value, l_high = _on(scale, lower)
        u_low, u_value, u_high = _on(scale, upper)
        widest, narrowest = u_high - l_low, u_low - l_high
        smallest = 0.0 if e_low <= 0 <= e_high else min(abs(e_low), abs(e_high))
        largest = max(abs(e_low), abs(e_high))
        z_low = smallest * 2 * Z_95 / widest
        z_high = largest * 2 * Z_95 / narrowest if narrowest > 0 else math.inf
        p_low, p_high = _p_of(z_high), _p_of(z_low)
        if overlap(p_low, p_high, max(p.low, 0.0), min(p.high, 1.0)):
            return []
        width = u_value - l_value
        point = _p_of(e_value / (width / (2 * Z_95))) if width > 0 else math.nan
        ranges.append((scale, point, p_low, p_high, l_value, u_value))
    scale, point, p_low, p_high, l_value, u_value = ranges[0]
    excludes_null = l_value > 0 or u_value < 0
    significant = p.value < 0.05 or (p.relation == "<" and p.value <= 0.05)
    decision = ""
    if excludes_null != significant:
        decision = (f"; the CI {'excludes' if excludes_null else 'includes'} the null but the "
                    f"p-value is {'not ' if not significant else ''}below 0.05")  # fmt: skip
    return [finding_for(
        row, "p_from_ci", p.text, point,
        f"p = 2(1 - Phi(|z|)), z = estimate / SE, SE = (upper - lower) / (2 x 1.96) on the "
        f"{scale} scale, assuming a 95% CI from the z test (a random-effects CI from t, as "
        f"Hartung-Knapp's, gives a larger p); rounding allows p from "
        f"{_p_range(p_low, p_high)}{decision}",
    )]  # fmt: skip


# --- heterogeneity ---------------------------------------------------------------------


def _df(row: PublishedRow) -> int | None:
    """Q's degrees of freedom: ``q_df`` where given, else ``k - 1``; None below 1."""
    q_df = count(row, "q_df")
    if q_df is None:
        k = count(row, "k")
        q_df = None if k is None else k - 1
    return q_df if q_df is not None and q_df >= 1 else None


def i2_of(q: float, df: int) -> float:
    """``I² = 100 (Q - df) / Q`` percent, truncated at 0 (Higgins & Thompson 2002)."""
    return float(i2_from_q(np.float64(q), np.float64(df)))


def q_of(i2: float, df: int) -> float:
    """``Q = df / (1 - I²/100)``, the Q that gives ``i2`` percent (``inf`` at 100)."""
    return math.inf if i2 >= 100.0 else df / (1.0 - i2 / 100.0)


def _q_p(q: float, df: int) -> float:
    return 0.0 if math.isinf(q) else float(chi2_pvalue(q, df))


def check_heterogeneity(row: PublishedRow) -> list[Finding]:
    """``i2_from_q``, ``q_p_value`` and ``q_from_i2``."""
    df = _df(row)
    if df is None:
        return []
    q, i2, q_p = row.get("q"), row.get("i2_percent"), row.get("q_p_value")
    i2 = i2 if i2 is not None and _i2_possible(i2) else None
    q_p = q_p if q_p is not None and _p_possible(q_p) else None
    q = q if q is not None and q.high >= 0 else None
    source = f"df = {df}" if count(row, "q_df") is not None else f"df = k - 1 = {df}"
    findings = []
    if q is not None and i2 is not None:
        low, high = i2_of(max(q.low, 0.0), df), i2_of(q.high, df)
        if not overlap(low, high, i2.low, i2.high):
            findings.append(finding_for(
                row, "i2_from_q", i2.text, i2_of(q.value, df),
                f"I² = 100 (Q - df) / Q with Q = {q.text}, {source}; rounding allows "
                f"{_range(low, high, 2)} percent",
            ))  # fmt: skip
    if q is not None and q_p is not None:
        findings += _q_p_finding(row, "q_p_value", q_p, max(q.low, 0.0), q.high, q.value, df,
                                 f"the chi² survival of Q = {q.text} on {source}")  # fmt: skip
    elif i2 is not None and q_p is not None:
        i2_low, i2_high = max(i2.low, 0.0), min(i2.high, 100.0)
        q_low = 0.0 if i2_low <= 0 else q_of(i2_low, df)
        q_high = q_of(i2_high, df)
        point = q_of(i2.value, df) if i2.value > 0 else None
        shown = format_number(point, 4) if point is not None else f"at most {df}"
        findings += _q_p_finding(
            row, "q_from_i2", q_p, q_low, q_high, point, df,
            f"Q = df / (1 - I²) = {shown} from I² = {i2.text}% and {source} (rounding allows "
            f"Q from {_range(q_low, q_high)}), then the chi² survival on {df} df",
        )  # fmt: skip
    return findings


def _q_p_finding(
    row: PublishedRow,
    check: str,
    q_p: Reported,
    q_low: float,
    q_high: float,
    q_point: float | None,
    df: int,
    how: str,
) -> list[Finding]:
    p_low, p_high = _q_p(q_high, df), _q_p(q_low, df)
    if overlap(p_low, p_high, max(q_p.low, 0.0), min(q_p.high, 1.0)):
        return []
    point = None if q_point is None else _q_p(q_point, df)
    return [finding_for(row, check, q_p.text, point,
                        f"{how}; rounding allows p from {_p_range(p_low, p_high)}")]  # fmt: skip


#: The numerical checks, in the order a row's findings are listed.
ROW_CHECKS: tuple[Callable[[PublishedRow], list[Finding]], ...] = (
    check_counts,
    check_ranges,
    check_interval,
    check_heterogeneity,
)
