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

import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.stats import chi2

from srma.stats.batch import Batch, BoolArray, FloatArray, quantile_per_df, regression_batch
from srma.stats.heterogeneity import h2_from_q, h2_from_tau2, i2_from_q, i2_from_tau2
from srma.stats.inference import (
    chi2_pvalue,
    critical_value,
    degrees_of_freedom,
    prediction_df,
    prediction_interval,
    residuals_vanish,
    two_sided_pvalue,
    wald_interval,
)
from srma.stats.mantel_haenszel import CountTables, pool_tables
from srma.stats.pooling import BLOCK_ROWS, PooledArrays, pool
from srma.stats.regression import meta_regression
from srma.stats.tau2 import BOUNDARY_GRID
from srma.vocabulary import KNAPP_HARTUNG_TESTS


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


def leave_one_out_masks(k: int, rows: NDArray[np.intp] | None = None) -> BoolArray:
    """One row per study (or per entry of ``rows``); row ``i`` marks every study but ``i``."""
    rows = np.arange(k) if rows is None else np.asarray(rows, dtype=np.intp)
    masks = np.ones((rows.size, k), dtype=bool)
    masks[np.arange(rows.size), rows] = False
    return masks


def cumulative_masks(
    permutation: NDArray[np.intp], rows: NDArray[np.intp] | None = None
) -> BoolArray:
    """Columns in the original study order; row ``i`` marks ``permutation[: i + 1]``
    (``rows``: only those steps)."""
    k = permutation.size
    rows = np.arange(k) if rows is None else np.asarray(rows, dtype=np.intp)
    rank = np.empty(k, dtype=np.intp)
    rank[permutation] = np.arange(k)
    return rank[None, :] <= rows[:, None]


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
    deleted: SubsetFits | None = None,
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
    (Viechtbauer & Cheung 2010; metafor's rule).  ``deleted`` are the
    leave-one-out fits (:func:`leave_one_out_fits`, computed when not given):
    every sum over the other studies comes from them, so nothing here is k x k.
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
        deleted = leave_one_out_fits(y, v, method=method, test=test)
    common = method in ("EE", "FE", "CE")
    tau2_full = 0.0 if common else float(full.tau2[0])
    tau2_del = np.zeros(k) if common else deleted.tau2
    variance_full = full.se[0] ** 2
    variance_del = deleted.se**2
    # sum_{j != i} and sum_j of 1/(v_j + tau²_(-i))
    sum_w_del = deleted.sum_w
    scale_del = variance_del * sum_w_del if test in KNAPP_HARTUNG_TESTS else np.ones(k)
    sum_w_all = sum_w_del + 1.0 / (v + tau2_del)

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
    y: FloatArray,
    v: FloatArray,
    full: PooledArrays,
    deleted: PooledArrays | SubsetFits,
    method: str,
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


# --- leave-one-out and cumulative fits of many studies ------------------------------
#
# Refitting k subsets of k studies directly is k² work and, as one batch, k² cells of
# memory (80 GB of doubles at k = 100,000).  Every inverse-variance fit of a subset S at
# tau² needs only sums over S of ``w^q g`` with ``w = 1/(v + tau²)``, q = 1..3 and
# ``g`` in 1, y, y²; about a point c near tau² (Taylor's series of ``(v + tau²)^-q``),
#
#     sum_S (v_j + tau²)^-q g_j = sum_n C(q+n-1, n) (c - tau²)^n sum_S (v_j + c)^-(q+n) g_j,
#
# which converges for |tau² - c| < min v + c.  For leave-one-out, the sums over S are
# the sums over all studies less study i's term; for a cumulative analysis, prefix
# sums in the order of the permutation.  So each evaluation of every subset's
# estimating equation costs O(k) per power, and the subsets' tau² are found by
# safeguarded Newton steps on all rows at once.  The series is cut where its remainder
# is below 2^-56 of the sum of the absolute values of its terms (a proven bound), so
# what it gives is exact to rounding; a row whose result the rounding could move by
# more than REFIT_TOLERANCE (relative), whose tau² lies on the boundary of an ML or
# REML likelihood that a grid may find rising further on, or whose data are extreme
# (see SERIES_RANGE) is refitted directly, in blocks of bounded memory.  The tests
# compare both ways on the same rows.

#: Fewer studies than this are refitted directly, as one batch (k² cells); cumulative
#: steps of fewer studies are refitted directly at any k.
SERIES_MIN_K = 1000
#: Cells (rows x studies) per block of direct refits: bounds their memory (~50 bytes a cell).
DIRECT_BLOCK_CELLS = 2**22
#: A series about c serves tau² with ``|tau² - c| <= SERIES_RATIO (min v + c)``.
SERIES_RATIO = 0.25
#: Truncation error of a series, relative to the sum of the absolute values of its terms.
SERIES_TRUNCATION = 2.0**-56
#: Predicted relative error (from rounding) beyond which a row is refitted directly.
REFIT_TOLERANCE = 1e-11
#: Effects and variances within ``[1/SERIES_RANGE, SERIES_RANGE]`` (|y| below it) keep
#: every power sum a finite double; other data are refitted directly.
SERIES_RANGE = 1e30
#: Block length of the two-level prefix sums (rounding error grows as block + k/block).
PREFIX_BLOCK = 256
_EPS = float(np.finfo(float).eps)
#: Subset sums are accumulated in extended precision where the platform has it (x86:
#: 64-bit mantissa), so that their error is that of rounding the result to a double.
_WIDE = np.longdouble
_WIDE_EPS = float(np.finfo(_WIDE).eps)

#: Fields of :class:`SubsetFits` that :func:`srma.stats.pooling.pool` also reports.
SUBSET_FIELDS = (
    "k",
    "estimate",
    "se",
    "statistic",
    "pvalue",
    "ci_lower",
    "ci_upper",
    "pi_lower",
    "pi_upper",
    "tau2",
    "i2",
    "h2",
    "q",
    "q_pvalue",
)


@dataclass(frozen=True)
class SubsetFits:
    """Fits of many subsets of the same studies, one per row (as :func:`pool` reports them).

    ``sum_w`` is ``sum_{j in S} 1/(v_j + tau²_S)`` (the inverse variance of the
    estimate before any Knapp-Hartung factor); ``direct`` marks the rows that
    were refitted directly rather than by power series.
    """

    k: FloatArray
    estimate: FloatArray
    se: FloatArray
    statistic: FloatArray
    pvalue: FloatArray
    ci_lower: FloatArray
    ci_upper: FloatArray
    pi_lower: FloatArray
    pi_upper: FloatArray
    tau2: FloatArray
    i2: FloatArray
    h2: FloatArray
    q: FloatArray
    q_pvalue: FloatArray
    sum_w: FloatArray
    direct: BoolArray

    def as_dict(self) -> dict[str, FloatArray]:
        """The fields shared with :class:`PooledArrays` (:data:`SUBSET_FIELDS`), by name."""
        return {name: getattr(self, name) for name in SUBSET_FIELDS}


def _prefix_sums(values: FloatArray) -> FloatArray:
    """``cumsum`` in extended precision and two levels, within blocks then over block totals
    (error ~ (B + k/B) eps_wide, not k eps), rounded to doubles once."""
    k = values.size
    blocks = -(-k // PREFIX_BLOCK)
    padded = np.zeros(blocks * PREFIX_BLOCK, dtype=_WIDE)
    padded[:k] = values
    inner = padded.reshape(blocks, PREFIX_BLOCK).cumsum(axis=1)
    offsets = np.concatenate([np.zeros(1, dtype=_WIDE), np.cumsum(inner[:-1, -1])])
    return (inner + offsets[:, None]).ravel()[:k].astype(float)


class _LeaveOneOut:
    """The subsets of leave-one-out: row ``i`` holds every study but ``i``."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.size = np.full(k, k - 1, dtype=np.int64)
        #: relative error of a subset sum: the extended sum of k terms, less one, rounded
        self.rounding = np.log2(max(k, 2)) * _WIDE_EPS + 2.0 * _EPS

    def total(self, values: FloatArray, rows: NDArray[np.intp]) -> FloatArray:
        return (values.sum(dtype=_WIDE) - values[rows]).astype(float)

    def amplification(self, values: FloatArray, rows: NDArray[np.intp]) -> FloatArray:
        """How much larger the sum over all studies is than over the subset (``values >= 0``)."""
        total = values.sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(total > 0, total / (total - values[rows]), 1.0)

    def largest(self, values: FloatArray, rows: NDArray[np.intp]) -> FloatArray:
        """The largest value over each subset."""
        top = np.argmax(values)
        second = np.max(np.delete(values, top))
        return np.where(rows == top, second, values[top])

    def masks(self, rows: NDArray[np.intp]) -> tuple[NDArray[np.intp], BoolArray]:
        return np.arange(self.k), leave_one_out_masks(self.k, rows)

    def by_series(self, series_min_k: int) -> BoolArray:
        """Rows fitted by series: all from ``series_min_k`` studies (and at least 4)."""
        return np.full(self.k, self.k >= max(series_min_k, 4))


class _Prefix:
    """The subsets of a cumulative analysis: row ``i`` holds ``permutation[: i + 1]``."""

    def __init__(self, permutation: NDArray[np.intp]) -> None:
        self.permutation = permutation
        self.k = permutation.size
        self.size = np.arange(1, self.k + 1, dtype=np.int64)
        self.rounding = (PREFIX_BLOCK + self.k / PREFIX_BLOCK) * _WIDE_EPS + 2.0 * _EPS
        self.rank = np.empty(self.k, dtype=np.intp)
        self.rank[permutation] = np.arange(self.k)

    def total(self, values: FloatArray, rows: NDArray[np.intp]) -> FloatArray:
        return _prefix_sums(values[self.permutation])[rows]

    def amplification(self, values: FloatArray, rows: NDArray[np.intp]) -> FloatArray:
        return np.ones(rows.size)

    def largest(self, values: FloatArray, rows: NDArray[np.intp]) -> FloatArray:
        return np.maximum.accumulate(values[self.permutation])[rows]

    def masks(self, rows: NDArray[np.intp]) -> tuple[NDArray[np.intp], BoolArray]:
        """The studies the rows need, in the data's order, and the rows' masks over them."""
        columns = np.flatnonzero(self.rank <= rows.max())
        return columns, self.rank[columns][None, :] <= rows[:, None]

    def by_series(self, series_min_k: int) -> BoolArray:
        """Rows fitted by series: the steps of ``series_min_k`` studies (and at least 3) on."""
        return self.size >= max(series_min_k, 3)


_Family = _LeaveOneOut | _Prefix


def _series_terms(ratio: float) -> int:
    """The fewest terms after the first for a remainder below :data:`SERIES_TRUNCATION`.

    Term n of a series for q <= 3 is at most ``c_n r^n`` times the sum of absolute
    values at c (``r = |tau² - c| / (min v + c)``), with ``c_n = (n+1)(n+2)/2 >=
    C(q+n-1, n)``; ``c_{n+1} / c_n = (n+3)/(n+1)`` falls with n, so the remainder
    from term n on is at most ``c_n r^n / (1 - r (n+3)/(n+1))``, and the sum at c is at
    most ``(1 + r)^3`` times that at tau².
    """
    if ratio == 0.0:
        return 0
    for terms in range(400):
        n = terms + 1
        growth = ratio * (n + 3) / (n + 1)
        if growth < 1.0:
            bound = (n + 1) * (n + 2) / 2 * ratio**n / (1.0 - growth) * (1.0 + ratio) ** 3
            if bound <= SERIES_TRUNCATION:
                return terms
    raise ValueError(f"a series ratio of {ratio} does not converge fast enough")


@dataclass(frozen=True)
class _Moments:
    """``S_q = sum w^q``, ``Y_q = sum w^q y``, ``Z_q = sum w^q y²`` and ``A_q = sum w^q |y|``
    (q = 1..3, data units, y centred) over each row's subset at its tau², with the
    relative rounding error ``error`` of the sums."""

    S: FloatArray  # (3, rows)
    Y: FloatArray
    Z: FloatArray
    A: FloatArray
    error: FloatArray

    def rows(self, index: NDArray[np.intp]) -> _Moments:
        """The sums of the rows ``index``."""
        return _Moments(
            self.S[:, index],
            self.Y[:, index],
            self.Z[:, index],
            self.A[:, index],
            self.error[index],
        )

    @property
    def mean(self) -> FloatArray:
        return self.Y[0] / self.S[0]

    def residual_sums(self, q: int) -> tuple[FloatArray, FloatArray]:
        """``sum w^q (y - mean)²`` and the sum of its terms' absolute values."""
        i = q - 1
        mu = self.mean
        value = self.Z[i] - 2.0 * mu * self.Y[i] + mu * mu * self.S[i]
        return value, self.Z[i] + 2.0 * np.abs(mu) * self.A[i] + mu * mu * self.S[i]

    @property
    def trace_p(self) -> FloatArray:
        return self.S[0] - self.S[1] / self.S[0]

    @property
    def trace_pp(self) -> FloatArray:
        ratio = self.S[1] / self.S[0]
        return self.S[1] - 2.0 * self.S[2] / self.S[0] + ratio * ratio

    @property
    def ypppy(self) -> FloatArray:
        cubed, _ = self.residual_sums(3)
        cross = self.Y[1] - self.mean * self.S[1]
        return cubed - cross * cross / self.S[0]


class _SeriesEngine:
    """Sums over the subsets of a family at given tau², by series about a few centres.

    The centres are the ``anchors`` (where most rows' tau² lie: the full data's)
    and the grid ``c_j = m (g^j - 1)``, ``g = (1 + rho)/(1 - rho)``, ``m = min v``,
    whose cells ``|tau² - c_j| <= rho (m + c_j)`` tile ``[0, inf)``: each row is
    served by the centre nearest in that ratio, and each centre costs one pass over
    the studies per power.
    """

    def __init__(self, family: _Family, y: FloatArray, v: FloatArray, anchors: Sequence[float]):
        self.family = family
        self.y = y
        self.v = v
        self.m = float(v.min())
        self.anchors = np.array(sorted({float(a) for a in anchors if np.isfinite(a) and a >= 0}))
        self.growth = (1.0 + SERIES_RATIO) / (1.0 - SERIES_RATIO)

    def _centres(self, tau: FloatArray) -> FloatArray:
        m = self.m
        cell = np.floor(np.log((tau + m) / (m * (1.0 - SERIES_RATIO))) / np.log(self.growth))
        grid = m * (self.growth ** np.maximum(cell, 0.0) - 1.0)
        best, ratio = grid, np.abs(tau - grid) / (m + grid)
        for anchor in self.anchors:
            closer = np.abs(tau - anchor) / (m + anchor)
            best = np.where(closer < ratio, anchor, best)
            ratio = np.minimum(ratio, closer)
        return best

    def moments(self, rows: NDArray[np.intp], tau: FloatArray) -> _Moments:
        """:class:`_Moments` of the subsets ``rows`` at ``tau`` (one per row)."""
        n = rows.size
        S, Y, Z, A = (np.empty((3, n)) for _ in range(4))
        error = np.empty(n)
        centres = self._centres(tau)
        for centre in np.unique(centres):
            here = np.flatnonzero(centres == centre)
            self._about(centre, rows[here], tau[here], here, S, Y, Z, A, error)
        return _Moments(S, Y, Z, A, error)

    def _about(
        self,
        centre: float,
        rows: NDArray[np.intp],
        tau: FloatArray,
        out: NDArray[np.intp],
        S: FloatArray,
        Y: FloatArray,
        Z: FloatArray,
        A: FloatArray,
        error: FloatArray,
    ) -> None:
        """The sums of the subsets ``rows`` at ``tau`` by one series about ``centre``,
        written into columns ``out`` of ``S, Y, Z, A`` and ``error``."""
        family, y, v = self.family, self.y, self.v
        scale = self.m + centre
        x = (centre - tau) / scale  # (v + tau)^-q = scale^-q sum_n C(q+n-1, n) x^n u^(q+n)
        terms = _series_terms(float(np.max(np.abs(x), initial=0.0)))
        u = scale / (v + centre)
        magnitude = np.abs(y)
        values = (np.ones_like(y), y, y * y, magnitude)
        power = u.copy()
        sums = []  # sums[p - 1][g]: subset sums of u^p g, p = 1 .. terms + 3
        for _ in range(terms + 3):
            sums.append([family.total(power * g, rows) for g in values])
            power = power * u
        amplified = np.ones(rows.size)
        for p in (1, 3):
            up = u**p
            for g in (values[0], values[2], magnitude):
                amplified = np.maximum(amplified, family.amplification(up * g, rows))
        for q in (1, 2, 3):
            accumulated = [np.zeros(rows.size) for _ in values]
            xn = np.ones(rows.size)
            for n in range(terms + 1):
                coefficient = math.comb(q + n - 1, n) * xn
                for g, part in enumerate(sums[q + n - 1]):
                    accumulated[g] += coefficient * part
                xn = xn * x
            unit = scale**-q
            S[q - 1, out], Y[q - 1, out], Z[q - 1, out], A[q - 1, out] = (
                unit * a for a in accumulated
            )
        error[out] = family.rounding * amplified + SERIES_TRUNCATION


def _closed_form_tau2(
    method: str, engine: _SeriesEngine, rows: NDArray[np.intp], zero: _Moments
) -> tuple[FloatArray, FloatArray]:
    """DL, HE, HS and SJ on every subset, and the relative error rounding may leave."""
    family, y, v = engine.family, engine.y, engine.v
    n = family.size[rows].astype(float)
    if method in ("DL", "HS"):
        q, q_size = zero.residual_sums(1)
        target = n - 1.0 if method == "DL" else n
        divisor = zero.trace_p if method == "DL" else zero.S[0]
        raw = (q - target) / divisor
        error = zero.error * ((q_size + target) / np.abs(q - target) + zero.S[0] / divisor)
        return np.maximum(raw, 0.0), error
    # the unweighted residual sum of squares sum (y - ybar)² (HE and SJ)
    sum_y, sum_y2 = family.total(y, rows), family.total(y * y, rows)
    spread = sum_y2 - sum_y * sum_y / n
    spread_error = family.rounding * 2.0 * sum_y2 / spread
    if method == "HE":
        sum_v = family.total(v, rows)
        raw = (spread - (n - 1.0) / n * sum_v) / (n - 1.0)
        error = spread_error + family.rounding * (sum_y2 + sum_v) / np.abs(raw * (n - 1.0))
        return np.maximum(raw, 0.0), error
    tau0 = spread / n  # SJ: one step from tau0 = sum (y - ybar)² / k
    at_tau0 = engine.moments(rows, tau0)
    ypy, ypy_size = at_tau0.residual_sums(1)
    error = spread_error + at_tau0.error * ypy_size / ypy
    return np.maximum(tau0 * ypy / (n - 1.0), 0.0), error


def _equation(
    method: str, sums: _Moments, n: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """An iterative estimator's equation at tau²: value (positive below the root),
    derivative in tau², and the sum of the absolute values of the value's terms."""
    if method in ("ML", "REML"):
        yppy, yppy_size = sums.residual_sums(2)
        ypppy = sums.ypppy
        if method == "REML":
            target, slope = sums.trace_p, sums.trace_pp
        else:
            target, slope = sums.S[0], sums.S[1]
        return yppy - target, -(2.0 * ypppy - slope), yppy_size + sums.S[0] + sums.S[1] / sums.S[0]
    ypy, ypy_size = sums.residual_sums(1)
    target = n - 1.0 if method in ("PM", "EB") else quantile_per_df(chi2.ppf, 0.5, n - 1.0)
    yppy, _ = sums.residual_sums(2)
    return ypy - target, -yppy, ypy_size + target


def _iterative_tau2(
    method: str,
    engine: _SeriesEngine,
    rows: NDArray[np.intp],
    zero: _Moments,
    start: float,
) -> tuple[FloatArray, BoolArray]:
    """ML, REML, PM, EB and PMM on every subset, as :func:`srma.stats.tau2.solve_tau2_equation`
    solves them; rows it cannot certify are marked False (refit directly).

    A row whose equation is <= 0 at tau² = 0 has tau² = 0 (PM, EB, PMM), or, for a
    likelihood (ML, REML), 0 when the equation is <= 0 at every point of the grid
    ``upper * BOUNDARY_GRID`` the direct solver scans too (``upper = 2 s² + max v``),
    else it is refitted directly.  The others are solved by Newton steps, safeguarded
    by bisection, from the full data's tau², to a relative step of 4 eps.
    """
    family = engine.family
    n = family.size[rows].astype(float)
    value, _, size = _equation(method, zero, n)
    certain = zero.error * size < np.abs(value) * 1e-3
    tau2 = np.zeros(rows.size)
    ok = certain.copy()
    boundary = np.flatnonzero(certain & (value <= 0))
    if method in ("ML", "REML") and boundary.size:
        sub = rows[boundary]
        y = engine.y
        sum_y, sum_y2 = family.total(y, sub), family.total(y * y, sub)
        spread = (sum_y2 - sum_y * sum_y / n[boundary]) / np.maximum(n[boundary] - 1.0, 1.0)
        upper = 2.0 * spread + family.largest(engine.v, sub)
        for multiple in BOUNDARY_GRID:
            sums = engine.moments(sub, upper * multiple)
            grid_value, _, grid_size = _equation(method, sums, n[boundary])
            # rising (the direct solver then searches further), or too close to call
            ok[boundary] &= (grid_value <= 0) & (sums.error * grid_size < -grid_value * 1e-3)
    interior = np.flatnonzero(certain & (value > 0))
    if interior.size:
        tau2[interior], ok[interior] = _newton(method, engine, rows[interior], n[interior], start)
    return tau2, ok


def _newton(
    method: str, engine: _SeriesEngine, rows: NDArray[np.intp], n: FloatArray, start: float
) -> tuple[FloatArray, BoolArray]:
    """Roots of the equation on ``rows`` (each positive at 0): Newton steps inside a bracket,
    bisection otherwise (as :func:`srma.stats.roots.solve_decreasing`); certified roots."""
    size = rows.size
    x = np.full(size, start if start > 0 else engine.m)
    lower, upper = np.zeros(size), np.full(size, np.inf)
    done = np.zeros(size, dtype=bool)
    ok = np.zeros(size, dtype=bool)
    active = np.arange(size)
    for _ in range(100):
        sums = engine.moments(rows[active], x[active])
        value, slope, magnitude = _equation(method, sums, n[active])
        xa = x[active]
        lower[active] = np.where(value > 0, xa, lower[active])
        upper[active] = np.where(value <= 0, xa, upper[active])
        lo, hi = lower[active], upper[active]
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = xa - value / slope
        # the root moves with the equation's rounding error by error * magnitude / |slope|:
        # steps within that, or within 4 eps, are noise (a Newton step that small means xa
        # is the root, whatever the bracket says: the value may be exactly 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            noise = sums.error * magnitude / np.abs(slope)
        resolution = np.maximum(4.0 * _EPS * xa, 2.0 * noise)
        at_root = np.isfinite(newton) & (np.abs(newton - xa) <= resolution)
        inside = np.isfinite(newton) & (newton > lo) & (newton < hi)
        fallback = np.where(np.isfinite(hi), 0.5 * (lo + hi), 4.0 * xa + engine.m)
        step = np.where(inside | at_root, newton, fallback)
        finished = at_root | (np.abs(step - xa) <= resolution) | (hi - lo <= resolution)
        certified = finished & (slope < 0) & (noise <= REFIT_TOLERANCE * xa)
        x[active] = step
        done[active[finished]] = True
        ok[active[certified]] = True
        active = active[~finished & np.isfinite(step) & np.isfinite(value)]
        if active.size == 0:
            break
    return x, ok & done


def _direct_fits(
    family: _Family,
    y: FloatArray,
    v: FloatArray,
    rows: NDArray[np.intp],
    *,
    method: str,
    test: str,
    level: float,
    pi_type: str,
) -> dict[str, FloatArray]:
    """:func:`pool` on the subsets ``rows``, in blocks of at most :data:`DIRECT_BLOCK_CELLS`."""
    parts: list[dict[str, FloatArray]] = []
    block = max(1, DIRECT_BLOCK_CELLS // max(family.k, 1))
    for start in range(0, rows.size, block):
        chunk = rows[start : start + block]
        columns, masks = family.masks(chunk)
        yc, vc = y[columns], v[columns]
        fitted = pool(
            masked_batch(yc, vc, masks),
            method=method,
            test=test,
            level=level,
            pi_type=pi_type,
            tau2_interval=False,
        )
        tau2 = np.nan_to_num(fitted.tau2, nan=0.0)  # pool weighs a one-study row at tau² = 0
        part = {name: getattr(fitted, name).astype(float) for name in SUBSET_FIELDS}
        part["sum_w"] = np.where(masks, 1.0 / (vc[None, :] + tau2[:, None]), 0.0).sum(axis=1)
        parts.append(part)
    names = (*SUBSET_FIELDS, "sum_w")
    if not parts:
        return {name: np.zeros(0) for name in names}
    return {name: np.concatenate([part[name] for part in parts]) for name in names}


def _series_ready(y: FloatArray, v: FloatArray) -> bool:
    """Data whose power sums stay finite doubles (see :data:`SERIES_RANGE`)."""
    return bool(
        np.all(np.isfinite(y))
        and np.all(np.isfinite(v))
        and np.all(v >= 1.0 / SERIES_RANGE)
        and np.all(v <= SERIES_RANGE)
        and np.all(np.abs(y) <= SERIES_RANGE)
    )


def subset_fits(
    family: _Family,
    y: FloatArray,
    v: FloatArray,
    *,
    method: str,
    test: str = "z",
    level: float = 0.95,
    pi_type: str = "riley",
    series_min_k: int = SERIES_MIN_K,
) -> SubsetFits:
    """Every subset of ``family`` fitted as :func:`pool` fits it (``tau2_interval=False``).

    Subsets the family leaves to series (from ``series_min_k`` studies, see
    :data:`SERIES_MIN_K`) are fitted by power series, the others and every row
    the series cannot certify refitted directly.
    """
    y, v = np.asarray(y, dtype=float), np.asarray(v, dtype=float)
    n_rows = family.size.size
    series = np.flatnonzero(family.by_series(series_min_k) & _series_ready(y, v))
    out = {name: np.full(n_rows, np.nan) for name in (*SUBSET_FIELDS, "sum_w")}
    direct = np.ones(n_rows, dtype=bool)
    if series.size:
        fields, ok = _series_fits(
            family, y, v, series, method=method, test=test, level=level, pi_type=pi_type
        )
        for name, values in fields.items():
            out[name][series[ok]] = values
        direct[series[ok]] = False
    rows = np.flatnonzero(direct)
    if rows.size:
        fitted = _direct_fits(
            family, y, v, rows, method=method, test=test, level=level, pi_type=pi_type
        )
        for name, values in fitted.items():
            out[name][rows] = values
    return SubsetFits(**out, direct=direct)


def _series_fits(
    family: _Family,
    y: FloatArray,
    v: FloatArray,
    rows: NDArray[np.intp],
    *,
    method: str,
    test: str,
    level: float,
    pi_type: str,
) -> tuple[dict[str, FloatArray], BoolArray]:
    """The fields of the subsets ``rows`` by power series, for the rows it certifies (the
    mask): tau² (see :func:`_closed_form_tau2`, :func:`_iterative_tau2`), then the
    estimate and heterogeneity from the sums at tau² and at 0."""
    common = method in ("EE", "FE", "CE")
    full = pool(
        Batch(y[None, :], v[None, :], np.ones((1, y.size), dtype=bool)),
        method=method,
        test=test,
        tau2_interval=False,
    )
    shift = float(full.estimate[0])  # the effects centred on the full data's estimate
    start = 0.0 if common else float(full.tau2[0])
    anchors = [0.0, start]
    if method == "SJ":  # its first step, tau0 = sum (y - ybar)² / k
        anchors.append(float(np.sum((y - y.mean()) ** 2) / y.size))
    engine = _SeriesEngine(family, y - shift, v, anchors)
    zero = engine.moments(rows, np.zeros(rows.size))
    if common:
        tau2, ok = np.zeros(rows.size), np.ones(rows.size, dtype=bool)
    elif method in ("DL", "HE", "HS", "SJ"):
        tau2, error = _closed_form_tau2(method, engine, rows, zero)
        ok = np.isfinite(tau2) & (error <= REFIT_TOLERANCE)
    else:
        tau2, ok = _iterative_tau2(method, engine, rows, zero, start)
    final = engine.moments(rows, np.where(ok, tau2, 0.0))
    # Q and y'Py (Knapp-Hartung) from sums that may cancel: certified too
    for sums in (zero, final):
        value, size = sums.residual_sums(1)
        ok &= sums.error * size <= REFIT_TOLERANCE * value
    pick = np.flatnonzero(ok)
    fields = _finish(
        final.rows(pick),
        zero.rows(pick),
        tau2[pick],
        shift,
        family.size[rows[pick]],
        largest=float(np.max(np.abs(y - shift))),
        common=common,
        test=test,
        level=level,
        pi_type=pi_type,
    )
    return fields, ok


def _finish(
    final: _Moments,
    zero: _Moments,
    tau2: FloatArray,
    shift: float,
    size: NDArray[np.int64],
    *,
    largest: float,
    common: bool,
    test: str,
    level: float,
    pi_type: str,
) -> dict[str, FloatArray]:
    """The reported fields from the subsets' sums at their tau² and at 0, as :func:`pool`.

    Knapp-Hartung multiplies ``Var(mu) = 1 / sum w`` by ``s² = y'Py / (k - 1)``
    (``max(1, s²)`` ad hoc), with ``s² = 0`` where the residuals are within the
    rounding of the effects (:func:`residuals_vanish`; ``largest`` is the largest
    centred effect), as :func:`srma.stats.pooling.pool` does.
    """
    n = size.astype(float)
    estimate = shift + final.mean
    variance = 1.0 / final.S[0]
    ypy, _ = final.residual_sums(1)
    df_reported = degrees_of_freedom(test, n)
    if test in KNAPP_HARTUNG_TESTS:
        exact = residuals_vanish(ypy, final.S[0], largest)
        knapp_hartung = np.where(exact, 0.0, variance * ypy / df_reported)
        variance = np.maximum(knapp_hartung, variance) if test == "adhoc" else knapp_hartung
    se = np.sqrt(variance)
    statistic = estimate / se
    crit = critical_value(level, df_reported)
    ci_lower, ci_upper = wald_interval(estimate, se, crit)
    q_raw, _ = zero.residual_sums(1)
    q = np.maximum(q_raw, 0.0)
    df = n - 1.0
    if common:
        i2, h2 = i2_from_q(q, df), h2_from_q(q, df)
        pi_lower = pi_upper = np.full(n.shape, np.nan)
    else:
        typical = df / zero.trace_p
        i2, h2 = i2_from_tau2(tau2, typical), h2_from_tau2(tau2, typical)
        pi_crit = critical_value(level, prediction_df(pi_type, test, n))
        pi_lower, pi_upper = prediction_interval(estimate, se, tau2, pi_crit)
    return {
        "k": n,
        "estimate": estimate,
        "se": se,
        "statistic": statistic,
        "pvalue": two_sided_pvalue(statistic, df_reported),
        "ci_lower": ci_lower,
        "ci_upper": ci_upper,
        "pi_lower": pi_lower,
        "pi_upper": pi_upper,
        "tau2": tau2,
        "i2": i2,
        "h2": h2,
        "q": q,
        "q_pvalue": chi2_pvalue(q, df),
        "sum_w": final.S[0],
    }


def leave_one_out_fits(
    y: FloatArray,
    v: FloatArray,
    *,
    method: str,
    test: str = "z",
    level: float = 0.95,
    pi_type: str = "riley",
    series_min_k: int = SERIES_MIN_K,
) -> SubsetFits:
    """The model refitted k times, each time without one study (row ``i`` omits study ``i``).

    The same numbers as :func:`pool` on :func:`leave_one_out_batch`
    (``tau2_interval=False``), in O(k) memory and, from ``series_min_k`` studies,
    O(k) time per Newton step (see :func:`subset_fits`).
    """
    return subset_fits(
        _LeaveOneOut(np.asarray(y).size),
        y,
        v,
        method=method,
        test=test,
        level=level,
        pi_type=pi_type,
        series_min_k=series_min_k,
    )


def cumulative_fits(
    y: FloatArray,
    v: FloatArray,
    permutation: NDArray[np.intp],
    *,
    method: str,
    test: str = "z",
    level: float = 0.95,
    pi_type: str = "riley",
    series_min_k: int = SERIES_MIN_K,
) -> SubsetFits:
    """Cumulative fits: row ``i`` pools the studies ``permutation[: i + 1]``.

    The same numbers as :func:`pool` on :func:`cumulative_masks`; steps of fewer
    than ``series_min_k`` studies are refitted directly, later ones by power
    series (see :func:`subset_fits`).
    """
    return subset_fits(
        _Prefix(np.asarray(permutation, dtype=np.intp)),
        y,
        v,
        method=method,
        test=test,
        level=level,
        pi_type=pi_type,
        series_min_k=series_min_k,
    )


# --- meta-regression ----------------------------------------------------------------


@dataclass(frozen=True)
class RegressionInfluenceArrays:
    """Per-study influence diagnostics of one meta-regression: arrays of length k, and
    ``dfbetas`` shaped ``(k, p)`` (NaN where the fit without the study is undefined)."""

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


@dataclass(frozen=True)
class _RegressionDeleted:
    """What :func:`regression_influence` needs of the k fits without one study."""

    tau2: FloatArray  # (k,)
    scale: FloatArray  # (k,) Knapp-Hartung factor s²_(-i), 1 under z and t
    beta: FloatArray  # (k, p)
    vcov: FloatArray  # (k, p, p)
    qe: FloatArray  # (k,)
    inverse_diagonal: FloatArray  # (k, p) diagonal of (X'W_(-i)X)^-1, W over all k studies


#: Bytes of the k x k working arrays that one block of leave-one-out regression fits may use.
REGRESSION_BLOCK_BYTES = 2**26


def _regression_deleted(
    y: FloatArray, v: FloatArray, X: FloatArray, *, method: str, test: str, budget: int
) -> _RegressionDeleted:
    """The k leave-one-out meta-regressions, ``rows = max(1, budget // (8 k (p + 8)))``
    at a time, so that memory is O(rows k p), not O(k² p); each row is fitted alone
    by :func:`~srma.stats.regression.meta_regression`, so the blocks change no number."""
    k, p = X.shape
    rows_per_block = max(1, budget // (8 * k * (p + 8)))
    parts: list[tuple[FloatArray, ...]] = []
    for start in range(0, k, rows_per_block):
        rows = np.arange(start, min(start + rows_per_block, k))
        masks = leave_one_out_masks(k, rows)
        n = rows.size
        fit = meta_regression(
            regression_batch(np.broadcast_to(y, (n, k)), np.broadcast_to(v, (n, k)), X, masks),
            method=method,
            test=test,
        )
        tau2_del = np.zeros(n) if method == "EE" else fit.tau2
        if test in KNAPP_HARTUNG_TESTS:
            residuals = np.where(masks, y[None, :] - fit.fitted, 0.0)
            scale = (fit.weights * residuals**2).sum(axis=1) / (k - 1 - p)
            if test == "adhoc":
                scale = np.maximum(scale, 1.0)
        else:
            scale = np.ones(n)
        w_del = 1.0 / (v[None, :] + tau2_del[:, None])  # (block fits, k studies)
        inverse_del = np.linalg.inv(np.einsum("ki,dk,kj->dij", X, w_del, X))
        diagonal = np.diagonal(inverse_del, axis1=1, axis2=2)
        parts.append((fit.tau2, scale, fit.beta, fit.vcov, fit.qe, diagonal))
    return _RegressionDeleted(*(np.concatenate(column) for column in zip(*parts, strict=True)))


def regression_influence(
    y: FloatArray,
    v: FloatArray,
    X: FloatArray,
    *,
    method: str,
    test: str,
    budget: int = REGRESSION_BLOCK_BYTES,
) -> RegressionInfluenceArrays:
    """Influence diagnostics of each study of the meta-regression ``y = X beta``
    (metafor's ``influence.rma.uni`` on a model with moderators).

    The k fits without one study are one batch (:func:`~srma.stats.regression.meta_regression`
    on leave-one-out masks).  With ``beta``, ``Var(beta)``, ``w_i = 1/(v_i + tau²)``
    from the full model and ``beta_(-i)``, ``Var(beta_(-i))``, ``tau²_(-i)`` and the
    Knapp-Hartung factor ``s²_(-i)`` (1 under z and t) from the model without study i:

    * hat value ``h_i = w_i x_i' (X'WX)^-1 x_i``; weight ``100 w_i / sum w``;
    * externally standardised residual ``(y_i - x_i' beta_(-i)) / sqrt(s²_(-i) (v_i +
      tau²_(-i)) + x_i' Var(beta_(-i)) x_i)``;
    * DFFITS ``x_i' (beta - beta_(-i)) / sqrt(s²_(-i) h_i (tau²_(-i) + v_i))``;
    * DFBETAS ``(beta_j - beta_(-i)j) / sqrt(s²_(-i) [(X'W_(-i)X)^-1]_jj)`` with
      ``W_(-i) = diag(1/(v + tau²_(-i)))`` over all k studies;
    * Cook's distance ``(beta - beta_(-i))' Var(beta)^-1 (beta - beta_(-i))``;
    * covariance ratio ``det Var(beta_(-i)) / det Var(beta)``.

    Flagged when ``|DFFITS| > 3 sqrt(p/(k-p))``, ``P(chi²_p <= Cook's distance) >
    0.5``, ``h_i > 3p/k`` or any ``|DFBETAS| > 1`` (Viechtbauer & Cheung 2010, Res
    Synth Methods 1:112; metafor's rule).  The leave-one-out fits run in blocks of
    rows sized from ``budget`` bytes (:func:`_regression_deleted`).
    """
    k, p = X.shape
    full = meta_regression(regression_batch(y, v, X), method=method, test=test)
    deleted = _regression_deleted(y, v, X, method=method, test=test, budget=budget)
    common = method == "EE"
    tau2 = 0.0 if common else float(full.tau2[0])
    tau2_del = np.zeros(k) if common else deleted.tau2
    beta, vcov = full.beta[0], full.vcov[0]
    w = 1.0 / (v + tau2)
    hat = w * np.einsum("ki,ij,kj->k", X, np.linalg.inv((X.T * w) @ X), X)
    scale = deleted.scale
    change = beta[None, :] - deleted.beta  # (k, p)
    predicted_del = np.einsum("ki,ki->k", X, deleted.beta)
    variance_del = np.einsum("ki,kij,kj->k", X, deleted.vcov, X)
    residual = y - predicted_del
    residual = np.where(np.abs(residual) < 100 * np.finfo(float).eps, 0.0, residual)
    rstudent = residual / np.sqrt(v * scale + variance_del + tau2_del * scale)
    dffits = np.einsum("ki,ki->k", X, change) / np.sqrt(scale * hat * (tau2_del + v))
    dfbetas = change / np.sqrt(scale[:, None] * deleted.inverse_diagonal)
    cooks = np.einsum("ki,ij,kj->k", change, np.linalg.inv(vcov), change)
    covariance_ratio = np.linalg.det(deleted.vcov) / np.linalg.det(vcov)
    with np.errstate(invalid="ignore"):
        influential = (
            (np.abs(dffits) > 3.0 * np.sqrt(p / (k - p)))
            | (chi2.cdf(cooks, p) > 0.5)
            | (hat > 3.0 * p / k)
            | (np.abs(dfbetas) > 1.0).any(axis=1)
        )
    return RegressionInfluenceArrays(
        rstudent=rstudent,
        dffits=dffits,
        cooks_distance=cooks,
        covariance_ratio=covariance_ratio,
        tau2_deleted=tau2_del,
        q_deleted=deleted.qe,
        hat=hat,
        weight=100.0 * w / w.sum(),
        dfbetas=dfbetas,
        influential=influential,
    )
