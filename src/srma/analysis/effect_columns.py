"""Reading the columns an effect measure needs, and naming the rows it refuses or leaves out.

Shared by :mod:`srma.analysis.effect_sizes` and the measure families beside it
(:mod:`srma.analysis.effect_families_continuous`,
:mod:`srma.analysis.effect_families_counts`): each measure reads named roles
(``mean1``, ``events1``...) from the table's columns, checks them row by row, and
names the studies it leaves out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from srma.analysis.conventions import study_label_column
from srma.analysis.validation import numeric_columns, reject
from srma.stats.batch import BoolArray, FloatArray

#: ``check(role, bad, requirement)``: raises at the first row where ``bad`` holds.
RowCheck = Callable[[str, BoolArray, str], None]


def role_names(roles: tuple[str, ...], columns: Mapping[str, str]) -> dict[str, str]:
    """The column each role reads: the one mapped to it, or the role's own name."""
    return {role: columns.get(role, role) for role in roles}


def row_checker(
    data: Mapping[str, FloatArray], names: Mapping[str, str], source: str | None
) -> RowCheck:
    """``check(role, bad, requirement)``: raise at the first row where ``bad`` holds.

    The message reads "<requirement>, got <that row's value of role>" and the
    error names the column the role maps to.
    """

    def check(role: str, bad: BoolArray, requirement: str) -> None:
        reject(
            bad,
            data[role],
            column=names[role],
            source=source,
            message=lambda value: f"{requirement}, got {value:g}",
        )

    return check


def read_roles(
    frame: pd.DataFrame, roles: tuple[str, ...], columns: Mapping[str, str], source: str | None
) -> tuple[dict[str, FloatArray], dict[str, str], RowCheck]:
    """The roles' values as float arrays, the columns they came from, and their checker."""
    names = role_names(roles, columns)
    data = numeric_columns(frame, names, source=source)
    return data, names, row_checker(data, names, source)


def row_names(frame: pd.DataFrame, rows: np.ndarray, label: str | None) -> str:
    """Rows by label (given, or a study/label column) and number: ``"Smith 2001 (row 3)"``."""
    column = study_label_column(frame, label)
    if column is None:
        return ", ".join(f"row {row + 1}" for row in rows)
    return ", ".join(f"{frame[column].iloc[row]} (row {row + 1})" for row in rows)
