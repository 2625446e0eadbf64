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
from scipy.linalg import cho_factor, cho_solve

from srma.errors import InputError
from srma.stats.batch import FloatArray
from srma.stats.multilevel import fit_multilevel
from srma.stats.multilevel.terms import RandomTerm
from srma.stats.network.data import ContrastData

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


def gls(y: FloatArray, M: FloatArray, X: FloatArray) -> tuple[FloatArray, FloatArray, float, float]:
    """``beta = (X'M^-1X)^-1 X'M^-1 y``, its covariance, ``r'M^-1 r`` and ``log det M``."""
    factor = cho_factor(M, lower=True)
    MX = cho_solve(factor, X)
    information = X.T @ MX
    vcov = np.linalg.inv(information)
    beta = vcov @ (MX.T @ y)
    residual = y - X @ beta
    q = float(residual @ cho_solve(factor, residual))
    logdet = 2.0 * float(np.sum(np.log(np.diagonal(factor[0]))))
    return beta, vcov, q, logdet


def dl_tau2(data: ContrastData, X: FloatArray, q: float) -> float:
    """netmeta's generalised DerSimonian-Laird tau² (module docstring)."""
    df = data.n_contrasts - X.shape[1]
    if df <= 0:
        return 0.0
    factor = cho_factor(data.V, lower=True)
    W = cho_solve(factor, np.eye(data.n_contrasts))
    WX = W @ X
    P = W - WX @ np.linalg.solve(X.T @ WX, WX.T)
    trace = float(np.sum(P * data.random_effects_structure()))
    return max(0.0, (q - df) / trace)


def _comparison_codes(data: ContrastData) -> tuple[np.ndarray, int]:
    pairs = data.treat1 * data.n_treatments + data.treat2
    _, codes = np.unique(pairs, return_inverse=True)
    return codes.astype(np.int64), int(codes.max()) + 1


def fit_network(data: ContrastData, reference: int, method: str, test: str = "z") -> NetworkFit:
    """Fit the consistency model by ``method`` (EE, DL, REML, ML); ``test`` "z" or "knha"."""
    X = design_matrix(data, reference)
    k, p = X.shape
    if k <= p and method in ("REML", "ML"):
        raise InputError(
            f"{method} needs more contrasts ({k}) than basic parameters ({p}): "
            "the network has no heterogeneity to estimate"
        )
    _, _, q, _ = gls(data.y, data.V, X)
    converged = True
    if method == "EE":
        tau2 = 0.0
    elif method == "DL":
        tau2 = dl_tau2(data, X, q)
    else:
        codes, n_codes = _comparison_codes(data)
        term = RandomTerm(
            "struct", outer=data.study, inner=codes, n_inner=n_codes, struct="CS",
            fixed={"rho": 0.5},
        )  # fmt: skip
        fitted = fit_multilevel(data.y, data.V, X, [term], method=method)
        tau2 = float(fitted.parameter("tau2")[0])
        converged = bool(fitted.converged[0])
    M = data.V + tau2 * data.random_effects_structure()
    beta, vcov, q_model, logdet = gls(data.y, M, X)
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
