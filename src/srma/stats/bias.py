"""Small-study effects and publication bias for many meta-analyses at once.

Every function takes arrays shaped ``(batch, k)`` (a :class:`~srma.stats.batch.Batch`
or per-arm counts with a mask; NaN marks an absent study) and returns arrays
shaped ``(batch,)``.  Undefined values are NaN: a regression test with fewer
than 3 studies or with no spread in its predictor, a rank test with fewer than
3 studies.

Regression tests (one straight line per row)
---------------------------------------------
* **Egger's test, classic form** (Egger, Davey Smith, Schneider & Minder 1997,
  BMJ 315:629-634; Stata's ``metabias``/``meta bias, egger``; metafor's
  ``regtest(model="lm")``): weighted least squares of ``y_i`` on the
  predictor ``x_i`` (``se_i`` by default) with weights ``1/v_i`` and the
  residual variance estimated, ``y_i = b0 + b1 x_i``; ``t = b1 / se(b1)`` on
  ``k - 2`` df.  With ``x_i = se_i`` this is Egger's regression of the
  standard normal deviate on precision, ``y_i/se_i = a + b / se_i``, with the
  roles swapped: ``a = b1`` (Egger's bias coefficient, his intercept) and
  ``b = b0`` (the effect of a study of infinite precision, metafor's
  ``est``, here the *limit estimate*), with identical standard errors.
* **Egger's test, mixed-effects form** (metafor's ``regtest()`` default;
  Sterne & Egger 2005, in *Publication Bias in Meta-Analysis*, ch. 6): the
  same line as a meta-regression ``y_i = b0 + b1 x_i + u_i + e_i`` with the
  model's tau² estimator and test (:func:`srma.stats.regression.meta_regression`).
* **Peters' test** (Peters, Sutton, Jones, Abrams & Rushton 2006, JAMA
  295:676-680): ``log OR_i = b0 + b1 / N_i`` by weighted least squares with
  weights ``S_i F_i / N_i`` (events, non-events and size of the whole table;
  ``1 / (1/S + 1/F)``), test of ``b1`` with t on ``k - 2`` df.
* **Harbord's test** (Harbord, Egger & Sterne 2006, Stat Med 25:3443-3457):
  with the efficient score ``Z_i = a_i - n1_i S_i / N_i`` and its variance
  ``V_i = n1_i n2_i S_i F_i / (N_i² (N_i - 1))``, ordinary least squares of
  ``Z_i / sqrt(V_i)`` on ``sqrt(V_i)``; test of the intercept with t on
  ``k - 2`` df.  Tables with ``V_i = 0`` (no events or only events) drop out.

Rank test
---------
Begg & Mazumdar (1994), Biometrics 50:1088-1101: Kendall's tau (tau-b) between
the standardised deviates ``(y_i - mu_EE) / sqrt(v_i - 1/sum w)`` and ``v_i``.
The p-value is computed as metafor's ``ranktest`` (R's ``cor.test(exact =
TRUE)``): from the exact null distribution of the number of concordant pairs
when neither variable has ties, otherwise from the normal approximation with
the tie-corrected variance of Kendall's score and no continuity correction.
R's exact distribution overflows above 170 studies (its p-value is then NaN);
srma switches to the normal approximation there.

Trim-and-fill
-------------
Duval & Tweedie (2000), Biometrics 56:455-463 and J Am Stat Assoc 95:89-98,
as metafor's ``trimfill.rma.uni``: see :func:`trim_and_fill`.

Fail-safe N
-----------
Rosenthal (1979), Psychol Bull 86:638-641; Orwin (1983), J Educ Stat
8:157-159; Rosenberg (2005), Evolution 59:464-468; as metafor's ``fsn``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import norm

from srma import vocabulary
from srma.stats.batch import Batch, BoolArray, FloatArray, as_batch, masked_sum
from srma.stats.effects import binary_effect
from srma.stats.inference import critical_value, two_sided_pvalue, wald_interval
from srma.stats.pooling import PooledArrays, pool
from srma.stats.regression import meta_regression, regression_batch
from srma.stats.tau2 import weighted_sums

#: Predictors of metafor's ``regtest``: what each study's effect is regressed on.
PREDICTORS = vocabulary.BIAS_PREDICTORS
#: Predictors that vanish for a study of infinite size: the intercept is then
#: the limit estimate (metafor reports ``est`` for these only).
LIMIT_PREDICTORS = frozenset({"sei", "vi", "ninv", "sqrtninv"})
#: Predictors that need study sizes.
SIZE_PREDICTORS = frozenset({"ni", "ninv", "sqrtni", "sqrtninv"})
TRIMFILL_ESTIMATORS = vocabulary.TRIMFILL_ESTIMATORS
SIDES = vocabulary.TRIMFILL_SIDES
#: Above this many studies the exact null distribution of Kendall's score is
#: not used (R's overflows; the normal approximation is then excellent).
KENDALL_EXACT_MAX = 170


class RegressionTest(Protocol):
    """What any fitted bias regression offers (figures draw Egger's line from it)."""

    @property
    def coefficient(self) -> float: ...

    @property
    def limit_estimate(self) -> float | None: ...

    @property
    def pvalue(self) -> float: ...


# --- regression tests ---------------------------------------------------------


@dataclass(frozen=True)
class RegressionTestArrays:
    """A test of one coefficient of a bias regression, one entry per row.

    ``coefficient`` is the tested coefficient (Egger, Peters: the slope;
    Harbord: the intercept); ``limit_estimate`` the other one (Egger with a
    predictor of :data:`LIMIT_PREDICTORS`: the intercept, the effect of a study
    of infinite precision; Harbord: the slope, an estimate of the log odds
    ratio; NaN where it has no such meaning).  ``df`` is NaN under a z test.
    """

    k: NDArray[np.int64]
    statistic: FloatArray
    df: FloatArray
    pvalue: FloatArray
    coefficient: FloatArray
    coefficient_se: FloatArray
    limit_estimate: FloatArray
    limit_se: FloatArray
    limit_ci_lower: FloatArray
    limit_ci_upper: FloatArray
    tau2: FloatArray  # residual tau² of the mixed-effects form; 0 for least squares


@dataclass(frozen=True)
class LineFit:
    """Weighted least squares of ``y = b0 + b1 x`` per row, residual variance estimated."""

    k: NDArray[np.int64]
    intercept: FloatArray
    intercept_se: FloatArray
    slope: FloatArray
    slope_se: FloatArray
    df: FloatArray
    sigma2: FloatArray  # residual variance sum w r² / (k - 2)
    defined: BoolArray  # k >= 3 and x varies


def _spread(x: FloatArray, mask: BoolArray) -> BoolArray:
    """True where the present ``x`` of a row are not all equal (to rounding)."""
    high = np.where(mask, x, -np.inf).max(axis=1)
    low = np.where(mask, x, np.inf).min(axis=1)
    scale = np.maximum(np.abs(high), np.abs(low))
    with np.errstate(invalid="ignore"):
        return (high - low) > 1e-10 * scale


def weighted_line(y: FloatArray, x: FloatArray, w: FloatArray, mask: BoolArray) -> LineFit:
    """Fit ``y = b0 + b1 x`` by weighted least squares in every row, as R's ``lm(weights=)``.

    With ``W = sum w``, weighted means ``x̄, ȳ``, ``Sxx = sum w (x - x̄)²``,
    ``Sxy = sum w (x - x̄)(y - ȳ)``: ``b1 = Sxy / Sxx``, ``b0 = ȳ - b1 x̄``,
    ``s² = sum w (y - b0 - b1 x)² / (k - 2)``, ``Var(b1) = s² / Sxx``,
    ``Var(b0) = s² (1/W + x̄² / Sxx)``.  Rows with fewer than 3 studies or no
    spread in ``x`` are NaN.
    """
    k = mask.sum(axis=1)
    defined = (k >= 3) & _spread(x, mask)
    w = np.where(mask, w, 0.0)
    x0, y0 = np.where(mask, x, 0.0), np.where(mask, y, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        total = w.sum(axis=1)
        x_bar = (w * x0).sum(axis=1) / total
        y_bar = (w * y0).sum(axis=1) / total
        dx = np.where(mask, x0 - x_bar[:, None], 0.0)
        dy = np.where(mask, y0 - y_bar[:, None], 0.0)
        sxx = (w * dx * dx).sum(axis=1)
        slope = (w * dx * dy).sum(axis=1) / sxx
        intercept = y_bar - slope * x_bar
        residuals = dy - slope[:, None] * dx
        df = (k - 2).astype(np.float64)
        sigma2 = (w * residuals * residuals).sum(axis=1) / df
        slope_se = np.sqrt(sigma2 / sxx)
        intercept_se = np.sqrt(sigma2 * (1.0 / total + x_bar**2 / sxx))

    def keep(values: FloatArray) -> FloatArray:
        return np.where(defined, values, np.nan)

    return LineFit(
        k=k,
        intercept=keep(intercept),
        intercept_se=keep(intercept_se),
        slope=keep(slope),
        slope_se=keep(slope_se),
        df=keep(df),
        sigma2=keep(sigma2),
        defined=defined,
    )


def _t_test(fit: LineFit, tested: str, level: float, limit: bool) -> RegressionTestArrays:
    """Test the ``tested`` coefficient of a line with t on ``k - 2`` df."""
    other = "slope" if tested == "intercept" else "intercept"
    coefficient = getattr(fit, tested)
    coefficient_se = getattr(fit, f"{tested}_se")
    estimate, estimate_se = getattr(fit, other), getattr(fit, f"{other}_se")
    with np.errstate(divide="ignore", invalid="ignore"):
        # a perfect fit (se = 0) leaves the test undefined
        statistic = np.where(coefficient_se > 0, coefficient / coefficient_se, np.nan)
    df = np.where(fit.defined, fit.df, np.nan)
    pvalue = two_sided_pvalue(statistic, df)
    crit = np.where(fit.defined, critical_value(level, df), np.nan)
    limit_lower, limit_upper = wald_interval(estimate, estimate_se, crit)
    nan = np.full(fit.k.shape, np.nan)
    return RegressionTestArrays(
        k=fit.k,
        statistic=statistic,
        df=fit.df,
        pvalue=np.where(np.isfinite(statistic), pvalue, np.nan),
        coefficient=coefficient,
        coefficient_se=coefficient_se,
        limit_estimate=estimate if limit else nan,
        limit_se=estimate_se if limit else nan,
        limit_ci_lower=limit_lower if limit else nan,
        limit_ci_upper=limit_upper if limit else nan,
        tau2=np.where(fit.defined, 0.0, np.nan),
    )


def bias_predictor(v: ArrayLike, predictor: str = "sei", n: ArrayLike | None = None) -> FloatArray:
    """The column a regression test regresses the effects on (metafor's ``predictor``).

    ``sei`` (``sqrt(v)``), ``vi``, ``ni``, ``ninv`` (``1/n``), ``sqrtni``,
    ``sqrtninv`` (``1/sqrt(n)``); the last four need the study sizes ``n``.
    """
    if predictor not in PREDICTORS:
        raise ValueError(
            f"unknown predictor {predictor!r}; expected one of {', '.join(PREDICTORS)}"
        )
    if predictor == "sei":
        return np.sqrt(np.asarray(v, dtype=np.float64))
    if predictor == "vi":
        return np.asarray(v, dtype=np.float64)
    if n is None:
        raise ValueError(f"predictor {predictor!r} needs the study sizes n")
    sizes = np.asarray(n, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "ni": sizes,
            "ninv": 1.0 / sizes,
            "sqrtni": np.sqrt(sizes),
            "sqrtninv": 1.0 / np.sqrt(sizes),
        }[predictor]


def _predictor_column(batch: Batch, predictor: str, n: ArrayLike | None) -> FloatArray:
    x = bias_predictor(batch.v, predictor, None if n is None else np.atleast_2d(n))
    return np.broadcast_to(x, batch.y.shape)


def egger_classic(
    batch: Batch, *, predictor: str = "sei", n: ArrayLike | None = None, level: float = 0.95
) -> RegressionTestArrays:
    """Egger's test as weighted least squares, as metafor's ``regtest(model="lm")``.

    ``y_i = b0 + b1 x_i`` with weights ``1/v_i`` and the residual variance
    estimated; ``coefficient`` is ``b1`` (with ``x = se``: Egger's bias
    coefficient), tested with t on ``k - 2`` df; ``limit_estimate`` is ``b0``
    with its t interval at ``level`` (NaN for the predictors ``ni`` and
    ``sqrtni``).  Egger et al. (1997), BMJ 315:629-634.
    """
    x = _predictor_column(batch, predictor, n)
    mask = batch.mask & np.isfinite(x)
    fit = weighted_line(batch.y, x, 1.0 / batch.v, mask)
    return _t_test(fit, "slope", level, limit=predictor in LIMIT_PREDICTORS)


def egger_mixed(
    batch: Batch,
    *,
    method: str = "REML",
    test: str = "z",
    predictor: str = "sei",
    n: ArrayLike | None = None,
    level: float = 0.95,
) -> RegressionTestArrays:
    """Egger's test as a mixed-effects meta-regression, as metafor's ``regtest()`` default.

    ``y_i = b0 + b1 x_i + u_i + e_i``, ``u_i ~ N(0, tau²)``, ``e_i ~ N(0, v_i)``,
    tau² by ``method`` (``"EE"`` for none) and the coefficient tested with
    ``test`` (z; t, knha, adhoc on ``k - 2`` df).  Rows with fewer than 3
    studies or no spread in the predictor are NaN.
    """
    x = _predictor_column(batch, predictor, n)
    mask = batch.mask & np.isfinite(x)
    rows = np.flatnonzero((mask.sum(axis=1) >= 3) & _spread(x, mask))
    size = batch.y.shape[0]
    out = {
        name: np.full(size, np.nan)
        for name in (
            "statistic",
            "df",
            "pvalue",
            "coefficient",
            "coefficient_se",
            "limit_estimate",
            "limit_se",
            "limit_ci_lower",
            "limit_ci_upper",
            "tau2",
        )
    }
    if rows.size:
        X = np.stack([np.ones_like(x[rows]), np.where(mask[rows], x[rows], 0.0)], axis=2)
        fit = meta_regression(
            regression_batch(batch.y[rows], batch.v[rows], X, mask[rows]),
            method=method,
            test=test,
            level=level,
        )
        out["statistic"][rows] = fit.statistic[:, 1]
        out["df"][rows] = fit.df
        out["pvalue"][rows] = np.where(np.isfinite(fit.statistic[:, 1]), fit.pvalue[:, 1], np.nan)
        out["coefficient"][rows] = fit.beta[:, 1]
        out["coefficient_se"][rows] = fit.se[:, 1]
        out["tau2"][rows] = fit.tau2
        if predictor in LIMIT_PREDICTORS:
            out["limit_estimate"][rows] = fit.beta[:, 0]
            out["limit_se"][rows] = fit.se[:, 0]
            out["limit_ci_lower"][rows] = fit.ci_lower[:, 0]
            out["limit_ci_upper"][rows] = fit.ci_upper[:, 0]
    return RegressionTestArrays(k=mask.sum(axis=1), **out)


def _count_arrays(
    *counts: ArrayLike, mask: ArrayLike | None = None
) -> tuple[list[FloatArray], BoolArray]:
    arrays = [np.atleast_2d(np.asarray(c, dtype=np.float64)) for c in counts]
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    arrays = [np.broadcast_to(a, shape) for a in arrays]
    present = np.logical_and.reduce([np.isfinite(a) for a in arrays])
    if mask is not None:
        present &= np.atleast_2d(np.asarray(mask, dtype=bool))
    return [np.where(present, a, 0.0) for a in arrays], present


def peters(
    events1: ArrayLike,
    total1: ArrayLike,
    events2: ArrayLike,
    total2: ArrayLike,
    *,
    mask: ArrayLike | None = None,
    add: float = 0.5,
    to: str = "only0",
    level: float = 0.95,
) -> RegressionTestArrays:
    """Peters' test for 2x2 tables: ``log OR`` on ``1/N`` weighted by ``S F / N``.

    ``log OR`` is escalc's (``add`` added to the cells of tables with a zero
    cell, as ``to`` says); ``S`` and ``F`` are the table's events and
    non-events, ``N`` its size; tables with ``S = 0`` or ``F = 0`` drop out.
    ``coefficient`` is the slope on ``1/N`` (t on ``k - 2`` df);
    ``limit_estimate`` the intercept, the log odds ratio of an infinitely
    large study.  Peters et al. (2006), JAMA 295:676-680 (the weights are
    ``1/(1/S + 1/F)``, as R's ``meta::metabias(method.bias = "peters")``).
    """
    (e1, n1, e2, n2), present = _count_arrays(events1, total1, events2, total2, mask=mask)
    events, size = e1 + e2, n1 + n2
    non_events = size - events
    present &= (events > 0) & (non_events > 0)
    a, b, c, d = e1, n1 - e1, e2, n2 - e2
    with np.errstate(divide="ignore", invalid="ignore"):
        log_or, _ = binary_effect("OR", a, b, c, d, add=add, to=to)
        x = 1.0 / size
        w = events * non_events / size
    present &= np.isfinite(log_or)
    fit = weighted_line(np.where(present, log_or, 0.0), np.where(present, x, 0.0), w, present)
    return _t_test(fit, "slope", level, limit=True)


def harbord(
    events1: ArrayLike,
    total1: ArrayLike,
    events2: ArrayLike,
    total2: ArrayLike,
    *,
    mask: ArrayLike | None = None,
    level: float = 0.95,
) -> RegressionTestArrays:
    """Harbord's score-based test for 2x2 tables: ``Z/sqrt(V)`` on ``sqrt(V)``.

    ``Z = a - n1 S / N`` (observed minus expected events in group 1 under the
    null), ``V = n1 n2 S F / (N² (N - 1))`` (its hypergeometric variance);
    ordinary least squares, ``coefficient`` the intercept (t on ``k - 2``
    df), ``limit_estimate`` the slope (an estimate of the log odds ratio).
    Tables with ``V = 0`` drop out.  Harbord, Egger & Sterne (2006), Stat Med
    25:3443-3457.
    """
    (e1, n1, e2, n2), present = _count_arrays(events1, total1, events2, total2, mask=mask)
    size = n1 + n2
    events = e1 + e2
    with np.errstate(divide="ignore", invalid="ignore"):
        score = e1 - n1 * events / size
        variance = n1 * n2 * events * (size - events) / (size**2 * (size - 1.0))
        root = np.sqrt(variance)
        y = score / root
    present &= np.isfinite(y) & (variance > 0)
    fit = weighted_line(
        np.where(present, y, 0.0), np.where(present, root, 0.0), np.ones_like(y), present
    )
    return _t_test(fit, "intercept", level, limit=True)


# --- rank test ------------------------------------------------------------------


@dataclass(frozen=True)
class RankTestArrays:
    """Begg and Mazumdar's rank correlation test, one entry per row."""

    k: NDArray[np.int64]
    tau: FloatArray  # Kendall's tau-b
    score: FloatArray  # Kendall's S: concordant minus discordant pairs
    pvalue: FloatArray
    exact: BoolArray  # exact null distribution (no ties), else normal approximation


@lru_cache(maxsize=64)
def _kendall_lower_cdf(n: int) -> FloatArray:
    """``P(C <= q)``, q = 0..n(n-1)/2, for the number C of concordant pairs under the null.

    C is distributed as the number of inversions of a random permutation
    (Mahonian numbers): the distribution for n is that for n - 1 convolved
    with the uniform distribution on 0..n-1.  Entries above the middle lose
    relative accuracy; callers use the lower half only (the distribution is
    symmetric).
    """
    dist = np.ones(1)
    for j in range(2, n + 1):
        cumulative = np.concatenate([[0.0], np.cumsum(dist)])
        index = np.arange(dist.size + j - 1)
        upper = cumulative[np.minimum(index + 1, dist.size)]
        lower = cumulative[np.maximum(index + 1 - j, 0)]
        dist = (upper - lower) / j
    return np.cumsum(dist)


def _kendall_exact_pvalue(concordant: int, n: int) -> float:
    """Two-sided exact p-value of R's ``cor.test(method = "kendall", exact = TRUE)``."""
    pairs = n * (n - 1) // 2
    cdf = _kendall_lower_cdf(n)
    # P(C >= q) = P(C <= pairs - q) by symmetry
    tail = cdf[concordant] if 2 * concordant <= pairs else cdf[pairs - concordant]
    return float(min(1.0, 2.0 * tail))


def _tie_sums(values: FloatArray) -> tuple[float, float, float]:
    """``sum t(t-1)``, ``sum t(t-1)(2t+5)``, ``sum t(t-1)(t-2)`` over groups of ties."""
    _, counts = np.unique(values, return_counts=True)
    t = counts[counts > 1].astype(np.float64)
    return (
        float(np.sum(t * (t - 1))),
        float(np.sum(t * (t - 1) * (2 * t + 5))),
        float(np.sum(t * (t - 1) * (t - 2))),
    )


#: Up to this many studies per row Kendall's S is counted over all pairs,
#: vectorised over the batch (fastest for many small rows); beyond it, row by
#: row in O(k log k) by sorting (scipy's ``kendalltau``, Knight 1966).
PAIRWISE_KENDALL_MAX = 256


def _kendall_pairwise(
    x: FloatArray, y: FloatArray, mask: BoolArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Kendall's S and the numbers of pairs tied in x and in y, over all pairs (O(k²))."""
    n_rows, width = x.shape
    score = np.zeros(n_rows)
    ties_x = np.zeros(n_rows)
    ties_y = np.zeros(n_rows)
    for i in range(width - 1):
        both = mask[:, i : i + 1] & mask[:, i + 1 :]
        dx = np.sign(x[:, i : i + 1] - x[:, i + 1 :])
        dy = np.sign(y[:, i : i + 1] - y[:, i + 1 :])
        score += np.where(both, dx * dy, 0.0).sum(axis=1)
        ties_x += (both & (dx == 0)).sum(axis=1)
        ties_y += (both & (dy == 0)).sum(axis=1)
    return score, ties_x, ties_y


def _tied_pairs(values: FloatArray) -> float:
    _, counts = np.unique(values, return_counts=True)
    counts = counts.astype(np.float64)
    return float(np.sum(counts * (counts - 1) / 2.0))


def _kendall_sorted(
    x: FloatArray, y: FloatArray, mask: BoolArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """:func:`_kendall_pairwise` in O(k log k) per row, from scipy's tau-b and the ties.

    ``S = tau_b sqrt((P - T_x)(P - T_y))`` with ``P = k(k-1)/2`` pairs and
    ``T`` the pairs tied in each variable; S is an integer and is rounded.
    """
    from scipy.stats import kendalltau

    n_rows = x.shape[0]
    score = np.zeros(n_rows)
    ties_x = np.zeros(n_rows)
    ties_y = np.zeros(n_rows)
    for row in range(n_rows):  # one row per large meta-analysis: the loop is over rows
        present = mask[row]
        xs, ys = x[row, present], y[row, present]
        n = xs.size
        if n < 2:
            continue
        pairs = n * (n - 1) / 2.0
        ties_x[row], ties_y[row] = _tied_pairs(xs), _tied_pairs(ys)
        denominator = (pairs - ties_x[row]) * (pairs - ties_y[row])
        if denominator <= 0:
            continue
        tau = kendalltau(xs, ys, variant="b").statistic
        score[row] = np.rint(tau * np.sqrt(denominator)) if np.isfinite(tau) else 0.0
    return score, ties_x, ties_y


def kendall(
    x: FloatArray, y: FloatArray, mask: BoolArray, *, exact_max: int = KENDALL_EXACT_MAX
) -> RankTestArrays:
    """Kendall's tau-b and its two-sided p-value in every row, as R's ``cor.test``.

    Without ties (in either variable) and with at most ``exact_max`` pairs of
    observations, the p-value is exact; otherwise ``z = S / sqrt(Var(S))``
    with ``Var(S) = [n(n-1)(2n+5) - sum t(t-1)(2t+5) - sum u(u-1)(2u+5)]/18
    + sum t(t-1) sum u(u-1) / (2n(n-1)) + sum t(t-1)(t-2) sum u(u-1)(u-2) /
    (9n(n-1)(n-2))`` (t, u: sizes of groups of ties; Kendall 1970, ch. 4).
    """
    n_rows, width = x.shape
    mask = mask & np.isfinite(x) & np.isfinite(y)  # a value that is not a number has no rank
    if width > PAIRWISE_KENDALL_MAX:
        score, ties_x, ties_y = _kendall_sorted(x, y, mask)
    else:
        score, ties_x, ties_y = _kendall_pairwise(x, y, mask)
    k = mask.sum(axis=1)
    pairs = k * (k - 1) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = score / np.sqrt((pairs - ties_x) * (pairs - ties_y))
    untied = (ties_x == 0) & (ties_y == 0)
    exact = untied & (k <= exact_max) & (k >= 2)
    pvalue = np.full(n_rows, np.nan)
    for row in np.flatnonzero(exact):
        concordant = int(np.rint((score[row] + pairs[row]) / 2.0))
        pvalue[row] = _kendall_exact_pvalue(concordant, int(k[row]))
    approximate = ~exact & (k >= 3)
    n = k.astype(np.float64)
    variance = n * (n - 1) * (2 * n + 5) / 18.0
    for row in np.flatnonzero(approximate & ~untied):
        present = mask[row]
        tx, vx, wx = _tie_sums(x[row, present])
        ty, vy, wy = _tie_sums(y[row, present])
        m = n[row]
        variance[row] = (
            (m * (m - 1) * (2 * m + 5) - vx - vy) / 18.0
            + tx * ty / (2 * m * (m - 1))
            + wx * wy / (9 * m * (m - 1) * (m - 2))
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        z = score / np.sqrt(variance)
    pvalue = np.where(approximate, 2.0 * norm.sf(np.abs(z)), pvalue)
    undefined = (k < 2) | ~np.isfinite(tau)
    return RankTestArrays(
        k=k,
        tau=np.where(undefined, np.nan, tau),
        score=np.where(undefined, np.nan, score),
        pvalue=np.where(undefined, np.nan, pvalue),
        exact=exact & ~undefined,
    )


def begg(batch: Batch, *, exact_max: int = KENDALL_EXACT_MAX) -> RankTestArrays:
    """Begg and Mazumdar's test: Kendall's tau of standardised deviates and variances.

    ``y*_i = (y_i - mu) / sqrt(v_i - 1/sum w)`` with ``mu = sum w y / sum w``,
    ``w = 1/v`` (the common-effect estimate), correlated with ``v_i`` as
    :func:`kendall` (metafor's ``ranktest``).  Rows with fewer than 3 studies
    are NaN.
    """
    # v_i - 1/sum w = v_i (sum w - w_i) / sum w, in relative weights u = m w with the
    # sum of the others taken about the largest weight: no cancellation where one
    # study (a variance of 1e-300 among 0.04s) carries nearly all the weight
    sums = weighted_sums(batch, np.zeros(batch.y.shape[0]))
    u = np.where(batch.mask, sums.unit[:, None] / batch.v, 0.0)
    largest = u == 1.0
    others = np.where(largest, sums.rest[0][:, None], sums.s1[:, None] - u)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        mu = sums.mean
        deviates = (batch.y - mu[:, None]) / np.sqrt(batch.v * (others / sums.s1[:, None]))
    result = kendall(np.where(batch.mask, deviates, 0.0), batch.v, batch.mask, exact_max=exact_max)
    small = result.k < 3
    return RankTestArrays(
        k=result.k,
        tau=np.where(small, np.nan, result.tau),
        score=np.where(small, np.nan, result.score),
        pvalue=np.where(small, np.nan, result.pvalue),
        exact=result.exact & ~small,
    )


# --- trim-and-fill --------------------------------------------------------------


@dataclass(frozen=True)
class TrimFillArrays:
    """Trim-and-fill for every row.

    ``imputed_y``/``imputed_v`` are ``(batch, k)``: the first ``k0`` cells of a
    row hold its imputed studies (ordered as metafor lists them), the rest NaN.
    ``side`` is where studies are missing; ``slope`` the slope on ``sqrt(v)``
    that chose it (NaN where the side was given or the slope is undefined).
    ``trimmed_estimate`` is the estimate of the last trimmed data, the centre
    of the mirror images.  ``filled`` pools the original and imputed studies
    with the method and test asked for.  ``k0_pvalue`` (R0 only) is
    ``0.5^(k0+1)``, metafor's ``p.k0``.
    """

    k: NDArray[np.int64]
    k0: NDArray[np.int64]
    k0_se: FloatArray
    k0_pvalue: FloatArray
    side: NDArray[np.str_]
    slope: FloatArray
    trimmed_estimate: FloatArray
    imputed_y: FloatArray
    imputed_v: FloatArray
    iterations: NDArray[np.int64]
    converged: BoolArray
    filled: PooledArrays


def estimate_side(batch: Batch, *, method: str = "REML") -> tuple[NDArray[np.str_], FloatArray]:
    """The side where studies are missing, as metafor's ``trimfill``.

    The slope ``b1`` of the meta-regression ``y_i = b0 + b1 sqrt(v_i)`` (tau²
    by ``method``): ``"right"`` if ``b1 < 0``, else ``"left"``.  Rows with
    fewer than 3 studies or equal variances have a NaN slope and ``"left"``.
    """
    x = np.sqrt(batch.v)
    rows = np.flatnonzero((batch.k >= 3) & _spread(x, batch.mask))
    slope = np.full(batch.y.shape[0], np.nan)
    if rows.size:
        X = np.stack([np.ones_like(x[rows]), np.where(batch.mask[rows], x[rows], 0.0)], axis=2)
        fit = meta_regression(
            regression_batch(batch.y[rows], batch.v[rows], X, batch.mask[rows]), method=method
        )
        slope[rows] = fit.beta[:, 1]
    return np.where(slope < 0, "right", "left"), slope


def _l0(sum_positive: FloatArray, k: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``L0 = (4 S_r - k(k+1)) / (2k - 1)`` and its standard error (Duval & Tweedie 2000)."""
    raw = (4.0 * sum_positive - k * (k + 1)) / (2.0 * k - 1.0)
    variance = (
        k * (k + 1) * (2 * k + 1)
        + 10 * raw**3
        + 27 * raw**2
        + 17 * raw
        - 18 * k * raw**2
        - 18 * k * raw
        + 6 * k**2 * raw
    ) / 24.0
    with np.errstate(invalid="ignore"):
        # the variance can turn negative; metafor then reports NaN
        se = 4.0 * np.sqrt(variance) / (2.0 * k - 1.0)
    return raw, np.maximum(se, 0.0)


def trim_and_fill(
    batch: Batch,
    *,
    method: str = "REML",
    estimator: str = "L0",
    side: str | ArrayLike | None = None,
    test: str = "z",
    level: float = 0.95,
    max_iterations: int = 100,
) -> TrimFillArrays:
    """Duval and Tweedie's trim-and-fill, as metafor's ``trimfill.rma.uni``.

    1. The side of the missing studies is given, or estimated by
       :func:`estimate_side`.  The data are flipped (``-y``) when it is the
       right, so that studies are always missing on the left, and sorted.
    2. Starting with ``k0 = 0``: pool the ``k - k0`` smallest effects
       (``method``), rank all ``k`` studies by ``|y_i - mu|`` (ties in order),
       sign the ranks by ``y_i - mu`` and estimate
       ``L0 = (4 S_r - k(k+1)) / (2k - 1)`` (``S_r``: sum of the positive
       ranks), with ``se = 4 sqrt(Var(S_r)) / (2k - 1)``, or
       ``R0 = k - r* - 1`` (``r*``: largest rank of a negative deviation),
       with ``se = sqrt(2 max(0, R0) + 2)``; ``k0 = max(0, round(.))``.
       Repeat until ``k0`` no longer changes.
    3. The ``k0`` largest effects are mirrored about the last ``mu``:
       ``2 mu - y_i`` with variance ``v_i``, and the filled data pooled with
       ``method`` and ``test``.

    Deviations within rounding of ``mu`` (relative 1e-12) count as zero, and
    ``k0`` is at most ``k - 1`` (metafor fails on an empty trimmed set).
    Rows that have not converged after ``max_iterations`` have
    ``converged = False``.  Duval & Tweedie (2000), Biometrics 56:455-463;
    J Am Stat Assoc 95:89-98.
    """
    if estimator not in TRIMFILL_ESTIMATORS:
        raise ValueError(f"estimator must be L0 or R0, got {estimator!r}")
    n_rows, width = batch.y.shape
    if side is None:
        sides, slope = estimate_side(batch, method=method)
    else:
        sides = np.broadcast_to(np.asarray(side, dtype=str), (n_rows,)).astype("<U5")
        unknown = set(np.unique(sides)) - set(SIDES)
        if unknown:
            raise ValueError(f"side must be left or right, got {sorted(unknown)}")
        slope = np.full(n_rows, np.nan)
    sign = np.where(sides == "right", -1.0, 1.0)
    flipped = sign[:, None] * batch.y
    order = np.argsort(np.where(batch.mask, flipped, np.inf), axis=1, kind="stable")
    ys = np.take_along_axis(flipped, order, axis=1)
    vs = np.take_along_axis(batch.v, order, axis=1)
    present = np.take_along_axis(batch.mask, order, axis=1)
    k = present.sum(axis=1)
    kf = k.astype(np.float64)
    columns = np.arange(width)[None, :]

    k0 = np.zeros(n_rows, dtype=np.int64)
    k0_se = np.full(n_rows, np.nan)
    beta = np.full(n_rows, np.nan)
    iterations = np.zeros(n_rows, dtype=np.int64)
    converged = np.ones(n_rows, dtype=bool)
    active = k >= 1
    while active.any():
        rows = np.flatnonzero(active)
        over = iterations[rows] >= max_iterations
        if over.any():
            converged[rows[over]] = False
            active[rows[over]] = False
            rows = rows[~over]
            if not rows.size:
                break
        iterations[rows] += 1
        previous = k0[rows].copy()
        kept = present[rows] & (columns < (k[rows] - k0[rows])[:, None])
        fitted = pool(
            as_batch(ys[rows], vs[rows], kept), method=method, tau2_interval=False
        ).estimate
        beta[rows] = fitted
        centred = np.where(present[rows], ys[rows] - fitted[:, None], 0.0)
        tolerance = 1e-12 * (1.0 + np.abs(fitted))[:, None]
        centred[np.abs(centred) <= tolerance] = 0.0
        distance = np.where(present[rows], np.abs(centred), np.inf)
        ranks = np.empty_like(distance)
        np.put_along_axis(
            ranks,
            np.argsort(distance, axis=1, kind="stable"),
            np.broadcast_to(np.arange(1.0, width + 1.0), distance.shape),
            axis=1,
        )
        signed = np.where(present[rows], np.sign(centred) * ranks, 0.0)
        krows = kf[rows]
        if estimator == "R0":
            largest_negative = np.where(signed < 0, -signed, 0.0).max(axis=1)
            raw = krows - largest_negative - 1.0
            # every study at the estimate (identical effects): nothing is missing
            raw = np.where((signed != 0).any(axis=1), raw, -1.0)
            se = np.sqrt(2.0 * np.maximum(0.0, raw) + 2.0)
        else:
            raw, se = _l0(np.where(signed > 0, signed, 0.0).sum(axis=1), krows)
        # at least one study stays untrimmed (only k <= 2 could ask for more)
        k0[rows] = np.clip(np.rint(raw), 0, np.maximum(k[rows] - 1, 0)).astype(np.int64)
        k0_se[rows] = se
        active[rows] = k0[rows] != previous

    mirrored = columns >= (k - k0)[:, None]
    mirrored &= present
    imputed_y = np.full((n_rows, width), np.nan)
    imputed_v = np.full((n_rows, width), np.nan)
    for row in np.flatnonzero(k0 > 0):
        cells = np.flatnonzero(mirrored[row])
        imputed_y[row, : cells.size] = sign[row] * (2.0 * beta[row] - ys[row, cells])
        imputed_v[row, : cells.size] = vs[row, cells]
    filled = pool(
        as_batch(
            np.concatenate([np.where(batch.mask, batch.y, np.nan), imputed_y], axis=1),
            np.concatenate([batch.v, imputed_v], axis=1),
        ),
        method=method,
        test=test,
        level=level,
        tau2_interval=False,
    )
    k0_pvalue = np.full(n_rows, np.nan)
    if estimator == "R0":
        k0_pvalue = 0.5 ** (k0 + 1.0)
    return TrimFillArrays(
        k=k,
        k0=k0,
        k0_se=k0_se,
        k0_pvalue=k0_pvalue,
        side=sides,
        slope=slope,
        trimmed_estimate=sign * beta,
        imputed_y=imputed_y,
        imputed_v=imputed_v,
        iterations=iterations,
        converged=converged,
        filled=filled,
    )


# --- fail-safe N ------------------------------------------------------------------


@dataclass(frozen=True)
class FailSafeArrays:
    """A fail-safe N per row (``inf`` where unbounded), with what it was computed from."""

    n: FloatArray
    pvalue: FloatArray  # Rosenthal: one-sided Stouffer p; Rosenberg: two-sided z p
    mean_effect: FloatArray  # Orwin, Rosenberg
    target: FloatArray  # Orwin


def round_up(value: FloatArray) -> FloatArray:
    """metafor's rule: the next integer unless the value is whole to ``sqrt(eps)``."""
    value = np.asarray(value, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        whole = np.abs(value - np.round(value)) < np.sqrt(np.finfo(float).eps)
    return np.where(np.isinf(value) | whole, np.round(value), np.ceil(value))


def fail_safe_rosenthal(batch: Batch, *, alpha: float = 0.05) -> FailSafeArrays:
    """Rosenthal (1979): the number of null studies that bring Stouffer's z below ``z_{1-alpha}``.

    ``z_avg = |sum z_i| / sqrt(k)`` with ``z_i = y_i / sqrt(v_i)``;
    ``N = max(0, k (z_avg / z_{1-alpha})² - k)``, rounded up; the p-value is
    one-sided, ``1 - Phi(z_avg)``.  Rosenthal (1979), Psychol Bull 86:638-641.
    """
    k = batch.k.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        z_average = np.abs(masked_sum(batch.y / np.sqrt(batch.v), batch.mask) / np.sqrt(k))
    n = np.maximum(0.0, k * (z_average / norm.isf(alpha)) ** 2 - k)
    nan = np.full(k.shape, np.nan)
    return FailSafeArrays(n=round_up(n), pvalue=norm.sf(z_average), mean_effect=nan, target=nan)


def fail_safe_orwin(
    batch: Batch, *, target: float | ArrayLike | None = None, weighted: bool = False
) -> FailSafeArrays:
    """Orwin (1983): the number of studies with effect 0 that bring the mean effect to ``target``.

    ``N = max(0, k (mean - target) / target)``, rounded up, with the
    unweighted (or, ``weighted``, inverse-variance) mean; ``target`` defaults
    to half the mean and takes the mean's sign; ``N`` is infinite for a zero
    target.  Orwin (1983), J Educ Stat 8:157-159.
    """
    k = batch.k.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        if weighted:
            w = np.where(batch.mask, 1.0 / batch.v, 0.0)
            mean = masked_sum(w * batch.y, batch.mask) / w.sum(axis=1)
        else:
            mean = masked_sum(batch.y, batch.mask) / k
        goal = (
            mean / 2.0
            if target is None
            else np.broadcast_to(np.asarray(target, dtype=np.float64), k.shape)
        )
        goal = np.where(np.sign(goal) != np.sign(mean), -goal, goal)
        n = np.where(goal == 0, np.inf, np.maximum(0.0, k * (mean - goal) / goal))
    return FailSafeArrays(
        n=round_up(n), pvalue=np.full(k.shape, np.nan), mean_effect=mean, target=goal
    )


def fail_safe_rosenberg(batch: Batch, *, alpha: float = 0.05) -> FailSafeArrays:
    """Rosenberg (2005): the weighted fail-safe N of a common-effect analysis.

    ``N = max(0, k [(sum w y / z_{1-alpha/2})² - sum w] / sum w)`` with
    ``w = 1/v``, rounded up: the number of studies with effect 0 and average
    weight that make the common-effect z test non-significant.  Rosenberg
    (2005), Evolution 59:464-468.
    """
    k = batch.k.astype(np.float64)
    w = np.where(batch.mask, 1.0 / batch.v, 0.0)
    total = w.sum(axis=1)
    weighted_sum = masked_sum(w * batch.y, batch.mask)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = weighted_sum / total
        z = mean * np.sqrt(total)
        extra = (weighted_sum / norm.isf(alpha / 2.0)) ** 2 - total
        n = np.maximum(0.0, k * extra / total)
    return FailSafeArrays(
        n=round_up(n),
        pvalue=2.0 * norm.sf(np.abs(z)),
        mean_effect=mean,
        target=np.full(k.shape, np.nan),
    )


# --- contour-enhanced funnel plots ---------------------------------------------


def contour_bounds(
    se: NDArray[np.float64], levels: tuple[float, ...], null: float = 0.0
) -> dict[float, tuple[FloatArray, FloatArray]]:
    """Effects at which a study of standard error ``se`` has two-sided p = level.

    For each level, ``null ± z_{1-level/2} se``: a study outside these bounds
    has ``p < level`` in a z test against ``null``.  They are the edges of the
    shaded regions of a contour-enhanced funnel plot (Peters, Sutton, Jones,
    Abrams & Rushton 2008, J Clin Epidemiol 61:991-996).
    """
    se = np.asarray(se, dtype=np.float64)
    return {
        level: (null - norm.isf(level / 2.0) * se, null + norm.isf(level / 2.0) * se)
        for level in levels
    }


def fail_safe_fisher(y: np.ndarray, v: np.ndarray, *, alpha: float = 0.05) -> tuple[int, float]:
    """Fail-safe N by Fisher's method: ``(N, p)`` (Becker 2005).

    Fisher's combined statistic of the one-sided p-values ``p_i = Phi(-s z_i)``
    (``z_i = y_i / sqrt(v_i)``, ``s`` the sign of ``sum z_i``: the direction of the
    evidence) is ``X² = -2 sum ln p_i``, chi-square with ``2k`` df under the null;
    ``p = P(chi²_{2k} > X²)``.  A null study adds its expected ``-2 ln p = 2`` (p
    uniform), so ``N`` is the smallest integer ``n >= 0`` with ``X² + 2n <=
    chi²_{2(k + n), 1 - alpha}``: the number of null studies that makes the combined
    test non-significant (0 when it is not significant already).  The left side
    gains 2 per study and the critical value more than 2, so the condition, once
    met, holds for every larger ``n``; ``N`` is found by doubling and bisection.
    Becker BJ (2005), Failsafe N or file-drawer number, in Rothstein, Sutton &
    Borenstein (eds.), *Publication Bias in Meta-Analysis*, Wiley, ch. 7, pp. 111-125.
    """
    from scipy.stats import chi2

    z = y / np.sqrt(v)
    direction = 1.0 if z.sum() >= 0 else -1.0
    statistic = float(-2.0 * norm.logsf(direction * z).sum())  # -2 sum ln p_i, no underflow
    k = z.size
    pvalue = float(chi2.sf(statistic, 2 * k))

    def significant(n: int) -> bool:
        return statistic + 2.0 * n > float(chi2.isf(alpha, 2 * (k + n)))

    if not significant(0):
        return 0, pvalue
    low, high = 0, 1  # significant(low) holds; find a high where it fails
    while significant(high):
        low, high = high, 2 * high
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if significant(middle) else (low, middle)
    return high, pvalue
