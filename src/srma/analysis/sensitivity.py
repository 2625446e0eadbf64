"""Sensitivity and influence analyses of a pooled result.

Every function takes a :class:`~srma.analysis.results.MetaResult` and refits
the same model (method, test, level) to subsets of its studies through the
batch engine (:mod:`srma.stats.influence`).  Results are immutable and carry
``to_frame()`` and ``to_dict()``.

References: Viechtbauer & Cheung (2010) Res Synth Methods 1:112-125
(leave-one-out and influence diagnostics); Lau et al. (1992) N Engl J Med
327:248-254 (cumulative meta-analysis); Baujat et al. (2002) Stat Med
21:2641-2652; Olkin, Dahabreh & Trikalinos (2012) Res Synth Methods 3:214-223
(GOSH).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from srma.analysis.results import MetaResult, optional_float
from srma.analysis.validation import validate_options
from srma.errors import InputError
from srma.stats import influence as engine
from srma.stats.batch import Batch, as_batch
from srma.stats.pooling import PooledArrays, pool

#: Result fields reported for each refit.
ROW_FIELDS = (
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

COUNT_METHODS = frozenset({"MH", "PETO"})


def _inverse_variance_method(result: MetaResult) -> str:
    """Refits use inverse variance; MH and Peto results are refitted as common effect."""
    return "EE" if result.method in COUNT_METHODS else result.method


def _arrays(result: MetaResult) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(result.yi, dtype=float), np.asarray(result.vi, dtype=float)


def _refit(result: MetaResult, batch: Batch) -> PooledArrays:
    return pool(
        batch,
        method=_inverse_variance_method(result),
        test=result.test,
        level=result.level,
        pi_type=result.pi_type,
        tau2_interval=False,
    )


@dataclass(frozen=True)
class RefitTable:
    """One refit of the model per row: who was left out (or added), and the results."""

    key: str  # "omitted" or "added"
    labels: tuple[str, ...]
    values: dict[str, tuple[float | None, ...]]
    method: str
    test: str
    notes: tuple[str, ...] = field(default=())

    @classmethod
    def from_arrays(
        cls,
        key: str,
        labels: Sequence[str],
        arrays: PooledArrays,
        result: MetaResult,
        notes: tuple[str, ...] = (),
    ) -> RefitTable:
        values = {
            name: tuple(optional_float(value) for value in getattr(arrays, name))
            for name in ROW_FIELDS
        }
        return cls(key, tuple(labels), values, _inverse_variance_method(result), result.test, notes)

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per row: the label under ``key`` and every result field."""
        return [
            {self.key: label, **{name: column[row] for name, column in self.values.items()}}
            for row, label in enumerate(self.labels)
        ]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.to_records())


def leave_one_out(result: MetaResult) -> RefitTable:
    """The model refitted k times, each time without one study."""
    if result.k < 2:
        raise InputError("leave-one-out needs at least 2 studies")
    y, v = _arrays(result)
    return RefitTable.from_arrays(
        "omitted", result.labels, _refit(result, engine.leave_one_out_batch(y, v)), result
    )


def cumulative(result: MetaResult, order: Sequence[float] | None = None) -> RefitTable:
    """Cumulative meta-analysis: studies added one at a time in ascending ``order``.

    ``order`` holds one sort key per study (a year, a sample size...); by
    default the studies' own order.  Ties keep the original order.
    """
    y, v = _arrays(result)
    if order is None:
        permutation = np.arange(result.k)
    else:
        keys = np.asarray(order)
        if keys.shape != (result.k,):
            raise InputError(f"order needs one value per study ({result.k}), got {keys.size}")
        permutation = np.argsort(keys, kind="stable")
    labels = [result.labels[i] for i in permutation]
    arrays = _refit(result, engine.cumulative_batch(y[permutation], v[permutation]))
    return RefitTable.from_arrays("added", labels, arrays, result)


@dataclass(frozen=True)
class InfluenceResult:
    """Per-study influence diagnostics (Viechtbauer & Cheung 2010), metafor's rule for flags."""

    labels: tuple[str, ...]
    rstudent: tuple[float, ...]
    dffits: tuple[float, ...]
    cooks_distance: tuple[float, ...]
    covariance_ratio: tuple[float, ...]
    tau2_deleted: tuple[float, ...]
    q_deleted: tuple[float, ...]
    hat: tuple[float, ...]
    weight: tuple[float, ...]
    dfbetas: tuple[float, ...]
    influential: tuple[bool, ...]

    def to_frame(self) -> pd.DataFrame:
        """One row per study: ``study`` and every diagnostic."""
        columns = {name: list(getattr(self, name)) for name in self.__dataclass_fields__}
        columns["study"] = columns.pop("labels")
        return pd.DataFrame(columns)[["study", *(c for c in columns if c != "study")]]

    def to_records(self) -> list[dict[str, Any]]:
        frame = self.to_frame().astype(object)
        return frame.where(frame.notna(), None).to_dict(orient="records")


def _full_and_deleted(
    result: MetaResult,
) -> tuple[np.ndarray, np.ndarray, str, PooledArrays, PooledArrays]:
    """The data, the refit method, the full fit and the k leave-one-out fits."""
    y, v = _arrays(result)
    method = _inverse_variance_method(result)
    full = pool(as_batch(y, v), method=method, test=result.test, tau2_interval=False)
    deleted = pool(
        engine.leave_one_out_batch(y, v), method=method, test=result.test, tau2_interval=False
    )
    return y, v, method, full, deleted


def influence_diagnostics(result: MetaResult) -> InfluenceResult:
    """Externally standardised residuals, DFFITS, Cook's distance, covariance ratio, etc."""
    if result.k < 3:
        raise InputError("influence diagnostics need at least 3 studies")
    y, v, method, full, deleted = _full_and_deleted(result)
    arrays = engine.influence(y, v, method=method, test=result.test, full=full, deleted=deleted)
    as_tuple = {
        name: tuple(optional_float(value) for value in getattr(arrays, name))
        for name in (
            "rstudent",
            "dffits",
            "cooks_distance",
            "covariance_ratio",
            "tau2_deleted",
            "q_deleted",
            "hat",
            "weight",
            "dfbetas",
        )
    }
    return InfluenceResult(
        labels=result.labels, influential=tuple(bool(x) for x in arrays.influential), **as_tuple
    )


@dataclass(frozen=True)
class BaujatResult:
    """Each study's contribution to heterogeneity (x) and influence on the pooled result (y)."""

    labels: tuple[str, ...]
    heterogeneity_contribution: tuple[float, ...]
    influence_on_result: tuple[float, ...]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "label": list(self.labels),
                "heterogeneity_contribution": list(self.heterogeneity_contribution),
                "influence_on_result": list(self.influence_on_result),
            }
        )


def baujat(result: MetaResult) -> BaujatResult:
    """Baujat plot coordinates, as metafor's ``baujat`` computes them."""
    if result.k < 2:
        raise InputError("a Baujat plot needs at least 2 studies")
    y, v, method, full, deleted = _full_and_deleted(result)
    arrays = engine.baujat(y, v, full, deleted, method)
    return BaujatResult(
        labels=result.labels,
        heterogeneity_contribution=tuple(float(x) for x in arrays.heterogeneity_contribution),
        influence_on_result=tuple(float(x) for x in arrays.influence_on_result),
    )


@dataclass(frozen=True)
class GoshResult:
    """Pooled estimate and heterogeneity of every subset (or a random sample of subsets)."""

    labels: tuple[str, ...]
    method: str
    exact: bool
    included: np.ndarray = field(repr=False)
    k: np.ndarray = field(repr=False)
    estimate: np.ndarray = field(repr=False)
    tau2: np.ndarray = field(repr=False)
    q: np.ndarray = field(repr=False)
    i2: np.ndarray = field(repr=False)
    h2: np.ndarray = field(repr=False)

    @property
    def subsets(self) -> int:
        return int(self.estimate.size)

    def to_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(
            {
                "k": self.k,
                "estimate": self.estimate,
                "tau2": self.tau2,
                "q": self.q,
                "i2": self.i2,
                "h2": self.h2,
            }
        )
        included = pd.DataFrame(self.included, columns=list(self.labels))
        return pd.concat([included, frame], axis=1)


def gosh(
    result: MetaResult,
    *,
    max_subsets: int = 2**20 - 1,
    seed: int | None = None,
    workers: int | None = None,
) -> GoshResult:
    """GOSH: every non-empty subset when there are at most ``max_subsets``, else a sample.

    With k = 20 that is 1,048,575 fits; beyond, ``max_subsets`` random subsets
    (each study in with probability 1/2), reproducible with ``seed``.
    """
    validate_options("gosh", max_subsets=max_subsets, seed=seed, workers=workers)
    if result.k < 2:
        raise InputError("GOSH needs at least 2 studies")
    y, v = _arrays(result)
    method = _inverse_variance_method(result)
    arrays = engine.gosh(y, v, method=method, max_subsets=max_subsets, seed=seed, workers=workers)
    return GoshResult(
        labels=result.labels,
        method=method,
        exact=arrays.exact,
        included=arrays.included,
        k=arrays.k,
        estimate=arrays.estimate,
        tau2=arrays.tau2,
        q=arrays.q,
        i2=arrays.i2,
        h2=arrays.h2,
    )
