"""Sampling covariances of dependent effect sizes (metafor's ``vcalc``; Gleser & Olkin 2009).

Effect sizes from the same cluster (study, sample) are dependent when they
measure several outcomes on the same people, the same outcome at several
times, or compare several groups with one shared group.  Their covariance is
``V = S R S`` with ``S = diag(sqrt(v))`` and ``R`` a correlation matrix that
is block-diagonal by cluster.  Within a cluster, for rows ``i != j``
(Viechtbauer, metafor 3.8 ``vcalc``; Gleser & Olkin 2009; Wei & Higgins 2013)

    ``R_ij = r_ij * c_ij / sqrt(c_ii c_jj)``

* ``r_ij`` the correlation of the constructs: 1 for the same type and the same
  observation, ``rho_obs[obs_i, obs_j]`` for the same type and different
  observations (e.g. several measures of one construct), ``rho_type[type_i,
  type_j]`` for different types (different constructs);
* ``c_ij`` the covariance of two contrasts ``grp1 - grp2`` that may share a
  group, each group ``g`` of size ``w`` contributing ``1/w`` and measured at a
  time ``t``, with an autocorrelation ``phi^|t - t'|`` between occasions:

      ``c_ij = a(1i, 1j)/sqrt(w1_i w1_j) - a(1i, 2j)/sqrt(w1_i w2_j)
              - a(2i, 1j)/sqrt(w2_i w1_j) + a(2i, 2j)/sqrt(w2_i w2_j)``,
      ``a(gi, hj) = [grp_g,i = grp_h,j] phi^|time_g,i - time_h,j|``.

With no groups given (every row compares a group 1 with a group 2 of equal
size, not shared) ``c_ij / sqrt(c_ii c_jj) = 1`` and ``R_ij = r_ij``; with
times only, ``R_ij = r_ij phi^|t_i - t_j|`` (an AR(1) structure).  For two
standardised mean differences sharing a control group the large-sample
covariance is known exactly: :func:`smd_shared_control_covariance`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from srma.stats.batch import FloatArray
from srma.stats.robust import cluster_blocks


def correlation_matrix(
    cluster: ArrayLike,
    *,
    obs: ArrayLike,
    type: ArrayLike,
    rho_obs: ArrayLike,
    rho_type: ArrayLike,
    grp1: ArrayLike,
    grp2: ArrayLike,
    time1: ArrayLike,
    time2: ArrayLike,
    w1: ArrayLike,
    w2: ArrayLike,
    phi: float,
) -> FloatArray:
    """The ``k x k`` correlation matrix ``R`` of the module docstring.

    ``cluster``, ``obs``, ``type``, ``grp1`` and ``grp2`` are integer codes
    (``grp1`` and ``grp2`` coded together, so that equal codes are the same
    group); ``obs`` and ``type`` index the rows and columns of ``rho_obs``
    and ``rho_type``; times and group sizes are numbers.
    """
    cl = np.asarray(cluster)
    ob = np.asarray(obs, dtype=np.intp)
    ty = np.asarray(type, dtype=np.intp)
    r_obs = np.asarray(rho_obs, dtype=np.float64)
    r_type = np.asarray(rho_type, dtype=np.float64)
    construct = np.where(
        ty[:, None] == ty[None, :],
        np.where(ob[:, None] == ob[None, :], 1.0, r_obs[ob[:, None], ob[None, :]]),
        r_type[ty[:, None], ty[None, :]],
    )
    groups = (np.asarray(grp1), np.asarray(grp2))
    times = (np.asarray(time1, dtype=np.float64), np.asarray(time2, dtype=np.float64))
    inverse_sizes = (1.0 / np.asarray(w1, dtype=np.float64), 1.0 / np.asarray(w2, dtype=np.float64))
    contrast = np.zeros((cl.size, cl.size))
    for a in (0, 1):  # the four pairings of the two groups of row i with those of row j
        for b in (0, 1):
            shared = groups[a][:, None] == groups[b][None, :]
            with np.errstate(invalid="ignore"):
                decay = np.power(phi, np.abs(times[a][:, None] - times[b][None, :]))
            sign = 1.0 if a == b else -1.0
            scale = np.sqrt(inverse_sizes[a][:, None] * inverse_sizes[b][None, :])
            contrast += sign * np.where(shared, decay, 0.0) * scale
    sd = np.sqrt(np.diagonal(contrast))
    with np.errstate(invalid="ignore", divide="ignore"):  # a group against itself: NaN
        correlation = construct * contrast / (sd[:, None] * sd[None, :])
    correlation = np.where(cl[:, None] == cl[None, :], correlation, 0.0)
    np.fill_diagonal(correlation, 1.0)
    return correlation


def sampling_covariance(vi: ArrayLike, correlation: ArrayLike) -> FloatArray:
    """``V = S R S`` with ``S = diag(sqrt(v))``."""
    sd = np.sqrt(np.asarray(vi, dtype=np.float64))
    return sd[:, None] * np.asarray(correlation, dtype=np.float64) * sd[None, :]


def smallest_block_eigenvalues(matrix: ArrayLike, cluster: ArrayLike) -> FloatArray:
    """The smallest eigenvalue of each cluster's block (clusters in order of first appearance).

    Blocks are padded with the identity, so padding adds eigenvalues of 1 and
    never hides a smaller one.
    """
    m = np.asarray(matrix, dtype=np.float64)
    blocks = cluster_blocks(cluster)
    index, mask = blocks.index, blocks.mask
    pair = mask[:, :, None] & mask[:, None, :]
    eye = np.eye(index.shape[1], dtype=bool)
    gathered = np.where(pair, m[index[:, :, None], index[:, None, :]], np.where(eye, 1.0, 0.0))
    return np.linalg.eigvalsh(gathered)[:, 0]


def smd_shared_control_covariance(
    d: ArrayLike,
    n_treatment: ArrayLike,
    n_control: float,
    n_total: float | None = None,
) -> FloatArray:
    """Large-sample covariance of SMDs of several treatment groups against one shared control.

    For ``d_i = (mean_i - mean_control) / s`` (one study, treatment groups
    ``i`` of size ``n_i``, a control group of size ``n_c``, ``N`` people in
    all; Gleser & Olkin 2009, Handbook of Research Synthesis and
    Meta-Analysis, 2nd ed., ch. 19, multiple-treatment studies):

        ``Var(d_i) = 1/n_i + 1/n_c + d_i² / (2N)``,
        ``Cov(d_i, d_j) = 1/n_c + d_i d_j / (2N)``.

    The shared control's sampling error gives ``1/n_c``; the shared standard
    deviation ``s`` gives ``d_i d_j / (2N)`` (delta method: ``Var(s)/sigma² ~
    1/(2N)``).  For one treatment group the variance is escalc's
    large-sample SMD variance.  ``n_total`` defaults to ``n_c + sum n_i``.
    """
    effects = np.asarray(d, dtype=np.float64)
    sizes = np.asarray(n_treatment, dtype=np.float64)
    total = float(n_control + sizes.sum()) if n_total is None else float(n_total)
    covariance = 1.0 / n_control + np.outer(effects, effects) / (2.0 * total)
    covariance[np.diag_indices(effects.size)] += 1.0 / sizes
    return covariance


def cluster_codes(labels: ArrayLike) -> NDArray[np.intp]:
    """Integer codes of labels (equal labels, equal codes), in order of first appearance."""
    return cluster_blocks(labels).codes
