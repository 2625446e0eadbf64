"""Incidence rates from events and person-time, vectorised over any shape.

Formulas as metafor's ``escalc`` (3.8-1; Viechtbauer 2010, J Stat Softw 36(3)):
for one group with ``x`` events in person-time ``t`` and rate ``r = x / t``,

====  ===============  ==============
IR    ``r``            ``x / t²``
IRLN  ``log r``        ``1 / x``
IRS   ``sqrt(r)``      ``1 / (4 t)``
====  ===============  ==============

and for two groups, ``r1 = x1 / t1`` and ``r2 = x2 / t2``:

====  ======================  =====================
IRR   ``log(r1 / r2)``        ``1/x1 + 1/x2``
IRD   ``r1 - r2``             ``x1/t1² + x2/t2²``
====  ======================  =====================

(Poisson counts; Rothman, Greenland & Lash 2008, *Modern Epidemiology*, 3rd
ed., ch. 14).  A continuity correction adds ``add`` to the event counts only
(person-time is not a count).  IRS is computed from the counts as given
(escalc's default ``add = 0`` for it).  Nothing here validates (see
:mod:`srma.analysis.effect_families_counts`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from srma.stats.batch import BoolArray, FloatArray
from srma.vocabulary import CONTINUITY_TARGETS

EffectArrays = tuple[FloatArray, FloatArray]


def _float(*arrays: ArrayLike) -> list[FloatArray]:
    """The inputs as float arrays of one broadcast shape (fresh copies)."""
    return [np.array(a, dtype=np.float64) for a in np.broadcast_arrays(*map(np.asarray, arrays))]


def _target(zero: BoolArray, to: str) -> BoolArray:
    """Where a correction goes: the zeros (``only0``), everywhere, all of a row if any, none."""
    if to not in CONTINUITY_TARGETS:
        raise ValueError(f"to must be one of {', '.join(CONTINUITY_TARGETS)}, got {to!r}")
    if to == "none":
        return np.zeros_like(zero)
    if to == "all":
        return np.ones_like(zero)
    if to == "if0all":
        return np.broadcast_to(np.any(zero, axis=-1, keepdims=True), zero.shape)
    return zero


def events_continuity_corrected(
    *events: ArrayLike, add: float = 0.5, to: str = "only0"
) -> list[FloatArray]:
    """The event counts with ``add`` added where ``to`` says (escalc's ``add, to``).

    One count (IR, IRLN) or two (IRR, IRD); with two, a study is corrected in
    both groups when either count is 0 (``only0``).  Missing counts are never zero.
    """
    counts = _float(*events)
    zero = np.any([count == 0 for count in counts], axis=0)
    target = _target(zero, to)
    return [np.where(target, count + add, count) for count in counts]


def incidence_rate(events: ArrayLike, time: ArrayLike) -> EffectArrays:
    """IR: ``yi = x / t``, ``vi = x / t²``."""
    x, t = _float(events, time)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = x / t
        return rate, rate / t


def log_incidence_rate(events: ArrayLike, time: ArrayLike) -> EffectArrays:
    """IRLN: ``yi = log(x / t)``, ``vi = 1 / x``."""
    x, t = _float(events, time)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(x / t), 1.0 / x


def sqrt_incidence_rate(events: ArrayLike, time: ArrayLike) -> EffectArrays:
    """IRS: ``yi = sqrt(x / t)``, ``vi = 1 / (4 t)`` (the variance-stabilising root)."""
    x, t = _float(events, time)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(x / t), 1.0 / (4.0 * t)


def log_incidence_rate_ratio(
    events1: ArrayLike, time1: ArrayLike, events2: ArrayLike, time2: ArrayLike
) -> EffectArrays:
    """IRR on the log scale: ``yi = log(r1) - log(r2)``, ``vi = 1/x1 + 1/x2``."""
    x1, t1, x2, t2 = _float(events1, time1, events2, time2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(x1 / t1) - np.log(x2 / t2), 1.0 / x1 + 1.0 / x2


def incidence_rate_difference(
    events1: ArrayLike, time1: ArrayLike, events2: ArrayLike, time2: ArrayLike
) -> EffectArrays:
    """IRD: ``yi = r1 - r2``, ``vi = r1 / t1 + r2 / t2``."""
    x1, t1, x2, t2 = _float(events1, time1, events2, time2)
    with np.errstate(divide="ignore", invalid="ignore"):
        r1, r2 = x1 / t1, x2 / t2
        return r1 - r2, r1 / t1 + r2 / t2


ONE_GROUP_RATE_MEASURES = {
    "IR": incidence_rate,
    "IRLN": log_incidence_rate,
    "IRS": sqrt_incidence_rate,
}
TWO_GROUP_RATE_MEASURES = {
    "IRR": log_incidence_rate_ratio,
    "IRD": incidence_rate_difference,
}


def rate_double_zero(events1: ArrayLike, events2: ArrayLike) -> BoolArray:
    """Studies with no events in either group (escalc's ``drop00`` for IRR and IRD)."""
    x1, x2 = _float(events1, events2)
    return (x1 == 0) & (x2 == 0)


def one_group_rate_effect(
    measure: str, events: ArrayLike, time: ArrayLike, *, add: float = 0.5, to: str = "only0"
) -> EffectArrays:
    """IR, IRLN or IRS, as escalc computes them (IRS without a correction)."""
    if measure not in ONE_GROUP_RATE_MEASURES:
        raise ValueError(
            f"measure must be one of {', '.join(ONE_GROUP_RATE_MEASURES)}, got {measure!r}"
        )
    if measure == "IRS":
        return sqrt_incidence_rate(events, time)
    (x,) = events_continuity_corrected(events, add=add, to=to)
    return ONE_GROUP_RATE_MEASURES[measure](x, time)


def two_group_rate_effect(
    measure: str,
    events1: ArrayLike,
    time1: ArrayLike,
    events2: ArrayLike,
    time2: ArrayLike,
    *,
    add: float = 0.5,
    to: str = "only0",
    drop00: bool = False,
) -> EffectArrays:
    """IRR or IRD, as escalc computes them.

    Studies with no events in both groups become NaN when ``drop00``; then
    ``add`` is added to both counts as :func:`events_continuity_corrected` says.
    """
    if measure not in TWO_GROUP_RATE_MEASURES:
        raise ValueError(
            f"measure must be one of {', '.join(TWO_GROUP_RATE_MEASURES)}, got {measure!r}"
        )
    x1, t1, x2, t2 = _float(events1, time1, events2, time2)
    if drop00:
        dropped = rate_double_zero(x1, x2)
        x1, x2 = np.where(dropped, np.nan, x1), np.where(dropped, np.nan, x2)
    x1, x2 = events_continuity_corrected(x1, x2, add=add, to=to)
    return TWO_GROUP_RATE_MEASURES[measure](x1, t1, x2, t2)
