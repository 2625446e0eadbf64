"""The batch layout shared by every estimator in :mod:`srma.stats`.

A batch is a pair of arrays ``y`` (effect sizes) and ``v`` (sampling variances)
shaped ``(batch, k)``, one meta-analysis per row, with a boolean ``mask`` that
is True where a study is present.  Rows may have different numbers of studies:
absent cells are masked out, and every sum in :mod:`srma.stats` goes through
:func:`masked_sum` so that whatever an absent cell holds never reaches a result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class Batch:
    """Effect sizes and variances of many meta-analyses, padded to a common k.

    Absent cells hold ``y = 0`` and ``v = 1`` so that arithmetic on them is
    finite; they are excluded from every sum by ``mask``.
    """

    y: FloatArray
    v: FloatArray
    mask: BoolArray

    @property
    def k(self) -> NDArray[np.int64]:
        """Number of studies present in each row."""
        return self.mask.sum(axis=1)

    def rows(self, index: NDArray[np.intp]) -> Batch:
        """The sub-batch made of the given rows."""
        return Batch(self.y[index], self.v[index], self.mask[index])


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
        y=np.where(present, y_arr, 0.0),
        v=np.where(present, v_arr, 1.0),
        mask=present,
    )


def masked_sum(values: FloatArray, mask: BoolArray) -> FloatArray:
    """Row sums over the present cells only."""
    return np.where(mask, values, 0.0).sum(axis=1)
