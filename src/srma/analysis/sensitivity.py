"""Sensitivity and influence analyses of a pooled result.

Every function takes a :class:`~srma.analysis.results.MetaResult` and refits
the same model to subsets of its studies, as metafor's follow-ups do: an
inverse-variance result by the same method, test and level through
:func:`srma.stats.pooling.pool`; a Mantel-Haenszel or Peto result by
Mantel-Haenszel or Peto on its 2x2 tables (:attr:`MetaResult.tables`), with
the same measure, continuity correction and double-zero policy, through
:func:`srma.stats.mantel_haenszel.pool_tables`.  Either way the subsets are a
batch of masks pooled in one call (:func:`refit`).  Results are immutable and
carry ``to_frame()`` and ``to_dict()``/``to_records()``.

References: Viechtbauer & Cheung (2010) Res Synth Methods 1:112-125
(leave-one-out and influence diagnostics); Lau et al. (1992) N Engl J Med
327:248-254 (cumulative meta-analysis); Baujat et al. (2002) Stat Med
21:2641-2652; Olkin, Dahabreh & Trikalinos (2012) Res Synth Methods 3:214-223
(GOSH).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from srma.analysis.metareg import MetaRegressionResult
from srma.analysis.metareg_influence import (
    REGRESSION_INFLUENCE_FIELDS,
    MetaRegressionInfluence,
    metareg_influence,
)
from srma.analysis.results import MetaResult, optional_float, refuse_user_weights
from srma.analysis.validation import validate_options
from srma.errors import InputError
from srma.stats import influence as engine
from srma.stats.batch import as_batch
from srma.stats.mantel_haenszel import CountTables, pool_tables
from srma.stats.pooling import PooledArrays, pool

#: Result fields reported for each refit (those the subset fits give).
ROW_FIELDS = engine.SUBSET_FIELDS

#: Methods that pool 2x2 tables; their refits pool the tables again.
COUNT_METHODS = frozenset({"MH", "PETO"})
#: Fields a Mantel-Haenszel or Peto refit does not have (common effect, no tau²).
_NOT_IN_COUNT_MODELS = ("pi_lower", "pi_upper", "tau2")


def _arrays(result: MetaResult) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(result.yi, dtype=float), np.asarray(result.vi, dtype=float)


def _tables(result: MetaResult) -> CountTables:
    if result.tables is None:
        raise InputError(
            f"this {result.method} result carries no 2x2 tables to refit; "
            f"fit it with srma.meta(data, measure=..., method={result.method!r})"
        )
    return result.tables


def _studies(result: MetaResult) -> int:
    """Studies a follow-up runs over: every labelled study (MH: every table, pooled or not)."""
    return len(result.labels)


def _in_model(result: MetaResult) -> np.ndarray:
    """Studies in the pooled model: all but tables dropped from the pool by ``drop00``."""
    if result.method in COUNT_METHODS:
        return _tables(result).pooled()
    return np.ones(_studies(result), dtype=bool)


def _undefined_rows(
    values: dict[str, np.ndarray], rows: np.ndarray, labels: Sequence[str]
) -> tuple[str, ...]:
    """Blank the rows whose own study is not in the model (metafor: NA), and say so."""
    if not rows.any():
        return ()
    for name, column in values.items():
        values[name] = np.where(rows, np.nan, column.astype(float))
    names = ", ".join(label for label, row in zip(labels, rows, strict=True) if row)
    return (
        f"not in the pooled model (double-zero tables dropped by drop00), so not refitted: {names}",
    )


def refit(result: MetaResult, masks: ArrayLike) -> dict[str, np.ndarray]:
    """The result's model refitted to many subsets of its studies in one batch.

    ``masks`` is boolean ``(n, k)`` over ``result.labels``; row ``i`` of every
    returned array (one per name in :data:`ROW_FIELDS`) is the fit of the
    studies in ``masks[i]``.  Inverse-variance results are refitted by their
    method, test, level and prediction-interval type (without the
    Q-profile interval of tau²); Mantel-Haenszel and Peto results by the
    same method on their tables (``tau2`` and the prediction interval are
    NaN: common-effect models).  The rows are pooled in blocks of at most
    :data:`srma.stats.influence.DIRECT_BLOCK_CELLS` cells, which bounds the
    memory the fits take.
    """
    masks = np.atleast_2d(np.asarray(masks, dtype=bool))
    if masks.shape[1] != _studies(result):
        raise InputError(f"masks need one column per study ({_studies(result)}), got {masks.shape}")
    return _refit_rows(result, lambda rows: masks[rows], masks.shape[0])


def _refit_rows(
    result: MetaResult, masks_of: Callable[[np.ndarray], np.ndarray], n: int
) -> dict[str, np.ndarray]:
    """:func:`refit` of ``n`` subsets whose masks ``masks_of(rows)`` gives, a block at a time."""
    block = max(1, engine.DIRECT_BLOCK_CELLS // max(_studies(result), 1))
    parts = [
        _refit_block(result, masks_of(np.arange(start, min(start + block, n))))
        for start in range(0, n, block)
    ]
    if not parts:
        return {name: np.zeros(0) for name in ROW_FIELDS}
    return {name: np.concatenate([part[name] for part in parts]) for name in ROW_FIELDS}


def _refit_block(result: MetaResult, masks: np.ndarray) -> dict[str, np.ndarray]:
    if result.method in COUNT_METHODS:
        arrays: Any = pool_tables(
            _tables(result), masks, result.method, result.measure, level=result.level
        )
        nan = np.full(masks.shape[0], np.nan)
        return {
            name: nan if name in _NOT_IN_COUNT_MODELS else getattr(arrays, name)
            for name in ROW_FIELDS
        }
    y, v = _arrays(result)
    weights = None
    if result.model_weights is not None:
        weights = np.broadcast_to(np.asarray(result.model_weights, dtype=float), masks.shape)
    pooled = pool(
        engine.masked_batch(y, v, masks),
        method=result.method,
        test=result.test,
        level=result.level,
        pi_type=result.pi_type,
        tau2_interval=False,
        weights=weights,
    )
    return {name: getattr(pooled, name) for name in ROW_FIELDS}


def _subset_fits(result: MetaResult, permutation: np.ndarray | None) -> dict[str, np.ndarray]:
    """Leave-one-out (``permutation`` None) or cumulative fits by the result's own model.

    Inverse variance: :func:`srma.stats.influence.leave_one_out_fits` and
    :func:`~srma.stats.influence.cumulative_fits` (O(k) memory, power series from
    :data:`~srma.stats.influence.SERIES_MIN_K` studies); Mantel-Haenszel, Peto and
    fits at user weights (``meta(weights=)``, refitted at the same studies' weights,
    as metafor's ``leave1out`` and ``cumul``): :func:`refit` a block of masks at a time.
    """
    k = _studies(result)
    if result.method in COUNT_METHODS or result.model_weights is not None:
        if permutation is None:
            return _refit_rows(result, lambda rows: engine.leave_one_out_masks(k, rows), k)
        return _refit_rows(result, lambda rows: engine.cumulative_masks(permutation, rows), k)
    y, v = _arrays(result)
    settings = {
        "method": result.method,
        "test": result.test,
        "level": result.level,
        "pi_type": result.pi_type,
    }
    if permutation is None:
        return engine.leave_one_out_fits(y, v, **settings).as_dict()
    return engine.cumulative_fits(y, v, permutation, **settings).as_dict()


@dataclass(frozen=True)
class RefitTable:
    """One refit of the model per row: who was left out (or added), and the results.

    ``method`` and ``test`` are those of the refits (the result's own);
    ``order_by`` names the column a cumulative analysis was ordered by (None:
    the data's order, or keys given directly).
    """

    key: str  # "omitted" or "added"
    labels: tuple[str, ...]
    values: dict[str, tuple[float | None, ...]]
    method: str
    test: str
    notes: tuple[str, ...] = field(default=())
    order_by: str | None = None

    @classmethod
    def from_arrays(
        cls,
        key: str,
        labels: Sequence[str],
        arrays: PooledArrays | dict[str, np.ndarray],
        result: MetaResult,
        notes: tuple[str, ...] = (),
        order_by: str | None = None,
    ) -> RefitTable:
        def column(name: str) -> np.ndarray:
            return arrays[name] if isinstance(arrays, dict) else getattr(arrays, name)

        values = {
            name: tuple(optional_float(value) for value in column(name)) for name in ROW_FIELDS
        }
        return cls(key, tuple(labels), values, result.method, result.test, notes, order_by)

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per row: the label under ``key`` and every result field."""
        return [
            {self.key: label, **{name: column[row] for name, column in self.values.items()}}
            for row, label in enumerate(self.labels)
        ]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.to_records())

    def to_dict(self) -> dict[str, Any]:
        """Settings and the rows (:meth:`to_records`)."""
        return {
            "method": self.method,
            "test": self.test,
            "order_by": self.order_by,
            "notes": list(self.notes),
            "rows": self.to_records(),
        }


def leave_one_out(result: MetaResult) -> RefitTable:
    """The model refitted k times, each time without one study (metafor's ``leave1out``).

    A Mantel-Haenszel or Peto result is refitted by Mantel-Haenszel or Peto
    on the remaining tables (``leave1out.rma.mh``, ``leave1out.rma.peto``).
    """
    if _studies(result) < 2:
        raise InputError("leave-one-out needs at least 2 studies")
    values = _subset_fits(result, None)
    notes = _undefined_rows(values, ~_in_model(result), result.labels)
    return RefitTable.from_arrays("omitted", result.labels, values, result, notes)


#: Columns :func:`srma.meta` takes study labels from when no ``label`` is named.
_LABEL_COLUMNS = ("study", "label", "author")


def _kept_rows(result: MetaResult, data: pd.DataFrame, label: str | None) -> np.ndarray | None:
    """Positions in ``data`` of the result's studies, when it omitted rows with missing data.

    The rows are told apart by their labels (the ``label`` column, else the
    first of study, label, author, else meta's "Study N"): walking the table,
    each row must be the next kept study or the next omitted one, and not
    both.  None when the labels do not tell.
    """
    if label is not None:
        candidates = [data[label].astype(str).tolist()] if label in data.columns else []
    else:
        named = [c for c in _LABEL_COLUMNS if c in data.columns][:1]
        candidates = [data[c].astype(str).tolist() for c in named]
        candidates.append([f"Study {i + 1}" for i in range(len(data))])
    for names in candidates:
        kept: list[int] = []
        j = o = 0
        for row, name in enumerate(names):
            is_kept = j < len(result.labels) and name == result.labels[j]
            is_omitted = o < len(result.omitted) and name == result.omitted[o]
            if is_kept == is_omitted:  # neither, or ambiguous
                break
            if is_kept:
                kept.append(row)
                j += 1
            else:
                o += 1
        else:
            if j == len(result.labels) and o == len(result.omitted):
                return np.array(kept, dtype=np.intp)
    return None


def _order_keys(
    result: MetaResult, column: str, data: pd.DataFrame | None, label: str | None
) -> np.ndarray:
    """The values of ``data[column]``, one per study of ``result``, checked."""
    if data is None:
        raise InputError(
            f"ordering by the column {column!r} needs data=, the table the result was fitted from",
            column=column,
        )
    if column not in data.columns:
        raise InputError(f"order column {column!r} not found", file=result.source, column=column)
    data = data.reset_index(drop=True)
    values = data[column]
    k = _studies(result)
    rows = np.arange(len(values))
    if len(values) != k:
        kept = None
        if result.omitted and len(values) == k + len(result.omitted):
            kept = _kept_rows(result, data, label)
        if kept is None:
            detail = (
                f"; the result omitted {', '.join(result.omitted)} (missing data) and their "
                "rows cannot be told apart by label: drop them from the table first"
                if result.omitted and len(values) == k + len(result.omitted)
                else ""
            )
            raise InputError(
                f"order column {column!r} has {len(values)} rows for {k} studies{detail}",
                file=result.source,
                column=column,
            )
        rows = kept
        values = values.iloc[kept].reset_index(drop=True)
    missing = np.flatnonzero(values.isna().to_numpy())
    if missing.size:
        raise InputError(
            "a cumulative order needs a value for every study",
            file=result.source,
            row=int(rows[missing[0]]) + 1,
            column=column,
        )
    if pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype=float)
    return values.astype(str).to_numpy()


def cumulative(
    result: MetaResult,
    order: Sequence[Any] | str | None = None,
    *,
    data: pd.DataFrame | None = None,
    decreasing: bool = False,
    label: str | None = None,
) -> RefitTable:
    """Cumulative meta-analysis: studies added one at a time (metafor's ``cumul``).

    ``order`` is None (the studies in the data's order), one sort key per
    study (a year, a sample size, a name...), or the name of a column of
    ``data``, the table the result was fitted from: one row per study of the
    result, or every row of the table when the result omitted some for
    missing data and the labels (the column ``label``, as given to
    :func:`srma.meta`; else study, label or author; else "Study N") tell
    which rows those were.  Keys are sorted ascending (descending with
    ``decreasing``); ties keep the data's order, as R's ``order()``.  Row
    ``i`` of the table pools the first ``i + 1`` studies by the result's own
    model: a Mantel-Haenszel or Peto result by Mantel-Haenszel or Peto
    (``cumul.rma.mh``, ``cumul.rma.peto``).
    """
    validate_options("cumulative", decreasing=decreasing)
    k = _studies(result)
    order_by = None
    if order is None:
        permutation = np.arange(k)
    else:
        if isinstance(order, str):
            order_by = order
            keys = _order_keys(result, order, data, label)
        else:
            keys = np.asarray(order)
            if keys.shape != (k,):
                raise InputError(f"order needs one value per study ({k}), got {keys.size}")
        permutation = (
            pd.Series(keys)
            .sort_values(ascending=not decreasing, kind="stable")
            .index.to_numpy(dtype=np.intp)
        )
    labels = [result.labels[i] for i in permutation]
    values = _subset_fits(result, permutation)
    notes = _undefined_rows(values, ~_in_model(result)[permutation], labels)
    return RefitTable.from_arrays("added", labels, values, result, notes, order_by=order_by)


#: Per-study fields of :class:`InfluenceResult`, in the order of its table.
INFLUENCE_FIELDS = (*REGRESSION_INFLUENCE_FIELDS, "dfbetas")


@dataclass(frozen=True)
class InfluenceResult:
    """Per-study influence diagnostics (Viechtbauer & Cheung 2010), metafor's rule for flags.

    None where a diagnostic is undefined: for a Mantel-Haenszel or Peto
    result (``method``), hat values, DFFITS and the deleted tau² (see
    :func:`influence_diagnostics`); ``notes`` says so.
    """

    labels: tuple[str, ...]
    rstudent: tuple[float | None, ...]
    dffits: tuple[float | None, ...]
    cooks_distance: tuple[float | None, ...]
    covariance_ratio: tuple[float | None, ...]
    tau2_deleted: tuple[float | None, ...]
    q_deleted: tuple[float | None, ...]
    hat: tuple[float | None, ...]
    weight: tuple[float | None, ...]
    dfbetas: tuple[float | None, ...]
    influential: tuple[bool, ...]
    method: str | None = None
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row per study: ``study``, every diagnostic and ``influential``."""
        columns: dict[str, list[Any]] = {"study": list(self.labels)}
        for name in (*INFLUENCE_FIELDS, "influential"):
            columns[name] = list(getattr(self, name))
        return pd.DataFrame(columns)

    def to_records(self) -> list[dict[str, Any]]:
        frame = self.to_frame().astype(object)
        return frame.where(frame.notna(), None).to_dict(orient="records")


def _full_and_deleted(result: MetaResult) -> tuple[np.ndarray, np.ndarray, Any, Any]:
    """The data, the full fit and the k leave-one-out fits, by the result's own model.

    An inverse-variance result gives two :class:`PooledArrays`; a
    Mantel-Haenszel or Peto result two batches of :func:`pool_tables`.
    """
    y, v = _arrays(result)
    k = _studies(result)
    if result.method in COUNT_METHODS:
        tables = _tables(result)
        whole = _refit_block(result, np.ones((1, k), dtype=bool))
        if not np.isfinite(whole["estimate"][0]):
            raise InputError(f"the {result.method} estimate is undefined; nothing to diagnose")
        fits = _subset_fits(result, None)
        full = {"estimate": whole["estimate"], "se": whole["se"], "tau2": np.zeros(1)}
        deleted = {"estimate": fits["estimate"], "se": fits["se"], "q": fits["q"]}
        _undefined_rows(deleted, ~tables.pooled(), result.labels)
        return y, v, full, deleted
    full = pool(as_batch(y, v), method=result.method, test=result.test, tau2_interval=False)
    deleted = engine.leave_one_out_fits(y, v, method=result.method, test=result.test)
    return y, v, full, deleted


def influence_diagnostics(
    result: MetaResult | MetaRegressionResult,
) -> InfluenceResult | MetaRegressionInfluence:
    """Externally standardised residuals, DFFITS, Cook's distance, covariance ratio, etc.

    A meta-regression result is handed to
    :func:`srma.analysis.metareg_influence.metareg_influence` (one DFBETAS per
    coefficient).

    An inverse-variance result: metafor's ``influence.rma.uni``.  A
    Mantel-Haenszel or Peto result (for which metafor has no ``influence``):
    the diagnostics its leave-one-out refits by the same method define
    (:func:`srma.stats.influence.table_influence`): residuals, DFBETAS,
    Cook's distance, covariance ratio, Q without the study and its weight;
    hat values and DFFITS, which need the hat matrix of a weighted
    least-squares fit, are None, and a study is flagged by metafor's Cook's
    distance and DFBETAS rules only.
    """
    if isinstance(result, MetaRegressionResult):
        return metareg_influence(result)
    refuse_user_weights(result, "influence_diagnostics()")
    if _studies(result) < 3:
        raise InputError("influence diagnostics need at least 3 studies")
    y, v, full, deleted = _full_and_deleted(result)
    notes: tuple[str, ...] = ()
    if result.method in COUNT_METHODS:
        arrays = engine.table_influence(
            y,
            v,
            estimate=float(full["estimate"][0]),
            se=float(full["se"][0]),
            deleted_estimate=deleted["estimate"],
            deleted_se=deleted["se"],
            deleted_q=deleted["q"],
            weights=np.asarray(result.weights, dtype=float),
        )
        notes = (
            f"{result.method} is not a weighted least-squares fit: hat values and DFFITS are "
            "undefined, and studies are flagged by Cook's distance and DFBETAS only",
        )
    else:
        arrays = engine.influence(
            y, v, method=result.method, test=result.test, full=full, deleted=deleted
        )
    as_tuple = {
        name: tuple(optional_float(value) for value in getattr(arrays, name))
        for name in INFLUENCE_FIELDS
    }
    return InfluenceResult(
        labels=result.labels,
        influential=tuple(bool(x) for x in arrays.influential),
        method=result.method,
        notes=notes,
        **as_tuple,
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
    """Baujat plot coordinates, as metafor's ``baujat`` computes them.

    ``x = (y_i - beta)² / (tau² + v_i)``, ``y = (beta_(-i) - beta)² /
    Var(beta_(-i))``, the leave-one-out fits by the result's own model
    (Mantel-Haenszel or Peto included, with tau² = 0; NaN for a table
    without an effect size).  A fit at user weights (``meta(weights=)``): ``beta``
    and the leave-one-out fits at those weights, as metafor's ``baujat``.
    """
    if _studies(result) < 2:
        raise InputError("a Baujat plot needs at least 2 studies")
    if result.model_weights is not None:
        y, v = _arrays(result)
        if result.estimate is None:
            raise InputError("the pooled estimate is undefined; nothing to plot")
        refits = _subset_fits(result, None)
        arrays = engine.baujat_values(
            y, v, result.estimate, result.tau2 or 0.0, refits["estimate"], refits["se"]
        )
        return BaujatResult(
            labels=result.labels,
            heterogeneity_contribution=tuple(float(x) for x in arrays.heterogeneity_contribution),
            influence_on_result=tuple(float(x) for x in arrays.influence_on_result),
        )
    y, v, full, deleted = _full_and_deleted(result)
    if result.method in COUNT_METHODS:
        arrays = engine.baujat_values(
            y, v, float(full["estimate"][0]), 0.0, deleted["estimate"], deleted["se"]
        )
    else:
        arrays = engine.baujat(y, v, full, deleted, result.method)
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
    (each study in with probability 1/2), reproducible with ``seed``.  Each
    subset is fitted by the result's own model: a Mantel-Haenszel or Peto
    result by Mantel-Haenszel or Peto on the subset's tables (metafor's
    ``gosh`` on ``rma.mh``/``rma.peto``; ``tau2`` NaN), over the tables in
    the pool (a double-zero table dropped by ``drop00`` is left out, as metafor
    does, and so is its column); a fit at user weights at the subset's weights
    (:func:`refit`), as metafor.
    """
    validate_options("gosh", max_subsets=max_subsets, seed=seed, workers=workers)
    if _studies(result) < 2:
        raise InputError("GOSH needs at least 2 studies")
    labels = result.labels
    if result.model_weights is not None:
        # metafor's gosh refits a weighted rma.uni at the subset's weights: so does refit()
        masks, exact = engine.gosh_masks(_studies(result), max_subsets, np.random.default_rng(seed))
        fits = refit(result, masks)
        arrays: Any = engine.GoshArrays(
            included=masks, exact=exact, k=fits["k"].astype(np.int64),
            **{name: fits[name] for name in ("estimate", "tau2", "q", "i2", "h2")},
        )  # fmt: skip
    elif result.method in COUNT_METHODS:
        in_model = _in_model(result)
        labels = tuple(label for label, keep in zip(labels, in_model, strict=True) if keep)
        arrays = engine.gosh_tables(
            _tables(result).subset(in_model),
            method=result.method,
            measure=result.measure,
            max_subsets=max_subsets,
            seed=seed,
            workers=workers,
        )
    else:
        y, v = _arrays(result)
        arrays = engine.gosh(
            y, v, method=result.method, max_subsets=max_subsets, seed=seed, workers=workers
        )
    return GoshResult(
        labels=labels,
        method=result.method,
        exact=arrays.exact,
        included=arrays.included,
        k=arrays.k,
        estimate=arrays.estimate,
        tau2=arrays.tau2,
        q=arrays.q,
        i2=arrays.i2,
        h2=arrays.h2,
    )
