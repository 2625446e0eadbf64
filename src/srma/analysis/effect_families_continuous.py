"""Table-level readers and validators for the further continuous measures of ``effect_sizes()``.

Pre-post and matched designs (MC, SMCC, SMCR, ROMC; :mod:`srma.stats.effects_change`),
the heteroscedastic SMD (SMDH; :mod:`srma.stats.effects`), the variability
ratios (VR, CVR and its other name LNCVR; :mod:`srma.stats.effects_variability`)
and the normalised mean difference of animal studies (NMD;
:mod:`srma.stats.normalised`), with the options that belong to them: the
direction of an NMD outcome and the splitting of a control group that several
comparisons share.  :func:`srma.analysis.effect_sizes.effect_sizes` calls
:func:`compute` and reports what it returns.

Column roles (other names map by keyword, as for every measure):

- MC, SMCC: ``mean1, mean2, n`` with ``sd_change`` (the SD of the change
  scores) or ``sd1, sd2, r`` (the SDs at the two occasions and their
  correlation), row by row: a row with ``sd_change`` uses it.
- SMCR: ``mean1, mean2, sd1, n, r``; ``sd1`` is the SD that standardises
  (usually the pre-test SD, as escalc's ``sd1i``).
- ROMC: ``mean1, mean2, sd1, sd2, n, r``.
- SMDH, CVR, LNCVR: ``mean1, sd1, n1, mean2, sd2, n2``; VR: ``sd1, n1, sd2, n2``.
- NMD: ``mean1, sd1, n1`` (treated), ``mean2, sd2, n2`` (lesion control) and
  ``mean_sham``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from srma.analysis.effect_columns import read_roles, row_names
from srma.analysis.validation import (
    Boolean,
    OneOf,
    Optional,
    OptionError,
)
from srma.errors import InputError
from srma.stats import effects as two_group
from srma.stats import effects_change as change
from srma.stats import effects_variability as variability
from srma.stats.batch import BoolArray, FloatArray
from srma.stats.normalised import DIRECTIONS, normalised_mean_difference

TWO_GROUPS = ("mean1", "sd1", "n1", "mean2", "sd2", "n2")
CHANGE_SDS = ("sd1", "sd2", "r")
#: The column roles each measure of this family reads.
ROLES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("MC", "SMCC"), ("mean1", "mean2", "n", "sd_change", *CHANGE_SDS)),
    "SMCR": ("mean1", "mean2", "sd1", "n", "r"),
    "ROMC": ("mean1", "mean2", "sd1", "sd2", "n", "r"),
    **dict.fromkeys(("SMDH", "CVR", "LNCVR"), TWO_GROUPS),
    "VR": ("sd1", "n1", "sd2", "n2"),
    "NMD": (*TWO_GROUPS, "mean_sham"),
}
#: Measures whose group 2 is a control that several comparisons may share (``shared_control``).
SHARED_CONTROL_MEASURES = ("MD", "SMD", "SMDH", "ROM", "NMD")
#: How a shared control group is handled: ``"split"`` divides its size among its comparisons.
SHARED_CONTROL_POLICIES = ("split",)
#: The column naming each comparison's control group when ``control_group`` is not given.
DEFAULT_CONTROL_GROUP = "control_group"

_DIRECTION = Optional(OneOf(DIRECTIONS))
_SHARED_CONTROL = Optional(OneOf(SHARED_CONTROL_POLICIES))


@dataclass(frozen=True)
class FamilyEffects:
    """Effects of one table, the rows expected to have one, and what to tell the user."""

    yi: FloatArray
    vi: FloatArray
    expected: BoolArray
    undefined_because: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SharedControls:
    """How many comparisons share each row's control group, and the note naming them."""

    comparisons: FloatArray
    note: str | None


def check_options(
    measure: str, *, correct: Any, direction: Any, shared_control: Any
) -> tuple[bool, str | None, str | None]:
    """``correct``, ``direction`` and ``shared_control``, checked for ``measure``.

    Raises :class:`~srma.analysis.validation.OptionError` for a value no
    measure accepts and :class:`InputError` for an option the measure does
    not have (``correct`` is ROM's, ``direction`` NMD's, ``shared_control``
    that of the measures in :data:`SHARED_CONTROL_MEASURES`).
    """
    for name, value, constraint in (
        ("correct", correct, Boolean()),
        ("direction", direction, _DIRECTION),
        ("shared_control", shared_control, _SHARED_CONTROL),
    ):  # fmt: skip
        try:
            constraint.parse(value)
        except ValueError:
            raise OptionError("effect_sizes", name, value, constraint) from None
    if correct and measure != "ROM":
        raise InputError(f"correct=True (Lajeunesse's bias correction) is for ROM, not {measure}")
    if direction is not None and measure != "NMD":
        raise InputError(f"direction is an option of NMD, not of {measure}")
    if shared_control is not None and measure not in SHARED_CONTROL_MEASURES:
        raise InputError(
            f"shared_control applies to {', '.join(SHARED_CONTROL_MEASURES)}, not to {measure}"
        )
    return bool(correct), direction, shared_control


def shared_controls(
    frame: pd.DataFrame, column: str, *, source: str | None, label: str | None
) -> SharedControls:
    """The number of rows whose comparison uses each row's control group (CAMARADES' split).

    Vesterinen et al. (2014, J Neurosci Methods 221:92-102): when several
    treatment groups are compared with one control group, the control's size
    is divided by the number of comparisons it serves, so that its animals
    are not counted more than once.  Rows with the same value in ``column``
    share a control; a blank cell is a control of its own.
    """
    if column not in frame.columns:
        raise InputError(
            f"shared_control='split' needs the column {column!r} naming each comparison's "
            "control group (pass control_group= to name another)",
            file=source,
            column=column,
        )
    ids = frame[column]
    given = ids.notna().to_numpy() & (ids.astype(str).str.strip() != "").to_numpy()
    counts = ids.where(given).map(ids[given].value_counts()).to_numpy(dtype=float)
    comparisons = np.where(given, counts, 1.0)
    shared = np.flatnonzero(comparisons > 1)
    if not shared.size:
        return SharedControls(comparisons, None)
    groups = "; ".join(
        f"{group!r} serves {len(rows)} ({row_names(frame, rows, label)})"
        for group, rows in _groups(ids, shared)
    )
    note = (
        "shared control groups: each one's size is divided by the number of comparisons it "
        f"serves (Vesterinen et al. 2014): {groups}"
    )
    return SharedControls(comparisons, note)


def _groups(ids: pd.Series, rows: np.ndarray) -> list[tuple[Any, np.ndarray]]:
    """The rows of each shared control group, in order of first appearance."""
    values = ids.to_numpy()[rows]
    order = dict.fromkeys(values)
    return [(group, rows[values == group]) for group in order]


def _present(role: str, frame: pd.DataFrame, columns: Mapping[str, str]) -> bool:
    return role in columns or role in frame.columns


def _finite(data: Mapping[str, FloatArray], roles: tuple[str, ...]) -> BoolArray:
    return np.all([np.isfinite(data[role]) for role in roles], axis=0)


def _check_sds(
    check: Callable[[str, BoolArray, str], None], data: Mapping[str, FloatArray]
) -> None:
    for role in ("sd1", "sd2", "sd_change"):
        if role in data:
            check(role, data[role] <= 0, "standard deviation must be > 0")


def _check_means_positive(
    check: Callable[[str, BoolArray, str], None], data: Mapping[str, FloatArray], measure: str
) -> None:
    for role in ("mean1", "mean2"):
        check(role, data[role] <= 0, f"mean must be > 0 for {measure} (a ratio of means)")


def _change(
    frame: pd.DataFrame, measure: str, columns: Mapping[str, str], source: str | None
) -> FamilyEffects:
    """MC and SMCC from the SD of the change scores, or from sd1, sd2 and r, row by row."""
    with_change_sd = _present("sd_change", frame, columns)
    with_sds = all(_present(role, frame, columns) for role in CHANGE_SDS)
    if not (with_change_sd or with_sds):
        raise InputError(
            f"measure {measure} needs the SD of the change scores (sd_change) or the SDs at "
            "both occasions and their correlation (sd1, sd2, r)",
            file=source,
        )
    roles = ("mean1", "mean2", "n")
    roles += ("sd_change",) if with_change_sd else ()
    roles += CHANGE_SDS if with_sds else ()
    data, _, check = read_roles(frame, roles, columns, source)
    _check_sds(check, data)
    minimum = 3 if measure == "SMCC" else 2
    check("n", data["n"] < minimum, f"sample size must be at least {minimum}")
    nan = np.full(data["n"].shape, np.nan)
    if with_sds:
        r = data["r"]
        check("r", np.abs(r) > 1, "correlation must lie in [-1, 1]")
        from_sds = change.change_score_sd(data["sd1"], data["sd2"], r)
        sds_given = _finite(data, CHANGE_SDS)
    else:
        from_sds, sds_given = nan, np.zeros(nan.shape, dtype=bool)
    reported = data.get("sd_change", nan)
    sd_change = np.where(np.isfinite(reported), reported, from_sds)
    compute = change.mean_change if measure == "MC" else change.standardized_mean_change_change
    yi, vi = compute(data["mean1"], data["mean2"], sd_change, data["n"])
    expected = _finite(data, ("mean1", "mean2", "n")) & (np.isfinite(reported) | sds_given)
    return FamilyEffects(yi, vi, expected, "the SD of the change scores is 0 or undefined")


def _prepost(
    frame: pd.DataFrame, measure: str, columns: Mapping[str, str], source: str | None
) -> FamilyEffects:
    """SMCR and ROMC."""
    roles = ROLES[measure]
    data, _, check = read_roles(frame, roles, columns, source)
    _check_sds(check, data)
    check("r", np.abs(data["r"]) > 1, "correlation must lie in [-1, 1]")
    if measure == "SMCR":
        check("n", data["n"] < 3, "sample size must be at least 3")
        yi, vi = change.standardized_mean_change_raw(
            data["mean1"], data["mean2"], data["sd1"], data["n"], data["r"]
        )
        return FamilyEffects(yi, vi, _finite(data, roles), "the formula is undefined")
    check("n", data["n"] < 2, "sample size must be at least 2")
    _check_means_positive(check, data, measure)
    yi, vi = change.log_ratio_of_means_paired(*(data[role] for role in roles))
    return FamilyEffects(yi, vi, _finite(data, roles), "the two occasions cancel exactly (vi = 0)")


def _two_groups(
    frame: pd.DataFrame,
    measure: str,
    columns: Mapping[str, str],
    source: str | None,
    comparisons: FloatArray | None,
) -> FamilyEffects:
    """SMDH, VR, CVR (LNCVR) from two independent groups."""
    roles = ROLES[measure]
    data, _, check = read_roles(frame, roles, columns, source)
    _check_sds(check, data)
    for arm in ("1", "2"):
        check(f"n{arm}", data[f"n{arm}"] < 2, "group size must be at least 2")
    if measure in ("CVR", "LNCVR"):
        _check_means_positive(check, data, measure)
    n2 = data["n2"] if comparisons is None else data["n2"] / comparisons
    if measure == "VR":
        yi, vi = variability.log_variability_ratio(data["sd1"], data["n1"], data["sd2"], n2)
    else:
        compute = (
            two_group.standardized_mean_difference_heteroscedastic
            if measure == "SMDH"
            else variability.log_cv_ratio
        )
        yi, vi = compute(data["mean1"], data["sd1"], data["n1"], data["mean2"], data["sd2"], n2)
    return FamilyEffects(yi, vi, _finite(data, roles), "the formula is undefined")


def _nmd(
    frame: pd.DataFrame,
    columns: Mapping[str, str],
    source: str | None,
    *,
    direction: str | None,
    comparisons: FloatArray | None,
    label: str | None,
) -> FamilyEffects:
    roles = ROLES["NMD"]
    data, _, check = read_roles(frame, roles, columns, source)
    _check_sds(check, data)
    for arm in ("1", "2"):
        check(f"n{arm}", data[f"n{arm}"] < 2, "group size must be at least 2")
    n2 = data["n2"] if comparisons is None else data["n2"] / comparisons
    yi, vi = normalised_mean_difference(
        data["mean1"], data["sd1"], data["n1"], data["mean2"], data["sd2"], n2, data["mean_sham"],
        direction=direction,
    )  # fmt: skip
    expected = _finite(data, roles)
    notes: tuple[str, ...] = ()
    if direction is not None:
        deficit = data["mean2"] - data["mean_sham"]
        wrong_way = expected & ((deficit < 0) if direction == "lower is better" else (deficit > 0))
        if wrong_way.any():
            notes = (
                f"NMD: the control group did better than the sham group ({direction}) in "
                f"{row_names(frame, np.flatnonzero(wrong_way), label)}; the lesion shows no "
                "deficit there, so the NMD is the change relative to its size, signed by the "
                "direction",
            )
    return FamilyEffects(
        yi, vi, expected, "the control mean equals the sham mean (no deficit to recover)", notes
    )


def compute(
    frame: pd.DataFrame,
    measure: str,
    columns: Mapping[str, str],
    source: str | None,
    *,
    direction: str | None = None,
    shared: SharedControls | None = None,
    label: str | None = None,
) -> FamilyEffects:
    """The effects of ``measure`` (one of :data:`ROLES`) for every row of ``frame``.

    Raises :class:`InputError` naming the file, row and column for a missing
    column, text in a numeric cell, an SD <= 0, a correlation outside
    [-1, 1], a size below 2 (3 for SMCC and SMCR, whose bias correction needs
    ``n - 1 > 1``), or a mean <= 0 for ROMC, CVR and LNCVR.
    """
    comparisons = None if shared is None else shared.comparisons
    notes = () if shared is None or shared.note is None else (shared.note,)
    if measure in ("MC", "SMCC"):
        computed = _change(frame, measure, columns, source)
    elif measure in ("SMCR", "ROMC"):
        computed = _prepost(frame, measure, columns, source)
    elif measure == "NMD":
        computed = _nmd(
            frame, columns, source, direction=direction, comparisons=comparisons, label=label
        )
    else:
        computed = _two_groups(frame, measure, columns, source, comparisons)
    return FamilyEffects(
        computed.yi,
        computed.vi,
        computed.expected,
        computed.undefined_because,
        notes + computed.notes,
    )
