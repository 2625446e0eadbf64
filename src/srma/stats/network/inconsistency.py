"""Heterogeneity and inconsistency in a network: the Q decomposition, the
design-by-treatment interaction test, the net heat matrix and node-splitting.

All work on :class:`~srma.stats.network.data.ContrastData` at a weight matrix ``W =
(V + tau² S)^-1`` (see :mod:`srma.stats.network.gls`), block-diagonal by study and so
by design.  The design-by-treatment interaction model (Higgins et al. 2012, Res Synth
Methods 3:98; White et al. 2012, Res Synth Methods 3:111) gives every design ``d``
(the set of treatments of a study) its own ``m_d - 1`` effects against its first
treatment; it is saturated within each design and is the consistency model plus the
inconsistency parameters.  Because ``W`` is block-diagonal by design, its fit is each
design fitted alone, and every quadratic form splits by design.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2, norm

from srma.stats.batch import FloatArray
from srma.stats.network.data import ContrastData, IntArray
from srma.stats.network.gls import (
    direct_estimates,
    marginal_covariance,
    pair_contrasts,
    pseudo_inverse,
    weight_matrix,
    weighted_fit,
)


def _design_columns(data: ContrastData) -> FloatArray:
    """The design matrix of the design-by-treatment interaction model: for each design,
    the incidence columns of its treatments but the first, on that design's rows only."""
    column_of = np.full((len(data.designs), data.n_treatments), -1, dtype=np.int64)
    pairs = [(d, t) for d, design in enumerate(data.designs) for t in design[1:]]
    for column, (d, t) in enumerate(pairs):
        column_of[d, t] = column
    columns = column_of[data.design]
    rows, treatment = np.nonzero(columns >= 0)
    matrix = np.zeros((data.n_contrasts, len(pairs)))
    matrix[rows, columns[rows, treatment]] = data.incidence[rows, treatment]
    return matrix


def _q_by_design(data: ContrastData, residuals: FloatArray, weighted: FloatArray) -> FloatArray:
    """``r_d' W_dd r_d`` per design (``W`` block-diagonal by design): the rows' products
    ``r_i (W r)_i`` summed within designs; a trailing axis of fits is kept."""
    products = residuals * weighted
    out = np.zeros((len(data.designs), *products.shape[1:]))
    np.add.at(out, data.design, products)
    return out


def _chi2_pvalue(statistic: FloatArray | float, df: FloatArray | int) -> FloatArray:
    """Upper-tail chi² p-value, NaN on 0 df."""
    df_arr = np.asarray(df, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.where(df_arr > 0, chi2.sf(statistic, np.maximum(df_arr, 1.0)), np.nan)


@dataclass(frozen=True)
class QDecomposition:
    """Q of the consistency model split into within-design and between-design parts
    (Krahn, Binder & König 2013, BMC Med Res Methodol 13:35, section "Decomposition of
    Q"), and the within-design Q of each design (``design_names``, NaN p on 0 df)."""

    q: float
    q_df: int
    q_pvalue: float
    q_within: float
    q_within_df: int
    q_within_pvalue: float
    q_between: float
    q_between_df: int
    q_between_pvalue: float
    design_names: tuple[str, ...]
    q_design: FloatArray
    q_design_df: IntArray
    q_design_pvalue: FloatArray


def q_decomposition(
    data: ContrastData, extra_covariance: FloatArray | None = None
) -> QDecomposition:
    """``Q = Q_within + Q_between`` (Krahn et al. 2013, eq. 6-8).

    ``Q = (y - X d)' W (y - X d)`` of the consistency model on ``n - (T - 1)`` df; the
    within-design Q of design ``d`` is the residual Q of that design fitted alone
    (saturated in its ``m_d - 1`` effects), on ``n_d - (m_d - 1)`` df; ``Q_between = Q -
    sum_d Q_d`` on ``sum_d (m_d - 1) - (T - 1)`` df.  ``W = V^-1``, or ``(V +
    extra_covariance)^-1`` (e.g. ``tau² S``, netmeta's random-effects decomposition).
    """
    covariance = data.V if extra_covariance is None else data.V + extra_covariance
    W = weight_matrix(data, covariance)
    consistency = weighted_fit(data.y, data.incidence[:, 1:], W)
    saturated = weighted_fit(data.y, _design_columns(data), W)
    q = float(consistency.residuals @ consistency.weighted_residuals)
    q_design = _q_by_design(data, saturated.residuals, saturated.weighted_residuals)
    rows = np.bincount(data.design, minlength=len(data.designs))
    q_design_df = rows - np.array([len(design) - 1 for design in data.designs], dtype=np.int64)
    q_df = data.n_contrasts - consistency.rank
    q_within, q_within_df = float(q_design.sum()), int(q_design_df.sum())
    q_between, q_between_df = q - q_within, q_df - q_within_df
    return QDecomposition(
        q=q,
        q_df=q_df,
        q_pvalue=float(_chi2_pvalue(q, q_df)),
        q_within=q_within,
        q_within_df=q_within_df,
        q_within_pvalue=float(_chi2_pvalue(q_within, q_within_df)),
        q_between=q_between,
        q_between_df=q_between_df,
        q_between_pvalue=float(_chi2_pvalue(q_between, q_between_df)),
        design_names=tuple(data.design_name(d) for d in range(len(data.designs))),
        q_design=q_design,
        q_design_df=q_design_df,
        q_design_pvalue=_chi2_pvalue(q_design, q_design_df),
    )


@dataclass(frozen=True)
class DesignByTreatment:
    """The Wald test of the inconsistency parameters of the design-by-treatment
    interaction model at the given tau²."""

    chi2: float
    df: int
    pvalue: float
    tau2: float


def design_by_treatment(data: ContrastData, tau2: float = 0.0) -> DesignByTreatment:
    """Wald test of consistency within the design-by-treatment interaction model
    (Higgins et al. 2012, section 3.2; White et al. 2012), tau² given (0: common effect).

    With ``W`` known, the Wald statistic of the extra parameters of a nested linear model
    is the drop in the residual quadratic form: ``chi² = Q_consistency - Q_interaction``
    on ``rank(X_interaction) - (T - 1)`` df.  At ``tau² = 0`` it is ``Q_between`` of
    :func:`q_decomposition`; at the heterogeneity of the consistency model it is netmeta's
    "between designs Q based on full design-by-treatment interaction random effects
    model" (Krahn et al. 2013) when that tau² is given.
    """
    W = weight_matrix(data, marginal_covariance(data, tau2))
    consistency = weighted_fit(data.y, data.incidence[:, 1:], W)
    interaction = weighted_fit(data.y, _design_columns(data), W)
    statistic = float(
        consistency.residuals @ consistency.weighted_residuals
        - interaction.residuals @ interaction.weighted_residuals
    )
    df = interaction.rank - consistency.rank
    return DesignByTreatment(statistic, df, float(_chi2_pvalue(statistic, df)), tau2)


def within_design_tau2(data: ContrastData) -> float:
    """The heterogeneity of the full design-by-treatment interaction model, by the
    generalised DerSimonian-Laird estimator on that model (netmeta's ``tau.within``, the
    tau² of its "between designs Q based on full design-by-treatment interaction random
    effects model"; Krahn, Binder & König 2013; Jackson, White & Riley 2012).

    With ``W = V^-1``, ``X_D`` the design columns (:func:`_design_columns`), ``Q_within``
    the residual Q of the interaction model on ``n - rank(X_D)`` df and ``P = W - W X_D
    (X_D'W X_D)^+ X_D'W``: ``tau² = max(0, (Q_within - df) / tr(P S))``, 0 where the
    trace is 0 (every design fitted exactly).
    """
    W = weight_matrix(data, data.V)
    X = _design_columns(data)
    saturated = weighted_fit(data.y, X, W)
    S = data.random_effects_structure()
    WX = W @ X
    trace = float(np.einsum("ij,ji->", W, S)) - float(
        np.einsum("pq,qp->", saturated.covariance, WX.T @ S @ WX)
    )
    df = data.n_contrasts - saturated.rank
    q_within = float(saturated.residuals @ saturated.weighted_residuals)
    if df <= 0 or trace <= 1e-12 * float(np.trace(W @ S)):
        return 0.0
    return max(0.0, (q_within - df) / trace)


@dataclass(frozen=True)
class NetHeat:
    """``matrix[d, e]``: how much the inconsistency contribution of design ``d``
    (``q_inconsistency[d]``, the diagonal) falls when design ``e`` is detached; designs
    named as netmeta writes them (``A:B:C``).  ``q_between_detached[e]`` is the
    between-design Q left once design ``e`` is detached, on ``q_between_detached_df[e]``
    df (netmeta's "between-designs Q statistic after detaching of single designs")."""

    matrix: FloatArray
    design_names: tuple[str, ...]
    q_inconsistency: FloatArray
    q_between_detached: FloatArray
    q_between_detached_df: IntArray
    q_between_detached_pvalue: FloatArray


def net_heat(data: ContrastData, tau2: float = 0.0) -> NetHeat:
    """The net heat matrix of Krahn, Binder & König (2013, section "Net heat plot").

    Design ``d``'s inconsistency contribution is ``Q_inc_d = Q_d(consistency) -
    Q_d(within)``, where ``Q_d(.)`` is the part ``r_d' W_dd r_d`` of the rows of ``d``
    (equal to ``(theta_d - X_d b)' Sigma_d^-1 (theta_d - X_d b)`` with the design's own
    estimates ``theta_d``, covariance ``Sigma_d``; they sum to ``Q_between``).  Detaching
    design ``e`` gives it its own parameters, which is fitting the consistency model
    without its rows; then ``matrix[d, e] = Q_inc_d - Q_inc_d^(detached e)``, with
    ``Q_inc_e^(detached e) = 0`` so the diagonal is ``Q_inc_d``.  All detachments are
    fitted at once (the batch of information matrices ``X'WX - X_e'W_e X_e``); a design
    whose removal cuts the network leaves parameters unidentified, and the pseudo-inverse
    gives the unique fitted values.  The between-design Q left after detaching ``e`` is
    ``sum_d Q_inc_d^(detached e)`` on ``sum_{d != e} (m_d - 1) - rank(X'W_(e)X)`` df.
    """
    W = weight_matrix(data, marginal_covariance(data, tau2))
    X = data.incidence[:, 1:]
    saturated = weighted_fit(data.y, _design_columns(data), W)
    q_within = _q_by_design(data, saturated.residuals, saturated.weighted_residuals)
    consistency = weighted_fit(data.y, X, W)
    q_inconsistency = (
        _q_by_design(data, consistency.residuals, consistency.weighted_residuals) - q_within
    )
    n_designs = len(data.designs)
    WX, Wy = W @ X, W @ data.y
    # W is block-diagonal by design, so detaching e takes exactly its rows' terms off
    own_information = np.zeros((n_designs, X.shape[1], X.shape[1]))
    np.add.at(own_information, data.design, X[:, :, None] * WX[:, None, :])
    own_score = np.zeros((n_designs, X.shape[1]))
    np.add.at(own_score, data.design, X * Wy[:, None])
    # a treatment that only design e compares leaves with it: its terms are exactly 0
    own_rows = np.zeros((n_designs, X.shape[1]))
    np.add.at(own_rows, data.design, np.abs(X))
    remains = (np.abs(X).sum(axis=0)[None, :] - own_rows) > 0.0
    information = np.where(
        remains[:, :, None] & remains[:, None, :], (X.T @ WX)[None] - own_information, 0.0
    )
    score = np.where(remains, (X.T @ Wy)[None] - own_score, 0.0)
    inverse, ranks = pseudo_inverse(information)
    coefficients = np.einsum("eij,ej->ei", inverse, score)
    residuals = data.y[None, :] - coefficients @ X.T  # (detached, rows)
    q_consistency = _q_by_design(data, residuals.T, (residuals @ W).T)  # (design, detached)
    detached = np.where(np.eye(n_designs, dtype=bool), 0.0, q_consistency - q_within[:, None])
    q_left = detached.sum(axis=0)
    parameters = np.array([len(design) - 1 for design in data.designs], dtype=np.int64)
    ranks = ranks.astype(np.int64)
    q_left_df = parameters.sum() - parameters - ranks
    return NetHeat(
        matrix=q_inconsistency[:, None] - detached,
        design_names=tuple(data.design_name(d) for d in range(n_designs)),
        q_inconsistency=q_inconsistency,
        q_between_detached=q_left,
        q_between_detached_df=q_left_df,
        q_between_detached_pvalue=_chi2_pvalue(q_left, q_left_df),
    )


@dataclass(frozen=True)
class NodeSplit:
    """Direct, indirect and network estimates of each comparison ``treat1 - treat2``
    that some study makes, with the difference direct - indirect and its z test.
    Comparisons with no indirect evidence (``proportion_direct`` 1) have NaN indirect."""

    treat1: IntArray
    treat2: IntArray
    direct: FloatArray
    direct_se: FloatArray
    indirect: FloatArray
    indirect_se: FloatArray
    network: FloatArray
    network_se: FloatArray
    proportion_direct: FloatArray
    difference: FloatArray
    difference_se: FloatArray
    z: FloatArray
    pvalue: FloatArray
    tau2: float


def node_split(
    data: ContrastData,
    network_estimates: FloatArray,
    network_covariance: FloatArray,
    *,
    tau2: float = 0.0,
) -> NodeSplit:
    """Node-splitting by back-calculation (SIDE: König, Krahn & Binder 2013, Stat Med
    32:5414, eq. 3-5; netmeta's ``netsplit(method = "Back-calculation")``).

    ``direct`` is the pairwise meta-analysis of the studies with the comparison, each
    with the variance of its own contrast at ``V + tau² S``, a multi-arm study as if it
    made that comparison only (:func:`~srma.stats.network.gls.direct_estimates` with
    ``multi_arm="marginal"``: netmeta's ``TE.direct`` and its direct evidence proportion
    from ``netmeasures``, Krahn et al. 2013); with ``w =
    var_network / var_direct`` (the proportion of direct evidence),
    ``indirect = (network - w direct) / (1 - w)``, ``var_indirect = 1 / (1/var_network
    - 1/var_direct)``, ``difference = direct - indirect`` with variance ``var_direct +
    var_indirect`` and ``z = difference / se``.  ``network_estimates`` (T,) and
    ``network_covariance`` (T, T) are the consistency model's at the same tau².
    """
    direct = direct_estimates(data, marginal_covariance(data, tau2), multi_arm="marginal")
    network, network_var = pair_contrasts(
        np.asarray(network_estimates, dtype=np.float64),
        np.asarray(network_covariance, dtype=np.float64),
        direct.treat1,
        direct.treat2,
    )
    share = network_var / direct.variance
    has_indirect = share < 1.0 - 1e-10
    with np.errstate(divide="ignore", invalid="ignore"):
        indirect = np.where(
            has_indirect, (network - share * direct.estimate) / (1.0 - share), np.nan
        )
        indirect_var = np.where(
            has_indirect, 1.0 / (1.0 / network_var - 1.0 / direct.variance), np.nan
        )
    difference = direct.estimate - indirect
    difference_se = np.sqrt(direct.variance + indirect_var)
    z = difference / difference_se
    return NodeSplit(
        treat1=direct.treat1,
        treat2=direct.treat2,
        direct=direct.estimate,
        direct_se=np.sqrt(direct.variance),
        indirect=indirect,
        indirect_se=np.sqrt(indirect_var),
        network=network,
        network_se=np.sqrt(network_var),
        proportion_direct=share,
        difference=difference,
        difference_se=difference_se,
        z=z,
        pvalue=2.0 * norm.sf(np.abs(z)),
        tau2=tau2,
    )
