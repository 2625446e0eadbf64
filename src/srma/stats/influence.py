"""Sensitivity analyses as batches: leave-one-out, cumulative, GOSH subsets, influence.

Each analysis here is many meta-analyses of subsets of the same studies, so
each builds a batch of masks over the studies and pools it in one call of
:func:`srma.stats.pooling.pool`:

* leave-one-out: row ``i`` omits study ``i`` (Viechtbauer & Cheung 2010);
* cumulative: row ``i`` holds the first ``i + 1`` studies in a given order
  (Lau et al. 1992);
* GOSH: one row per subset of studies (Olkin, Dahabreh & Trikalinos 2012),
  subsets numbered by the bits of an integer code.

Influence diagnostics follow Viechtbauer & Cheung (2010), Res Synth Methods
1:112-125, as metafor's ``influence.rma.uni`` computes them for the
intercept-only model.

Mantel-Haenszel and Peto analyses pool 2x2 tables, not ``y, v``; the same
masks (:func:`leave_one_out_masks`, :func:`cumulative_masks`,
:func:`gosh_masks`) go to :func:`srma.stats.mantel_haenszel.pool_tables`,
which refits every row by the same method in one call (:func:`gosh_tables`,
:func:`table_influence`).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.stats import chi2

from srma.stats.batch import Batch, BoolArray, FloatArray
from srma.stats.mantel_haenszel import CountTables, pool_tables
from srma.stats.pooling import BLOCK_ROWS, PooledArrays, pool


def _with_mask(y: FloatArray, v: FloatArray, mask: BoolArray) -> Batch:
    return Batch(
        y=np.asfortranarray(np.where(mask, y, 0.0)),
        v=np.asfortranarray(np.where(mask, v, 1.0)),
        mask=np.asfortranarray(mask),
    )


def masked_batch(y: FloatArray, v: FloatArray, masks: BoolArray) -> Batch:
    """One row per mask over the same ``k`` studies: row ``i`` holds the studies in ``masks[i]``."""
    shape = masks.shape
    return _with_mask(np.broadcast_to(y, shape), np.broadcast_to(v, shape), masks)


def leave_one_out_masks(k: int) -> BoolArray:
    """``k`` rows; row ``i`` marks every study but ``i``."""
    return ~np.eye(k, dtype=bool)


def cumulative_masks(permutation: NDArray[np.intp]) -> BoolArray:
    """``k`` rows in the original study order; row ``i`` marks ``permutation[: i + 1]``."""
    k = permutation.size
    masks = np.zeros((k, k), dtype=bool)
    rank = np.empty(k, dtype=np.intp)
    rank[permutation] = np.arange(k)
    masks[:] = rank[None, :] <= np.arange(k)[:, None]
    return masks


def leave_one_out_batch(y: FloatArray, v: FloatArray) -> Batch:
    """``k`` rows from one meta-analysis of ``k`` studies; row ``i`` omits study ``i``."""
    k = y.size
    mask = ~np.eye(k, dtype=bool)
    return _with_mask(np.broadcast_to(y, (k, k)), np.broadcast_to(v, (k, k)), mask)


def cumulative_batch(y: FloatArray, v: FloatArray) -> Batch:
    """``k`` rows; row ``i`` holds studies ``0..i`` (order the studies first)."""
    k = y.size
    mask = np.tri(k, dtype=bool)
    return _with_mask(np.broadcast_to(y, (k, k)), np.broadcast_to(v, (k, k)), mask)


def subset_masks(codes: NDArray[np.int64], k: int) -> BoolArray:
    """Masks of the subsets numbered by ``codes``: study ``j`` is in when bit ``j`` is set."""
    return ((codes[:, None] >> np.arange(k, dtype=np.int64)[None, :]) & 1).astype(bool)


def subsets_batch(y: FloatArray, v: FloatArray, codes: NDArray[np.int64]) -> Batch:
    """One row per subset code (see :func:`subset_masks`)."""
    mask = subset_masks(codes, y.size)
    n = codes.size
    return _with_mask(np.broadcast_to(y, (n, y.size)), np.broadcast_to(v, (n, y.size)), mask)


@dataclass(frozen=True)
class InfluenceArrays:
    """Per-study influence diagnostics of one meta-analysis (arrays of length k)."""

    rstudent: FloatArray
    dffits: FloatArray
    cooks_distance: FloatArray
    covariance_ratio: FloatArray
    tau2_deleted: FloatArray
    q_deleted: FloatArray
    hat: FloatArray
    weight: FloatArray
    dfbetas: FloatArray
    influential: NDArray[np.bool_]
    estimate_deleted: FloatArray
    se_deleted: FloatArray


def influence(
    y: FloatArray,
    v: FloatArray,
    *,
    method: str,
    test: str,
    full: PooledArrays | None = None,
    deleted: PooledArrays | None = None,
) -> InfluenceArrays:
    """Influence diagnostics of each study, from the full fit and the leave-one-out fits.

    With ``beta`` and ``Var(beta)`` from the full model, and ``beta_(-i)``,
    ``tau²_(-i)``, ``Var(beta_(-i))`` from the model without study ``i``, and
    ``s²_(-i)`` the Knapp-Hartung factor of that fit (1 under z and t):

    * externally standardised residual: ``(y_i - beta_(-i)) / sqrt(s²_(-i) (v_i +
      tau²_(-i)) + Var(beta_(-i)))``;
    * hat value ``h_i = w_i / sum w``; weight in percent;
    * DFFITS: ``(beta - beta_(-i)) / sqrt(s²_(-i) h_i (tau²_(-i) + v_i))``;
    * DFBETAS: ``(beta - beta_(-i)) / sqrt(s²_(-i) / sum_j 1/(v_j + tau²_(-i)))``;
    * Cook's distance: ``(beta - beta_(-i))² / Var(beta)``;
    * covariance ratio: ``Var(beta_(-i)) / Var(beta)``.

    A study is flagged influential when ``|DFFITS| > 3 sqrt(1/(k-1))``, or
    ``P(chi²_1 <= Cook's distance) > 0.5``, or ``h_i > 3/k``, or ``|DFBETAS| > 1``
    (Viechtbauer & Cheung 2010; metafor's rule).
    """
    k = y.size
    if full is None:
        full = pool(
            Batch(y[None, :], v[None, :], np.ones((1, k), dtype=bool)),
            method=method,
            test=test,
            tau2_interval=False,
        )
    if deleted is None:
        deleted = pool(leave_one_out_batch(y, v), method=method, test=test, tau2_interval=False)
    common = method in ("EE", "FE", "CE")
    tau2_full = 0.0 if common else float(full.tau2[0])
    tau2_del = np.zeros(k) if common else deleted.tau2
    variance_full = full.se[0] ** 2
    variance_del = deleted.se**2
    others = ~np.eye(k, dtype=bool)
    sum_w_del = np.where(others, 1.0 / (v[None, :] + tau2_del[:, None]), 0.0).sum(axis=1)
    scale_del = variance_del * sum_w_del if test in ("knha", "adhoc") else np.ones(k)
    sum_w_all = (1.0 / (v[None, :] + tau2_del[:, None])).sum(axis=1)

    estimate_full = full.estimate[0]
    change = estimate_full - deleted.estimate
    w_full = 1.0 / (v + tau2_full)
    hat = w_full / w_full.sum()
    residual = y - deleted.estimate
    residual = np.where(np.abs(residual) < 100 * np.finfo(float).eps, 0.0, residual)
    rstudent = residual / np.sqrt(v * scale_del + variance_del + tau2_del * scale_del)
    dffits = change / np.sqrt(scale_del * hat * (tau2_del + v))
    dfbetas = change / np.sqrt(scale_del / sum_w_all)
    cooks = change**2 / variance_full
    influential = (
        (np.abs(dffits) > 3.0 * np.sqrt(1.0 / (k - 1)))
        | (chi2.cdf(cooks, 1) > 0.5)
        | (hat > 3.0 / k)
        | (np.abs(dfbetas) > 1.0)
    )
    return InfluenceArrays(
        rstudent=rstudent,
        dffits=dffits,
        cooks_distance=cooks,
        covariance_ratio=variance_del / variance_full,
        tau2_deleted=tau2_del,
        q_deleted=deleted.q,
        hat=hat,
        weight=100.0 * hat,
        dfbetas=dfbetas,
        influential=influential,
        estimate_deleted=deleted.estimate,
        se_deleted=deleted.se,
    )


@dataclass(frozen=True)
class BaujatArrays:
    """Baujat et al. (2002) plot coordinates for each study."""

    heterogeneity_contribution: FloatArray  # x: (y_i - beta)² / (tau² + v_i)
    influence_on_result: FloatArray  # y: (beta_(-i) - beta)² / Var(beta_(-i))


def baujat_values(
    y: FloatArray,
    v: FloatArray,
    estimate: float,
    tau2: float,
    deleted_estimate: FloatArray,
    deleted_se: FloatArray,
) -> BaujatArrays:
    """Baujat coordinates from the full estimate and tau² and the leave-one-out fits."""
    return BaujatArrays(
        heterogeneity_contribution=(y - estimate) ** 2 / (tau2 + v),
        influence_on_result=(deleted_estimate - estimate) ** 2 / deleted_se**2,
    )


def baujat(
    y: FloatArray, v: FloatArray, full: PooledArrays, deleted: PooledArrays, method: str
) -> BaujatArrays:
    """Baujat, Mahé, Pignon & Hill (2002), Stat Med 21:2641-2652, as metafor's ``baujat``."""
    tau2 = 0.0 if method in ("EE", "FE", "CE") else float(full.tau2[0])
    return baujat_values(y, v, float(full.estimate[0]), tau2, deleted.estimate, deleted.se)


@dataclass(frozen=True)
class GoshArrays:
    """Fits of many subsets of the studies (GOSH: graphical display of study heterogeneity)."""

    included: BoolArray  # (subsets, k)
    exact: bool  # True when every non-empty subset was fitted
    k: NDArray[np.int64]
    estimate: FloatArray
    tau2: FloatArray
    q: FloatArray
    i2: FloatArray
    h2: FloatArray


def gosh_masks(k: int, max_subsets: int, rng: np.random.Generator) -> tuple[BoolArray, bool]:
    """Every non-empty subset when there are at most ``max_subsets``, else a random sample.

    Random subsets include each study with probability 1/2 (empty draws are
    redrawn), as metafor's ``gosh`` samples them.
    """
    total = 2**k - 1 if k < 63 else None
    if total is not None and total <= max_subsets:
        return subset_masks(np.arange(1, total + 1, dtype=np.int64), k), True
    masks = rng.random((max_subsets, k)) < 0.5
    empty = ~masks.any(axis=1)
    while empty.any():
        masks[empty] = rng.random((int(empty.sum()), k)) < 0.5
        empty = ~masks.any(axis=1)
    return masks, False


def _moment_subsets(
    y: FloatArray, v: FloatArray, masks: BoolArray, method: str
) -> dict[str, FloatArray]:
    """Common-effect or DerSimonian-Laird fits of many subsets from a few matrix products.

    GOSH fits a million subsets of the same k studies, so the sums ``sum w``,
    ``sum w y``, ``sum w y²`` and ``sum w²`` (``w = 1/v``) of every subset are
    one product of the 0/1 subset matrix with four k-vectors, and Q, tau²,
    I², H² follow in closed form; effects are centred first so that ``Q =
    sum w y² - (sum w y)² / sum w`` keeps its precision.  Same formulas as
    :func:`srma.stats.pooling.pool`, which the tests compare it with.
    """
    included = masks.astype(np.float64)
    w = 1.0 / v
    shift = np.sum(w * y) / np.sum(w)
    centred = y - shift
    sums = included @ np.column_stack([w, w * centred, w * centred**2, w * w, np.ones_like(w)])
    sum_w, sum_wy, sum_wy2, sum_w2, k = sums.T
    several = k >= 2
    df = np.where(several, k - 1.0, np.nan)
    q = np.maximum(sum_wy2 - sum_wy**2 / sum_w, 0.0)
    if method == "EE":
        tau2 = np.zeros_like(q)
        estimate = sum_wy / sum_w + shift
        with np.errstate(divide="ignore", invalid="ignore"):
            i2 = np.where(q > df, 100.0 * (q - df) / q, 0.0)
            h2 = q / df
    else:
        scale = sum_w - sum_w2 / sum_w
        with np.errstate(divide="ignore", invalid="ignore"):
            tau2 = np.where(several, np.maximum((q - df) / scale, 0.0), 0.0)
            typical = df / scale
            i2 = 100.0 * tau2 / (typical + tau2)
            h2 = tau2 / typical + 1.0
        weights = included / (v[None, :] + tau2[:, None])
        estimate = (weights @ centred) / weights.sum(axis=1) + shift
    return {
        "k": k.astype(np.int64),
        "estimate": estimate,
        "tau2": np.where(several, tau2, np.nan),
        "q": np.where(several, q, np.nan),
        "i2": np.where(several, i2, np.nan),
        "h2": np.where(several, h2, np.nan),
    }


def gosh(
    y: FloatArray,
    v: FloatArray,
    *,
    method: str,
    max_subsets: int = 2**20 - 1,
    seed: int | None = None,
    workers: int | None = None,
) -> GoshArrays:
    """Pool every subset of the studies (or ``max_subsets`` random ones).

    Olkin, Dahabreh & Trikalinos (2012), Res Synth Methods 3:214-223.  EE and
    DL use the closed forms of :func:`_moment_subsets`; other methods the full
    engine.  The subsets are pooled in blocks of :data:`~srma.stats.pooling.BLOCK_ROWS` on
    ``workers`` threads; heterogeneity fields of one-study subsets are NaN.
    """
    masks, exact = gosh_masks(y.size, max_subsets, np.random.default_rng(seed))
    n = masks.shape[0]
    fields = ("k", "estimate", "tau2", "q", "i2", "h2")

    def run(start: int) -> dict[str, FloatArray]:
        block = masks[start : start + BLOCK_ROWS]
        if method in ("EE", "DL"):
            return _moment_subsets(y, v, block, method)
        rows = block.shape[0]
        fitted = pool(
            _with_mask(
                np.broadcast_to(y, (rows, y.size)), np.broadcast_to(v, (rows, y.size)), block
            ),
            method=method,
            tau2_interval=False,
        )
        return {name: getattr(fitted, name) for name in fields}

    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as executor:
        parts = list(executor.map(run, range(0, n, BLOCK_ROWS)))

    def joined(name: str) -> FloatArray:
        return np.concatenate([part[name] for part in parts])

    return GoshArrays(
        included=masks,
        exact=exact,
        k=joined("k"),
        estimate=joined("estimate"),
        tau2=joined("tau2"),
        q=joined("q"),
        i2=joined("i2"),
        h2=joined("h2"),
    )


def table_influence(
    y: FloatArray,
    v: FloatArray,
    *,
    estimate: float,
    se: float,
    deleted_estimate: FloatArray,
    deleted_se: FloatArray,
    deleted_q: FloatArray,
    weights: FloatArray,
) -> InfluenceArrays:
    """Leave-one-out influence diagnostics of a Mantel-Haenszel or Peto analysis.

    metafor offers no ``influence()`` for ``rma.mh`` or ``rma.peto``: those
    estimators are not weighted least squares in ``y_i``, so hat values and
    DFFITS (which need the hat matrix) are undefined here (NaN).  What is
    defined is what the leave-one-out refits by the same method give, with
    ``beta``, ``Var(beta)`` from the full fit, ``beta_(-i)``, ``Var(beta_(-i))``
    from the fit without table ``i``, and ``y_i, v_i`` the table's own
    effect size (escalc's, NaN where it has none):

    * externally standardised residual ``(y_i - beta_(-i)) / sqrt(v_i + Var(beta_(-i)))``
      (the common-effect form of Viechtbauer & Cheung 2010, tau² = 0);
    * DFBETAS ``(beta - beta_(-i)) / sqrt(Var(beta))`` and Cook's distance
      ``(beta - beta_(-i))² / Var(beta)`` (so Cook's distance = DFBETAS², as
      for any common-effect model in metafor's ``influence.rma.uni``);
    * covariance ratio ``Var(beta_(-i)) / Var(beta)``; ``Q`` without table
      ``i``; the table's Mantel-Haenszel (or Peto) weight in percent.

    A table is flagged influential by the two of metafor's rules that
    remain: ``P(chi²_1 <= Cook's distance) > 0.5`` or ``|DFBETAS| > 1``.
    """
    change = estimate - deleted_estimate
    residual = y - deleted_estimate
    residual = np.where(np.abs(residual) < 100 * np.finfo(float).eps, 0.0, residual)
    cooks = change**2 / se**2
    dfbetas = change / se
    nan = np.full(y.shape, np.nan)
    with np.errstate(invalid="ignore"):
        influential = (chi2.cdf(cooks, 1) > 0.5) | (np.abs(dfbetas) > 1.0)
    return InfluenceArrays(
        rstudent=residual / np.sqrt(v + deleted_se**2),
        dffits=nan,
        cooks_distance=cooks,
        covariance_ratio=deleted_se**2 / se**2,
        tau2_deleted=nan,
        q_deleted=deleted_q,
        hat=nan,
        weight=weights,
        dfbetas=dfbetas,
        influential=influential,
        estimate_deleted=deleted_estimate,
        se_deleted=deleted_se,
    )


def gosh_tables(
    tables: CountTables,
    *,
    method: str,
    measure: str | None,
    max_subsets: int = 2**20 - 1,
    seed: int | None = None,
    workers: int | None = None,
) -> GoshArrays:
    """GOSH of a Mantel-Haenszel or Peto analysis: every subset of tables refitted by the method.

    Subsets as :func:`gosh` draws them; each block of
    :data:`~srma.stats.pooling.BLOCK_ROWS` subsets is one call of
    :func:`~srma.stats.mantel_haenszel.pool_tables`.  ``k`` counts the tables
    in the subset (as metafor's ``gosh``); ``tau2`` is NaN (common-effect
    models); heterogeneity of one-table subsets is NaN.
    """
    masks, exact = gosh_masks(tables.k, max_subsets, np.random.default_rng(seed))
    fields = ("estimate", "q", "i2", "h2")

    def run(start: int) -> dict[str, FloatArray]:
        fitted = pool_tables(tables, masks[start : start + BLOCK_ROWS], method, measure)  # type: ignore[arg-type]
        return {name: getattr(fitted, name) for name in fields}

    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as executor:
        parts = list(executor.map(run, range(0, masks.shape[0], BLOCK_ROWS)))

    def joined(name: str) -> FloatArray:
        return np.concatenate([part[name] for part in parts])

    return GoshArrays(
        included=masks,
        exact=exact,
        k=masks.sum(axis=1).astype(np.int64),
        estimate=joined("estimate"),
        tau2=np.full(masks.shape[0], np.nan),
        q=joined("q"),
        i2=joined("i2"),
        h2=joined("h2"),
    )
