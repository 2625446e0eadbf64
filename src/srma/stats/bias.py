"""Small-study effects and publication bias: regression and rank tests, trim-and-fill, fail-safe N.

Regression tests are meta-regressions (:mod:`srma.stats.regression`):

* Egger's test, classic form (Egger et al. 1997, BMJ 315:629-634; Stata's
  ``metabias``; metafor's ``regtest(model="lm")``): weighted least squares of
  ``y_i`` on ``se_i`` with weights ``1/v_i`` and an estimated dispersion, t on
  ``k - 2`` df.  The slope on ``se_i`` is Egger's bias coefficient (the
  intercept of the standard normal deviate ``y/se`` on precision ``1/se``); the
  intercept is the limit estimate at ``se = 0``.
* Egger's test, mixed-effects form (metafor's ``regtest()`` default): the same
  regression fitted as a meta-regression with the model's tau² method and test.
* Peters et al. (2006), JAMA 295:676-680: ``log OR`` on ``1/N`` weighted by
  ``S F / N`` (events, non-events, total), test of the slope.
* Harbord, Egger & Sterne (2006), Stat Med 25:3443-3457: ``Z/sqrt(V)`` on
  ``sqrt(V)`` by ordinary least squares, test of the intercept, with ``Z`` the
  efficient score ``a - (a + b)(a + c)/N`` and ``V`` its variance.

Begg & Mazumdar (1994), Biometrics 50:1088-1101: Kendall's tau between the
standardised deviates ``(y_i - mu_EE) / sqrt(v_i - 1/sum w)`` and ``v_i``, with
the exact p-value when there are no ties (as metafor's ``ranktest``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.stats import kendalltau, norm

from srma.stats.batch import FloatArray, as_batch
from srma.stats.pooling import pool
from srma.stats.regression import RegressionArrays, meta_regression, regression_batch


@dataclass(frozen=True)
class RegressionTest:
    """A test of one coefficient of a bias regression."""

    statistic: float
    df: float | None  # None for a z test
    pvalue: float
    coefficient: float  # the tested coefficient (Egger: the bias; Harbord: the intercept)
    coefficient_se: float
    limit_estimate: float | None  # Egger: the intercept, the effect at se = 0
    limit_ci_lower: float | None
    limit_ci_upper: float | None


def _one(fit: RegressionArrays, tested: int, limit: int | None) -> RegressionTest:
    df = float(fit.df[0])
    return RegressionTest(
        statistic=float(fit.statistic[0, tested]),
        df=None if np.isnan(df) else df,
        pvalue=float(fit.pvalue[0, tested]),
        coefficient=float(fit.beta[0, tested]),
        coefficient_se=float(fit.se[0, tested]),
        limit_estimate=None if limit is None else float(fit.beta[0, limit]),
        limit_ci_lower=None if limit is None else float(fit.ci_lower[0, limit]),
        limit_ci_upper=None if limit is None else float(fit.ci_upper[0, limit]),
    )


def egger_classic(y: FloatArray, v: FloatArray, level: float = 0.95) -> RegressionTest:
    """Egger's regression test as weighted least squares (needs k >= 3)."""
    X = np.column_stack([np.ones(y.size), np.sqrt(v)])
    fit = meta_regression(regression_batch(y, v, X), method="EE", test="knha", level=level)
    return _one(fit, tested=1, limit=0)


def egger_mixed(
    y: FloatArray, v: FloatArray, *, method: str, test: str, level: float = 0.95
) -> RegressionTest:
    """Egger's test as a meta-regression on ``se_i`` with the model's tau² method and test."""
    X = np.column_stack([np.ones(y.size), np.sqrt(v)])
    fit = meta_regression(regression_batch(y, v, X), method=method, test=test, level=level)
    return _one(fit, tested=1, limit=0)


def peters(
    y: FloatArray, a: FloatArray, b: FloatArray, c: FloatArray, d: FloatArray
) -> RegressionTest:
    """Peters' test: WLS of ``y`` (log OR) on ``1/N`` with weights ``(a+c)(b+d)/N``."""
    total = a + b + c + d
    weights = (a + c) * (b + d) / total
    X = np.column_stack([np.ones(y.size), 1.0 / total])
    fit = meta_regression(regression_batch(y, 1.0 / weights, X), method="EE", test="knha")
    return _one(fit, tested=1, limit=None)


def harbord(a: FloatArray, b: FloatArray, c: FloatArray, d: FloatArray) -> RegressionTest:
    """Harbord's score test: OLS of ``Z/sqrt(V)`` on ``sqrt(V)``, test of the intercept."""
    n1, n2, events, non_events = a + b, c + d, a + c, b + d
    total = n1 + n2
    score = a - n1 * events / total
    variance = n1 * n2 * events * non_events / (total**2 * (total - 1.0))
    root = np.sqrt(variance)
    X = np.column_stack([np.ones(a.size), root])
    fit = meta_regression(
        regression_batch(score / root, np.ones(a.size), X), method="EE", test="knha"
    )
    return _one(fit, tested=0, limit=None)


@dataclass(frozen=True)
class RankTest:
    """Begg and Mazumdar's rank correlation test."""

    tau: float
    pvalue: float
    exact: bool


def begg(y: FloatArray, v: FloatArray) -> RankTest:
    """Kendall's tau (tau-b) of standardised deviates and variances.

    p-value: exact when there are no ties (metafor's ``ranktest``), else the
    normal approximation with the variance corrected for ties (R's ``cor.test``).
    """
    w = 1.0 / v
    pooled = np.sum(w * y) / np.sum(w)
    deviates = (y - pooled) / np.sqrt(v - 1.0 / np.sum(w))
    ties = np.unique(deviates).size < y.size or np.unique(v).size < v.size
    method = "asymptotic" if ties else "exact"
    result = kendalltau(deviates, v, method=method)
    return RankTest(tau=float(result.statistic), pvalue=float(result.pvalue), exact=not ties)


@dataclass(frozen=True)
class TrimFillArrays:
    """Trim-and-fill (Duval & Tweedie 2000): how many studies are missing, and where."""

    k0: int
    k0_se: float
    side: str  # side where studies are missing: "left" or "right"
    imputed_y: FloatArray
    imputed_v: FloatArray
    iterations: int


def trim_and_fill(
    y: FloatArray,
    v: FloatArray,
    *,
    method: str,
    estimator: str = "L0",
    side: str | None = None,
    max_iterations: int = 100,
) -> TrimFillArrays:
    """Duval & Tweedie (2000), Biometrics 56:455-463; J Am Stat Assoc 95:89-98.

    The side is estimated, as in metafor, from the sign of the slope of a
    meta-regression on ``sqrt(v_i)`` (negative: studies missing on the right).
    Studies are ranked by their distance from the pooled estimate of the
    trimmed set; ``L0 = (4 S_r - k(k+1)) / (2k - 1)`` with ``S_r`` the sum of
    positive signed ranks, ``R0 = k - r* - 1`` with ``r*`` the largest rank of a
    negative deviation; the ``k0`` most extreme studies are trimmed and the
    estimate recomputed until ``k0`` is stable, then filled in as mirror
    images around the last trimmed estimate.
    """
    if estimator not in ("L0", "R0"):
        raise ValueError(f"estimator must be L0 or R0, got {estimator!r}")
    if side is None:
        X = np.column_stack([np.ones(y.size), np.sqrt(v)])
        slope = meta_regression(regression_batch(y, v, X), method=method).beta[0, 1]
        side = "right" if slope < 0 else "left"
    if side not in ("left", "right"):
        raise ValueError(f"side must be left or right, got {side!r}")
    sign = -1.0 if side == "right" else 1.0
    flipped = sign * y
    order = np.argsort(flipped, kind="stable")
    ys, vs = flipped[order], v[order]
    k = ys.size
    k0, previous, iterations, se_k0 = 0, -1, 0, 0.0
    beta = 0.0
    while k0 != previous:
        previous = k0
        iterations += 1
        if iterations > max_iterations:
            raise RuntimeError(f"trim-and-fill did not converge in {max_iterations} iterations")
        beta = float(
            pool(as_batch(ys[: k - k0], vs[: k - k0]), method=method, tau2_interval=False).estimate[
                0
            ]
        )
        centred = ys - beta
        # deviations at rounding level are ties with the estimate, not signs
        centred[np.abs(centred) <= 1e-12 * (1.0 + abs(beta))] = 0.0
        ranks = np.empty(k)
        ranks[np.argsort(np.abs(centred), kind="stable")] = np.arange(1, k + 1)
        signed = np.sign(centred) * ranks
        if estimator == "R0":
            negative = -signed[signed < 0]
            k0_raw = k - (negative.max() if negative.size else 0.0) - 1.0
            se_k0 = float(np.sqrt(2.0 * max(0.0, k0_raw) + 2.0))
        else:
            sum_positive = signed[signed > 0].sum()
            k0_raw = (4.0 * sum_positive - k * (k + 1)) / (2.0 * k - 1.0)
            variance = (
                k * (k + 1) * (2 * k + 1)
                + 10 * k0_raw**3
                + 27 * k0_raw**2
                + 17 * k0_raw
                - 18 * k * k0_raw**2
                - 18 * k * k0_raw
                + 6 * k**2 * k0_raw
            ) / 24.0
            # the variance formula can turn negative; metafor then reports NaN
            se_k0 = 4.0 * np.sqrt(variance) / (2.0 * k - 1.0) if variance >= 0 else float("nan")
        k0 = int(max(0, np.round(k0_raw)))
    imputed = sign * (2.0 * beta - ys[k - k0 :]) if k0 else np.empty(0)
    return TrimFillArrays(
        k0=k0,
        k0_se=se_k0,
        side=side,
        imputed_y=imputed,
        imputed_v=vs[k - k0 :].copy(),
        iterations=iterations,
    )


@dataclass(frozen=True)
class FailSafeN:
    """A fail-safe N with what it was computed from."""

    method: str
    n: int
    alpha: float
    target: float | None
    mean_effect: float | None
    pvalue: float | None


def _round_up(value: float) -> int:
    """metafor's rule: the next integer unless the value is (nearly) whole."""
    if abs(value - round(value)) >= np.sqrt(np.finfo(float).eps):
        return int(np.ceil(value))
    return round(value)


def fail_safe_rosenthal(y: FloatArray, v: FloatArray, alpha: float = 0.05) -> FailSafeN:
    """Rosenthal (1979): ``k (z_avg / z_{1-alpha})² - k`` with Stouffer's ``z_avg``."""
    k = y.size
    z_average = abs(np.sum(y / np.sqrt(v)) / np.sqrt(k))
    n = max(0.0, k * (z_average / norm.isf(alpha)) ** 2 - k)
    return FailSafeN("Rosenthal", _round_up(n), alpha, None, None, float(norm.sf(z_average)))


def fail_safe_orwin(
    y: FloatArray, v: FloatArray, target: float | None = None, weighted: bool = False
) -> FailSafeN:
    """Orwin (1983): ``k (mean - target) / target``; target defaults to half the mean effect."""
    mean = float(np.average(y, weights=1.0 / v) if weighted else np.mean(y))
    goal = mean / 2.0 if target is None else float(target)
    if goal == 0:
        return FailSafeN("Orwin", np.iinfo(np.int64).max, 0.05, goal, mean, None)
    if np.sign(goal) != np.sign(mean):
        goal = -goal
    n = max(0.0, y.size * (mean - goal) / goal)
    return FailSafeN("Orwin", _round_up(n), 0.05, goal, mean, None)


def fail_safe_rosenberg(y: FloatArray, v: FloatArray, alpha: float = 0.05) -> FailSafeN:
    """Rosenberg (2005), Evolution 59:464-468: the weighted (common-effect) version."""
    w = 1.0 / v
    mean = float(np.sum(w * y) / np.sum(w))
    z = mean / np.sqrt(1.0 / np.sum(w))
    extra = (np.sum(w * y) / norm.isf(alpha / 2.0)) ** 2 - np.sum(w)
    n = max(0.0, y.size * extra / np.sum(w))
    return FailSafeN("Rosenberg", _round_up(n), alpha, None, mean, float(2.0 * norm.sf(abs(z))))


def contour_bounds(
    se: NDArray[np.float64], levels: tuple[float, ...], null: float = 0.0
) -> dict[float, tuple[FloatArray, FloatArray]]:
    """Effects at which a study of standard error ``se`` has two-sided p = level.

    For each level, ``null ± z_{1-level/2} se``: the edges of the shaded
    regions of a contour-enhanced funnel plot (Peters et al. 2008, J Clin
    Epidemiol 61:991-996).
    """
    return {
        level: (null - norm.isf(level / 2.0) * se, null + norm.isf(level / 2.0) * se)
        for level in levels
    }
