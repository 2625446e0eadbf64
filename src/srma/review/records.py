"""Old import path of ``srma.review.identify.records``, kept for one release.

Import from the new path; this module will be removed in srma 0.3.
"""

from srma.review.identify.records import (
    ImportProblem,
    ImportResult,
    Parsed,
    Record,
    detect_format,
    parse_bibtex,
    parse_delimited,
    parse_medline,
    parse_ris,
    parse_table,
    parse_wos,
    parse_xlsx,
    read_records,
)

__all__ = [
    "ImportProblem",
    "ImportResult",
    "Parsed",
    "Record",
    "detect_format",
    "parse_bibtex",
    "parse_delimited",
    "parse_medline",
    "parse_ris",
    "parse_table",
    "parse_wos",
    "parse_xlsx",
    "read_records",
]
