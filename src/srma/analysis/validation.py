"""Input validation for analyses, gathered in one place (as scikit-learn does).

Every check raises :class:`srma.errors.InputError` naming the file, the
1-based data row (the header not counted) and the column, with what was
expected and what was found.  Missing cells are not errors here: they become
NaN, and the analysis omits the study with a warning.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from srma.errors import InputError


def require_columns(frame: pd.DataFrame, columns: Iterable[str], *, source: str | None) -> None:
    """Raise naming the first of ``columns`` that the table lacks, and listing what it has."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        what = "column" if len(missing) == 1 else "columns"
        raise InputError(
            f"{what} {', '.join(map(repr, missing))} not found; the table has "
            f"{', '.join(map(str, frame.columns)) or 'no columns'}",
            file=source,
            column=missing[0],
        )


def numeric_column(frame: pd.DataFrame, column: str, *, source: str | None) -> NDArray[np.float64]:
    """A column as floats; blank cells become NaN, text or infinity is an error naming its row."""
    require_columns(frame, [column], source=source)
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    blank = raw.isna().to_numpy() | (raw.astype(str).str.strip() == "").to_numpy()
    text = np.flatnonzero(np.isnan(values) & ~blank)
    if text.size:
        row = int(text[0])
        raise InputError(
            f"expected a number, got {raw.iloc[row]!r}", file=source, row=row + 1, column=column
        )
    infinite = np.flatnonzero(np.isinf(values))
    if infinite.size:
        row = int(infinite[0])
        raise InputError(
            f"expected a finite number, got {raw.iloc[row]!r}",
            file=source,
            row=row + 1,
            column=column,
        )
    return values


def numeric_columns(
    frame: pd.DataFrame, roles: Mapping[str, str], *, source: str | None
) -> dict[str, NDArray[np.float64]]:
    """The columns playing the given roles (role -> column name), as floats, keyed by role."""
    require_columns(frame, roles.values(), source=source)
    return {role: numeric_column(frame, column, source=source) for role, column in roles.items()}


def reject(
    bad: NDArray[np.bool_],
    values: NDArray[np.float64],
    *,
    column: str,
    source: str | None,
    message: Callable[[float], str],
) -> None:
    """Raise for the first row where ``bad`` holds; ``message`` gets that row's value.

    Rows where ``values`` is missing are never bad: a missing cell is not an error.
    """
    rows = np.flatnonzero(bad & ~np.isnan(values))
    if rows.size:
        row = int(rows[0])
        raise InputError(message(float(values[row])), file=source, row=row + 1, column=column)
