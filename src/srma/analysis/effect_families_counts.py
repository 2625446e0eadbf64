"""Table-level readers and validators for proportions, incidence rates and 2x2 associations.

:func:`srma.effect_sizes` dispatches here for the measures of
:data:`COUNT_FAMILY_ROLES`.  Each reader takes the table, the measure, the
column mapping and the file name, checks every value with an
:class:`~srma.errors.InputError` that names the row and the column, and
returns the effects with the rows expected to have one (rows with a missing
input are not expected; nor are dropped double-zero studies).  The formulas
are in :mod:`srma.stats.effects_proportions`, :mod:`srma.stats.effects_rates`
and :mod:`srma.stats.effects_association`.

Column roles (srma's names; any other name maps by keyword):

* proportions PR, PLN, PLO, PAS, PFT: ``events, total``;
* one-group rates IR, IRLN, IRS: ``events, time`` (person-time);
* two-group rates IRR, IRD: ``events1, time1, events2, time2``;
* 2x2 associations PHI, YUQ, YUY, OR2DN, OR2DL: ``events1, total1, events2,
  total2`` or the cells ``a, b, c, d``, as for RR and OR.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from srma.analysis.effect_columns import read_roles
from srma.stats import effects_association, effects_proportions, effects_rates
from srma.stats.batch import BoolArray, FloatArray

PROPORTION = ("events", "total")
ONE_GROUP_RATE = ("events", "time")
TWO_GROUP_RATES = ("events1", "time1", "events2", "time2")
TABLE = ("events1", "total1", "events2", "total2", "a", "b", "c", "d")

#: The column roles each measure of these families reads.
COUNT_FAMILY_ROLES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(effects_proportions.PROPORTION_MEASURES, PROPORTION),
    **dict.fromkeys(effects_rates.ONE_GROUP_RATE_MEASURES, ONE_GROUP_RATE),
    **dict.fromkeys(effects_rates.TWO_GROUP_RATE_MEASURES, TWO_GROUP_RATES),
    **dict.fromkeys(effects_association.TABLE_ASSOCIATION_MEASURES, TABLE),
}

#: Two-group rate measures whose double-zero studies are dropped unless told otherwise
#: (a ratio of two zero rates is undefined; as RR and OR in :func:`srma.effect_sizes`).
RATE_DROP00_BY_DEFAULT = ("IRR",)


@dataclass(frozen=True)
class FamilyEffects:
    """Effects of one table, the rows expected to have one, and what to tell the user."""

    yi: FloatArray
    vi: FloatArray
    expected: BoolArray
    undefined_because: str
    notes: tuple[str, ...] = ()


RowNames = Callable[[np.ndarray], str]


def _all_finite(data: dict[str, FloatArray]) -> BoolArray:
    return np.all([np.isfinite(values) for values in data.values()], axis=0)


def proportion_counts(
    frame: pd.DataFrame, columns: dict[str, str], source: str | None
) -> tuple[FloatArray, FloatArray]:
    """Events and group sizes, validated: ``0 <= events <= total``, ``total >= 1``."""
    data, names, check = read_roles(frame, PROPORTION, columns, source)
    check("events", data["events"] < 0, "events must be >= 0")
    check("total", data["total"] < 1, "group size must be at least 1")
    check(
        "events",
        data["events"] > data["total"],
        f"events must not exceed the group size in '{names['total']}'",
    )
    return data["events"], data["total"]


def rate_counts(
    frame: pd.DataFrame, columns: dict[str, str], source: str | None, *, groups: int
) -> list[FloatArray]:
    """Events and person-time, validated (events >= 0, person-time > 0).

    ``groups=1`` reads ``events, time``; ``groups=2`` reads ``events1, time1,
    events2, time2`` (returned in that order).
    """
    roles = ONE_GROUP_RATE if groups == 1 else TWO_GROUP_RATES
    data, _, check = read_roles(frame, roles, columns, source)
    for role in roles:
        if role.startswith("events"):
            check(role, data[role] < 0, "events must be >= 0")
        else:
            check(role, data[role] <= 0, "person-time must be > 0")
    return [data[role] for role in roles]


def _proportions(
    frame: pd.DataFrame,
    measure: str,
    columns: dict[str, str],
    source: str | None,
    add: float,
    to: str,
) -> FamilyEffects:
    events, total = proportion_counts(frame, columns, source)
    yi, vi = effects_proportions.proportion_effect(measure, events, total, add=add, to=to)
    return FamilyEffects(
        yi, vi, np.isfinite(events + total), "no events or only events without a correction"
    )


def _rates(
    frame: pd.DataFrame,
    measure: str,
    columns: dict[str, str],
    source: str | None,
    *,
    add: float,
    to: str,
    drop00: bool | None,
    row_names: RowNames,
) -> FamilyEffects:
    if measure in effects_rates.ONE_GROUP_RATE_MEASURES:
        events, time = rate_counts(frame, columns, source, groups=1)
        yi, vi = effects_rates.one_group_rate_effect(measure, events, time, add=add, to=to)
        return FamilyEffects(yi, vi, np.isfinite(events + time), "no events without a correction")
    counts = rate_counts(frame, columns, source, groups=2)
    drop = measure in RATE_DROP00_BY_DEFAULT if drop00 is None else drop00
    yi, vi = effects_rates.two_group_rate_effect(measure, *counts, add=add, to=to, drop00=drop)
    dropped = effects_rates.rate_double_zero(counts[0], counts[2]) & drop
    notes: tuple[str, ...] = ()
    if dropped.any():
        notes = (
            f"{measure}: left out {int(dropped.sum())} double-zero studies (no events in "
            f"either group): {row_names(np.flatnonzero(dropped))}; pass drop00=False to keep "
            "them with a continuity correction",
        )
    expected = np.isfinite(sum(counts)) & ~dropped
    return FamilyEffects(yi, vi, expected, "no events without a correction", notes)


def _associations(
    frame: pd.DataFrame,
    measure: str,
    columns: dict[str, str],
    source: str | None,
    add: float,
    to: str,
) -> FamilyEffects:
    from srma.analysis.effect_sizes import binary_cells

    a, b, c, d = binary_cells(frame, columns, source)
    yi, vi = effects_association.table_association_effect(measure, a, b, c, d, add=add, to=to)
    reason = (
        "an empty margin (no events or no non-events overall)"
        if measure in effects_association.UNCORRECTED_ASSOCIATIONS
        else "a zero cell without a correction"
    )
    return FamilyEffects(yi, vi, np.isfinite(a + b + c + d), reason)


def count_family_effects(
    frame: pd.DataFrame,
    measure: str,
    columns: dict[str, str],
    source: str | None,
    *,
    add: float,
    to: str,
    drop00: bool | None,
    row_names: RowNames,
) -> FamilyEffects:
    """Effects of one of the measures of :data:`COUNT_FAMILY_ROLES`, validated row by row.

    ``row_names(rows)`` names 0-based rows in warnings.  ``drop00`` applies to
    IRR and IRD (default: True for IRR, False for IRD); ``add, to`` apply to
    the measures escalc corrects by default (not PAS, PFT, IRS, PHI).
    """
    if measure in effects_proportions.PROPORTION_MEASURES:
        return _proportions(frame, measure, columns, source, add, to)
    if measure in effects_association.TABLE_ASSOCIATION_MEASURES:
        return _associations(frame, measure, columns, source, add, to)
    if measure in COUNT_FAMILY_ROLES:
        return _rates(
            frame, measure, columns, source, add=add, to=to, drop00=drop00, row_names=row_names
        )
    raise ValueError(f"not a measure of these families: {measure!r}")
