"""Generalised least squares on the contrasts of a network, shared by the ranking,
inconsistency and contribution numerics.

With ``y`` the contrasts, ``V`` their sampling covariance and ``S`` the multi-arm
heterogeneity structure of :meth:`ContrastData.random_effects_structure`, the
consistency model is ``y = X d + e``, ``e ~ N(0, V + tau² S)``, where ``X`` is the
incidence matrix ``B`` without its first column (treatment 0 is the reference, ``d``
the treatments' effects against it).  With ``W = (V + tau² S)^-1``:

    ``d = (X'WX)^-1 X'W y``,  ``cov(d) = (X'WX)^-1``,  ``Q = (y - Xd)' W (y - Xd)``

(Salanti et al. 2008, Stat Methods Med Res 17:279; the model of metafor's
``rma.mv(y, V, mods = X, random = ~ comparison | study, rho = 1/2)`` at a given tau²).

A study's part of the normal equations, ``L_s = B_s' W_s B_s``, is the Laplacian of a
weighted complete graph on its arms: ``-L_s[i, j]`` is the reduced weight of its
``i``-``j`` comparison (Rücker & Schwarzer 2014, Biom J 56:1; Rücker 2012, Res Synth
Methods 3:312), which is how a multi-arm study enters a pairwise (direct) estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import connected_components

from srma.stats.batch import FloatArray
from srma.stats.network.data import ContrastData, IntArray
from srma.stats.robust import cluster_blocks


def marginal_covariance(data: ContrastData, tau2: float = 0.0) -> FloatArray:
    """``V + tau² S``: the contrasts' covariance under the consistency model."""
    if tau2 == 0.0:
        return data.V
    return data.V + tau2 * data.random_effects_structure()


def weight_matrix(data: ContrastData, covariance: FloatArray) -> FloatArray:
    """``W = covariance^-1``, block-diagonal by study: each study's block inverted on its
    own (one batch of ``a - 1`` square blocks, the smaller padded with the identity), the
    entries between two studies the zeros they are."""
    blocks = cluster_blocks(data.study)
    pair = blocks.mask[:, :, None] & blocks.mask[:, None, :]
    rows, columns = blocks.index[:, :, None], blocks.index[:, None, :]
    padding = np.eye(blocks.index.shape[1])
    inverse = np.linalg.inv(np.where(pair, covariance[rows, columns], padding))
    W = np.zeros_like(covariance)
    W[np.broadcast_to(rows, pair.shape)[pair], np.broadcast_to(columns, pair.shape)[pair]] = (
        inverse[pair]
    )
    return W


@dataclass(frozen=True)
class WeightedFit:
    """A GLS fit ``b = (X'WX)^+ X'W y``: coefficients, their covariance ``(X'WX)^+``,
    the residuals, ``W`` times them, and the rank of ``X'WX``."""

    coefficients: FloatArray
    covariance: FloatArray
    residuals: FloatArray
    weighted_residuals: FloatArray
    rank: int


def weighted_fit(y: FloatArray, X: FloatArray, W: FloatArray) -> WeightedFit:
    """GLS of ``y`` on ``X`` with weight matrix ``W``; a rank-deficient ``X`` (a network
    cut in two) gets the pseudo-inverse, whose fitted values are the unique ones."""
    WX = W @ X
    covariance, rank = block_pseudo_inverse(X.T @ WX)
    coefficients = covariance @ (WX.T @ y)
    residuals = y - X @ coefficients
    return WeightedFit(coefficients, covariance, residuals, W @ residuals, rank)


def pseudo_inverse(information: FloatArray) -> tuple[FloatArray, IntArray]:
    """Pseudo-inverses of symmetric positive semi-definite matrices ``(..., p, p)`` and
    their ranks, from one eigendecomposition each (eigenvalues at most ``p eps`` times the
    largest count as zero: the cut-off of numpy's ``matrix_rank``)."""
    values, vectors = np.linalg.eigh(information)
    largest = values.max(axis=-1, initial=0.0, keepdims=True)
    keep = values > largest * information.shape[-1] * np.finfo(float).eps
    inverse_values = np.where(keep, 1.0 / np.where(keep, values, 1.0), 0.0)
    inverse = (vectors * inverse_values[..., None, :]) @ np.swapaxes(vectors, -1, -2)
    return inverse, keep.sum(axis=-1)


def block_pseudo_inverse(information: FloatArray) -> tuple[FloatArray, int]:
    """:func:`pseudo_inverse` of one matrix that is block-diagonal up to a permutation
    (the information matrix of the design-by-treatment model is, by design), block by
    block as one padded batch; its rank."""
    _, block = connected_components(information != 0.0, directed=False)
    blocks = cluster_blocks(block)
    pair = blocks.mask[:, :, None] & blocks.mask[:, None, :]
    rows, columns = blocks.index[:, :, None], blocks.index[:, None, :]
    padded = np.where(pair, information[rows, columns], 0.0)
    inverse, ranks = pseudo_inverse(padded)
    out = np.zeros_like(information)
    out[np.broadcast_to(rows, pair.shape)[pair], np.broadcast_to(columns, pair.shape)[pair]] = (
        inverse[pair]
    )
    return out, int(ranks.sum())


@dataclass(frozen=True)
class ConsistencyFit:
    """The consistency model at a given tau²: ``estimates[t]`` is treatment ``t`` against
    treatment 0 (0 for itself), ``covariance`` their (T, T) covariance (zero row and
    column for treatment 0), ``q`` the generalised residual Q on ``q_df`` df."""

    estimates: FloatArray
    covariance: FloatArray
    q: float
    q_df: int
    tau2: float


def fit_consistency(data: ContrastData, tau2: float = 0.0) -> ConsistencyFit:
    """Fit ``y = X d + e``, ``e ~ N(0, V + tau² S)`` by GLS (module docstring)."""
    W = weight_matrix(data, marginal_covariance(data, tau2))
    fit = weighted_fit(data.y, data.incidence[:, 1:], W)
    n = data.n_treatments
    estimates = np.zeros(n)
    estimates[1:] = fit.coefficients
    covariance = np.zeros((n, n))
    covariance[1:, 1:] = fit.covariance
    q = float(fit.residuals @ fit.weighted_residuals)
    return ConsistencyFit(estimates, covariance, q, data.n_contrasts - fit.rank, tau2)


#: How a multi-arm study's comparison enters a direct estimate: ``"reduced"``, by its
#: reduced weight ``-L_s[i, j]`` (netmeta's aggregate hat matrix, ``hatmatrix.aggr``);
#: ``"marginal"``, by the inverse of its own variance ``var(theta_si - theta_sj)``, as
#: if the study made that comparison only (netmeta's ``TE.direct``: ``metagen`` on the
#: unadjusted standard errors; netsplit and netmeasures' direct evidence proportion).
MULTI_ARM_WEIGHTS = ("reduced", "marginal")


@dataclass(frozen=True)
class DirectEstimates:
    """The direct (pairwise) estimate of every comparison ``treat1 - treat2`` that some
    study makes (``treat1 < treat2``, sorted), pooled over ``n_studies`` studies by
    inverse variance; ``variance`` is ``1 / sum w``; ``multi_arm`` says how multi-arm
    studies were weighted (:data:`MULTI_ARM_WEIGHTS`)."""

    treat1: IntArray
    treat2: IntArray
    estimate: FloatArray
    variance: FloatArray
    n_studies: IntArray
    multi_arm: str


def direct_estimates(
    data: ContrastData, covariance: FloatArray, *, multi_arm: str = "reduced"
) -> DirectEstimates:
    """Pool each comparison over the studies that make it.

    Study ``s`` has ``L_s = B_s' W_s B_s`` and ``g_s = B_s' W_s y_s``; its arm effects
    ``theta_s = L_s^+ g_s`` reproduce its contrasts, with covariance ``L_s^+``.  Its
    ``i``-``j`` comparison is ``theta_si - theta_sj`` with weight ``w_sij = -L_s[i, j]``
    (``multi_arm="reduced"``: Rücker & Schwarzer 2014) or ``1 / (L_s^+[i, i] +
    L_s^+[j, j] - 2 L_s^+[i, j])`` (``"marginal"``); two-arm studies get the same either
    way.  Then ``direct_ij = sum_s w_sij (theta_si - theta_sj) / sum_s w_sij`` with
    variance ``1 / sum_s w_sij``.
    """
    if multi_arm not in MULTI_ARM_WEIGHTS:
        raise ValueError(f"multi_arm must be one of {MULTI_ARM_WEIGHTS}, got {multi_arm!r}")
    W = weight_matrix(data, covariance)
    n_studies, n = len(data.studies), data.n_treatments
    present = np.zeros((n_studies, n), dtype=bool)
    present[data.study, data.treat1] = True
    present[data.study, data.treat2] = True
    # each study on its own arms: arm a of study s is local[s, a] (treatment order kept),
    # arm_treatment[s, i] the treatment of local arm i (padding: none)
    local = np.cumsum(present, axis=1) - 1
    width = int(present.sum(axis=1).max())
    arm_treatment = np.full((n_studies, width), -1, dtype=np.int64)
    study_of_arm, treatment_of_arm = np.nonzero(present)
    arm_treatment[study_of_arm, local[study_of_arm, treatment_of_arm]] = treatment_of_arm
    rows = np.arange(data.n_contrasts)
    B = np.zeros((data.n_contrasts, width))
    B[rows, local[data.study, data.treat1]] = 1.0
    B[rows, local[data.study, data.treat2]] = -1.0
    laplacians = np.zeros((n_studies, width, width))
    np.add.at(laplacians, data.study, B[:, :, None] * (W @ B)[:, None, :])
    gradients = np.zeros((n_studies, width))
    np.add.at(gradients, data.study, B * (W @ data.y)[:, None])
    arm_covariance = np.linalg.pinv(laplacians, hermitian=True)
    theta = np.einsum("sij,sj->si", arm_covariance, gradients)
    real = arm_treatment >= 0
    upper = np.triu(np.ones((width, width), dtype=bool), 1)
    study, i, j = np.nonzero(real[:, :, None] & real[:, None, :] & upper)
    first, second = arm_treatment[study, i], arm_treatment[study, j]
    if multi_arm == "reduced":
        weight = -laplacians[study, i, j]
    else:
        weight = 1.0 / (
            arm_covariance[study, i, i]
            + arm_covariance[study, j, j]
            - 2.0 * arm_covariance[study, i, j]
        )
    contrast = theta[study, i] - theta[study, j]
    weight_sum = np.zeros((n, n))
    weighted = np.zeros((n, n))
    count = np.zeros((n, n), dtype=np.int64)
    np.add.at(weight_sum, (first, second), weight)
    np.add.at(weighted, (first, second), weight * contrast)
    np.add.at(count, (first, second), 1)
    treat1, treat2 = np.nonzero(count)
    return DirectEstimates(
        treat1=treat1.astype(np.int64),
        treat2=treat2.astype(np.int64),
        estimate=weighted[treat1, treat2] / weight_sum[treat1, treat2],
        variance=1.0 / weight_sum[treat1, treat2],
        n_studies=count[treat1, treat2],
        multi_arm=multi_arm,
    )


def pair_contrasts(
    estimates: FloatArray, covariance: FloatArray, treat1: IntArray, treat2: IntArray
) -> tuple[FloatArray, FloatArray]:
    """``d_a - d_b`` and its variance ``C_aa + C_bb - 2 C_ab`` for the pairs (a, b)."""
    estimate = estimates[treat1] - estimates[treat2]
    variance = (
        covariance[treat1, treat1] + covariance[treat2, treat2] - 2.0 * covariance[treat1, treat2]
    )
    return estimate, variance
