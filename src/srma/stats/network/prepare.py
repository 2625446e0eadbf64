"""From arms (or all pairwise contrasts) of the studies of a network to :class:`ContrastData`.

Every study of ``a`` arms gives ``a - 1`` contrasts of its other arms against one
baseline arm ``b`` (here its arm that comes first in the treatment order), the
contrast-based parametrisation of Salanti et al. (2008, Stat Methods Med Res
17:279) and metafor's ``rma.mv`` examples.  With arm-level estimates ``theta_j``
of sampling variances ``s_j`` (independent arms)

    ``y_j = theta_j - theta_b``,  ``Var(y_j) = s_j + s_b``,  ``Cov(y_j, y_k) = s_b``,

exact for log odds (``s = 1/x + 1/(n - x)``), log risks (``1/x - 1/n``), risks
(``p(1 - p)/n``), means (``sd²/n``) and any arm-level estimate with its standard
error.  The standardised mean difference shares the pooled SD as well: per pair
Hedges' g with escalc's variance, and between two contrasts of one study the
Gleser-Olkin covariance ``1/n_b + g_j g_k / (2N)`` (Gleser & Olkin 2009, ch. 19;
:func:`srma.stats.covariance.smd_shared_control_covariance`).

Contrast-level multi-arm input (all ``a(a-1)/2`` pairs, as netmeta's ``pairwise()``
gives) is reduced to the same form: the arm variances solve ``v_jk = s_j + s_k``
by least squares (exact for three arms), and the basic contrasts are the GLS
projection of the pairs (the arm effects ``mu = (P' W P)^+ P' W y`` with ``W``
the pseudo-inverse of ``P diag(s) P'``), which is what netmeta's reduced weights
compute (Rücker & Schwarzer 2014, Biom J 56:58).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from srma.stats.batch import BoolArray, FloatArray
from srma.stats.effects import standardized_mean_difference
from srma.stats.network.data import ContrastData, IntArray


@dataclass(frozen=True, eq=False)
class ArmTable:
    """One row per arm: study code, treatment code (``0..T-1``, the treatment order)."""

    study: IntArray
    treatment: IntArray


def baseline_order(arms: ArmTable) -> tuple[IntArray, BoolArray]:
    """The arms sorted by study then treatment, and which of them is their study's baseline.

    Returns ``order`` (indices into the arms) and ``is_baseline`` (in that order):
    the baseline is each study's arm of the earliest treatment.
    """
    order = np.lexsort((arms.treatment, arms.study)).astype(np.int64)
    study = arms.study[order]
    is_baseline = np.ones(order.size, dtype=bool)
    is_baseline[1:] = study[1:] != study[:-1]
    return order, is_baseline


def contrasts_from_arms(
    arms: ArmTable,
    estimate: FloatArray,
    variance: FloatArray,
    treatments: Sequence[str],
    studies: Sequence[str],
) -> ContrastData:
    """Contrasts of each study's arms against its baseline, with the shared-arm covariance.

    ``estimate`` and ``variance`` are the arm-level estimates and their sampling
    variances (same order as ``arms``).  See the module docstring.
    """
    order, is_baseline = baseline_order(arms)
    study = arms.study[order]
    treatment = arms.treatment[order]
    theta = np.asarray(estimate, dtype=np.float64)[order]
    s = np.asarray(variance, dtype=np.float64)[order]
    base_position = np.maximum.accumulate(np.where(is_baseline, np.arange(order.size), 0))
    rows = ~is_baseline
    base = base_position[rows]
    y = theta[rows] - theta[base]
    shared = s[base]
    row_study = study[rows]
    same = row_study[:, None] == row_study[None, :]
    V = np.where(same, shared[None, :], 0.0) + np.diag(s[rows])
    return ContrastData(
        treatments=tuple(treatments),
        studies=tuple(studies),
        study=row_study.astype(np.int64),
        treat1=treatment[rows].astype(np.int64),
        treat2=treatment[base].astype(np.int64),
        y=y,
        V=V,
    )


def smd_contrasts_from_arms(
    arms: ArmTable,
    mean: FloatArray,
    sd: FloatArray,
    n: FloatArray,
    treatments: Sequence[str],
    studies: Sequence[str],
) -> ContrastData:
    """SMD contrasts (Hedges' g) of each study's arms against its baseline.

    ``y_j`` and ``Var(y_j)`` are escalc's for the pair (arm j, baseline); two
    contrasts of one study covary by ``1/n_b + g_j g_k / (2 N)``, ``N`` the
    study's participants (Gleser & Olkin 2009, ch. 19).
    """
    order, is_baseline = baseline_order(arms)
    study = arms.study[order]
    m, s, size = (np.asarray(x, dtype=np.float64)[order] for x in (mean, sd, n))
    base_position = np.maximum.accumulate(np.where(is_baseline, np.arange(order.size), 0))
    rows = ~is_baseline
    base = base_position[rows]
    g, v = standardized_mean_difference(m[rows], s[rows], size[rows], m[base], s[base], size[base])
    total = np.bincount(study, weights=size)[study[rows]]
    row_study = study[rows]
    same = row_study[:, None] == row_study[None, :]
    covariance = 1.0 / size[base][None, :] + np.outer(g, g) / (2.0 * total[None, :])
    V = np.where(same, covariance, 0.0)
    V[np.diag_indices(g.size)] = v
    return ContrastData(
        treatments=tuple(treatments),
        studies=tuple(studies),
        study=row_study.astype(np.int64),
        treat1=arms.treatment[order][rows].astype(np.int64),
        treat2=arms.treatment[order][base].astype(np.int64),
        y=g,
        V=V,
    )


@dataclass(frozen=True, eq=False)
class PairsReduction:
    """A study's all-pairs contrasts reduced to arm level: arm treatments (sorted), arm
    effects relative to the first arm, arm variances, and the largest misfit of the
    variances (``max |v_jk - s_j - s_k|``)."""

    treatments: IntArray
    effects: FloatArray
    variances: FloatArray
    variance_misfit: float


def reduce_pairs(
    treat1: IntArray, treat2: IntArray, y: FloatArray, v: FloatArray
) -> PairsReduction:
    """One multi-arm study's pairwise contrasts ``y = theta_treat1 - theta_treat2`` (all
    pairs, variances ``v``) as arm effects and arm variances (module docstring)."""
    arm_codes = np.unique(np.concatenate([treat1, treat2]))
    position = {int(t): i for i, t in enumerate(arm_codes)}
    pairs = np.zeros((y.size, arm_codes.size))
    pairs[np.arange(y.size), [position[int(t)] for t in treat1]] = 1.0
    pairs[np.arange(y.size), [position[int(t)] for t in treat2]] = -1.0
    design = np.abs(pairs)  # v_jk = s_j + s_k
    arm_variance, *_ = np.linalg.lstsq(design, v, rcond=None)
    misfit = float(np.max(np.abs(design @ arm_variance - v)))
    covariance = pairs @ np.diag(arm_variance) @ pairs.T
    weights = np.linalg.pinv(covariance)
    laplacian = pairs.T @ weights @ pairs
    mu = np.linalg.pinv(laplacian) @ pairs.T @ weights @ y
    return PairsReduction(arm_codes, mu - mu[0], arm_variance, misfit)
