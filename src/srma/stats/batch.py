"""The batch layout shared by every estimator in :mod:`srma.stats`.

A batch is a pair of arrays ``y`` (effect sizes) and ``v`` (sampling variances)
shaped ``(batch, k)``, one meta-analysis per row, with a boolean ``mask`` that
is True where a study is present.  Rows may have different numbers of studies:
absent cells are masked out, and every sum in :mod:`srma.stats` goes through
:func:`masked_sum` so that whatever an absent cell holds never reaches a result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class Batch:
    """Effect sizes and variances of many meta-analyses, padded to a common k.

    Absent cells hold ``y = 0`` and ``v = 1`` so that arithmetic on them is
    finite; they are excluded from every sum by ``mask``.  The arrays are
    column-major (each study's column contiguous): row sums over k are then
    additions of whole columns, about ten times faster than reducing short
    rows.
    """

    y: FloatArray
    v: FloatArray
    mask: BoolArray

    @property
    def k(self) -> NDArray[np.int64]:
        """Number of studies present in each row."""
        return self.mask.sum(axis=1)

    @property
    def p(self) -> int:
        """Number of model coefficients: 1, the intercept-only model ``X = 1``."""
        return 1

    @cached_property
    def standardised(self) -> Standardised:
        """The effects centred and scaled once per batch (:class:`Standardised`)."""
        return standardise(self.y, self.v, self.mask)

    def rows(self, index: NDArray[np.intp]) -> Batch:
        """The sub-batch made of the given rows (kept in column-major order)."""
        sub = Batch(*(np.take(a.T, index, axis=1).T for a in (self.y, self.v, self.mask)))
        if "standardised" in self.__dict__:  # carry what was computed along (no recomputation)
            standard = self.standardised
            sub.__dict__["standardised"] = standard.rows(
                index, sub.y if standard.rho is self.y else None
            )
        return sub


@dataclass(frozen=True)
class Standardised:
    """Effects centred and scaled by a power of two, and the smallest variance, per row.

    ``rho = (y - centre) / 2**exponent`` lies in [-1, 1] (0 where a study is
    absent): ``centre`` is the midrange of the row's effects and ``2**exponent``
    the power of two at or above half their range, so the scaling is exact and
    squares of ``rho`` neither overflow nor underflow.  Ordinary effects
    (:data:`ORDINARY_EFFECT`) are kept as they are: ``rho = y``.  ``min_v`` is the
    smallest variance present; weights ``1/(v + tau²)`` are used relative to
    the largest one, ``(min_v + tau²)/(v + tau²)`` in (0, 1].  With both, every
    sum in :mod:`srma.stats.tau2` is of numbers in [0, 1] times k, whatever the
    scale of the data (see docs/statistics.md, "Extreme inputs").
    """

    centre: FloatArray
    exponent: NDArray[np.int64]
    rho: FloatArray
    min_v: FloatArray
    #: every cell present (no masking needed; a sub-batch of a full batch is full)
    full: bool = False
    #: some row's variances span more than :data:`WIDE_VARIANCES`
    wide: bool = False

    @property
    def scale(self) -> FloatArray:
        """``2**exponent``, the scale of the effects (inf where it overflows)."""
        with np.errstate(over="ignore"):
            return np.ldexp(1.0, self.exponent)

    def rows(self, index: NDArray[np.intp], rho: FloatArray | None = None) -> Standardised:
        """The rows ``index`` (``rho`` kept in column-major order, or the one given)."""
        return Standardised(
            self.centre[index],
            self.exponent[index],
            np.take(self.rho.T, index, axis=1).T if rho is None else rho,
            self.min_v[index],
            self.full,
            self.wide,
        )


#: Effects of at most this size need no rescaling: their squares, times any
#: relative weight in (0, 1] and summed over any k, stay far inside the range
#: of doubles, so they are used as they are (``centre = 0``, ``exponent = 0``,
#: ``rho`` the very array ``y``: no copy, nothing more to carry into sub-batches).
ORDINARY_EFFECT = 1e50

#: ... and effects centred within this many half-ranges of 0: farther out, the
#: weighted mean's rounding error (relative to the effects' size) would show in
#: the residuals (relative to their spread), so the effects are centred first.
ORDINARY_OFFSET = 16.0

#: Variances spanning more than this ratio within a row make the trace of the
#: projection be summed without the largest weight (see srma.stats.tau2).
WIDE_VARIANCES = 1e6


def standardise(
    y: FloatArray, v: FloatArray, mask: BoolArray, centred: bool = True
) -> Standardised:
    """:class:`Standardised` effects of a batch (vectorised over rows; no loop over studies).

    A batch whose effects are all within :data:`ORDINARY_EFFECT` of 0, and
    within :data:`ORDINARY_OFFSET` half-ranges of it, keeps them as they are
    (scale 1 is then as good as any); otherwise each row is centred at its
    midrange and scaled by a power of two.  ``centred=False`` (a design
    without an intercept, which could not absorb the centre) only scales,
    by the power of two at or above the largest ``|y|``.
    """
    full = bool(mask.all())
    min_v = (v if full else np.where(mask, v, np.inf)).min(axis=1)
    min_v = np.where(np.isfinite(min_v), min_v, 1.0)
    max_v = v.max(axis=1, initial=0.0)  # absent cells hold v = 1
    wide = bool((max_v > WIDE_VARIANCES * min_v).any())
    with np.errstate(invalid="ignore", over="ignore"):
        high = (y if full else np.where(mask, y, -np.inf)).max(axis=1)
        low = (y if full else np.where(mask, y, np.inf)).min(axis=1)
        empty = ~np.isfinite(high)
        high, low = np.where(empty, 0.0, high), np.where(empty, 0.0, low)
        centre = 0.5 * high + 0.5 * low  # the midrange, without overflowing
        half_range = 0.5 * high - 0.5 * low
        if not centred:
            half_range = np.maximum(np.abs(high), np.abs(low))
            centre = np.zeros_like(centre)
    n = y.shape[0]
    # (a row of equal effects, k = 1 among them, has no spread to lose)
    near_zero = (np.abs(centre) <= ORDINARY_OFFSET * half_range) | (half_range == 0)
    ordinary = np.abs(y).max(initial=0.0) <= ORDINARY_EFFECT and bool(near_zero.all())
    if ordinary:  # absent cells hold y = 0
        return Standardised(np.zeros(n), np.zeros(n, dtype=np.int64), y, min_v, full, wide)
    with np.errstate(invalid="ignore", over="ignore"):
        _, exponent = np.frexp(half_range)  # half_range < 2**exponent
        exponent = np.where(half_range > 0, exponent, 0).astype(np.int64)
        inverse = np.ldexp(1.0, -exponent)
        rho = np.where(mask, (y - centre[:, None]) * inverse[:, None], 0.0)
    return Standardised(
        centre=centre,
        exponent=exponent,
        rho=np.asfortranarray(rho),
        min_v=min_v,
        full=full,
        wide=wide,
    )


@dataclass(frozen=True)
class ScaledDesign:
    """A meta-regression's effects and design matrix rescaled exactly, per row.

    ``rho = (y - centre) / 2**exponent`` (:class:`Standardised`; centred only
    when column 0 is the intercept, which absorbs the centre) and ``X~ = X /
    2**f`` column by column, ``2**f_j`` the power of two at or below the
    column's largest ``|x|`` (so ``|X~| < 2``; the intercept keeps ``f = 0``).
    Then ``beta_j = (2**exponent beta~_j + centre [j = 0]) / 2**f_j`` where
    ``beta~`` fits ``rho`` on ``X~``: moderators of any scale (1e-200, 1e200)
    and effects of any size give sums of ordinary numbers.
    """

    effects: Standardised
    X: FloatArray  # (batch, k, p)
    column_exponent: NDArray[np.int64]  # (batch, p)

    def coefficients(self, scaled: FloatArray) -> FloatArray:
        """``beta`` in the data's units from ``beta~`` (batch, p)."""
        with np.errstate(over="ignore", invalid="ignore"):
            beta = np.ldexp(scaled, self.effects.exponent[:, None] - self.column_exponent)
            beta[:, 0] += self.effects.centre  # 0 unless column 0 is the intercept
        return beta

    def rows(self, index: NDArray[np.intp]) -> ScaledDesign:
        """The rows ``index``."""
        effects = self.effects
        sub = Standardised(
            effects.centre[index], effects.exponent[index], effects.rho[index],
            effects.min_v[index], effects.full, effects.wide,
        )  # fmt: skip
        return ScaledDesign(sub, self.X[index], self.column_exponent[index])


def scale_design(y: FloatArray, v: FloatArray, X: FloatArray, mask: BoolArray) -> ScaledDesign:
    """:class:`ScaledDesign` of a batch of meta-regressions (vectorised; no loop over studies)."""
    intercept = bool(np.all(np.where(mask, X[:, :, 0] == 1.0, True)))
    effects = standardise(y, v, mask, centred=intercept)
    largest = np.abs(X).max(axis=1)  # absent studies have zero rows
    _, column_exponent = np.frexp(largest)
    column_exponent = np.where(largest > 0, column_exponent - 1, 0).astype(np.int64)
    scaled = np.ldexp(X, -column_exponent[:, None, :])
    return ScaledDesign(effects, scaled, column_exponent)


@dataclass(frozen=True)
class RegressionBatch:
    """Data of many meta-regressions ``y = X beta + u + e``, padded to a common k.

    ``y``, ``v`` and ``mask`` are shaped ``(batch, k)`` and the design matrix
    ``X`` ``(batch, k, p)``; absent studies have a zero row in X and zero
    weight.  A :class:`Batch` is the special case ``X = 1`` (p = 1), which
    :mod:`srma.stats.tau2` evaluates with cheaper sums.
    """

    y: FloatArray
    v: FloatArray
    X: FloatArray
    mask: BoolArray

    @property
    def k(self) -> NDArray[np.int64]:
        """Number of studies present in each row."""
        return self.mask.sum(axis=1)

    @property
    def p(self) -> int:
        """Number of columns of the design matrix."""
        return self.X.shape[2]

    @cached_property
    def scaled(self) -> ScaledDesign:
        """The effects and the design rescaled once per batch (:class:`ScaledDesign`)."""
        return scale_design(self.y, self.v, self.X, self.mask)

    @property
    def standardised(self) -> Standardised:
        """The effects standardised as :class:`Batch` has them (``scaled.effects``)."""
        return self.scaled.effects

    def rows(self, index: NDArray[np.intp]) -> RegressionBatch:
        """The sub-batch made of the given rows (what was rescaled comes along)."""
        sub = RegressionBatch(self.y[index], self.v[index], self.X[index], self.mask[index])
        if "scaled" in self.__dict__:
            sub.__dict__["scaled"] = self.scaled.rows(index)
        return sub


def regression_batch(
    y: ArrayLike, v: ArrayLike, X: ArrayLike, mask: ArrayLike | None = None
) -> RegressionBatch:
    """Build a :class:`RegressionBatch`; cells with non-finite y, v or X are absent.

    ``X`` is shaped ``(batch, k, p)``, or ``(k, p)`` for one design shared by
    every row.
    """
    y_arr = np.atleast_2d(np.asarray(y, dtype=np.float64))
    v_arr = np.atleast_2d(np.asarray(v, dtype=np.float64))
    x_arr = np.asarray(X, dtype=np.float64)
    if x_arr.ndim == 2:
        x_arr = x_arr[None, :, :]
    x_arr = np.broadcast_to(x_arr, (*y_arr.shape, x_arr.shape[2]))
    present = np.isfinite(y_arr) & np.isfinite(v_arr) & np.isfinite(x_arr).all(axis=2)
    if mask is not None:
        present &= np.atleast_2d(np.asarray(mask, dtype=bool))
    return RegressionBatch(
        y=np.where(present, y_arr, 0.0),
        v=np.where(present, v_arr, 1.0),
        X=np.where(present[:, :, None], x_arr, 0.0),
        mask=present,
    )


def as_batch(y: ArrayLike, v: ArrayLike, mask: ArrayLike | None = None) -> Batch:
    """Build a :class:`Batch` from arrays shaped ``(batch, k)`` or ``(k,)``.

    A cell is absent where ``mask`` is False or where ``y`` or ``v`` is not
    finite (NaN marks an absent study).
    """
    y_arr = np.atleast_2d(np.asarray(y, dtype=np.float64))
    v_arr = np.atleast_2d(np.asarray(v, dtype=np.float64))
    if y_arr.shape != v_arr.shape:
        raise ValueError(f"y and v must have the same shape, got {y_arr.shape} and {v_arr.shape}")
    present = np.isfinite(y_arr) & np.isfinite(v_arr)
    if mask is not None:
        present &= np.atleast_2d(np.asarray(mask, dtype=bool))
    return Batch(
        y=np.asfortranarray(np.where(present, y_arr, 0.0)),
        v=np.asfortranarray(np.where(present, v_arr, 1.0)),
        mask=np.asfortranarray(present),
    )


def masked_sum(values: FloatArray, mask: BoolArray) -> FloatArray:
    """Row sums over the present cells only."""
    return np.where(mask, values, 0.0).sum(axis=1)


def quantile_per_df(
    quantile: Callable[[float, FloatArray], FloatArray], probability: float, df: ArrayLike
) -> FloatArray:
    """``quantile(probability, df)`` for an array of degrees of freedom.

    A batch has few distinct k, and scipy's quantile functions cost far more
    than a lookup, so each distinct df is computed once.
    """
    distinct, position = np.unique(np.asarray(df, dtype=np.float64), return_inverse=True)
    return np.asarray(quantile(probability, distinct), dtype=np.float64)[position.ravel()]
