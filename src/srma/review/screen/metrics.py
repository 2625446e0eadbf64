"""Screening-prioritisation metrics: recall curve, WSS, RRF.

For a complete screening order with ``N`` records, ``n`` of them relevant, and
``found(k)`` the relevant records among the first ``k`` screened:

* recall curve: ``found(k)`` for ``k = 1..N``;
* records screened to reach recall ``R``: ``k_R = min{k : found(k) >= ceil(R n)}``;
* work saved over sampling (Cohen AM, Hersh WR, Peterson K, Yen PY (2006).
  Reducing workload in systematic review preparation using automated citation
  classification. J Am Med Inform Assoc 13:206-219, doi:10.1197/jamia.M1929):
  ``WSS@R = (TN + FN) / N - (1 - R)`` where, screening stopped at ``k_R``, the
  ``N - k_R`` unread records count as predicted negatives, so
  ``WSS@R = (N - k_R) / N - (1 - R)``; it lies in ``[-(1 - R), R]``;
* relevant records found: ``RRF@p = found(ceil(p N)) / n``, the share of the
  relevant records found after screening a fraction ``p`` of all records.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from srma.errors import InputError

#: Recall levels at which :class:`Simulation` reports the records screened.
RECALL_LEVELS: tuple[float, ...] = (0.5, 0.8, 0.9, 0.95, 1.0)


def binary_order(labels_in_order: Sequence[int]) -> np.ndarray:
    y = np.asarray(labels_in_order)
    if y.ndim != 1 or not np.isin(y, (0, 1)).all():
        raise InputError("labels in screening order must be a sequence of 0 and 1")
    return y.astype(np.int64)


def recall_curve(labels_in_order: Sequence[int]) -> np.ndarray:
    """``found(k)``, relevant records among the first ``k`` screened, for ``k = 1..N``."""
    return np.cumsum(binary_order(labels_in_order))


def target_count(n_relevant: int, recall: float) -> int:
    """``ceil(recall * n_relevant)`` in exact rational arithmetic (0.95 * 20 is 19, not 19+)."""
    if not 0.0 <= recall <= 1.0:
        raise InputError(f"recall must lie in [0, 1], got {recall}")
    return math.ceil(Fraction(str(recall)) * n_relevant)


def n_screened_for_recall(labels_in_order: Sequence[int], recall: float) -> int:
    """``k_R``: the fewest records screened, in this order, to reach recall ``recall``."""
    curve = recall_curve(labels_in_order)
    n_relevant = int(curve[-1]) if curve.size else 0
    if n_relevant == 0:
        raise InputError("no relevant records: recall is undefined")
    target = target_count(n_relevant, recall)
    if target == 0:
        return 0
    return int(np.searchsorted(curve, target, side="left")) + 1


def wss(labels_in_order: Sequence[int], recall: float = 0.95) -> float:
    """Work saved over sampling at recall ``R`` (Cohen et al. 2006).

    ``WSS@R = (TN + FN) / N - (1 - R) = (N - k_R) / N - (1 - R)``, with ``k_R`` from
    :func:`n_screened_for_recall`: screening stops as soon as ``ceil(R n)`` of the
    ``n`` relevant records are found and the ``N - k_R`` unread records are the
    predicted negatives (TN + FN). Random screening has expected WSS near 0.
    """
    n = len(labels_in_order)
    k = n_screened_for_recall(labels_in_order, recall)
    return (n - k) / n - (1.0 - recall)


def rrf(labels_in_order: Sequence[int], fraction: float = 0.10) -> float:
    """Relevant records found after screening ``ceil(fraction * N)`` records, as a share.

    ``RRF@p = found(ceil(p N)) / n`` (``ceil`` in exact rational arithmetic).
    """
    curve = recall_curve(labels_in_order)
    n_relevant = int(curve[-1]) if curve.size else 0
    if n_relevant == 0:
        raise InputError("no relevant records: RRF is undefined")
    if not 0.0 < fraction <= 1.0:
        raise InputError(f"fraction must lie in (0, 1], got {fraction}")
    k = math.ceil(Fraction(str(fraction)) * curve.size)
    return int(curve[k - 1]) / n_relevant
