"""PRISMA 2020 flow-diagram counts: reading them and checking that they add up.

Counts use the field names of the PRISMA2020 template (Haddaway et al. 2022,
Campbell Systematic Reviews 18:e1230; its ``PRISMA.csv``): a table with a
``data`` column naming the field and an ``n`` column holding the count.
Per-database counts (``database_specific_results``,
``register_specific_results``) and exclusion reasons (``dbr_excluded``) may be
given as ``"Name, n; Name, n"``, as in the template.  Page et al. (2021), BMJ
372:n71 define the boxes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from srma.errors import InputError

#: Fields the diagram draws, in the order of the template.
FIELDS = (
    "database_results",
    "register_results",
    "duplicates",
    "excluded_automatic",
    "excluded_other",
    "records_screened",
    "records_excluded",
    "dbr_sought_reports",
    "dbr_notretrieved_reports",
    "dbr_assessed",
    "dbr_excluded",
    "new_studies",
    "new_reports",
    "total_studies",
    "total_reports",
    "total_studies_ma",
    "total_reports_ma",
    "website_results",
    "organisation_results",
    "citations_results",
    "other_sought_reports",
    "other_notretrieved_reports",
    "other_assessed",
    "other_excluded",
)
#: Fields of the "identification via other methods" column.
OTHER_FIELDS = FIELDS[-7:]
LISTS = ("database_specific_results", "register_specific_results", "dbr_excluded", "other_excluded")
_ITEM = re.compile(r"^\s*(?P<name>.+?)\s*,\s*(?P<n>\d+|xxx|NA)?\s*$")


@dataclass(frozen=True)
class PrismaCounts:
    """The numbers of a PRISMA 2020 flow diagram; None where a count was not reported."""

    counts: dict[str, int | None]
    database_specific: tuple[tuple[str, int | None], ...] = ()
    register_specific: tuple[tuple[str, int | None], ...] = ()
    exclusion_reasons: tuple[tuple[str, int | None], ...] = ()
    other_exclusion_reasons: tuple[tuple[str, int | None], ...] = ()
    notes: dict[str, str] = field(default_factory=dict)
    source: str | None = None

    def get(self, name: str) -> int | None:
        return self.counts.get(name)

    def inconsistencies(self) -> list[str]:
        """Places where the counts do not add up (only where every count involved is known)."""
        c = self.counts
        problems = []

        def known(*names: str) -> bool:
            return all(c.get(name) is not None for name in names)

        if known("database_results", "duplicates", "records_screened"):
            found = c["database_results"] + (c.get("register_results") or 0)
            removed = (
                c["duplicates"]
                + (c.get("excluded_automatic") or 0)
                + (c.get("excluded_other") or 0)
            )
            if found - removed != c["records_screened"]:
                problems.append(
                    f"records identified ({found}) minus removed ({removed}) is "
                    f"{found - removed}, not records_screened "
                    f"({c['records_screened']})"
                )
        pairs = [
            ("records_screened", "records_excluded", "dbr_sought_reports"),
            ("dbr_sought_reports", "dbr_notretrieved_reports", "dbr_assessed"),
            ("other_sought_reports", "other_notretrieved_reports", "other_assessed"),
        ]
        for whole, out, rest in pairs:
            if known(whole, out, rest) and c[whole] - c[out] != c[rest]:
                problems.append(
                    f"{whole} ({c[whole]}) minus {out} ({c[out]}) is "
                    f"{c[whole] - c[out]}, not {rest} ({c[rest]})"
                )
        if known("dbr_assessed", "dbr_excluded") and (
            c.get("new_reports") is not None or c.get("new_studies") is not None
        ):
            kept = c["dbr_assessed"] - c["dbr_excluded"]
            if known("other_assessed", "other_excluded"):
                kept += c["other_assessed"] - c["other_excluded"]
            name = "new_reports" if c.get("new_reports") is not None else "new_studies"
            if kept != c[name]:
                caveat = (
                    "" if name == "new_reports" else " (fine if some studies have several reports)"
                )
                problems.append(
                    f"reports assessed minus excluded is {kept}, not {name} ({c[name]}){caveat}"
                )
        if self.database_specific and c.get("database_results") is not None:
            total = sum(n or 0 for _, n in self.database_specific)
            if all(n is not None for _, n in self.database_specific) and (
                total != c["database_results"]
            ):
                problems.append(
                    f"per-database counts add up to {total}, not "
                    f"database_results ({c['database_results']})"
                )
        if self.exclusion_reasons and c.get("dbr_excluded") is not None:
            total = sum(n or 0 for _, n in self.exclusion_reasons)
            if all(n is not None for _, n in self.exclusion_reasons) and (
                total != c["dbr_excluded"]
            ):
                problems.append(
                    f"exclusion reasons add up to {total}, not dbr_excluded ({c['dbr_excluded']})"
                )
        return problems


def _items(text: str, *, source: str | None, row: int) -> tuple[tuple[str, int | None], ...]:
    items = []
    for part in str(text).split(";"):
        if not part.strip():
            continue
        match = _ITEM.match(part)
        if match is None:
            raise InputError(
                f"expected 'Name, count' items separated by ';', got {part!r}",
                file=source,
                row=row,
                column="n",
            )
        count = match["n"]
        # the blank template writes "xxx" where a count goes: not reported
        items.append((match["name"], int(count) if count and count.isdigit() else None))
    return tuple(items)


def read_prisma(data: pd.DataFrame | str | Path, *, source: str | None = None) -> PrismaCounts:
    """Counts from a table with ``data`` and ``n`` columns (the PRISMA2020 template's layout)."""
    if not isinstance(data, pd.DataFrame):
        source = source or str(data)
        try:
            data = pd.read_csv(data, dtype=str, keep_default_na=False)
        except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
            raise InputError(f"cannot read the table: {error}", file=source) from None
    for column in ("data", "n"):
        if column not in data.columns:
            raise InputError(f"the table needs a {column!r} column", file=source, column=column)
    counts: dict[str, int | None] = dict.fromkeys(FIELDS)
    lists: dict[str, tuple[tuple[str, int | None], ...]] = {}
    notes: dict[str, str] = {}
    for index, record in data.reset_index(drop=True).iterrows():
        name = str(record["data"]).strip()
        value = str(record["n"]).strip()
        row = int(index) + 1
        if name in ("", "NA") or value in ("", "NA"):
            continue
        if "note" in data.columns and str(record["note"]).strip():
            notes[name] = str(record["note"]).strip()
        if name in LISTS and not value.isdigit():
            lists[name] = _items(value, source=source, row=row)
            continue
        if name not in FIELDS:
            continue  # template rows for boxes srma does not draw
        if not value.isdigit():
            raise InputError(
                f"expected a whole number >= 0 for {name}, got {value!r}",
                file=source,
                row=row,
                column="n",
            )
        counts[name] = int(value)
    for name in ("dbr_excluded", "other_excluded"):
        reasons = lists.get(name, ())
        if reasons and counts[name] is None and all(n is not None for _, n in reasons):
            counts[name] = sum(n for _, n in reasons)
    return PrismaCounts(
        counts=counts,
        database_specific=lists.get("database_specific_results", ()),
        register_specific=lists.get("register_specific_results", ()),
        exclusion_reasons=lists.get("dbr_excluded", ()),
        other_exclusion_reasons=lists.get("other_excluded", ()),
        notes=notes,
        source=source,
    )
