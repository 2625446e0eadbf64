"""What an audit of published results finds: the checks, each finding, and the audit."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from srma.formatting import format_count, format_number, format_p_value

if TYPE_CHECKING:
    from srma.analysis.audit.table import PublishedRow

ERROR: Final = "error"
WARNING: Final = "warning"


@dataclass(frozen=True)
class Check:
    """One check: what it compares, its severity, and what its recomputed value is
    (``kind``: ``p`` a p-value, ``count`` a whole number, ``number`` anything else)."""

    description: str
    severity: str
    kind: str = "number"


#: Every check, by the name a finding carries (docs/audit.md explains each).
CHECKS: Final = MappingProxyType(
    {
        "count_whole": Check("k and numbers of participants are whole numbers >= 0 (k >= 1)",
                             ERROR, "count"),
        "n_sum": Check("n_total equals n_treatment + n_control", ERROR, "count"),
        "q_df": Check("Q's degrees of freedom equal k - 1", WARNING, "count"),
        "p_range": Check("p-values lie in [0, 1]", ERROR, "p"),
        "i2_range": Check("I² lies in [0, 100] percent", ERROR),
        "ci_order": Check("the CI's lower bound is not above its upper bound", ERROR),
        "ratio_positive": Check("a ratio and its CI bounds are > 0", ERROR),
        "direction": Check("the estimate lies on the side of the null its CI lies on", ERROR),
        "estimate_in_ci": Check("the estimate lies inside its CI", ERROR),
        "ci_symmetry": Check("the CI is symmetric about the estimate on the analysis scale "
                             "(log for ratios)", WARNING),
        "p_from_ci": Check("the p-value agrees with the CI (Altman & Bland 2011, z test)",
                           WARNING, "p"),
        "i2_from_q": Check("I² = 100 (Q - df) / Q (Higgins & Thompson 2002)", WARNING),
        "q_p_value": Check("Q's p-value is the chi² survival of Q on df", WARNING, "p"),
        "q_from_i2": Check("Q's p-value agrees with Q = df / (1 - I²) from I² and k", WARNING,
                           "p"),
        "text_direction": Check("an estimate quoted in the note has the estimate's sign (or "
                                "side of 1)", WARNING),
        "text_value": Check("numbers quoted in the note equal the row's within rounding",
                            WARNING),
        "text_ci_order": Check("a CI quoted in the note has its lower bound first", ERROR),
    }
)  # fmt: skip


@dataclass(frozen=True)
class Finding:
    """One failed check of one row.

    ``reported`` is what the row (or its note) prints, as printed;
    ``recomputed`` is the value the check derives from the row's other numbers
    as printed (None where there is none); ``detail`` says how, with the range
    that rounding allows and any assumption made (the z test, a 95% CI).
    """

    row: int
    source: str | None
    outcome: str | None
    check: str
    reported: str
    recomputed: float | int | None
    severity: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """The finding as the JSON output writes it."""
        return asdict(self)

    def recomputed_text(self) -> str:
        """The recomputed value formatted for a reader (``NA`` where there is none)."""
        kind = CHECKS[self.check].kind
        if kind == "count":
            return format_count(self.recomputed)
        if kind == "p":
            return format_p_value(self.recomputed)
        return format_number(self.recomputed, 4)


@dataclass(frozen=True)
class AuditResult:
    """The audit of a table of published results: how many rows, and what was found."""

    rows: int
    findings: tuple[Finding, ...]
    source: str | None = None

    @property
    def errors(self) -> int:
        """Findings that are impossibilities."""
        return sum(finding.severity == ERROR for finding in self.findings)

    @property
    def warnings(self) -> int:
        """Findings that are discrepancies beyond rounding."""
        return sum(finding.severity == WARNING for finding in self.findings)

    def to_dict(self) -> dict[str, Any]:
        """``{"rows": N, "findings": [...]}`` (the ``--json`` output)."""
        return {"rows": self.rows, "findings": [finding.to_dict() for finding in self.findings]}

    def to_frame(self) -> pd.DataFrame:
        """One row per finding."""
        columns = ["row", "source", "outcome", "check", "reported", "recomputed", "severity",
                   "detail"]  # fmt: skip
        return pd.DataFrame([finding.to_dict() for finding in self.findings], columns=columns)

    def summary(self) -> str:
        """One line: rows checked, errors and warnings."""
        where = f"{self.source}: " if self.source else ""
        rows = f"{format_count(self.rows)} row{'s' if self.rows != 1 else ''}"
        if not self.findings:
            return f"{where}{rows} checked, no findings"
        return (f"{where}{rows} checked: {format_count(self.errors)} error(s), "
                f"{format_count(self.warnings)} warning(s)")  # fmt: skip


def finding_for(
    row: PublishedRow, check: str, reported: str, recomputed: float | None, detail: str
) -> Finding:
    """A finding of ``check`` for ``row``, with the check's severity."""
    return Finding(
        row=row.row,
        source=row.source,
        outcome=row.outcome,
        check=check,
        reported=reported,
        recomputed=_number(check, recomputed),
        severity=CHECKS[check].severity,
        detail=detail,
    )


def _number(check: str, value: float | None) -> float | int | None:
    """``value`` as a float, or an int for a count; None where undefined."""
    if value is None or math.isnan(value):
        return None
    return int(value) if CHECKS[check].kind == "count" else float(value)
