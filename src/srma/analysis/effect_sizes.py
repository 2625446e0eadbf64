"""``effect_sizes()``: effect sizes and variances for every row of a table.

The measures and their formulas are those of metafor's ``escalc`` (see
:mod:`srma.stats.effects`); the names of the input columns follow one
convention (``mean1, sd1, n1, mean2, sd2, n2``; ``events1, total1, events2,
total2`` or ``a, b, c, d``; ``r, n``; ``yi`` with ``vi``, ``sei``,
``ci_lower`` and ``ci_upper``, or ``pvalue``), and any other name maps by
keyword: ``effect_sizes(df, "SMD", mean1="m1i", sd1="sd1i", ...)``.  The
pre-post, variability and normalised measures are read and validated in
:mod:`srma.analysis.effect_families_continuous`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from srma.analysis import effect_families_continuous as more_continuous
from srma.analysis.effect_columns import read_roles, role_names, row_checker, row_names
from srma.analysis.effect_families_counts import COUNT_FAMILY_ROLES, count_family_effects
from srma.analysis.validation import numeric_columns, validate_options
from srma.errors import InputError, SrmaWarning
from srma.stats import effects as formulas
from srma.stats.batch import BoolArray, FloatArray
from srma.stats.effects_association import point_biserial_correlation
from srma.stats.effects_auc import auc_newcombe, binormal_auc
from srma.vocabulary import MEASURES  # noqa: F401  (re-exported: the measures offered)

CONTINUOUS = ("mean1", "sd1", "n1", "mean2", "sd2", "n2")
EVENTS = ("events1", "total1", "events2", "total2")
CELLS = ("a", "b", "c", "d")
CORRELATION = ("r", "n")
GENERIC = ("yi", "vi", "sei", "ci_lower", "ci_upper", "pvalue")
#: A reported area under the ROC curve with the two groups' sizes (measure AUC).
REPORTED_AUC = ("auc", "n1", "n2")
#: The column roles each measure reads.
ROLES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("MD", "SMD", "ROM", "RPB", "AUCN"), CONTINUOUS),
    "AUC": REPORTED_AUC,
    **dict.fromkeys(("RR", "OR", "RD", "PETO"), EVENTS + CELLS),
    **dict.fromkeys(("COR", "ZCOR"), CORRELATION),
    "GEN": GENERIC,
    **more_continuous.ROLES,
    **COUNT_FAMILY_ROLES,
}
CONTINUOUS_FORMULAS = {
    "MD": formulas.mean_difference,
    "SMD": formulas.standardized_mean_difference,
    "ROM": formulas.log_ratio_of_means,
    "RPB": point_biserial_correlation,
    "AUCN": binormal_auc,
}
#: Measures whose double-zero tables srma drops unless told otherwise (their ratio is undefined).
DROP00_BY_DEFAULT = ("RR", "OR")


@dataclass(frozen=True)
class _Computed:
    """Effects of one table, the rows expected to have one, and what to tell the user."""

    yi: FloatArray
    vi: FloatArray
    expected: BoolArray
    undefined_because: str
    notes: tuple[str, ...] = ()


def _continuous(
    frame: pd.DataFrame,
    measure: str,
    columns: dict[str, str],
    source: str | None,
    *,
    correct: bool,
    shared: more_continuous.SharedControls | None,
) -> _Computed:
    names = role_names(CONTINUOUS, columns)
    data = numeric_columns(frame, names, source=source)
    check = row_checker(data, names, source)
    for arm in ("1", "2"):
        sd, n, mean = data[f"sd{arm}"], data[f"n{arm}"], data[f"mean{arm}"]
        check(f"sd{arm}", sd <= 0, "standard deviation must be > 0")
        check(f"n{arm}", n < 2, "group size must be at least 2")
        if measure == "ROM":
            check(f"mean{arm}", mean <= 0, "mean must be > 0 for ROM (a ratio of means)")
    if shared is not None:
        data["n2"] = data["n2"] / shared.comparisons
    options = {"correct": correct} if measure == "ROM" else {}
    yi, vi = CONTINUOUS_FORMULAS[measure](*(data[role] for role in CONTINUOUS), **options)
    expected = np.all([np.isfinite(data[role]) for role in CONTINUOUS], axis=0)
    notes = () if shared is None or shared.note is None else (shared.note,)
    return _Computed(yi, vi, expected, "the formula is undefined", notes)


def _reported_auc(frame: pd.DataFrame, columns: dict[str, str], source: str | None) -> _Computed:
    """AUC: a reported area under the ROC curve in [0, 1] and group sizes of at least 2."""
    data, _, check = read_roles(frame, REPORTED_AUC, columns, source)
    check("auc", (data["auc"] < 0) | (data["auc"] > 1), "an AUC must lie in [0, 1]")
    for role in ("n1", "n2"):
        check(role, data[role] < 2, "group size must be at least 2")
    yi, vi = auc_newcombe(data["auc"], data["n1"], data["n2"])
    expected = np.all([np.isfinite(data[role]) for role in REPORTED_AUC], axis=0)
    return _Computed(yi, vi, expected, "an AUC of 0 or 1 has no sampling variance")


def _uses_cells(frame: pd.DataFrame, columns: dict[str, str]) -> bool:
    if any(role in columns for role in CELLS):
        return True
    if any(role in columns for role in EVENTS):
        return False
    return not all(role in frame.columns for role in EVENTS) and all(
        cell in frame.columns for cell in CELLS
    )


def binary_cells(
    frame: pd.DataFrame, columns: dict[str, str], source: str | None
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Cells a, b, c, d, validated, from ``events1, total1, events2, total2`` or ``a, b, c, d``.

    ``a`` and ``b`` are the events and non-events of group 1, ``c`` and ``d``
    those of group 2.  The cells are read when a cell role is mapped, or when
    the table has columns a, b, c, d and not the events/total columns.
    """
    if _uses_cells(frame, columns):
        names = role_names(CELLS, columns)
        data = numeric_columns(frame, names, source=source)
        check = row_checker(data, names, source)
        for cell in CELLS:
            check(cell, data[cell] < 0, "count must be >= 0")
        for events, non_events in (("a", "b"), ("c", "d")):
            empty = data[events] + data[non_events] == 0
            requirement = f"group must have participants ({events} + {non_events} > 0)"
            check(non_events, empty, requirement)
        return data["a"], data["b"], data["c"], data["d"]
    names = role_names(EVENTS, columns)
    data = numeric_columns(frame, names, source=source)
    check = row_checker(data, names, source)
    for arm in ("1", "2"):
        events, total = f"events{arm}", f"total{arm}"
        check(events, data[events] < 0, "events must be >= 0")
        check(total, data[total] < 1, "group size must be at least 1")
        check(
            events,
            data[events] > data[total],
            f"events must not exceed the group size in '{names[total]}'",
        )
    a, c = data["events1"], data["events2"]
    return a, data["total1"] - a, c, data["total2"] - c


def _binary(
    frame: pd.DataFrame,
    measure: str,
    columns: dict[str, str],
    source: str | None,
    *,
    add: float,
    to: str,
    drop00: bool | None,
    label: str | None,
) -> _Computed:
    a, b, c, d = binary_cells(frame, columns, source)
    drop = measure in DROP00_BY_DEFAULT if drop00 is None else drop00
    yi, vi = formulas.binary_effect(measure, a, b, c, d, add=add, to=to, drop00=drop)
    dropped = formulas.double_zero(a, b, c, d) if drop else np.zeros(a.shape, dtype=bool)
    notes: tuple[str, ...] = ()
    if dropped.any():
        notes = (
            f"{measure}: left out {int(dropped.sum())} double-zero studies (no events, or only "
            f"events, in both groups): {row_names(frame, np.flatnonzero(dropped), label)}; "
            "pass drop00=False to keep them with a continuity correction",
        )
    expected = np.isfinite(a + b + c + d) & ~dropped
    return _Computed(yi, vi, expected, "a zero cell or proportion without a correction", notes)


def _correlation(
    frame: pd.DataFrame, measure: str, columns: dict[str, str], source: str | None
) -> _Computed:
    names = role_names(CORRELATION, columns)
    data = numeric_columns(frame, names, source=source)
    check = row_checker(data, names, source)
    r, n = data["r"], data["n"]
    check("r", np.abs(r) > 1, "correlation must lie in [-1, 1]")
    check("r", np.abs(r) == 1, "|r| must be < 1 (r = ±1 has no sampling variance)")
    minimum = 4 if measure == "ZCOR" else 3
    check("n", n < minimum, f"sample size must be at least {minimum}")
    compute = formulas.fisher_z if measure == "ZCOR" else formulas.correlation
    yi, vi = compute(r, n)
    return _Computed(yi, vi, np.isfinite(r + n), "the formula is undefined")


def _generic_kind(frame: pd.DataFrame, columns: dict[str, str], source: str | None) -> str:
    """Which of vi, sei, ci_lower (with ci_upper) or pvalue accompanies yi, in that order."""
    for role in ("vi", "sei", "ci_lower", "pvalue"):
        if role in columns or role in frame.columns:
            return role
    raise InputError(
        "measure GEN needs yi with one of: vi, sei, ci_lower and ci_upper, pvalue", file=source
    )


def _generic(
    frame: pd.DataFrame, columns: dict[str, str], source: str | None, *, log: bool, level: float
) -> _Computed:
    kind = _generic_kind(frame, columns, source)
    roles = ("yi", "ci_lower", "ci_upper") if kind == "ci_lower" else ("yi", kind)
    names = role_names(roles, columns)
    data = numeric_columns(frame, names, source=source)
    check = row_checker(data, names, source)
    expected = np.all([np.isfinite(data[role]) for role in roles], axis=0)
    y = data["yi"]
    if kind in ("vi", "sei"):
        what = "variance" if kind == "vi" else "standard error"
        check(kind, data[kind] <= 0, f"{what} must be > 0")
        vi = data["vi"] if kind == "vi" else formulas.from_standard_error(y, data["sei"])[1]
        return _Computed(y, vi, expected, "the formula is undefined")
    if kind == "pvalue":
        p = data["pvalue"]
        check("pvalue", (p <= 0) | (p > 1), "p-value must lie in (0, 1]")
        yi, vi = formulas.from_p_value(y, p)
        return _Computed(yi, vi, expected, "an estimate of 0 or p = 1 gives no standard error")
    lower, upper = data["ci_lower"], data["ci_upper"]
    below = f"lower limit must be below the upper limit in '{names['ci_upper']}'"
    check("ci_lower", lower >= upper, below)
    outside = (y < lower) | (y > upper)
    check("yi", outside, "estimate must lie inside its confidence interval")
    if log:
        for role in roles:
            check(role, data[role] <= 0, "ratio must be > 0 to take logs (log=True)")
    yi, vi = formulas.from_confidence_interval(y, lower, upper, level=level, log=log)
    return _Computed(yi, vi, expected, "the formula is undefined")


def _check_options(
    measure: str, columns: dict[str, str], add: float, to: str, level: float, drop00: Any
) -> str:
    """The canonical measure, after checking the options and the column roles."""
    options = validate_options(
        "effect_sizes", measure=measure, add=add, to=to, level=level, drop00=drop00
    )
    measure = options["measure"]
    unknown = sorted(set(columns) - set(ROLES[measure]))
    if unknown:
        raise InputError(
            f"measure {measure} has no column role(s) {', '.join(unknown)}; "
            f"its roles are {', '.join(ROLES[measure])}"
        )
    return measure


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
    correct: bool = False,
    direction: str | None = None,
    shared_control: str | None = None,
    control_group: str = more_continuous.DEFAULT_CONTROL_GROUP,
    **columns: str,
) -> pd.DataFrame:
    """A copy of ``df`` with the effect size ``yi`` and its sampling variance ``vi``.

    The values are those of metafor's ``escalc`` (3.8-1) with its default
    variance types; the formulas and references are in :mod:`srma.stats.effects`.

    Parameters
    ----------
    df
        One row per study.
    measure
        One of :data:`MEASURES`: MD, SMD (Hedges' g), ROM from ``mean1, sd1,
        n1, mean2, sd2, n2``; RR, OR, RD, PETO from ``events1, total1,
        events2, total2`` or the cells ``a, b, c, d``; COR, ZCOR from ``r, n``;
        GEN from ``yi`` with ``vi``, ``sei``, ``ci_lower`` and ``ci_upper``, or
        ``pvalue`` (looked for in that order).  SMDH (Bonett's SMD for unequal
        variances), CVR (also called LNCVR) from the same columns as SMD, and
        VR from ``sd1, n1, sd2, n2``; the pre-post measures MC and SMCC from
        ``mean1, mean2, n`` with ``sd_change`` or ``sd1, sd2, r``, SMCR from
        ``mean1, mean2, sd1, n, r`` and ROMC from ``mean1, mean2, sd1, sd2, n,
        r``; NMD from ``mean1, sd1, n1`` (treated), ``mean2, sd2, n2``
        (control) and ``mean_sham`` (see
        :mod:`srma.analysis.effect_families_continuous`).  RR, OR, PETO, ROM,
        ROMC, VR and CVR are on the log scale; NMD is in percent.  Proportions,
        incidence rates, PHI, YUQ, YUY, OR2DN, OR2DL and RPB: see
        :mod:`srma.analysis.effect_families_counts` and docs/measures_counts.md.
        AUC (a reported area under the ROC curve) from ``auc, n1, n2``, and
        AUCN (the binormal AUC) from the same columns as MD: see
        :mod:`srma.stats.effects_auc`.
    add, to
        Continuity correction for 2x2 tables, as escalc: ``add`` (0.5) is
        added to every cell of the tables with a zero cell (``to="only0"``), of
        all tables (``"all"``), of all tables if any has a zero cell
        (``"if0all"``), or of none (``"none"``).  It applies to all four binary
        measures, RD and PETO included.
    drop00
        Leave out tables with no events (or only events) in both groups.
        ``None`` (the default) means True for RR and OR, whose ratio such a
        table cannot inform, and False otherwise.  A warning names the studies.
    log, level
        For GEN with a confidence interval: take logs of a ratio and its
        limits; the interval's confidence level.
    label
        Column naming the studies in warnings (default: a column ``study``,
        ``label`` or ``author`` if there is one, else row numbers).
    source
        The file the table came from, named in errors.
    correct
        ROM only: Lajeunesse's (2015) bias-corrected log ratio and its
        second-order variance (:func:`srma.stats.effects.log_ratio_of_means`).
    direction
        NMD only: ``"lower is better"`` or ``"higher is better"`` scales by
        the size of the deficit and signs by the direction; ``None`` (the
        default) is Vesterinen et al.'s signed ratio (:mod:`srma.stats.normalised`).
    shared_control, control_group
        MD, SMD, SMDH, ROM and NMD: ``shared_control="split"`` divides the
        size ``n2`` of a control group that several comparisons share (the
        rows with one value in the column ``control_group``) by the number of
        those comparisons, as CAMARADES does; a warning names the studies.
    **columns
        Column names for the roles above, e.g. ``mean1="m1i"``.

    Returns
    -------
    pandas.DataFrame
        ``df`` (same index and columns) with ``yi`` and ``vi`` set.  A row
        with a missing input gets missing ``yi`` and ``vi``; so does a row whose
        effect is undefined (a dropped double-zero table, a zero cell with
        ``to="none"``, an estimate of 0 with a p-value), with a
        :class:`~srma.errors.SrmaWarning` naming it.

    Raises
    ------
    InputError
        Naming the file, row and column: a missing column, text in a numeric
        cell, a standard deviation, variance or standard error <= 0, a group
        smaller than 2 (MD, SMD, ROM), a negative count, more events than
        participants, a correlation outside (-1, 1), n < 3 (COR) or n < 4
        (ZCOR), a CI whose lower limit is not below its upper one or that
        excludes its estimate, a p-value outside (0, 1], a correlation outside
        [-1, 1] or a sample below 3 (SMCC, SMCR), a mean <= 0 (ROM, ROMC,
        CVR); also an unknown measure, column role or option, or an option
        of another measure (``correct`` with SMD).
    """
    measure = _check_options(measure, columns, add, to, level, drop00)
    correct, direction, shared_control = more_continuous.check_options(
        measure, correct=correct, direction=direction, shared_control=shared_control
    )
    frame = df.reset_index(drop=True)
    if len(frame) == 0:
        raise InputError("the table has no rows", file=source)
    shared = None
    if shared_control == "split":
        shared = more_continuous.shared_controls(frame, control_group, source=source, label=label)
    computed: _Computed | more_continuous.FamilyEffects
    if measure in CONTINUOUS_FORMULAS:
        computed = _continuous(frame, measure, columns, source, correct=correct, shared=shared)
    elif measure in more_continuous.ROLES:
        computed = more_continuous.compute(
            frame, measure, columns, source, direction=direction, shared=shared, label=label
        )
    elif measure in formulas.BINARY_MEASURES:
        computed = _binary(
            frame, measure, columns, source, add=add, to=to, drop00=drop00, label=label
        )
    elif measure in ("COR", "ZCOR"):
        computed = _correlation(frame, measure, columns, source)
    elif measure == "AUC":
        computed = _reported_auc(frame, columns, source)
    elif measure in COUNT_FAMILY_ROLES:
        computed = count_family_effects(
            frame,
            measure,
            columns,
            source,
            add=add,
            to=to,
            drop00=drop00,
            row_names=lambda rows: row_names(frame, rows, label),
        )
    else:
        computed = _generic(frame, columns, source, log=log, level=level)
    defined = np.isfinite(computed.yi) & np.isfinite(computed.vi) & (computed.vi > 0)
    undefined = np.flatnonzero(computed.expected & ~defined)
    messages = list(computed.notes)
    if undefined.size:
        messages.append(
            f"{measure} is undefined ({computed.undefined_because}) for "
            f"{row_names(frame, undefined, label)}; left out"
        )
    for message in messages:
        warnings.warn(message, SrmaWarning, stacklevel=2)
    out = df.copy()
    out["yi"] = np.where(defined, computed.yi, np.nan)
    out["vi"] = np.where(defined, computed.vi, np.nan)
    return out
