"""Consistency models of a network meta-analysis on its contrasts.

The model (contrast-based, Salanti et al. 2008, Stat Methods Med Res 17:279;
Lu & Ades 2004, Stat Med 23:3105) for the contrasts ``y`` of all studies:

    ``y = X d + delta + e``,  ``e ~ N(0, V)``,  ``delta ~ N(0, tau² S)``,

``X`` the incidence matrix without the reference's column, ``d`` the basic
parameters (every other treatment against the reference), ``S`` 1 on the
diagonal and 1/2 between two contrasts of one study
(:meth:`ContrastData.random_effects_structure`).  With ``M = V + tau² S`` the
estimate is GLS, ``d = (X'M^-1X)^-1 X'M^-1 y`` with covariance ``(X'M^-1X)^-1``.

* ``EE``: ``tau² = 0``.  Identical to the graph-theoretical estimate (Rücker
  2012, Res Synth Methods 3:312) whose multi-arm studies enter with reduced
  weights: those weights make ``B' W B`` of a study's pairs equal to ``X_s' V_s^-1
  X_s`` (Rücker & Schwarzer 2014, Biom J 56:58).
* ``DL``: netmeta's generalised DerSimonian-Laird (Jackson, White & Riley 2012,
  Stat Med 31:3805, with one tau²; netmeta's ``nma.ruecker``)
  ``tau² = max(0, (Q - df) / tr(P S))``, ``P = W - W X (X'WX)^-1 X'W``, ``W =
  V^-1``; netmeta writes the trace on all pairs with reduced weights as
  ``tr((I - H)(B B' o E / 2) W)``, which is the same number.
* ``REML``, ``ML``: metafor's ``rma.mv(yi, V, mods = ~ 0 + X, random = ~ comp |
  study, rho = 1/2)``, on :func:`srma.stats.multilevel.fit_multilevel`.

``Q = r'V^-1 r`` (``r`` the residuals of the EE fit) on ``n_contrasts - (T - 1)``
df is the total heterogeneity/inconsistency statistic of netmeta and metafor's
``QE``, whatever the model.  Knapp-Hartung (``test="knha"``): the covariance
times ``s² = r_M' M^-1 r_M / (k - p)`` (``r_M`` the residuals of the fitted
model, ``k`` contrasts, ``p = T - 1``), t on ``k - p`` df (Knapp & Hartung 2003,
Stat Med 22:2693, as metafor's ``rma.uni(test="knha")``, applied to the
multivariate model).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from srma.errors import InputError
from srma.stats.batch import FloatArray
from srma.stats.multilevel import fit_multilevel
from srma.stats.multilevel.terms import RandomTerm
from srma.stats.network.data import ContrastData
from srma.stats.robust import cluster_blocks

LOG_2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True, eq=False)
class NetworkFit:
    """A fitted consistency model: basic parameters ``beta`` (every treatment but the
    reference, in treatment order) with covariance ``vcov`` (Knapp-Hartung-scaled
    where ``test="knha"``), ``tau2``, Q on ``q_df`` df, the log-likelihood (ML for EE,
    DL; REML or ML as fitted), the degrees of freedom of the t test (NaN: normal),
    the Knapp-Hartung factor ``s2`` (1 otherwise) and the total covariance ``M``."""

    method: str
    reference: int
    beta: FloatArray
    vcov: FloatArray
    tau2: float
    q: float
    q_df: int
    loglik: float
    df: float
    s2: float
    total_covariance: FloatArray
    converged: bool


def design_matrix(data: ContrastData, reference: int) -> FloatArray:
    """The incidence matrix without the reference's column."""
    keep = np.arange(data.n_treatments) != reference
    return data.incidence[:, keep]


@dataclass(frozen=True, eq=False)
class StudyBlocks:
    """The contrasts grouped by study: ``index`` (studies, a_max - 1) into the rows, padded
    where ``mask`` is False (a study's contrasts covary only with each other)."""

    index: np.ndarray
    mask: np.ndarray

    @classmethod
    def of(cls, data: ContrastData) -> StudyBlocks:
        blocks = cluster_blocks(data.study)
        return cls(blocks.index, blocks.mask)

    def matrices(self, M: FloatArray) -> FloatArray:
        """The studies' blocks of ``M`` (S, m, m), padded with the identity."""
        pair = self.mask[:, :, None] & self.mask[:, None, :]
        eye = np.eye(self.index.shape[1], dtype=bool)
        gathered = M[self.index[:, :, None], self.index[:, None, :]]
        return np.where(pair, gathered, np.where(eye, 1.0, 0.0))

    def rows(self, values: FloatArray) -> FloatArray:
        """Rows of ``values`` (k, ...) by study (S, m, ...), 0 where padded."""
        mask = self.mask.reshape(self.mask.shape + (1,) * (values.ndim - 1))
        return np.where(mask, values[self.index], 0.0)


def gls(
    y: FloatArray, M: FloatArray, X: FloatArray, blocks: StudyBlocks
) -> tuple[FloatArray, FloatArray, float, float]:
    """``beta = (X'M^-1X)^-1 X'M^-1 y``, its covariance, ``r'M^-1 r`` and ``log det M``,
    with ``M`` block-diagonal by study (inverted block by block, as one batch)."""
    inverse = np.linalg.inv(blocks.matrices(M))
    Xb, yb = blocks.rows(X), blocks.rows(y)
    MX = inverse @ Xb
    vcov = np.linalg.inv(np.einsum("smp,smq->pq", Xb, MX))
    beta = vcov @ np.einsum("smp,sm->p", MX, yb)
    residual = yb - Xb @ beta
    q = float(np.einsum("sm,smn,sn->", residual, inverse, residual))
    logdet = float(np.sum(np.linalg.slogdet(blocks.matrices(M))[1]))
    return beta, vcov, q, logdet


def dl_tau2(data: ContrastData, X: FloatArray, q: float, blocks: StudyBlocks) -> float:
    """netmeta's generalised DerSimonian-Laird tau² (module docstring):
    ``tr(P S) = tr(W S) - tr((X'WX)^-1 X'W S W X)``, block by block."""
    df = data.n_contrasts - X.shape[1]
    if df <= 0:
        return 0.0
    W = np.linalg.inv(blocks.matrices(data.V))
    S = blocks.matrices(data.random_effects_structure())
    pair = blocks.mask[:, :, None] & blocks.mask[:, None, :]
    S = np.where(pair, S, 0.0)
    WX = W @ blocks.rows(X)
    information = np.einsum("smp,smq->pq", blocks.rows(X), WX)
    middle = np.einsum("smp,smn,snq->pq", WX, S, WX)
    trace = float(np.einsum("smn,snm->", W, S)) - float(
        np.trace(np.linalg.solve(information, middle))
    )
    return max(0.0, (q - df) / trace)


def _position_in_study(data: ContrastData) -> tuple[np.ndarray, int]:
    """Each contrast's position ``0..a-2`` among its study's contrasts.

    metafor's ``~ comp | study`` with CS correlates two contrasts of one study by
    ``rho`` because their comparisons differ; as no study has one comparison twice,
    the position within the study is an inner factor giving the same covariance,
    with ``a - 1`` levels instead of one per comparison of the network.
    """
    order = np.argsort(data.study, kind="stable")
    first = np.searchsorted(data.study[order], data.study[order])
    position = np.empty(data.n_contrasts, dtype=np.int64)
    position[order] = np.arange(data.n_contrasts) - first
    return position, int(position.max()) + 1


def fit_network(data: ContrastData, reference: int, method: str, test: str = "z") -> NetworkFit:
    """Fit the consistency model by ``method`` (EE, DL, REML, ML); ``test`` "z" or "knha"."""
    X = design_matrix(data, reference)
    k, p = X.shape
    if k <= p and method in ("REML", "ML"):
        raise InputError(
            f"{method} needs more contrasts ({k}) than basic parameters ({p}): "
            "the network has no heterogeneity to estimate"
        )
    blocks = StudyBlocks.of(data)
    _, _, q, _ = gls(data.y, data.V, X, blocks)
    converged = True
    if method == "EE":
        tau2 = 0.0
    elif method == "DL":
        tau2 = dl_tau2(data, X, q, blocks)
    else:
        codes, n_codes = _position_in_study(data)
        term = RandomTerm(
            "struct", outer=data.study, inner=codes, n_inner=n_codes, struct="CS",
            fixed={"rho": 0.5},
        )  # fmt: skip
        fitted = fit_multilevel(data.y, data.V, X, [term], method=method)
        tau2 = float(fitted.parameter("tau2")[0])
        converged = bool(fitted.converged[0])
    M = data.V + tau2 * data.random_effects_structure()
    beta, vcov, q_model, logdet = gls(data.y, M, X, blocks)
    if method == "REML":
        information_logdet = float(np.linalg.slogdet(np.linalg.inv(vcov))[1])
        xtx_logdet = float(np.linalg.slogdet(X.T @ X)[1])
        loglik = -0.5 * ((k - p) * LOG_2PI + logdet + information_logdet - xtx_logdet + q_model)
    else:
        loglik = -0.5 * (k * LOG_2PI + logdet + q_model)
    df, s2 = float("nan"), 1.0
    if test == "knha":
        if k <= p:
            raise InputError("test='knha' needs more contrasts than basic parameters")
        df, s2 = float(k - p), q_model / (k - p)
        vcov = vcov * s2
    return NetworkFit(
        method=method, reference=reference, beta=beta, vcov=vcov, tau2=tau2, q=q,
        q_df=k - p, loglik=loglik, df=df, s2=s2, total_covariance=M, converged=converged,
    )  # fmt: skip
