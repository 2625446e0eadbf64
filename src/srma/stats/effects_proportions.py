"""Single-group proportions and their back-transformations, vectorised over any shape.

Each effect function takes the events ``x`` and the group size ``n`` (already
corrected, see :func:`proportion_continuity_corrected`) and returns ``(yi, vi)``
as escalc (metafor 3.8-1; Viechtbauer 2010, J Stat Softw 36(3)) computes them
with its default variance type ``vtype="LS"``.  With ``p = x / n``:

====  ==========================================  ==============================
PR    ``p``                                       ``p (1 - p) / n``
PLN   ``log p``                                   ``1/x - 1/n``
PLO   ``log(p / (1 - p))``                        ``1/x + 1/(n - x)``
PAS   ``asin(sqrt(p))``                           ``1 / (4 n)``
PFT   ``½ [asin√(x/(n+1)) + asin√((x+1)/(n+1))]``  ``1 / (4 n + 2)``
====  ==========================================  ==============================

The arcsine transformation is that of Anscombe (1948), Biometrika 35:246-254;
the double arcsine that of Freeman & Tukey (1950), Ann Math Stat 21:607-611.
The back-transformations of a pooled value are :func:`expit` (PLO), ``exp``
(PLN), :func:`inverse_arcsine` (PAS) and :func:`inverse_freeman_tukey`
(PFT, Miller 1978).  Nothing here validates (see
:mod:`srma.analysis.effect_families_counts`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from srma.stats.batch import FloatArray
from srma.vocabulary import CONTINUITY_TARGETS

EffectArrays = tuple[FloatArray, FloatArray]


def _float(*arrays: ArrayLike) -> list[FloatArray]:
    """The inputs as float arrays of one broadcast shape (fresh copies)."""
    return [np.array(a, dtype=np.float64) for a in np.broadcast_arrays(*map(np.asarray, arrays))]


def proportion_continuity_corrected(
    events: ArrayLike, total: ArrayLike, *, add: float = 0.5, to: str = "only0"
) -> tuple[FloatArray, FloatArray]:
    """Events and group size after adding ``add`` to the events and the non-events.

    As escalc's ``add, to`` for PR, PLN, PLO: ``to="only0"`` corrects the
    groups with no events or only events, ``"all"`` every group, ``"if0all"``
    every group along the last axis if any needs it, ``"none"`` none.  The
    group size grows by ``2 add`` where corrected.  Missing (NaN) counts never
    count as zero.
    """
    if to not in CONTINUITY_TARGETS:
        raise ValueError(f"to must be one of {', '.join(CONTINUITY_TARGETS)}, got {to!r}")
    x, n = _float(events, total)
    extreme = (x == 0) | (x == n)
    if to == "none":
        target = np.zeros_like(extreme)
    elif to == "all":
        target = np.ones_like(extreme)
    elif to == "if0all":
        target = np.broadcast_to(np.any(extreme, axis=-1, keepdims=True), extreme.shape)
    else:
        target = extreme
    return np.where(target, x + add, x), np.where(target, n + 2.0 * add, n)


def raw_proportion(events: ArrayLike, total: ArrayLike) -> EffectArrays:
    """PR: ``yi = x / n``, ``vi = p (1 - p) / n`` (the binomial variance)."""
    x, n = _float(events, total)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        return p, p * (1.0 - p) / n


def log_proportion(events: ArrayLike, total: ArrayLike) -> EffectArrays:
    """PLN: ``yi = log(x / n)``, ``vi = 1/x - 1/n`` (delta method)."""
    x, n = _float(events, total)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(x / n), 1.0 / x - 1.0 / n


def logit_proportion(events: ArrayLike, total: ArrayLike) -> EffectArrays:
    """PLO: ``yi = log(x / (n - x))``, ``vi = 1/x + 1/(n - x)`` (delta method)."""
    x, n = _float(events, total)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        return np.log(p / (1.0 - p)), 1.0 / x + 1.0 / (n - x)


def arcsine_proportion(events: ArrayLike, total: ArrayLike) -> EffectArrays:
    """PAS: ``yi = asin(sqrt(x / n))``, ``vi = 1 / (4 n)`` (Anscombe 1948)."""
    x, n = _float(events, total)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.arcsin(np.sqrt(x / n)), 1.0 / (4.0 * n)


def freeman_tukey_proportion(events: ArrayLike, total: ArrayLike) -> EffectArrays:
    """PFT, the Freeman-Tukey (1950) double arcsine, and ``vi = 1 / (4 n + 2)``.

    ``yi = ½ [asin(sqrt(x / (n + 1))) + asin(sqrt((x + 1) / (n + 1)))]``.
    """
    x, n = _float(events, total)
    with np.errstate(divide="ignore", invalid="ignore"):
        yi = 0.5 * (np.arcsin(np.sqrt(x / (n + 1.0))) + np.arcsin(np.sqrt((x + 1.0) / (n + 1.0))))
        return yi, 1.0 / (4.0 * n + 2.0)


PROPORTION_MEASURES = {
    "PR": raw_proportion,
    "PLN": log_proportion,
    "PLO": logit_proportion,
    "PAS": arcsine_proportion,
    "PFT": freeman_tukey_proportion,
}

#: Measures escalc computes without a continuity correction by default (``add = 0``).
UNCORRECTED_PROPORTIONS = frozenset({"PAS", "PFT"})


def proportion_effect(
    measure: str, events: ArrayLike, total: ArrayLike, *, add: float = 0.5, to: str = "only0"
) -> EffectArrays:
    """PR, PLN, PLO, PAS or PFT from events and group sizes, as escalc computes them.

    The continuity correction ``add, to`` applies to PR, PLN and PLO; PAS and
    PFT are computed from the counts as given (escalc's default ``add = 0``
    for them: both are finite at 0 and at n events).
    """
    if measure not in PROPORTION_MEASURES:
        raise ValueError(
            f"measure must be one of {', '.join(PROPORTION_MEASURES)}, got {measure!r}"
        )
    if measure in UNCORRECTED_PROPORTIONS:
        return PROPORTION_MEASURES[measure](events, total)
    x, n = proportion_continuity_corrected(events, total, add=add, to=to)
    return PROPORTION_MEASURES[measure](x, n)


# --- back-transformations ----------------------------------------------------------


def expit(value: ArrayLike) -> FloatArray:
    """The inverse logit ``1 / (1 + exp(-y))``: a pooled PLO back on the proportion scale."""
    y = np.asarray(value, dtype=np.float64)
    with np.errstate(over="ignore"):
        return np.where(y >= 0, 1.0 / (1.0 + np.exp(-y)), np.exp(y) / (1.0 + np.exp(y)))


def inverse_arcsine(value: ArrayLike) -> FloatArray:
    """``sin(y)²``, 0 below 0 and 1 above π/2: a pooled PAS back on the proportion scale.

    As metafor's ``transf.iarcsin``.
    """
    y = np.asarray(value, dtype=np.float64)
    return np.where(y < 0, 0.0, np.where(y > np.pi / 2, 1.0, np.sin(y) ** 2))


def harmonic_mean(values: ArrayLike) -> float:
    """``1 / mean(1 / n)`` over the values present (NaN ignored)."""
    n = np.asarray(values, dtype=np.float64)
    return float(1.0 / np.nanmean(1.0 / n))


def inverse_freeman_tukey(value: ArrayLike, n: ArrayLike) -> FloatArray:
    """Miller's (1978) inverse of the Freeman-Tukey double arcsine.

    Miller JJ (1978), The inverse of the Freeman-Tukey double arcsine
    transformation, Am Stat 32:138::

        p = ½ [1 - sgn(cos 2t) sqrt(1 - (sin 2t + (sin 2t - 1 / sin 2t) / n)²)]

    A pooled value is back-transformed with ``n`` the harmonic mean of the
    studies' sizes (:func:`harmonic_mean`; metafor's ``transf.ipft.hm``).  Values
    beyond the transform of p = 1 give 1, below that of p = 0 give 0, and where
    the root is undefined in between, NaN.
    """
    t, size = _float(value, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        sin2 = np.sin(2.0 * t)
        inner = 1.0 - (sin2 + (sin2 - 1.0 / sin2) / size) ** 2
        p = 0.5 * (1.0 - np.sign(np.cos(2.0 * t)) * np.sqrt(inner))
        top = freeman_tukey_proportion(size, size)[0]
        bottom = freeman_tukey_proportion(0.0, size)[0]
    return np.where(t > top, 1.0, np.where(t < bottom, 0.0, p))
