"""Agreement between two raters: Cohen's kappa and weighted kappa with their CIs, PABAK, Fleiss.

* Cohen (1960), Educ Psychol Meas 20:37-46: ``kappa = (p_o - p_e) / (1 - p_e)``.
* Weighted kappa (Cohen 1968, Psychol Bull 70:213-220) for ordered categories,
  with agreement weights ``w_ij`` (``w_ii = 1``): ``p_o = sum w_ij p_ij``,
  ``p_e = sum w_ij p_i. p_.j``, ``kappa_w = (p_o - p_e) / (1 - p_e)``; linear
  weights ``1 - |i - j| / (q - 1)`` (Cicchetti & Allison 1971, Am J EEG
  Technol 11:101-109) or quadratic ``1 - (i - j)^2 / (q - 1)^2`` (Fleiss &
  Cohen 1973, Educ Psychol Meas 33:613-619).  Unweighted kappa is the
  identity weights.
* The confidence interval is Wald's, ``kappa ± z se``, with the large-sample
  (non-null) variance of Fleiss, Cohen & Everitt (1969), Psychol Bull
  72:323-327:
  ``var = [sum_ij p_ij (w_ij - (wbar_i. + wbar_.j)(1 - kappa))^2
  - (kappa - p_e (1 - kappa))^2] / (n (1 - p_e)^2)``, where
  ``wbar_i. = sum_j p_.j w_ij`` and ``wbar_.j = sum_i p_i. w_ij``.  vcd's
  ``Kappa`` computes the same; psych's ``cohen.kappa`` agrees for unweighted
  kappa but uses ``p_j. sum_k w_jk`` for ``wbar_.j`` in the weighted variance
  (tests/reference/kappa.R), so its weighted standard errors differ.
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
from typing import Literal

import numpy as np
from scipy.stats import norm

from srma.errors import InputError

Weighting = Literal["unweighted", "linear", "quadratic"]
WEIGHTINGS: tuple[str, ...] = ("unweighted", "linear", "quadratic")


def agreement_weights(q: int, weighting: str) -> np.ndarray:
    """The ``(q, q)`` agreement weights: identity, linear or quadratic in ``|i - j| / (q - 1)``."""
    if weighting not in WEIGHTINGS:
        raise InputError(f"unknown weighting {weighting!r}; expected {', '.join(WEIGHTINGS)}")
    if weighting == "unweighted":
        return np.eye(q)
    if q < 2:
        raise InputError("weighted kappa needs at least 2 ordered categories")
    distance = np.abs(np.subtract.outer(np.arange(q), np.arange(q))) / (q - 1)
    return 1.0 - (distance if weighting == "linear" else distance**2)


@dataclass(frozen=True)
class KappaArrays:
    """Kappa of a batch of ``(q, q)`` tables, one value per table (NaN where undefined)."""

    n: np.ndarray
    observed_agreement: np.ndarray
    expected_agreement: np.ndarray
    kappa: np.ndarray
    se: np.ndarray
    defined: np.ndarray  # False where p_e = 1 (both raters used one category) or n = 0


def kappa_tables(tables: np.ndarray, weights: np.ndarray) -> KappaArrays:
    """(Weighted) kappa and its Fleiss-Cohen-Everitt standard error for tables ``(batch, q, q)``.

    ``tables[b, i, j]`` counts items rater 1 put in category ``i`` and rater 2
    in ``j``.  Written out here (no library gives weighted kappa's non-null
    variance batched over tables); the formula is the module docstring's.
    """
    counts = np.asarray(tables, dtype=float)
    n = counts.sum(axis=(1, 2))
    safe_n = np.where(n > 0, n, 1.0)
    p = counts / safe_n[:, None, None]
    rows, cols = p.sum(axis=2), p.sum(axis=1)  # p_i., p_.j
    observed = np.einsum("ij,bij->b", weights, p)
    expected = np.einsum("ij,bi,bj->b", weights, rows, cols)
    defined = (n > 0) & (expected < 1.0)
    spare = np.where(defined, 1.0 - expected, 1.0)
    kappa = np.where(defined, (observed - expected) / spare, np.nan)
    k = np.where(defined, kappa, 0.0)
    row_mean = np.einsum("ij,bj->bi", weights, cols)  # wbar_i. = sum_j p_.j w_ij
    col_mean = np.einsum("ij,bi->bj", weights, rows)  # wbar_.j = sum_i p_i. w_ij
    deviation = (
        weights[None] - (row_mean[:, :, None] + col_mean[:, None, :]) * (1.0 - k)[:, None, None]
    )
    variance = (np.sum(p * deviation**2, axis=(1, 2)) - (k - expected * (1.0 - k)) ** 2) / (
        safe_n * spare**2
    )
    se = np.where(defined, np.sqrt(np.maximum(variance, 0.0)), np.nan)
    return KappaArrays(n, observed, expected, kappa, se, defined)


def _table(
    rater1: Sequence[object], rater2: Sequence[object], categories: Sequence[object] | None
) -> tuple[list[str], np.ndarray]:
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
    if len(set(labels)) != len(labels):
        raise InputError(f"the categories {labels} repeat a category")
    unknown = sorted((set(first) | set(second)) - set(labels))
    if unknown:
        raise InputError(f"decisions {unknown} are not among the categories {labels}")
    index = {label: i for i, label in enumerate(labels)}
    counts = np.zeros((len(labels), len(labels)))
    np.add.at(counts, ([index[x] for x in first], [index[x] for x in second]), 1)
    return labels, counts


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
    labels, counts = _table(rater1, rater2, categories)
    q = len(labels)
    result = kappa_tables(counts[None], np.eye(q))
    if not result.defined[0]:
        raise InputError("kappa is undefined: both raters used a single category throughout")
    kappa, se = float(result.kappa[0]), float(result.se[0])
    observed = float(result.observed_agreement[0])
    crit = norm.isf((1.0 - level) / 2.0)
    return CohenKappa(
        n=int(result.n[0]),
        categories=tuple(labels),
        table=tuple(tuple(int(x) for x in r) for r in counts),
        observed_agreement=observed,
        expected_agreement=float(result.expected_agreement[0]),
        kappa=kappa,
        se=se,
        ci_lower=kappa - crit * se,
        ci_upper=kappa + crit * se,
        pabak=float((q * observed - 1.0) / (q - 1.0)) if q > 1 else 1.0,
        level=level,
    )


@dataclass(frozen=True)
class WeightedKappa:
    """Weighted kappa of two raters on ordered categories (Cohen 1968)."""

    n: int
    categories: tuple[str, ...]  # in order, least to most
    weighting: str
    table: tuple[tuple[int, ...], ...]  # [rater 1][rater 2]
    observed_agreement: float  # weighted
    expected_agreement: float  # weighted
    kappa: float
    se: float
    ci_lower: float
    ci_upper: float
    level: float


def weighted_kappa(
    rater1: Sequence[object],
    rater2: Sequence[object],
    *,
    categories: Sequence[object],
    weighting: Weighting = "linear",
    level: float = 0.95,
) -> WeightedKappa:
    """Weighted kappa of two raters' judgements on the same items, categories given in order.

    ``categories`` fixes the order the weights read (and keeps a category no
    rater used in ``q``).  ``weighting="unweighted"`` gives Cohen's kappa.
    """
    labels, counts = _table(rater1, rater2, categories)
    result = kappa_tables(counts[None], agreement_weights(len(labels), weighting))
    if not result.defined[0]:
        raise InputError("kappa is undefined: the expected weighted agreement is 1")
    kappa, se = float(result.kappa[0]), float(result.se[0])
    crit = norm.isf((1.0 - level) / 2.0)
    return WeightedKappa(
        n=int(result.n[0]),
        categories=tuple(labels),
        weighting=weighting,
        table=tuple(tuple(int(x) for x in r) for r in counts),
        observed_agreement=float(result.observed_agreement[0]),
        expected_agreement=float(result.expected_agreement[0]),
        kappa=kappa,
        se=se,
        ci_lower=kappa - crit * se,
        ci_upper=kappa + crit * se,
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
