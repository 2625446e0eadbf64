"""Agreement between screeners: percent agreement, Cohen's kappa with its CI, PABAK, Fleiss' kappa.

* Cohen (1960), Educ Psychol Meas 20:37-46: ``kappa = (p_o - p_e) / (1 - p_e)``,
  with the large-sample variance of Fleiss, Cohen & Everitt (1969), Psychol
  Bull 72:323-327, for its confidence interval.
* PABAK, the prevalence- and bias-adjusted kappa (Byrt, Bishop & Carlin 1993,
  J Clin Epidemiol 46:423-429): ``(q p_o - 1) / (q - 1)`` for q categories,
  ``2 p_o - 1`` for two.
* Fleiss (1971), Psychol Bull 76:378-382, for any number of raters, with the
  variance under the null hypothesis of Fleiss, Nee & Landis (1979), Psychol
  Bull 86:974-977.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from srma.errors import InputError


@dataclass(frozen=True)
class CohenKappa:
    """Agreement of two raters on the same items."""

    n: int
    categories: tuple[str, ...]
    table: tuple[tuple[int, ...], ...]  # [rater 1][rater 2]
    observed_agreement: float
    expected_agreement: float
    kappa: float
    se: float
    ci_lower: float
    ci_upper: float
    pabak: float
    level: float


def cohen_kappa(
    rater1: Sequence[object],
    rater2: Sequence[object],
    *,
    categories: Sequence[object] | None = None,
    level: float = 0.95,
) -> CohenKappa:
    """Cohen's kappa of two raters' decisions on the same items, in the same order."""
    first, second = [str(x) for x in rater1], [str(x) for x in rater2]
    if len(first) != len(second):
        raise InputError(
            f"the raters judged {len(first)} and {len(second)} items; kappa needs the same items"
        )
    if not first:
        raise InputError("no items to compare")
    labels = (
        [str(c) for c in categories] if categories is not None else sorted(set(first) | set(second))
    )
    unknown = sorted((set(first) | set(second)) - set(labels))
    if unknown:
        raise InputError(f"decisions {unknown} are not among the categories {labels}")
    index = {label: i for i, label in enumerate(labels)}
    counts = np.zeros((len(labels), len(labels)))
    np.add.at(counts, ([index[x] for x in first], [index[x] for x in second]), 1)
    n = len(first)
    p = counts / n
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    observed = float(np.trace(p))
    expected = float(rows @ cols)
    q = len(labels)
    if expected == 1.0:
        raise InputError("kappa is undefined: both raters used a single category throughout")
    kappa = (observed - expected) / (1.0 - expected)
    # Fleiss, Cohen & Everitt (1969), large-sample variance of kappa
    weight_sum = rows[:, None] + cols[None, :]  # p_i. + p_.j
    diagonal = np.sum(np.diag(p) * (1.0 - np.diag(weight_sum) * (1.0 - kappa)) ** 2)
    off = p * (cols[:, None] + rows[None, :]) ** 2  # p_ij (p_.i + p_j.)²
    off_diagonal = (1.0 - kappa) ** 2 * (off.sum() - np.trace(off))
    variance = (diagonal + off_diagonal - (kappa - expected * (1.0 - kappa)) ** 2) / (
        n * (1.0 - expected) ** 2
    )
    se = float(np.sqrt(max(variance, 0.0)))
    crit = norm.isf((1.0 - level) / 2.0)
    return CohenKappa(
        n=n,
        categories=tuple(labels),
        table=tuple(tuple(int(x) for x in r) for r in counts),
        observed_agreement=observed,
        expected_agreement=expected,
        kappa=float(kappa),
        se=se,
        ci_lower=float(kappa - crit * se),
        ci_upper=float(kappa + crit * se),
        pabak=float((q * observed - 1.0) / (q - 1.0)) if q > 1 else 1.0,
        level=level,
    )


@dataclass(frozen=True)
class FleissKappa:
    """Agreement of several raters (the same number per item)."""

    items: int
    raters: int
    categories: tuple[str, ...]
    observed_agreement: float
    expected_agreement: float
    kappa: float
    se_null: float
    statistic: float
    pvalue: float


def fleiss_kappa(ratings: Sequence[Sequence[object]]) -> FleissKappa:
    """Fleiss' kappa from one row per item holding every rater's decision on it.

    ``P_i = sum_j n_ij (n_ij - 1) / (m (m - 1))``, ``P_bar`` their mean,
    ``P_e = sum_j p_j²``, ``kappa = (P_bar - P_e) / (1 - P_e)``; the test of
    kappa = 0 uses the null variance of Fleiss, Nee & Landis (1979).
    """
    rows = [[str(x) for x in row] for row in ratings]
    if not rows:
        raise InputError("no items to compare")
    raters = len(rows[0])
    for number, row in enumerate(rows, start=1):
        if len(row) != raters:
            raise InputError(
                f"item {number} has {len(row)} ratings, the first has {raters}", row=number
            )
    if raters < 2:
        raise InputError("Fleiss' kappa needs at least 2 raters per item")
    labels = sorted({x for row in rows for x in row})
    index = {label: i for i, label in enumerate(labels)}
    counts = np.zeros((len(rows), len(labels)))
    for i, row in enumerate(rows):
        for decision in row:
            counts[i, index[decision]] += 1
    items, m = counts.shape[0], raters
    shares = counts.sum(axis=0) / (items * m)
    agreement = (counts * (counts - 1)).sum(axis=1) / (m * (m - 1))
    observed = float(agreement.mean())
    expected = float(np.sum(shares**2))
    if expected == 1.0:
        raise InputError("kappa is undefined: every rater used a single category throughout")
    kappa = (observed - expected) / (1.0 - expected)
    spread = np.sum(shares * (1 - shares))
    variance = (
        2.0
        / (items * m * (m - 1))
        * (spread**2 - np.sum(shares * (1 - shares) * (1 - 2 * shares)))
        / spread**2
    )
    se = float(np.sqrt(variance))
    statistic = kappa / se
    return FleissKappa(
        items=items,
        raters=m,
        categories=tuple(labels),
        observed_agreement=observed,
        expected_agreement=expected,
        kappa=float(kappa),
        se_null=se,
        statistic=float(statistic),
        pvalue=float(2.0 * norm.sf(abs(statistic))),
    )
