"""Cluster-robust (sandwich) variance of weighted least-squares coefficients.

The working model fits ``b = (X'WX)^-1 X'W y`` with a weight matrix ``W``
that is block-diagonal by cluster (``W = M^-1`` of the working covariance
``M``: ``diag(1/(v_i + tau²))`` for a random-effects meta-analysis or
meta-regression, the inverse of the marginal covariance of a multilevel
model).  With residuals ``r = y - X b`` and the clusters ``j = 1..J``, the
sandwich estimator is (Liang & Zeger 1986; Hedges, Tipton & Johnson 2010)

    ``V_R = B (sum_j X_j'W_j A_j r_j r_j' A_j' W_j X_j) B``,  ``B = (X'WX)^-1``,

where ``A_j`` is the adjustment of cluster ``j``:

* ``CR0``: ``A_j = I``;
* ``CR1``: ``A_j = sqrt(J / (J - 1)) I``; ``CR1p``: ``sqrt(J / (J - p)) I``
  (metafor's ``robust(adjust = TRUE)``); ``CR1S``: ``sqrt(J (N - 1) / ((J - 1)
  (N - p))) I`` (Stata's factor);
* ``CR2`` (bias-reduced linearisation; Bell & McCaffrey 2002; McCaffrey, Bell
  & Botts 2001; Pustejovsky & Tipton 2018, J Bus Econ Stat 36:672, eq. 6):
  ``A_j = L_j G_j^(-1/2) L_j'`` with ``Phi_j = L_j L_j'`` the working
  covariance of the cluster (the target, by default ``W_j^-1``) and

      ``G_j = L_j' (Phi_j - H_jj Phi_j - Phi_j H_jj' + X_j B S B X_j') L_j``,
      ``H_jj = X_j B X_j' W_j``,  ``S = sum_k X_k'W_k Phi_k W_k X_k``,

  which reduces to ``L_j' (Phi_j - X_j B X_j') L_j`` when ``W = Phi^-1``; the
  symmetric inverse square root drops eigenvalues at or below ``1e-12`` times
  the largest (a cluster whose rows alone fix a coefficient).  Under the
  working model CR2 is exactly unbiased.

Degrees of freedom (Bell & McCaffrey 2002; Tipton 2015, Psychol Methods 20:375;
Pustejovsky & Tipton 2018, eqs. 10-11): for a contrast ``c``, ``c'V_R c`` is a
quadratic form in the residuals, approximated by a scaled chi-squared with
Satterthwaite's ``df = (tr P)² / sum P²``, where the J x J matrix ``P`` has

    ``P_jk = h3_j'h3_k - h1_j'h2_k - h2_j'h1_k + [j = k] g_j'g_j``,

``g_j = c'B E_j L_j``, ``h1_j = c'B E_j X_j L_B``, ``h2_j = c'B E_j Phi_j W_j
X_j L_B``, ``h3_j = c'B E_j X_j L_O``, ``E_j = X_j'W_j A_j``, ``L_B L_B' = B``,
``L_O L_O' = B (sum_k X_k'W_k Phi_k W_k X_k) B``.  Several contrasts at once
(``C``, q x p) are tested by the approximate Hotelling's T² (``HTZ``,
Pustejovsky & Tipton 2018, section 3.2): ``F = (eta - q + 1) Q / (eta q)`` on
``(q, eta - q + 1)`` df, ``Q = (Cb)'(C V_R C')^-1 (Cb)``, ``eta = q (q + 1) /
sum_st Var_st``.  This is the algebra of clubSandwich 0.5.8's ``vcovCR``,
``coef_test(test = "Satterthwaite")`` and ``Wald_test(test = "HTZ")``, with
which it agrees (tests/reference/robust.R).

Arrays carry a leading batch axis (models fitted to the same clusters: a
simulation, a leave-one-out) and the clusters are gathered into padded blocks
(``J x n_max``), so no Python loop runs over clusters; padded rows have zero
design rows and zero residuals and an identity working covariance, which
leaves every sum unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import f as f_distribution

from srma.stats.batch import FloatArray
from srma.stats.inference import critical_value, two_sided_pvalue

#: The small-sample adjustments of the sandwich, as clubSandwich names them.
ADJUSTMENTS = ("CR0", "CR1", "CR1p", "CR1S", "CR2")

#: Eigenvalues of ``G_j`` at or below this share of the largest count as zero (CR2).
EIGENVALUE_TOLERANCE = 1e-12


@dataclass(frozen=True)
class ClusterBlocks:
    """Where each cluster's rows sit: ``index[j, m]`` is the m-th row of cluster j.

    ``mask`` is False in the padding (``index`` is 0 there); ``codes`` gives
    each row's cluster number, in the order clusters first appear.
    """

    index: NDArray[np.intp]
    mask: NDArray[np.bool_]
    codes: NDArray[np.intp]

    @property
    def n_clusters(self) -> int:
        return int(self.index.shape[0])


def cluster_blocks(cluster: ArrayLike) -> ClusterBlocks:
    """Group rows by cluster label into padded blocks (clusters in order of first appearance)."""
    labels = np.asarray(cluster)
    _, first, codes = np.unique(labels, return_index=True, return_inverse=True)
    order_of_first = np.argsort(np.argsort(first))  # cluster number by first appearance
    codes = order_of_first[codes.reshape(-1)]
    sizes = np.bincount(codes)
    rows = np.argsort(codes, kind="stable")
    position = np.arange(codes.size) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    index = np.zeros((sizes.size, int(sizes.max())), dtype=np.intp)
    mask = np.zeros(index.shape, dtype=bool)
    index[codes[rows], position] = rows
    mask[codes[rows], position] = True
    return ClusterBlocks(index=index, mask=mask, codes=codes)


@dataclass(frozen=True)
class RobustArrays:
    """The sandwich and what its tests need, for a batch of fits on the same clusters.

    ``vcov`` is ``(batch, p, p)``; ``se`` and ``df`` (Satterthwaite, per
    coefficient, computed when first asked for) are ``(batch, p)``.  ``g``,
    ``h1``, ``h2``, ``h3`` are the per-cluster pieces of the Satterthwaite
    approximation (module docstring), ``(batch, J, p, n_max)`` and ``(batch,
    J, p, p)``, kept for contrasts.
    """

    adjust: str
    n_clusters: int
    vcov: FloatArray
    g: FloatArray
    h1: FloatArray
    h2: FloatArray
    h3: FloatArray

    @property
    def se(self) -> FloatArray:
        return np.sqrt(np.diagonal(self.vcov, axis1=1, axis2=2))

    @cached_property
    def df(self) -> FloatArray:
        """Satterthwaite df of each coefficient, ``(batch, p)``."""
        return self.contrast_df(np.eye(self.vcov.shape[-1]))

    def contrast_df(self, contrasts: ArrayLike) -> FloatArray:
        """Satterthwaite df of each row ``c`` of ``contrasts`` (q x p): ``(batch, q)``."""
        c = np.atleast_2d(np.asarray(contrasts, dtype=np.float64))
        p_ss = _p_array(self, c, pairs=False)  # (batch, q, J, J)
        trace = np.trace(p_ss, axis1=2, axis2=3)
        return trace**2 / np.sum(p_ss**2, axis=(2, 3))

    def wald_test(self, beta: ArrayLike, contrasts: ArrayLike) -> dict[str, FloatArray]:
        """HTZ test of ``C beta = 0`` (Pustejovsky & Tipton 2018, section 3.2).

        Returns ``statistic`` (the F statistic, ``delta Q / q``), ``df_num``
        (q), ``df_denom`` (``eta - q + 1``) and ``pvalue``, each ``(batch,)``.
        """
        c = np.atleast_2d(np.asarray(contrasts, dtype=np.float64))
        q = c.shape[0]
        b = np.asarray(beta, dtype=np.float64).reshape(self.vcov.shape[0], -1)
        p_all = _p_array(self, c)  # (batch, q, q, J, J)
        omega = np.trace(p_all, axis1=3, axis2=4)  # (batch, q, q)
        omega_nsqrt = _symmetric_power(omega, -0.5)
        scaled = np.einsum("bsu,buvjk,bvt->bstjk", omega_nsqrt, p_all, omega_nsqrt)
        variance = np.einsum("bstjk,btsjk->bst", scaled, scaled) + np.einsum(
            "bssjk,bttjk->bst", scaled, scaled
        )
        eta = q * (q + 1) / variance.sum(axis=(1, 2))
        cb = np.einsum("qp,bp->bq", c, b)
        cvc = np.einsum("qp,bpr,sr->bqs", c, self.vcov, c)
        quadratic = np.einsum("bq,bq->b", cb, np.linalg.solve(cvc, cb[..., None])[..., 0])
        df_denom = eta - q + 1
        statistic = np.maximum(df_denom / eta, 0.0) * quadratic / q
        with np.errstate(invalid="ignore"):
            pvalue = np.where(
                df_denom > 0, f_distribution.sf(statistic, q, np.maximum(df_denom, 1e-300)), np.nan
            )
        return {
            "statistic": statistic,
            "df_num": np.full(b.shape[0], float(q)),
            "df_denom": df_denom,
            "pvalue": pvalue,
        }


def _p_array(arrays: RobustArrays, c: FloatArray, *, pairs: bool = True) -> FloatArray:
    """``P[b, s, t, j, k]`` of contrasts ``c`` (q x p), as clubSandwich's ``get_P_array``.

    ``pairs=False`` gives only ``s = t``, ``P[b, s, j, k]`` (what the df of each
    contrast needs), in q times less memory.
    """
    g = np.einsum("qp,bjpn->bjqn", c, arrays.g)
    h1, h2, h3 = (np.einsum("qp,bjpr->bjqr", c, h) for h in (arrays.h1, arrays.h2, arrays.h3))
    out = "bstjk" if pairs else "bsjk"
    second = "bktr" if pairs else "bksr"
    p_all = (
        np.einsum(f"bjsr,{second}->{out}", h3, h3)
        - np.einsum(f"bjsr,{second}->{out}", h1, h2)
        - np.einsum(f"bjsr,{second}->{out}", h2, h1)
    )
    diagonal = np.einsum("bjsn,bjtn->bstj" if pairs else "bjsn,bjsn->bsj", g, g)
    n_clusters = g.shape[1]
    p_all[..., np.arange(n_clusters), np.arange(n_clusters)] += diagonal
    return p_all


def _symmetric_power(matrix: FloatArray, power: float) -> FloatArray:
    """``matrix^power`` of symmetric matrices (last two axes) by eigen-decomposition.

    Eigenvalues at or below :data:`EIGENVALUE_TOLERANCE` times the largest are
    set to zero, as clubSandwich's ``matrix_power`` does for its absolute 1e-12.
    """
    values, vectors = np.linalg.eigh(matrix)
    largest = np.max(np.abs(values), axis=-1, keepdims=True)
    keep = values > EIGENVALUE_TOLERANCE * largest
    powered = np.where(keep, np.where(keep, values, 1.0) ** power, 0.0)
    return np.einsum("...ik,...k,...jk->...ij", vectors, powered, vectors)


def _blocks(matrix: FloatArray, blocks: ClusterBlocks) -> FloatArray:
    """The diagonal blocks ``(batch, J, n, n)`` of ``(batch, k, k)`` or a diagonal ``(batch, k)``.

    Padding gets the identity, so that inverses and Cholesky factors exist.
    """
    index, mask = blocks.index, blocks.mask
    pair = mask[:, :, None] & mask[:, None, :]
    if matrix.ndim == 2:
        out = np.zeros((*matrix.shape[:1], *index.shape, index.shape[1]))
        diagonal = np.where(mask, matrix[:, index], 1.0)
        n = index.shape[1]
        out[..., np.arange(n), np.arange(n)] = diagonal
        return out
    gathered = matrix[:, index[:, :, None], index[:, None, :]]
    eye = np.eye(index.shape[1], dtype=bool)
    return np.where(pair, gathered, np.where(eye, 1.0, 0.0))


def _batched(matrix: ArrayLike, single: bool) -> FloatArray:
    """Weights or covariances with a batch axis: diagonal ``(batch, k)`` or ``(batch, k, k)``."""
    out = np.asarray(matrix, dtype=np.float64)
    return out[None] if single else out


def _adjustment_factor(adjust: str, n_clusters: int, n: int, p: int) -> float:
    """The scalar of CR1, CR1p and CR1S (applied to the estimating functions, squared in V)."""
    if adjust == "CR1":
        return n_clusters / (n_clusters - 1)
    if adjust == "CR1p":
        return n_clusters / (n_clusters - p)
    if adjust == "CR1S":
        return n_clusters * (n - 1) / ((n_clusters - 1) * (n - p))
    return 1.0


def cluster_robust(
    X: ArrayLike,
    W: ArrayLike,
    residuals: ArrayLike,
    cluster: ArrayLike,
    *,
    adjust: str = "CR2",
    working_covariance: ArrayLike | None = None,
) -> RobustArrays:
    """The cluster-robust covariance of weighted least-squares coefficients (module docstring).

    ``X`` is ``(batch, k, p)`` (or ``(k, p)``), ``W`` the weights: diagonal
    ``(batch, k)`` or dense ``(batch, k, k)`` (only its blocks within clusters
    are used), ``residuals`` ``(batch, k)``, ``cluster`` ``k`` labels shared by
    the batch.  ``working_covariance`` is the CR2 target ``Phi`` (same shapes
    as ``W``; default ``W^-1``).  Raises ``ValueError`` for fewer than two
    clusters or an unknown ``adjust`` (the analysis layer checks first).
    """
    if adjust not in ADJUSTMENTS:
        raise ValueError(f"unknown adjust {adjust!r}")
    x = np.asarray(X, dtype=np.float64)
    single = x.ndim == 2
    x = x[None] if single else x
    batch, n, p = x.shape
    r = np.asarray(residuals, dtype=np.float64).reshape(batch, n)
    w = _batched(W, single)
    blocks = cluster_blocks(cluster)
    n_clusters = blocks.n_clusters
    if n_clusters < 2:
        raise ValueError("cluster-robust variance needs at least two clusters")
    mask = blocks.mask
    x_j = np.where(mask[None, :, :, None], x[:, blocks.index], 0.0)  # (b, J, m, p)
    r_j = np.where(mask[None], r[:, blocks.index], 0.0)  # (b, J, m)
    w_j = _blocks(w, blocks)  # (b, J, m, m)
    if working_covariance is None:
        phi_j = np.linalg.inv(w_j)
    else:
        phi_j = _blocks(_batched(working_covariance, single), blocks)
    xw = np.einsum("bjmp,bjmn->bjpn", x_j, w_j)  # X_j'W_j
    bread = np.linalg.inv(np.einsum("bjpn,bjnr->bpr", xw, x_j))  # (X'WX)^-1
    omega = bread @ np.einsum("bjpm,bjmn,bjrn->bpr", xw, phi_j, xw) @ bread
    chol_phi = np.linalg.cholesky(phi_j)  # Phi_j = L_j L_j'
    if adjust == "CR2":
        q_j = np.einsum("bjmp,bpr,bjnr->bjmn", x_j, bread, x_j)  # X_j B X_j'
        h_jj = q_j @ w_j
        inner = (
            phi_j
            - h_jj @ phi_j
            - phi_j @ np.swapaxes(h_jj, -1, -2)
            + np.einsum("bjmp,bpr,bjnr->bjmn", x_j, omega, x_j)
        )
        g_mat = np.swapaxes(chol_phi, -1, -2) @ inner @ chol_phi
        g_mat = (g_mat + np.swapaxes(g_mat, -1, -2)) / 2.0
        adjustment = chol_phi @ _symmetric_power(g_mat, -0.5) @ np.swapaxes(chol_phi, -1, -2)
        e_j = xw @ adjustment  # (b, J, p, m)
    else:
        factor = _adjustment_factor(adjust, n_clusters, n, p)
        e_j = xw * np.sqrt(factor)
    scores = np.einsum("bjpm,bjm->bjp", e_j, r_j)
    meat = np.einsum("bjp,bjr->bpr", scores, scores)
    vcov = bread @ meat @ bread
    me = np.einsum("bpr,bjrm->bjpm", bread, e_j)  # B E_j
    chol_bread = np.linalg.cholesky(bread)
    chol_omega = np.linalg.cholesky(omega)
    g = me @ chol_phi
    h1 = me @ x_j @ chol_bread[:, None]
    h2 = me @ phi_j @ w_j @ x_j @ chol_bread[:, None]
    h3 = me @ x_j @ chol_omega[:, None]
    return RobustArrays(adjust=adjust, n_clusters=n_clusters, vcov=vcov, g=g, h1=h1, h2=h2, h3=h3)


def robust_tests(
    beta: ArrayLike, arrays: RobustArrays, *, test: str, level: float, n_params: int
) -> dict[str, FloatArray]:
    """Statistics, df, p-values and Wald-type intervals of each coefficient: ``(batch, p)``.

    ``test``: ``"satterthwaite"`` (df from :func:`cluster_robust`), ``"t"``
    (``J - p`` df, metafor's ``robust()``) or ``"z"`` (normal).
    """
    b = np.asarray(beta, dtype=np.float64).reshape(arrays.se.shape)
    if test == "satterthwaite":
        df = arrays.df
    elif test == "t":
        df = np.full(b.shape, float(arrays.n_clusters - n_params))
    else:
        df = np.full(b.shape, np.nan)
    statistic = b / arrays.se
    pvalue = two_sided_pvalue(statistic, df)
    crit = critical_value(level, df)
    return {
        "statistic": statistic,
        "df": df,
        "pvalue": pvalue,
        "ci_lower": b - crit * arrays.se,
        "ci_upper": b + crit * arrays.se,
    }
