"""``effect_sizes()``: effect sizes and variances for every row of a table.

The measures and their formulas are those of metafor's ``escalc`` (see
:mod:`srma.stats.effects`); the names of the input columns follow one
convention (``mean1, sd1, n1, mean2, sd2, n2``; ``events1, total1, events2,
total2`` or ``a, b, c, d``; ``r, n``; ``yi`` with ``vi``, ``sei``,
``ci_lower``/``ci_upper`` or ``pvalue``), and any other name maps by keyword:
``effect_sizes(df, "SMD", mean1="m1i", sd1="sd1i", ...)``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from srma.analysis.validation import numeric_columns, reject
from srma.errors import InputError, SrmaWarning
from srma.stats import effects as formulas

CONTINUOUS = ("mean1", "sd1", "n1", "mean2", "sd2", "n2")
MEASURES: dict[str, str] = {
    "MD": "mean difference",
    "SMD": "standardised mean difference (Hedges' g)",
    "ROM": "log ratio of means",
    "RR": "log risk ratio",
    "OR": "log odds ratio",
    "RD": "risk difference",
    "PETO": "Peto's log odds ratio",
    "COR": "correlation coefficient",
    "ZCOR": "Fisher's z-transformed correlation",
    "GEN": "generic estimate with its standard error, CI or p-value",
}
BINARY_FORMULAS: dict[str, Callable[..., formulas.EffectArrays]] = {
    "RR": formulas.log_risk_ratio,
    "OR": formulas.log_odds_ratio,
    "RD": formulas.risk_difference,
    "PETO": formulas.peto_log_odds_ratio,
}
CONTINUOUS_FORMULAS: dict[str, Callable[..., formulas.EffectArrays]] = {
    "MD": formulas.mean_difference,
    "SMD": formulas.standardized_mean_difference,
    "ROM": formulas.log_ratio_of_means,
}

Columns = dict[str, NDArray[np.float64]]


def _role_names(frame: pd.DataFrame, roles: tuple[str, ...], mapping: dict[str, str]) -> dict:
    return {role: mapping.get(role, role) for role in roles}


def _row_names(frame: pd.DataFrame, rows: NDArray[np.intp], label: str | None) -> str:
    if label is None:
        label = next((c for c in ("study", "label", "author") if c in frame.columns), None)
    if label is None:
        return ", ".join(f"row {row + 1}" for row in rows)
    return ", ".join(f"{frame[label].iloc[row]} (row {row + 1})" for row in rows)


def _continuous(frame: pd.DataFrame, measure: str, mapping: dict[str, str], source: str | None):
    names = _role_names(frame, CONTINUOUS, mapping)
    data = numeric_columns(frame, names, source=source)
    for arm in ("1", "2"):
        sd, n = f"sd{arm}", f"n{arm}"
        reject(
            data[sd] <= 0,
            data[sd],
            column=names[sd],
            source=source,
            message=lambda value: f"standard deviation must be > 0, got {value:g}",
        )
        reject(
            data[n] < 2,
            data[n],
            column=names[n],
            source=source,
            message=lambda value: f"group size must be at least 2, got {value:g}",
        )
        if measure == "ROM":
            mean = f"mean{arm}"
            reject(
                data[mean] <= 0,
                data[mean],
                column=names[mean],
                source=source,
                message=lambda value: f"ROM needs positive means (log scale), got {value:g}",
            )
    return CONTINUOUS_FORMULAS[measure](*(data[role] for role in CONTINUOUS))


def binary_cells(frame: pd.DataFrame, mapping: dict[str, str], source: str | None):
    """Cells a, b, c, d from ``events/total`` (the default) or from ``a, b, c, d``."""
    uses_cells = any(role in mapping for role in "abcd") or (
        not any(r in mapping or r in frame.columns for r in ("events1", "total1"))
        and all(cell in frame.columns for cell in "abcd")
    )
    if uses_cells:
        names = _role_names(frame, ("a", "b", "c", "d"), mapping)
        data = numeric_columns(frame, names, source=source)
        for role, column in names.items():
            reject(
                data[role] < 0,
                data[role],
                column=column,
                source=source,
                message=lambda value: f"a cell count cannot be negative, got {value:g}",
            )
        return data["a"], data["b"], data["c"], data["d"]
    names = _role_names(frame, ("events1", "total1", "events2", "total2"), mapping)
    data = numeric_columns(frame, names, source=source)
    for arm in ("1", "2"):
        events, total = data[f"events{arm}"], data[f"total{arm}"]
        reject(
            events < 0,
            events,
            column=names[f"events{arm}"],
            source=source,
            message=lambda value: f"events cannot be negative, got {value:g}",
        )
        reject(
            total < 1,
            total,
            column=names[f"total{arm}"],
            source=source,
            message=lambda value: f"group size must be at least 1, got {value:g}",
        )
        reject(
            events > total,
            events,
            column=names[f"events{arm}"],
            source=source,
            message=lambda value: f"events ({value:g}) exceed the group size",
        )
    a, c = data["events1"], data["events2"]
    return a, data["total1"] - a, c, data["total2"] - c


def _binary(frame, measure, mapping, source, *, add, to, drop00, label):
    a, b, c, d = binary_cells(frame, mapping, source)
    if drop00 is None:
        drop00 = measure in ("RR", "OR")
    dropped = np.zeros(a.shape, dtype=bool)
    if drop00:
        dropped = formulas.double_zero(a, b, c, d)
        if dropped.any():
            warnings.warn(
                f"{measure}: dropped studies with no events (or only events) in both arms: "
                f"{_row_names(frame, np.flatnonzero(dropped), label)}",
                SrmaWarning,
                stacklevel=4,
            )
    corrected = formulas.continuity_corrected(
        *(np.where(dropped, np.nan, cell) for cell in (a, b, c, d)), add=add, to=to
    )
    yi, vi = BINARY_FORMULAS[measure](*corrected)
    undefined = np.flatnonzero(~dropped & ~np.isfinite(yi) & np.isfinite(a + b + c + d))
    if undefined.size:
        warnings.warn(
            f"{measure} is undefined without a continuity correction for "
            f"{_row_names(frame, undefined, label)}; those studies are left out",
            SrmaWarning,
            stacklevel=4,
        )
    return np.where(np.isfinite(yi) & np.isfinite(vi), yi, np.nan), np.where(
        np.isfinite(yi) & np.isfinite(vi), vi, np.nan
    )


def _correlation(frame, measure, mapping, source):
    names = _role_names(frame, ("r", "n"), mapping)
    data = numeric_columns(frame, names, source=source)
    reject(
        np.abs(data["r"]) > 1,
        data["r"],
        column=names["r"],
        source=source,
        message=lambda value: f"a correlation must lie in [-1, 1], got {value:g}",
    )
    minimum = 4 if measure == "ZCOR" else 2
    reject(
        data["n"] < minimum,
        data["n"],
        column=names["n"],
        source=source,
        message=lambda value: f"sample size must be at least {minimum}, got {value:g}",
    )
    if measure == "ZCOR":
        reject(
            np.abs(data["r"]) == 1,
            data["r"],
            column=names["r"],
            source=source,
            message=lambda value: f"Fisher's z is infinite for r = {value:g}",
        )
        return formulas.fisher_z(data["r"], data["n"])
    return formulas.correlation(data["r"], data["n"])


def _generic(frame, mapping, source, *, log, level):
    estimate = mapping.get("yi", "yi")
    for role in ("vi", "sei", "ci_lower", "pvalue"):
        if role in mapping or mapping.get(role, role) in frame.columns:
            break
    else:
        raise InputError(
            "GEN needs yi with one of: vi, sei, ci_lower and ci_upper, pvalue", file=source
        )
    if role == "ci_lower":
        names = _role_names(frame, ("yi", "ci_lower", "ci_upper"), {**mapping, "yi": estimate})
        data = numeric_columns(frame, names, source=source)
        reject(
            data["ci_lower"] >= data["ci_upper"],
            data["ci_lower"],
            column=names["ci_lower"],
            source=source,
            message=lambda value: f"the CI's lower limit {value:g} is not below its upper limit",
        )
        if log:
            for part in ("yi", "ci_lower", "ci_upper"):
                reject(
                    data[part] <= 0,
                    data[part],
                    column=names[part],
                    source=source,
                    message=lambda value: f"a ratio must be > 0 to take logs, got {value:g}",
                )
        return formulas.from_confidence_interval(
            data["yi"], data["ci_lower"], data["ci_upper"], level=level, log=log
        )
    names = _role_names(frame, ("yi", role), {**mapping, "yi": estimate})
    data = numeric_columns(frame, names, source=source)
    if role == "pvalue":
        p = data["pvalue"]
        reject(
            (p <= 0) | (p > 1),
            p,
            column=names["pvalue"],
            source=source,
            message=lambda value: f"a p-value must lie in (0, 1], got {value:g}",
        )
        return formulas.from_p_value(data["yi"], p)
    spread = data[role]
    reject(
        spread <= 0,
        spread,
        column=names[role],
        source=source,
        message=lambda value: (
            f"{'variance' if role == 'vi' else 'standard error'} must be > 0, got {value:g}"
        ),
    )
    if role == "vi":
        return data["yi"], spread
    return formulas.from_standard_error(data["yi"], spread)


def effect_sizes(
    df: pd.DataFrame,
    measure: str,
    *,
    add: float = 0.5,
    to: str = "only0",
    drop00: bool | None = None,
    log: bool = False,
    level: float = 0.95,
    label: str | None = None,
    source: str | None = None,
    **columns: str,
) -> pd.DataFrame:
    """A copy of ``df`` with the effect size ``yi`` and its sampling variance ``vi``.

    Parameters
    ----------
    measure
        One of :data:`MEASURES`.  Ratio measures (RR, OR, PETO, ROM) are on
        the log scale.
    add, to
        Continuity correction for 2x2 tables, as metafor: ``add`` (0.5) is added
        to every cell of studies with a zero cell (``to="only0"``), of all
        studies (``"all"``), of all if any has one (``"if0all"``), or of none.
    drop00
        Drop studies with no events in either arm (or only events).  Default:
        True for RR and OR (their ratio is then undefined), False otherwise.
        Dropped studies get a missing ``yi`` and a warning names them.
    log, level
        For ``GEN`` with a confidence interval: take logs of a ratio and its
        limits; the level of the interval.
    source
        The file name, for error messages.
    **columns
        Column names for the canonical roles, e.g. ``mean1="m1i"``.

    Bad values (text in a numeric cell, a standard deviation <= 0, a group of
    fewer than 2, more events than participants...) raise
    :class:`~srma.errors.InputError` naming the row and column.
    """
    measure = measure.upper()
    if measure not in MEASURES:
        raise InputError(f"unknown measure {measure!r}; expected one of {', '.join(MEASURES)}")
    unknown = sorted(
        set(columns)
        - set(CONTINUOUS)
        - {
            "events1",
            "total1",
            "events2",
            "total2",
            "a",
            "b",
            "c",
            "d",
            "r",
            "n",
            "yi",
            "vi",
            "sei",
            "ci_lower",
            "ci_upper",
            "pvalue",
        }
    )
    if unknown:
        raise InputError(f"unknown column role(s): {', '.join(unknown)}")
    frame = df.reset_index(drop=True)
    if len(frame) == 0:
        raise InputError("the table has no rows", file=source)
    if measure in CONTINUOUS_FORMULAS:
        yi, vi = _continuous(frame, measure, columns, source)
    elif measure in BINARY_FORMULAS:
        yi, vi = _binary(
            frame, measure, columns, source, add=add, to=to, drop00=drop00, label=label
        )
    elif measure in ("COR", "ZCOR"):
        yi, vi = _correlation(frame, measure, columns, source)
    else:
        yi, vi = _generic(frame, columns, source, log=log, level=level)
    out = df.copy()
    out["yi"] = yi
    out["vi"] = vi
    return out
