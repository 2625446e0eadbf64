"""Audit of published pooled results: are a paper's reported numbers consistent with each other?

:func:`audit_published` takes a table with the columns of
``shared/reference/published_results.csv`` (:data:`COLUMNS`; any may be absent
or empty) and checks each row: the estimate inside its CI and the CI symmetric
on the analysis scale, the p-value against the CI, I² against Q and k, Q's
p-value against Q (or against the Q that I² and k imply), participants
against arm totals, and the direction of the effect against numbers quoted in
the note.  Reported numbers are treated as rounded (statcheck's approach,
Nuijten et al. 2016, Behav Res Methods 48:1205-1226): a check fails only when
no value inside the rounding intervals is consistent.  An impossibility is an
``error``, a discrepancy beyond rounding a ``warning`` (:data:`CHECKS`).
"""

from __future__ import annotations

import pandas as pd

from srma.analysis.audit.checks import ROW_CHECKS
from srma.analysis.audit.reported import Reported, parse_reported
from srma.analysis.audit.results import CHECKS, ERROR, WARNING, AuditResult, Check, Finding
from srma.analysis.audit.table import COLUMNS, PublishedRow, published_rows
from srma.analysis.audit.text import check_note

__all__ = [
    "CHECKS",
    "COLUMNS",
    "ERROR",
    "WARNING",
    "AuditResult",
    "Check",
    "Finding",
    "PublishedRow",
    "Reported",
    "audit_published",
    "audit_row",
    "parse_reported",
    "published_rows",
]


def audit_row(row: PublishedRow) -> list[Finding]:
    """Every finding of one row: the numerical checks, then the note's quoted numbers."""
    return [finding for check in (*ROW_CHECKS, check_note) for finding in check(row)]


def audit_published(table: pd.DataFrame, *, source: str | None = None) -> AuditResult:
    """Check each row of a table of published pooled results for internal consistency.

    Cells are best given as text as printed (``pd.read_csv(..., dtype=str)``): the
    number of decimals printed sets the rounding interval, and a float forgets that
    ``0.40`` had two.  Raises :class:`~srma.errors.InputError` naming ``source``, the
    row and the column for an unknown column, an unknown measure or text in a number
    column.
    """
    rows = published_rows(table, source=source)
    findings = tuple(finding for row in rows for finding in audit_row(row))
    return AuditResult(rows=len(rows), findings=findings, source=source)
