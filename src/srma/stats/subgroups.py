"""Subgroup analysis: each subgroup a row of a batch, and the test for subgroup differences.

Two models, as RevMan and R's meta offer them:

* **separate tau²** (the default of RevMan and meta): each subgroup is pooled
  on its own; the test for subgroup differences is Cochran's Q of a
  common-effect meta-analysis of the G subgroup estimates,
  ``Q_between = sum (mu_g - mu)² / se_g²`` on ``G - 1`` df (Borenstein et al.
  2009, Introduction to Meta-Analysis, ch. 19; Cochrane Handbook 10.11.3.1);
* **common tau²**: one model for all subgroups, metafor's
  ``rma(yi, vi, mods = ~ 0 + factor(group), test = ...)``.  tau² is its
  residual heterogeneity (that of ``mods = ~ factor(group)``, the same model);
  each subgroup's estimate is its coefficient ``mu_g = sum_g w y / sum_g w``
  with ``w = 1 / (v + tau²)``, and its variance ``s² / sum_g w``, where under
  Knapp-Hartung (``knha``) ``s² = sum w (y - mu_g(i))² / (k - G)`` is the
  joint model's scale factor (``adhoc``: ``max(1, s²)``; ``z`` and ``t``:
  ``s² = 1``); z tests and intervals under ``z``, t on ``k - G`` df
  otherwise.  The prediction interval is ``mu_g ± crit sqrt(se_g² + tau²)``
  with crit from t on ``k - G - 1`` df (``pi_type="riley"``), ``k - G``
  (``"t"``), or as the test (``"default"``), as metafor's ``predict``.  The
  test for subgroup differences is the Wald-type test that the G
  coefficients are equal (``anova(fit, X = contrasts)``), which is the
  omnibus test QM of ``rma(mods = ~ factor(group))``: chi² on ``G - 1`` df
  under z, F on ``(G - 1, k - G)`` df under t, knha and adhoc.  Q, I² and H²
  within each subgroup are those of the subgroup pooled with tau² fixed at
  the common value.

Reference: Viechtbauer W (2010), J Stat Softw 36(3); Knapp G, Hartung J
(2003), Stat Med 22:2693-2710; Borenstein M et al. (2009), Introduction to
Meta-Analysis, ch. 19.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray
from scipy.stats import norm
from scipy.stats import t as student_t

from srma.stats.batch import Batch, FloatArray, as_batch
from srma.stats.heterogeneity import cochran_q
from srma.stats.inference import residuals_vanish
from srma.stats.pooling import COMMON_EFFECT_METHODS, PooledArrays, pool
from srma.stats.regression import meta_regression, regression_batch


def group_batch(y: FloatArray, v: FloatArray, codes: NDArray[np.intp], groups: int) -> Batch:
    """``groups`` rows; row ``g`` holds the studies whose code is ``g``."""
    mask = codes[None, :] == np.arange(groups)[:, None]
    shape = (groups, y.size)
    return as_batch(np.broadcast_to(y, shape), np.broadcast_to(v, shape), mask)


@dataclass(frozen=True)
class SubgroupArrays:
    """Per-subgroup pooled results and the test for subgroup differences."""

    subgroups: PooledArrays  # one row per subgroup
    common_tau2: float | None  # the shared tau² when common_tau2 was asked for
    q_between: float
    df_between: float
    df_between_denominator: float | None  # F test under Knapp-Hartung with common tau²
    pvalue_between: float
    test_between: str  # "chi2" or "F"


def subgroup_analysis(
    y: FloatArray,
    v: FloatArray,
    codes: NDArray[np.intp],
    *,
    method: str,
    test: str,
    level: float = 0.95,
    pi_type: str = "riley",
    common_tau2: bool = False,
) -> SubgroupArrays:
    """Pool each subgroup and test whether the subgroup effects differ."""
    groups = int(codes.max()) + 1
    batch = group_batch(y, v, codes, groups)
    if not common_tau2 or method in COMMON_EFFECT_METHODS:
        subgroups = pool(batch, method=method, test=test, level=level, pi_type=pi_type)
        between = cochran_q(as_batch(subgroups.estimate, subgroups.se**2))
        return SubgroupArrays(
            subgroups=subgroups,
            common_tau2=None,
            q_between=float(between.q[0]),
            df_between=float(between.df[0]),
            df_between_denominator=None,
            pvalue_between=float(between.pvalue[0]),
            test_between="chi2",
        )
    indicators = (codes[:, None] == np.arange(groups)[None, :]).astype(float)
    X = np.column_stack([np.ones(y.size), indicators[:, 1:]])
    regression = meta_regression(regression_batch(y, v, X), method=method, test=test)
    tau2 = float(regression.tau2[0])
    subgroups = pool(
        batch, method=method, test=test, level=level, pi_type=pi_type, tau2=np.full(groups, tau2)
    )
    subgroups = replace(
        subgroups,
        **joint_model(y, v, codes, groups, tau2, test=test, level=level, pi_type=pi_type),
    )
    f_test = test != "z"
    return SubgroupArrays(
        subgroups=subgroups,
        common_tau2=tau2,
        q_between=float(regression.qm[0]),
        df_between=float(regression.qm_df1[0]),
        df_between_denominator=float(regression.qm_df2[0]) if f_test else None,
        pvalue_between=float(regression.qm_pvalue[0]),
        test_between="F" if f_test else "chi2",
    )


def joint_model(
    y: FloatArray,
    v: FloatArray,
    codes: NDArray[np.intp],
    groups: int,
    tau2: float,
    *,
    test: str,
    level: float = 0.95,
    pi_type: str = "riley",
) -> dict[str, FloatArray]:
    """Per-subgroup inference under one model with a common tau² (see the module docstring).

    Returns ``estimate, se, statistic, pvalue, df, ci_lower, ci_upper,
    pi_lower, pi_upper``, each shaped ``(groups,)``: the coefficients of
    ``rma(yi, vi, mods = ~ 0 + factor(group), test = test)`` with ``tau2``,
    and the prediction intervals of its ``predict(pi.type = pi_type)``.
    """
    member = codes[None, :] == np.arange(groups)[:, None]  # (groups, k)
    # relative weights u = m w (m = min(v) + tau²) and effects about a centre: no overflow
    # with variances of 1e-300 or effects of 1e300 (docs/statistics.md, "Extreme inputs")
    unit = float(np.min(v)) + tau2
    u = unit / (v + tau2)
    centre = 0.5 * float(np.max(y)) + 0.5 * float(np.min(y))
    deviation = y - centre
    sum_u = np.where(member, u, 0.0).sum(axis=1)
    offset = np.where(member, u * deviation, 0.0).sum(axis=1) / sum_u
    estimate = centre + offset
    k = y.size
    df_residual = float(k - groups)
    factor = unit  # Var(mu_g) = factor / sum_g u: m, times s² under Knapp-Hartung
    if test in ("knha", "adhoc"):
        residual = deviation - offset[codes]
        weighted = float(np.sum(u * residual**2))  # = m sum w r²
        largest = float(np.max(np.abs(deviation)))
        exact = bool(residuals_vanish(weighted, float(np.sum(u)), largest))
        factor = 0.0 if exact else weighted / df_residual if df_residual > 0 else np.nan
        if test == "adhoc":
            factor = max(factor, unit)
    se = np.sqrt(factor / sum_u)
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = estimate / se
    upper_tail = (1.0 - level) / 2.0
    if test == "z":
        df = np.full(groups, np.nan)
        crit = norm.isf(upper_tail)
        pvalue = 2.0 * norm.sf(np.abs(statistic))
    else:
        df = np.full(groups, df_residual)
        crit = student_t.isf(upper_tail, df_residual)
        pvalue = 2.0 * student_t.sf(np.abs(statistic), df_residual)
    if pi_type == "riley":
        pi_crit = student_t.isf(upper_tail, max(df_residual - 1.0, 1.0))
    elif pi_type == "t":
        pi_crit = student_t.isf(upper_tail, max(df_residual, 1.0))
    else:
        pi_crit = crit
    spread = np.sqrt(se**2 + tau2)
    return {
        "estimate": estimate,
        "se": se,
        "statistic": statistic,
        "pvalue": pvalue,
        "df": df,
        "ci_lower": estimate - crit * se,
        "ci_upper": estimate + crit * se,
        "pi_lower": estimate - pi_crit * spread,
        "pi_upper": estimate + pi_crit * spread,
    }
