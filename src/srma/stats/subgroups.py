"""Subgroup analysis: each subgroup a row of a batch, and the test for subgroup differences.

Two models, as RevMan and R's meta offer them:

* **separate tau²** (the default of RevMan and meta): each subgroup is pooled
  on its own; the test for subgroup differences is Cochran's Q of a
  common-effect meta-analysis of the G subgroup estimates,
  ``Q_between = sum (mu_g - mu)² / se_g²`` on ``G - 1`` df (Borenstein et al.
  2009, Introduction to Meta-Analysis, ch. 19; Cochrane Handbook 10.11.3.1);
* **common tau²**: tau² is the residual heterogeneity of the meta-regression on
  subgroup indicators, every subgroup is pooled with it, and the test is that
  regression's omnibus test of the indicators (chi² on ``G - 1`` df, or F on
  ``(G - 1, k - G)`` df under Knapp-Hartung), as metafor's
  ``rma(mods = ~ factor(group))`` computes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from srma.stats.batch import Batch, FloatArray, as_batch
from srma.stats.heterogeneity import cochran_q
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
