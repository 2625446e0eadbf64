"""Ranking the treatments of a network: P-scores, rank probabilities, SUCRA, mean ranks.

Input is the network estimates ``d`` (shape ``(..., T)``, each treatment against a
common reference, 0 for the reference itself) and their covariance ``C`` (``(..., T,
T)``); leading axes are a batch of networks.  ``small_values_good`` states the
direction of the outcome.

* P-scores (Rücker & Schwarzer 2015, BMC Med Res Methodol 15:58, eq. 4-5): with
  ``se_ij = sqrt(C_ii + C_jj - 2 C_ij)`` the probability that ``i`` is better than
  ``j`` is ``P_ij = Phi((d_j - d_i) / se_ij)`` when small values are good
  (``Phi((d_i - d_j) / se_ij)`` otherwise) and ``P_i = sum_{j != i} P_ij / (T - 1)``.
  ``P_ij + P_ji = 1``, so the P-scores sum to ``T / 2``.
* Rank probabilities by resampling (Salanti, Ades & Ioannidis 2011, J Clin Epidemiol
  64:163): draws of ``N(d, C)``, each ranked (1 = best); ``p[t, r]`` is the share of
  draws in which treatment ``t`` has rank ``r + 1``.  Mean rank ``sum_r r p[t, r]``;
  SUCRA ``sum_{r=1}^{T-1} cum_{t, r} / (T - 1)`` with ``cum`` the cumulative rank
  probabilities, which is ``(T - mean rank) / (T - 1)``.  Its expectation over the
  normal distribution is the P-score (Rücker & Schwarzer 2015, section "P-scores and
  SUCRA").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm

from srma.stats.batch import FloatArray


@dataclass(frozen=True)
class PScores:
    """``p_scores[..., i]``: the mean over ``j != i`` of ``better[..., i, j]``, the
    probability that treatment ``i`` is better than ``j`` (diagonal NaN)."""

    p_scores: FloatArray
    better: FloatArray
    small_values_good: bool


def _as_estimates(estimates: ArrayLike, covariance: ArrayLike) -> tuple[FloatArray, FloatArray]:
    d = np.asarray(estimates, dtype=np.float64)
    C = np.asarray(covariance, dtype=np.float64)
    if d.ndim < 1 or C.shape != d.shape + d.shape[-1:]:
        raise ValueError(
            f"estimates of shape (..., T) need a covariance of shape (..., T, T); "
            f"got {d.shape} and {C.shape}"
        )
    if d.shape[-1] < 2:
        raise ValueError("ranking needs at least two treatments")
    return d, C


def p_scores(estimates: ArrayLike, covariance: ArrayLike, *, small_values_good: bool) -> PScores:
    """P-scores of Rücker & Schwarzer (2015) (module docstring), batch over leading axes."""
    d, C = _as_estimates(estimates, covariance)
    variances = np.diagonal(C, axis1=-2, axis2=-1)
    pair_variance = variances[..., :, None] + variances[..., None, :] - 2.0 * C
    n = d.shape[-1]
    off_diagonal = ~np.eye(n, dtype=bool)
    advantage = d[..., None, :] - d[..., :, None]  # d_j - d_i
    if not small_values_good:
        advantage = -advantage
    with np.errstate(divide="ignore", invalid="ignore"):
        better = norm.cdf(advantage / np.sqrt(np.where(off_diagonal, pair_variance, 1.0)))
    better = np.where(off_diagonal, better, np.nan)
    scores = np.nansum(better, axis=-1) / (n - 1)
    return PScores(p_scores=scores, better=better, small_values_good=small_values_good)


@dataclass(frozen=True)
class RankProbabilities:
    """``probabilities[t, r]``: the share of ``draws`` normal draws in which treatment ``t``
    ranked ``r + 1`` (1 = best); with the mean ranks and SUCRA it implies."""

    probabilities: FloatArray
    mean_ranks: FloatArray
    sucra: FloatArray
    draws: int
    seed: int
    small_values_good: bool


def sucra(probabilities: ArrayLike) -> FloatArray:
    """SUCRA from rank probabilities ``(..., T, T)`` (treatment x rank):
    ``sum_{r=1}^{T-1} cum_{t, r} / (T - 1)`` (Salanti et al. 2011)."""
    p = np.asarray(probabilities, dtype=np.float64)
    n = p.shape[-1]
    return np.cumsum(p, axis=-1)[..., : n - 1].sum(axis=-1) / (n - 1)


def mean_ranks(probabilities: ArrayLike) -> FloatArray:
    """``sum_r r p[t, r]`` (ranks 1..T) from rank probabilities ``(..., T, T)``."""
    p = np.asarray(probabilities, dtype=np.float64)
    return p @ np.arange(1.0, p.shape[-1] + 1.0)


def rank_probabilities(
    estimates: ArrayLike,
    covariance: ArrayLike,
    *,
    small_values_good: bool,
    seed: int,
    draws: int = 10000,
) -> RankProbabilities:
    """Rank probabilities of one network by ``draws`` seeded draws of ``N(d, C)``.

    ``C`` may be singular (the reference's zero variance): draws are ``d + z A'`` with
    ``A A' = C`` from the eigendecomposition.  One ``draws x T`` array is ranked at once.
    """
    d, C = _as_estimates(estimates, covariance)
    if d.ndim != 1:
        raise ValueError("rank_probabilities takes one network: estimates of shape (T,)")
    if draws < 1:
        raise ValueError(f"draws must be at least 1, got {draws}")
    eigenvalues, eigenvectors = np.linalg.eigh(C)
    root = eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))
    normal = np.random.default_rng(seed).standard_normal((draws, d.shape[0]))
    sampled = d + normal @ root.T
    ordered = sampled if small_values_good else -sampled
    ranks = np.argsort(np.argsort(ordered, axis=1, kind="stable"), axis=1)
    n = d.shape[0]
    cells = (np.arange(n) * n + ranks).ravel()
    probabilities = np.bincount(cells, minlength=n * n).reshape(n, n) / draws
    return RankProbabilities(
        probabilities=probabilities,
        mean_ranks=mean_ranks(probabilities),
        sucra=sucra(probabilities),
        draws=draws,
        seed=seed,
        small_values_good=small_values_good,
    )
