"""The numbers of the comparison-adjusted funnel plot of a network (Chaimani & Salanti
2012, Res Synth Methods 3:161; Chaimani et al. 2013, PLoS ONE 8:e76654).

Every study contributes each pairwise comparison of its arms (a three-arm study its
three pairs, as netmeta's ``funnel.netmeta`` reads them from ``pairwise()``).  The
treatments are put in a meaningful ``order`` (e.g. oldest to newest, or active before
placebo) and each comparison is oriented ``X - Y`` with ``X`` before ``Y`` in it.  The
comparison-adjusted effect of study ``i`` on ``XY`` is

    ``y_iXY - mu_XY``

where ``mu_XY`` is the comparison-specific summary: the direct (pairwise) estimate of
``XY`` (Chaimani et al. 2013: "the comparison-specific summary estimate for X versus
Y"; netmeta's ``TE.adj = TE - TE.direct``).  Without small-study effects the adjusted
effects scatter symmetrically around 0 with a spread set by their own standard errors
``se_iXY``; asymmetry suggests that small studies favour one end of the order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from srma.stats.batch import FloatArray, as_batch
from srma.stats.bias import RegressionTestArrays, egger_classic
from srma.stats.network.data import ContrastData, IntArray
from srma.stats.network.gls import direct_estimates, weight_matrix


@dataclass(frozen=True)
class StudyPairs:
    """Every pairwise comparison ``treat1 - treat2`` (``treat1 < treat2``) of every study's
    arms, with its sampling variance, ordered by study then pair."""

    study: IntArray
    treat1: IntArray
    treat2: IntArray
    effect: FloatArray
    variance: FloatArray


def study_pairs(data: ContrastData) -> StudyPairs:
    """All pairs of each study's arms, with their sampling variances.

    A study's contrasts ``y_s`` (against one of its arms, covariance ``V_s``) determine
    arm effects up to a constant: with ``L_s = B_s' V_s^-1 B_s`` and ``g_s = B_s' V_s^-1
    y_s``, ``theta_s = L_s^+ g_s`` reproduces them and has covariance ``L_s^+``.  The
    ``i``-``j`` comparison is ``theta_si - theta_sj`` with variance ``L_s^+[i, i] +
    L_s^+[j, j] - 2 L_s^+[i, j]`` (for a pair that is one of the study's own contrasts,
    that contrast and its variance; for the other pairs of a multi-arm study, the
    difference of two contrasts against the shared arm, as netmeta's ``pairwise()``).
    """
    W = weight_matrix(data, data.V)
    B = data.incidence
    n_studies, n = len(data.studies), data.n_treatments
    laplacians = np.zeros((n_studies, n, n))
    np.add.at(laplacians, data.study, B[:, :, None] * (W @ B)[:, None, :])
    gradients = np.zeros((n_studies, n))
    np.add.at(gradients, data.study, B * (W @ data.y)[:, None])
    arm_covariance = np.linalg.pinv(laplacians, hermitian=True)
    theta = np.einsum("sij,sj->si", arm_covariance, gradients)
    present = np.zeros((n_studies, n), dtype=bool)
    present[data.study, data.treat1] = True
    present[data.study, data.treat2] = True
    upper = np.triu(np.ones((n, n), dtype=bool), 1)
    study, first, second = np.nonzero(present[:, :, None] & present[:, None, :] & upper)
    variance = (
        arm_covariance[study, first, first]
        + arm_covariance[study, second, second]
        - 2.0 * arm_covariance[study, first, second]
    )
    return StudyPairs(
        study=study.astype(np.int64),
        treat1=first.astype(np.int64),
        treat2=second.astype(np.int64),
        effect=theta[study, first] - theta[study, second],
        variance=variance,
    )


@dataclass(frozen=True)
class ComparisonAdjusted:
    """One point per study comparison: ``treat1`` comes before ``treat2`` in ``order``
    (treatment indices, first to last); ``effect`` is the study's ``treat1 - treat2``
    with standard error ``se``, ``centre`` the direct estimate of that comparison and
    ``adjusted = effect - centre``.  Points are sorted by comparison (in ``order``)
    then study."""

    study: IntArray
    treat1: IntArray
    treat2: IntArray
    effect: FloatArray
    se: FloatArray
    centre: FloatArray
    adjusted: FloatArray
    order: IntArray


def comparison_adjusted(
    data: ContrastData, covariance: FloatArray, order: IntArray
) -> ComparisonAdjusted:
    """The comparison-adjusted effects (module docstring).

    ``covariance`` is the one the direct estimates are pooled at: ``V`` for the common
    effect model, ``V + tau² S`` for the random-effects model (netmeta's
    ``TE.direct.common`` and ``TE.direct.random``); a multi-arm study enters each of its
    pairs with that pair's own variance (``multi_arm="marginal"``, as netmeta's
    ``TE.direct``).  ``order`` is a permutation of the treatment indices.  The standard
    errors are the studies' sampling standard errors (netmeta's ``seTE``).
    """
    order = np.asarray(order, dtype=np.int64)
    if sorted(order.tolist()) != list(range(data.n_treatments)):
        raise ValueError("order must name every treatment index exactly once")
    rank = np.empty(data.n_treatments, dtype=np.int64)
    rank[order] = np.arange(data.n_treatments)
    pairs = study_pairs(data)
    direct = direct_estimates(data, covariance, multi_arm="marginal")
    summary = np.zeros((data.n_treatments, data.n_treatments))
    summary[direct.treat1, direct.treat2] = direct.estimate
    centre = summary[pairs.treat1, pairs.treat2]
    flip = rank[pairs.treat1] > rank[pairs.treat2]
    sign = np.where(flip, -1.0, 1.0)
    first = np.where(flip, pairs.treat2, pairs.treat1)
    second = np.where(flip, pairs.treat1, pairs.treat2)
    effect, centre = sign * pairs.effect, sign * centre
    sort = np.lexsort((pairs.study, rank[second], rank[first]))
    return ComparisonAdjusted(
        study=pairs.study[sort],
        treat1=first[sort],
        treat2=second[sort],
        effect=effect[sort],
        se=np.sqrt(pairs.variance)[sort],
        centre=centre[sort],
        adjusted=(effect - centre)[sort],
        order=order,
    )


def adjusted_egger(points: ComparisonAdjusted, *, level: float = 0.95) -> RegressionTestArrays:
    """Egger's regression test on the comparison-adjusted effects (netmeta's
    ``funnel.netmeta(..., method.bias = "Egger")``: ``metabias`` on ``metagen(TE.adj,
    seTE)``): ``adjusted_i = b0 + b1 se_i`` by weighted least squares with weights
    ``1/se_i²``, ``b1`` tested with t on ``k - 2`` df (Egger et al. 1997, BMJ 315:629;
    :func:`srma.stats.bias.egger_classic`).  A batch of one row."""
    return egger_classic(as_batch(points.adjusted[None, :], points.se[None, :] ** 2), level=level)
