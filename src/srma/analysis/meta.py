"""``meta()`` and ``meta_batch()``: the user-facing entry points to pooling.

``meta`` runs one meta-analysis from a DataFrame (raw per-arm data with a
measure, or ``yi`` and ``vi``/``sei`` columns) or from arrays; it validates the
input, omits incomplete rows with a warning naming them, and runs the batch
engine of :mod:`srma.stats` on a batch of one.  ``meta_batch`` runs the same
engine on many meta-analyses at once.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from srma.analysis.results import MetaResult, optional_float, ratio_overflow
from srma.analysis.validation import (
    SMALLEST_VARIANCE,
    check_representable,
    numeric_column,
    reject,
    validate_options,
)
from srma.errors import InputError, SrmaWarning
from srma.stats.batch import as_batch
from srma.stats.effects_proportions import harmonic_mean
from srma.stats.mantel_haenszel import (
    ODDS_RATIO_TESTS,
    RATE_RATIO_TESTS,
    CountTables,
    MantelHaenszelArrays,
    MantelHaenszelRateArrays,
    PetoArrays,
    mantel_haenszel,
    mantel_haenszel_rates,
    peto,
)
from srma.stats.pooling import PooledArrays, pool, pool_in_blocks
from srma.stats.tau2 import tau2_standard_error
from srma.vocabulary import (
    BINARY_MEASURES,
    COMMON_EFFECT_METHODS,
    COUNT_METHODS,
    METHOD_ALIASES,
    RATE_MEASURES,
    RATIO_MEASURES,
    USER_WEIGHT_METHODS,
)

__all__ = [
    "BINARY_MEASURES",
    "METHOD_ALIASES",
    "EffectData",
    "MetaBatchResult",
    "Tau2Interval",
    "meta",
    "meta_batch",
    "prepare_effects",
    "result_from_arrays",
    "tau2_confint",
    "warn_about",
]


def _check_settings(
    method: str, test: str, pi_type: str, level: float, function: str = "meta", **other: Any
) -> str:
    """The canonical method, after checking the settings (:func:`validate_options`)."""
    options = validate_options(
        function, method=method, test=test, pi_type=pi_type, level=level, **other
    )
    return options["method"]


def _labels(frame: pd.DataFrame, label: str | None) -> list[str]:
    if label is None:
        for candidate in ("study", "label", "author"):
            if candidate in frame.columns:
                label = candidate
                break
    if label is None:
        return [f"Study {position + 1}" for position in range(len(frame))]
    if label not in frame.columns:
        raise InputError(f"label column {label!r} not found", column=label)
    # as written: a blank cell is an empty label, not "nan"
    return ["" if _missing(value) else str(value) for value in frame[label]]


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _variances_from_frame(
    frame: pd.DataFrame, columns: dict[str, str], source: str | None
) -> tuple[NDArray[np.float64], NDArray[np.float64], str]:
    """``yi``, ``vi`` (squared standard errors with ``sei``) and the name of the column
    that gave the variances."""
    yi_column = columns.get("yi", "yi")
    yi = numeric_column(frame, yi_column, source=source)
    if "vi" in columns or ("sei" not in columns and "vi" in frame.columns):
        vi_column = columns.get("vi", "vi")
        vi = numeric_column(frame, vi_column, source=source)
    else:
        vi_column = columns.get("sei", "sei")
        sei = numeric_column(frame, vi_column, source=source)
        # as effect_sizes(measure="GEN") does: a standard error must be > 0 (not squared away)
        reject(
            sei <= 0,
            sei,
            column=vi_column,
            source=source,
            message=lambda value: f"standard error must be > 0, got {value:g}",
        )
        # before squaring: an SE below 1.5e-154 has a square of 0 or a subnormal number
        reject(
            sei < np.sqrt(SMALLEST_VARIANCE),
            sei,
            column=vi_column,
            source=source,
            message=lambda value: (
                f"standard error {value:.6g} is too small: its square must be at least "
                f"{SMALLEST_VARIANCE:.6g} (the smallest normal double), so SE >= "
                f"{np.sqrt(SMALLEST_VARIANCE):.6g}"
            ),
        )
        with np.errstate(over="ignore", under="ignore"):
            vi = sei**2
        check_representable(
            yi, vi, source=source, yi_column=yi_column, vi_column=vi_column, standard_error=True
        )
        return yi, vi, vi_column
    bad = np.flatnonzero(np.isfinite(vi) & (vi <= 0))
    if bad.size:
        raise InputError(
            f"sampling variance must be > 0, got {vi[bad[0]]:g}",
            file=source,
            row=int(bad[0]) + 1,
            column=vi_column,
        )
    check_representable(yi, vi, source=source, yi_column=yi_column, vi_column=vi_column)
    return yi, vi, vi_column


def _validate_arrays(
    yi: ArrayLike, vi: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    try:
        y = np.asarray(yi, dtype=np.float64).ravel()
        v = np.asarray(vi, dtype=np.float64).ravel()
    except (TypeError, ValueError) as error:
        raise InputError(f"yi and vi must be numbers: {error}") from None
    if y.shape != v.shape:
        raise InputError(f"yi has {y.size} values but vi has {v.size}")
    for name, values in (("yi", y), ("vi", v)):
        infinite = np.flatnonzero(np.isinf(values))
        if infinite.size:
            raise InputError("value must be finite", row=int(infinite[0]) + 1, column=name)
    bad = np.flatnonzero(np.isfinite(v) & (v <= 0))
    if bad.size:
        raise InputError(
            f"sampling variance must be > 0, got {v[bad[0]]:g}", row=int(bad[0]) + 1, column="vi"
        )
    check_representable(y, v, source=None)
    return y, v


@dataclass(frozen=True)
class EffectData:
    """Validated effect sizes ready to pool: the studies kept, and those omitted.

    ``frame`` holds the kept rows of the input table (with ``yi`` and ``vi``
    added when they were computed), for analyses that need other columns:
    per-arm counts, subgroups, moderators.  ``rows`` are the kept studies'
    0-based rows in the input table (for errors that name a row), and
    ``variance_column`` the column the variances came from.
    """

    labels: tuple[str, ...]
    yi: NDArray[np.float64]
    vi: NDArray[np.float64]
    omitted: tuple[str, ...]
    measure: str | None
    source: str | None
    frame: pd.DataFrame | None
    notes: tuple[str, ...]
    rows: tuple[int, ...] | None = None
    variance_column: str = "vi"

    @property
    def k(self) -> int:
        return int(self.yi.size)

    def row(self, position: int) -> int:
        """The 1-based row of the input table that holds the kept study ``position``."""
        return (self.rows[position] if self.rows is not None else position) + 1

    def subset(self, keep: NDArray[np.intp]) -> EffectData:
        """The studies at positions ``keep`` (their rows, frame and labels with them)."""
        return EffectData(
            labels=tuple(self.labels[i] for i in keep),
            yi=self.yi[keep],
            vi=self.vi[keep],
            omitted=(),
            measure=self.measure,
            source=self.source,
            frame=None if self.frame is None else self.frame.iloc[keep].reset_index(drop=True),
            notes=(),
            rows=tuple(self.row(int(i)) - 1 for i in keep),
            variance_column=self.variance_column,
        )


def prepare_effects(
    data_or_yi: pd.DataFrame | ArrayLike,
    vi: ArrayLike | None = None,
    *,
    measure: str | None = None,
    method: str = "REML",
    label: str | None = None,
    labels: Sequence[str] | None = None,
    source: str | None = None,
    add: float = 0.5,
    to: str = "only0",
    drop00: bool | None = None,
    **columns: str,
) -> EffectData:
    """Validate the input of an analysis and compute effect sizes where needed.

    Accepts what :func:`meta` accepts.  Rows whose effect size or variance is
    missing are omitted and named in ``notes``; no row at all is an error.
    """
    if measure is not None:
        measure = measure.upper()
    frame: pd.DataFrame | None = None
    counts = None
    variance_column = "vi (computed)" if measure is not None else "vi"
    if isinstance(data_or_yi, pd.DataFrame) and isinstance(vi, str):
        columns = {**columns, "vi": vi}  # meta(df, vi="var") names the variance column
    if isinstance(data_or_yi, pd.DataFrame):
        frame = data_or_yi.reset_index(drop=True)
        study_labels = list(labels) if labels is not None else _labels(frame, label)
        has_effects = columns.get("yi", "yi") in frame.columns
        if method == "MH" and measure in RATE_MEASURES:
            from srma.analysis.effect_families_counts import rate_counts
            from srma.analysis.effect_sizes import effect_sizes

            # as rma.mh: per-study effects leave out double-zero studies unless told otherwise
            frame = effect_sizes(
                frame,
                measure,
                add=add,
                to=to,
                drop00=True if drop00 is None else drop00,
                source=source,
                **columns,
            )
            counts = np.all(
                [np.isfinite(x) for x in rate_counts(frame, columns, source, groups=2)], axis=0
            )
            y, v = frame["yi"].to_numpy(dtype=float), frame["vi"].to_numpy(dtype=float)
        elif method in COUNT_METHODS:
            if measure is None or measure not in BINARY_MEASURES:
                raise InputError(
                    f"method {method} needs measure OR, RR or RD and per-arm counts"
                    + (" (or IRR, IRD with events and person-time)" if method == "MH" else "")
                )
            if method == "PETO":
                measure = "PETO"
            elif measure == "PETO":
                raise InputError("measure PETO is pooled with method PETO, not MH")
            from srma.analysis.effect_sizes import binary_cells, effect_sizes

            # as metafor's rma.mh and rma.peto: per-study effects (for Q and the
            # forest plot) leave out double-zero tables unless told otherwise
            frame = effect_sizes(
                frame,
                measure,
                add=add,
                to=to,
                drop00=True if drop00 is None else drop00,
                source=source,
                **columns,
            )
            cells = binary_cells(frame, columns, source)
            counts = np.all([np.isfinite(cell) for cell in cells], axis=0)
            y, v = frame["yi"].to_numpy(dtype=float), frame["vi"].to_numpy(dtype=float)
        elif measure is not None and not has_effects:
            from srma.analysis.effect_sizes import effect_sizes

            frame = effect_sizes(
                frame, measure, add=add, to=to, drop00=drop00, source=source, **columns
            )
            y, v = frame["yi"].to_numpy(dtype=float), frame["vi"].to_numpy(dtype=float)
            check_representable(
                y, v, source=source, yi_column="yi (computed)", vi_column="vi (computed)"
            )
        else:
            y, v, variance_column = _variances_from_frame(frame, columns, source)
    else:
        if vi is None:
            raise InputError("vi is required when effect sizes are given as an array")
        y, v = _validate_arrays(data_or_yi, vi)
        study_labels = (
            list(labels) if labels is not None else [f"Study {i + 1}" for i in range(y.size)]
        )
    if len(study_labels) != y.size:
        raise InputError(f"{len(study_labels)} labels given for {y.size} studies")

    notes: list[str] = []
    if isinstance(data_or_yi, pd.DataFrame) and counts is not None:
        present = counts
        what = "missing counts"
    else:
        present = np.isfinite(y) & np.isfinite(v)
        what = "missing yi or vi"
    omitted = tuple(study_labels[i] for i in np.flatnonzero(~present))
    if omitted:
        notes.append(f"omitted {len(omitted)} studies with {what}: {', '.join(omitted)}")
    if not present.any():
        raise InputError("no study has both an effect size and a variance", file=source)
    return EffectData(
        labels=tuple(study_labels[i] for i in np.flatnonzero(present)),
        yi=y[present],
        vi=v[present],
        omitted=omitted,
        measure=measure,
        source=source,
        frame=None if frame is None else frame.loc[present].reset_index(drop=True),
        notes=tuple(notes),
        rows=tuple(int(i) for i in np.flatnonzero(present)),
        variance_column=variance_column,
    )


def result_from_arrays(
    arrays: PooledArrays,
    row: int,
    effects: EffectData,
    *,
    method: str,
    test: str,
    level: float,
    pi_type: str,
    notes: Sequence[str] = (),
    extra: dict[str, float | None] | None = None,
    present: NDArray[np.bool_] | None = None,
    tau2_estimated: bool = False,
    model_weights: NDArray[np.float64] | None = None,
) -> MetaResult:
    """The :class:`MetaResult` of one row of a pooled batch, with the checks users need.

    ``present`` marks the row's own studies among the batch's columns (default:
    every column), so that a study whose weight underflows to 0 is still listed.
    ``tau2_estimated`` says tau² was estimated from these studies alone (not given,
    nor shared with other subgroups): then its standard error is reported (``tau2_se``).
    ``model_weights`` are the user's weights the row was pooled at (``meta(weights=)``).
    """
    pooled: dict[str, Any] = {}
    for item in fields(arrays):
        value = getattr(arrays, item.name)[row]
        if item.name == "weights":
            own = value if present is None else value[present]
            pooled["weights"] = tuple(float(w) for w in own)
        elif item.name in ("k", "iterations"):
            pooled[item.name] = int(value)
        elif item.name == "converged":
            pooled[item.name] = bool(value)
        else:
            pooled[item.name] = optional_float(value)
    pooled["tau"] = optional_float(np.sqrt(arrays.tau2[row]))
    messages = list(effects.notes) + list(notes)
    if pooled["k"] == 1:
        messages.append("k = 1: the pooled result is the single study; heterogeneity is undefined")
    if pooled["k"] > 0 and (pooled["estimate"] is None or pooled["se"] is None):
        # never a null estimate reported as a success (validation should have refused the data)
        pooled["converged"] = False
        messages.append("the pooled estimate could not be computed: a value is out of range")
    if not pooled["converged"]:
        messages.append(f"the {method} estimate of tau² did not converge")
    random_effects = method not in COMMON_EFFECT_METHODS
    if method in USER_WEIGHT_METHODS and pooled["k"] > 1:
        messages.append(
            f"no confidence interval of tau² (nor of I², H²) for {method}: metafor's "
            'confint(type = "GENQ") needs the distribution of a weighted sum of chi² '
            "variables (CompQuadForm), which srma does not compute"
        )
    elif (
        random_effects
        and pooled["tau2"] is not None
        and pooled["tau2_ci_upper"] is None
        and pooled["k"] > 1
    ):
        limit = "largest double (1.8e308)"
        messages.append(f"the upper bound of tau²'s interval is beyond the {limit}: left out")
    if test == "knha" and pooled["k"] > 1 and pooled["se"] == 0.0:
        messages.append(
            "the Knapp-Hartung scale factor is 0 (the studies agree exactly), so the "
            "interval has zero width; test='adhoc' truncates the factor at 1"
        )
    if method in COMMON_EFFECT_METHODS and test in ("knha", "adhoc"):
        messages.append(f"the {test} test is not meant for a common-effect model")
    if effects.measure in RATIO_MEASURES:
        overflow = ratio_overflow(pooled)
        if overflow:
            messages.append(overflow)
    tau2_se = None
    if random_effects and tau2_estimated and pooled["k"] > 1 and pooled["tau2"] is not None:
        with np.errstate(all="ignore"):
            se = tau2_standard_error(
                as_batch(effects.yi, effects.vi),
                np.array([pooled["tau2"]]),
                method,
                None if model_weights is None else model_weights[None, :],
            )
        tau2_se = optional_float(se[0]) if np.isfinite(se[0]) else None
    return MetaResult(
        measure=effects.measure,
        method=method,
        test=test,
        level=level,
        pi_type=pi_type,
        source=effects.source,
        labels=effects.labels,
        yi=tuple(float(value) for value in effects.yi),
        vi=tuple(float(value) for value in effects.vi),
        omitted=effects.omitted,
        warnings=tuple(messages),
        extra=extra or {},
        tau2_se=tau2_se,
        model_weights=None if model_weights is None else tuple(float(a) for a in model_weights),
        **pooled,
    )


def warn_about(result: MetaResult, stacklevel: int = 3) -> MetaResult:
    """Issue the result's warnings as :class:`SrmaWarning` and return it."""
    for note in result.warnings:
        warnings.warn(note, SrmaWarning, stacklevel=stacklevel)
    return result


def meta(
    data_or_yi: pd.DataFrame | ArrayLike,
    vi: ArrayLike | None = None,
    *,
    measure: str | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    pi_type: str = "riley",
    tau2: float | None = None,
    label: str | None = None,
    labels: Sequence[str] | None = None,
    source: str | None = None,
    add: float = 0.5,
    to: str = "only0",
    drop00: bool | None = None,
    weights: str | ArrayLike | None = None,
    **columns: str,
) -> MetaResult:
    """Pool one meta-analysis.

    Parameters
    ----------
    data_or_yi
        A DataFrame holding either raw per-arm data (with ``measure``; see
        :func:`srma.effect_sizes`) or ``yi`` with ``vi`` or ``sei`` columns, or
        an array of effect sizes (then ``vi`` is required).
    method
        ``"EE"`` (common effect, inverse variance; ``"FE"``, ``"CE"`` are
        aliases), a tau² estimator (``DL, HE, HS, SJ, ML, REML, PM, EB, PMM``)
        for random effects, or ``"MH"`` (Mantel-Haenszel, for OR, RR, RD) or
        ``"PETO"`` (Peto's odds ratio), which need per-arm counts, or
        ``"GENQ"`` (the generalised Q estimator of tau² at the user's
        ``weights``; DerSimonian & Kacker 2007, Contemp Clin Trials 28:105).
    test
        ``"z"``, ``"t"``, ``"knha"`` (Hartung-Knapp-Sidik-Jonkman) or
        ``"adhoc"`` (HKSJ with its variance truncated at 1).
    pi_type
        ``"riley"`` (t with k-2 df, the default), ``"default"`` or ``"t"``,
        as metafor's ``predict()``.
    tau2
        Fix tau² at this value instead of estimating it (metafor's ``tau2=``).
    label, labels
        The column with study labels, or the labels themselves.
    weights
        User weights (metafor's ``rma.uni(weights=)``): a column of the
        DataFrame or one number per input row, finite and > 0.  The pooled
        effect is then ``sum a_i y_i / sum a_i`` with variance ``sum a_i² (v_i
        + tau²) / (sum a_i)²``, tau² estimated by ``method`` as usual (see
        :mod:`srma.stats.pooling`); ``method="GENQ"`` needs them, MH and Peto
        refuse them.  The result records them in ``model_weights``.
    **columns
        Column names for the canonical roles (``yi="logrr"``, ``mean1="m1i"``...).

    Rows whose effect size or variance is missing are omitted with a warning
    that names them; the result records them in ``omitted``.
    """
    options = validate_options(
        "meta",
        measure=measure,
        method=method,
        test=test,
        level=level,
        pi_type=pi_type,
        tau2=tau2,
        add=add,
        to=to,
        drop00=drop00,
    )
    method, measure = options["method"], options["measure"]
    effects = prepare_effects(
        data_or_yi,
        vi,
        measure=measure,
        method=method,
        label=label,
        labels=labels,
        source=source,
        add=add,
        to=to,
        drop00=drop00,
        **columns,
    )
    user_weights = _user_weights(data_or_yi, weights, effects, method)
    if method in COUNT_METHODS:
        return warn_about(
            _pool_counts(effects, method, test, level, columns, add=add, to=to, drop00=drop00)
        )
    arrays = pool(
        as_batch(effects.yi, effects.vi),
        method=method,
        test=test,
        level=level,
        pi_type=pi_type,
        tau2=None if tau2 is None else np.array([tau2]),
        weights=None if user_weights is None else user_weights[None, :],
    )
    result = result_from_arrays(
        arrays,
        0,
        effects,
        method=method,
        test=test,
        level=level,
        pi_type=pi_type,
        tau2_estimated=tau2 is None,
        model_weights=user_weights,
    )
    return warn_about(_with_harmonic_mean(result, effects, columns))


def _user_weights(
    data: pd.DataFrame | ArrayLike,
    weights: str | ArrayLike | None,
    effects: EffectData,
    method: str,
) -> NDArray[np.float64] | None:
    """The user's weights of the kept studies, checked (finite, > 0), or None.

    ``weights`` names a column of the DataFrame ``data`` or gives one number per
    input row; an error names the input row and the column.
    """
    if weights is None:
        if method in USER_WEIGHT_METHODS:
            raise InputError(
                f"method {method} (generalised Q) needs weights=: a column or one weight per study"
            )
        return None
    if method in COUNT_METHODS:
        raise InputError(f"method {method} pools 2x2 tables by its own weights; weights= is for "
                         "inverse-variance methods and GENQ")  # fmt: skip
    source = effects.source
    if isinstance(weights, str):
        if not isinstance(data, pd.DataFrame):
            raise InputError(f"weights={weights!r} names a column, but the data are not a table")
        column = weights
        values = numeric_column(data.reset_index(drop=True), column, source=source)
    else:
        column = "weights"
        try:
            values = np.asarray(weights, dtype=np.float64).ravel()
        except (TypeError, ValueError) as error:
            raise InputError(f"weights must be numbers: {error}", column=column) from None
        rows = len(data) if isinstance(data, pd.DataFrame) else np.asarray(data).size
        if values.size != rows:
            raise InputError(f"weights has {values.size} values for {rows} studies", column=column)
    kept = np.asarray(effects.rows if effects.rows is not None else range(effects.k), dtype=np.intp)
    own = values[kept]
    bad = np.flatnonzero(~(np.isfinite(own) & (own > 0)))
    if bad.size:
        value = own[bad[0]]
        reason = "missing" if np.isnan(value) else f"{value:g}"
        raise InputError(
            f"a weight must be a finite number > 0, got {reason}",
            file=source,
            row=int(kept[bad[0]]) + 1,
            column=column,
        )
    return own


def _with_harmonic_mean(
    result: MetaResult, effects: EffectData, columns: dict[str, str]
) -> MetaResult:
    """A PFT result with the harmonic mean of its studies' sizes (Miller's back-transformation).

    The sizes are those of the studies pooled (the ``total`` column of the
    kept rows), as metafor's ``transf.ipft.hm`` with ``targs = list(ni = ni)``.
    """
    if effects.measure != "PFT" or effects.frame is None:
        return result
    sizes = effects.frame[columns.get("total", "total")].to_numpy(dtype=float)
    return dataclasses.replace(result, harmonic_mean_n=harmonic_mean(sizes))


#: The fields of a Mantel-Haenszel or Peto fit that a :class:`MetaResult` holds.
COUNT_FIT_FIELDS = ("estimate", "se", "statistic", "pvalue", "ci_lower", "ci_upper",
                    "q", "q_df", "q_pvalue", "i2", "h2")  # fmt: skip


def count_fit_row(
    arrays: MantelHaenszelArrays | MantelHaenszelRateArrays | PetoArrays, row: int
) -> tuple[dict[str, float | None], dict[str, float | None]]:
    """Row ``row`` of a batch of MH or Peto fits: the result's fields, and the odds-ratio
    tests (CMH, Cochran, Breslow-Day, Tarone) of a Mantel-Haenszel odds ratio or the
    Mantel-Haenszel test of a rate ratio."""
    values = {name: optional_float(getattr(arrays, name)[row]) for name in COUNT_FIT_FIELDS}
    extra: dict[str, float | None] = {}
    if isinstance(arrays, MantelHaenszelArrays) and arrays.measure == "OR":
        extra = {name: optional_float(getattr(arrays, name)[row]) for name in ODDS_RATIO_TESTS}
    if isinstance(arrays, MantelHaenszelRateArrays) and arrays.measure == "IRR":
        extra = {name: optional_float(getattr(arrays, name)[row]) for name in RATE_RATIO_TESTS}
    return values, extra


def _pool_counts(
    effects: EffectData,
    method: str,
    test: str,
    level: float,
    columns: dict[str, str],
    *,
    add: float,
    to: str,
    drop00: bool | None,
) -> MetaResult:
    """Mantel-Haenszel or Peto pooling of the 2x2 tables (common-effect models), or
    Mantel-Haenszel pooling of incidence rates (IRR, IRD: events and person-time)."""
    from srma.analysis.effect_families_counts import rate_counts
    from srma.analysis.effect_sizes import binary_cells

    rates = effects.measure in RATE_MEASURES
    if rates:
        read = rate_counts(effects.frame, columns, effects.source, groups=2)
    else:
        read = list(binary_cells(effects.frame, columns, effects.source))
    cells = [cell[None, :] for cell in read]
    mask = np.ones_like(cells[0], dtype=bool)
    settings = {"level": level, "add": add, "to": to, "drop00": True if drop00 is None else drop00}
    arrays: MantelHaenszelArrays | MantelHaenszelRateArrays | PetoArrays
    if method == "PETO":
        arrays = peto(*cells, mask, **settings)
    elif rates:
        arrays = mantel_haenszel_rates(*cells, mask, effects.measure, **settings)
    else:
        arrays = mantel_haenszel(*cells, mask, effects.measure, **settings)
    value, extra = count_fit_row(arrays, 0)
    notes = list(effects.notes)
    not_estimable = [
        label for label, y in zip(effects.labels, effects.yi, strict=True) if not np.isfinite(y)
    ]
    if not_estimable:
        notes.append(
            f"not estimable (no events{'' if rates else ' or only events'} in both arms), "
            f"pooled but left out of Q: {', '.join(not_estimable)}"
        )
    if value["estimate"] is None:
        notes.append(f"the {method} estimate is undefined: no events in one of the groups")
    if test != "z":
        notes.append(f"{method} pooling uses the z test; test={test!r} was ignored")
    overflow = ratio_overflow(value)
    if overflow:
        notes.append(overflow)
    return MetaResult(
        measure=effects.measure,
        method=method,
        test="z",
        level=level,
        pi_type="riley",
        source=effects.source,
        labels=effects.labels,
        yi=tuple(float(x) for x in effects.yi),
        vi=tuple(float(x) for x in effects.vi),
        k=int(arrays.k[0]),
        df=None,
        pi_lower=None,
        pi_upper=None,
        tau2=None,
        tau2_ci_lower=None,
        tau2_ci_upper=None,
        tau=None,
        i2_ci_lower=None,
        i2_ci_upper=None,
        h2_ci_lower=None,
        h2_ci_upper=None,
        weights=tuple(float(w) for w in arrays.weights[0]),
        converged=True,
        iterations=0,
        omitted=effects.omitted,
        warnings=tuple(notes),
        extra=extra,
        tables=CountTables(
            *(tuple(map(float, cell[0])) for cell in cells), arrays.add, arrays.to, arrays.drop00
        ),
        **value,
    )


def _rows_outside_range(y: NDArray[np.float64], v: NDArray[np.float64]) -> NDArray[np.intp]:
    """Rows of a batch that may hold a value :func:`check_representable` refuses.

    A cheap vectorised screen (no loop over rows in the common case): a
    variance below 1e-150, or effects spread over more than 1e75.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        small_v = (v < 1e-150).any(axis=1)  # NaN compares False
        spread = np.fmax.reduce(y, axis=1) - np.fmin.reduce(y, axis=1)  # NaN ignored
    return np.flatnonzero(small_v | (spread > 1e75))


@dataclass(frozen=True)
class MetaBatchResult:
    """Many meta-analyses pooled at once: each field is an array over the batch.

    Same fields as :class:`~srma.analysis.results.MetaResult` (NaN where
    undefined), ``weights`` shaped ``(batch, k)`` in percent.
    """

    method: str
    test: str
    level: float
    pi_type: str
    arrays: PooledArrays

    def __getattr__(self, name: str) -> Any:
        if name == "tau":
            return self.arrays.tau
        return getattr(self.arrays, name)

    def to_dict(self) -> dict[str, Any]:
        """Settings and every field as lists (NaN where undefined)."""
        out: dict[str, Any] = {
            "method": self.method,
            "test": self.test,
            "level": self.level,
            "pi_type": self.pi_type,
        }
        for item in fields(self.arrays):
            out[item.name] = getattr(self.arrays, item.name).tolist()
        out["tau"] = self.arrays.tau.tolist()
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per meta-analysis, one column per scalar field."""
        data = {
            item.name: getattr(self.arrays, item.name)
            for item in fields(self.arrays)
            if item.name != "weights"
        }
        data["tau"] = self.arrays.tau
        return pd.DataFrame(data)


def meta_batch(
    Y: ArrayLike,
    V: ArrayLike,
    *,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    pi_type: str = "riley",
    tau2_interval: bool = True,
    workers: int | None = None,
    engine: str | None = None,
) -> MetaBatchResult:
    """Pool many meta-analyses at once.

    ``Y`` and ``V`` are shaped ``(batch, k)``; NaN marks an absent study, so
    rows may have different numbers of studies.  Uses the same engine as
    :func:`meta`, so a batch gives the same numbers as its rows one by one.
    Mantel-Haenszel and Peto need counts and are not offered here.  Large
    batches are pooled in blocks on ``workers`` threads (default: all cores).
    ``tau2_interval=False`` skips the Q-profile interval of tau² (and so of I²
    and H²), which costs about as much as the rest of the fit, for
    simulations that do not report it.  ``engine`` (``"auto"``, ``"numpy"`` or
    ``"compiled"``; default: the ``SRMA_BATCH_ENGINE`` environment variable, else
    ``"auto"``) chooses numpy or the compiled REML kernel (docs/batch_kernel.md), which
    gives the same numbers to 1e-12.
    """
    settings = {"test": test, "level": level, "pi_type": pi_type,
                "tau2_interval": tau2_interval, "workers": workers, "engine": engine}  # fmt: skip
    method = validate_options("meta_batch", method=method, **settings)["method"]
    y = np.atleast_2d(np.asarray(Y, dtype=np.float64))
    v = np.atleast_2d(np.asarray(V, dtype=np.float64))
    if y.shape != v.shape or y.ndim != 2:
        raise InputError(f"Y and V must be 2-d arrays of one shape, got {y.shape} and {v.shape}")
    bad = np.argwhere(np.isfinite(v) & (v <= 0))
    if bad.size:
        row, column = bad[0]
        raise InputError(
            f"sampling variance must be > 0, got {v[row, column]:g} "
            f"(meta-analysis {row + 1}, study {column + 1})"
        )
    infinite = np.argwhere(np.isinf(y) | np.isinf(v))
    if infinite.size:
        row, column = infinite[0]
        raise InputError(
            f"values must be finite or NaN (meta-analysis {row + 1}, study {column + 1})"
        )
    for row in _rows_outside_range(y, v):
        try:
            check_representable(y[row], v[row], source=None)
        except InputError as error:
            study = (error.row or 0) - 1
            raise InputError(
                f"{error.reason} (meta-analysis {row + 1}, study {study + 1})"
            ) from None
    arrays = pool_in_blocks(as_batch(y, v), method=method, **settings)
    return MetaBatchResult(method=method, test=test, level=level, pi_type=pi_type, arrays=arrays)


# --- the profile-likelihood interval of tau² ---------------------------------------


@dataclass(frozen=True)
class Tau2Interval:
    """A confidence interval of tau² (residual tau² for a meta-regression).

    ``type`` ``"PL"``: the profile-likelihood interval of an ``ML`` or ``REML``
    fit (metafor's ``confint(type = "PL")``).  ``lower`` is 0 where the
    likelihood-ratio test does not reject tau² = 0 at ``level``.
    """

    type: str
    method: str
    level: float
    tau2: float
    lower: float
    upper: float
    converged: bool

    def to_dict(self) -> dict[str, Any]:
        return {item.name: getattr(self, item.name) for item in fields(self)}


#: Interval types of :func:`tau2_confint`, and the tau² methods each serves.
TAU2_INTERVAL_TYPES = {"PL": ("ML", "REML")}


def tau2_confint(result: Any, type: str = "PL", *, level: float | None = None) -> Tau2Interval:
    """The ``type`` confidence interval of tau² of a :class:`MetaResult` or a
    :class:`~srma.analysis.metareg.MetaRegressionResult`.

    ``type="PL"`` (profile likelihood; Hardy & Thompson 1996, Stat Med 15:619):
    the tau² at which ``2 (ll(tau²_hat) - ll(tau²)) = chi²_{1, level}``, with
    ``ll`` the ML or REML log-likelihood of the result's own method maximised
    over the coefficients (:func:`srma.stats.tau2.profile_likelihood_interval`).
    ``level`` defaults to the result's.  srma's default interval of tau² (the
    ``tau2_ci_lower``, ``tau2_ci_upper`` fields) is the Q-profile one.
    """
    from srma.analysis.metareg import MetaRegressionResult
    from srma.stats.batch import regression_batch
    from srma.stats.tau2 import profile_likelihood_interval

    if not isinstance(result, (MetaResult, MetaRegressionResult)):
        raise InputError(
            "tau2_confint() needs a result of meta() or meta_regression(), got "
            f"{result.__class__.__name__}"
        )
    if type not in TAU2_INTERVAL_TYPES:
        raise InputError(
            f"tau2_confint(): unknown type {type!r}; expected one of "
            f"{', '.join(TAU2_INTERVAL_TYPES)}"
        )
    level = result.level if level is None else level
    validate_options("tau2_confint", level=level)
    methods = TAU2_INTERVAL_TYPES[type]
    if result.method not in methods:
        raise InputError(
            f"tau2_confint(type={type!r}) needs a model fitted with method "
            f"{' or '.join(methods)}, not {result.method}"
        )
    y, v = np.asarray(result.yi, dtype=float), np.asarray(result.vi, dtype=float)
    if isinstance(result, MetaRegressionResult):
        X = np.asarray(result.X, dtype=float)
        batch: Any = regression_batch(y, v, X)
        p = X.shape[1]
    else:
        batch, p = as_batch(y, v), 1
    if y.size - p < 1 or result.tau2 is None:
        raise InputError(
            f"tau2_confint() needs more studies than coefficients: k = {y.size}, p = {p}"
        )
    lower, upper, converged = profile_likelihood_interval(
        batch, np.array([result.tau2]), result.method, level
    )
    return Tau2Interval(
        type=type,
        method=result.method,
        level=level,
        tau2=float(result.tau2),
        lower=float(lower[0]),
        upper=float(upper[0]),
        converged=bool(converged[0]),
    )
