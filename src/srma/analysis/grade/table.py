"""What a study table gives GRADE: participants, comparator risks, risk-of-bias judgements.

For ``srma sof`` and any caller holding a table rather than a project: the
per-arm sizes (``total1, total2`` for 2x2 tables, ``n1, n2`` for means) and the
comparator event risks ``events2 / total2`` of the studies that were pooled,
and a column of overall risk-of-bias judgements, read with errors naming the
row and column.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from srma.analysis.conventions import study_label_column
from srma.analysis.grade.domains import JUDGEMENTS
from srma.analysis.results import MetaResult
from srma.errors import InputError


def _pooled_rows(table: pd.DataFrame, label: str | None, result: MetaResult) -> pd.DataFrame:
    column = study_label_column(table, label)
    if column is None or column not in table.columns:
        return table
    return table[table[column].astype(str).isin(set(result.labels))]


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)


def study_counts(
    table: pd.DataFrame, columns: Mapping[str, str], label: str | None, result: MetaResult
) -> dict[str, Any]:
    """``participants_intervention``, ``participants_control`` and ``control_risks``.

    Read from the pooled studies' rows where the table has per-arm sizes
    (``total1/total2`` or ``n1/n2``, renamed by ``columns``); None where it has none.
    """
    rows = _pooled_rows(table, label, result)
    out: dict[str, Any] = {
        "participants_intervention": None,
        "participants_control": None,
        "control_risks": None,
    }
    for first, second in (("total1", "total2"), ("n1", "n2")):
        one, two = columns.get(first, first), columns.get(second, second)
        if one in rows.columns and two in rows.columns:
            sizes1, sizes2 = _numbers(rows, one), _numbers(rows, two)
            usable = np.isfinite(sizes1) & np.isfinite(sizes2)
            out["participants_intervention"] = int(sizes1[usable].sum())
            out["participants_control"] = int(sizes2[usable].sum())
            break
    events, totals = columns.get("events2", "events2"), columns.get("total2", "total2")
    if events in rows.columns and totals in rows.columns:
        risks = _numbers(rows, events) / _numbers(rows, totals)
        out["control_risks"] = [float(r) for r in risks if np.isfinite(r)]
    return out


def risk_of_bias_column(
    table: pd.DataFrame, column: str, label: str | None, *, source: str | None = None
) -> dict[str, str]:
    """Each study's overall judgement from ``column`` (low, some concerns, unclear, high)."""
    if column not in table.columns:
        raise InputError(f"risk-of-bias column {column!r} not found", file=source, column=column)
    name = study_label_column(table, label)
    if name is None or name not in table.columns:
        raise InputError(
            "a risk-of-bias column needs a study label column (--label)", file=source, column=column
        )
    judgements = {}
    for position, (study, value) in enumerate(zip(table[name], table[column], strict=True)):
        text = "" if pd.isna(value) else " ".join(str(value).strip().lower().split())
        if not text:
            continue
        if text not in JUDGEMENTS:
            raise InputError(
                f"expected low, some concerns, unclear or high, got {value!r}",
                file=source,
                row=position + 1,
                column=column,
            )
        judgements[str(study)] = JUDGEMENTS[text]
    return judgements


def without_high_risk(
    table: pd.DataFrame,
    judgements: Mapping[str, str],
    label: str | None,
    fit: Callable[[pd.DataFrame], MetaResult],
) -> MetaResult | None:
    """``fit`` of the table without the studies judged at high risk; None when none or all are."""
    name = study_label_column(table, label)
    if name is None or name not in table.columns:
        return None
    high = table[name].astype(str).map(lambda study: judgements.get(study) == "high")
    if not high.any() or high.all():
        return None
    return fit(table.loc[~high].reset_index(drop=True))
