"""How many records an export holds, counted from the format's own delimiters.

The count is made apart from the readers, with patterns more lenient than
theirs (a damaged separator still counts as a start), so that a record a
reader missed shows up as a start line with nothing read at it.
:func:`srma.review.identify.records.read_records` compares the two and
reports every such line as a problem; nothing read is ever left uncounted.

| format | a record starts at |
|---|---|
| RIS | a line ``TY`` (any case) + spaces or tabs + a hyphen or dash |
| MEDLINE | a line ``PMID`` + spaces or tabs + a hyphen |
| Web of Science | a line ``PT`` + a space or tab |
| BibTeX | ``@type{`` or ``@type(`` at the start of a line or after ``}``/``)``,
  but ``@comment``, ``@string`` and ``@preamble`` |
| CSV/TSV | each non-blank row after the header, as Python's ``csv`` module reads it |
| XLSX | each row after the header that holds anything (counted while reading) |
"""

from __future__ import annotations

import re

from srma.review.identify.readers.bibtex import ENTRY_TYPE
from srma.review.identify.readers.table import count_rows

_LINE_START = r"(?:\A|(?<=[\r\n]))\ufeff?[ \t]*"
_STARTS = {
    "ris": re.compile(_LINE_START + r"[Tt][Yy][ \t]*[-\u2013\u2014]"),
    "medline": re.compile(_LINE_START + r"PMID[ \t]*-"),
    "wos": re.compile(_LINE_START + r"PT[ \t]"),
}
_BIBTEX = re.compile(rf"(?:\A|(?<=[\r\n])|(?<=[}})]))[ \t]*@[ \t]*({ENTRY_TYPE})\s*[{{(]")
_BIBTEX_NOT_ENTRIES = frozenset({"comment", "string", "preamble"})
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _lines_of(text: str, offsets: list[int]) -> list[int]:
    """The 1-based line of each of ``offsets`` (ascending)."""
    lines: list[int] = []
    line = 1
    breaks = _LINE_BREAK.finditer(text)
    upcoming = next(breaks, None)
    for offset in offsets:
        while upcoming is not None and upcoming.end() <= offset:
            line += 1
            upcoming = next(breaks, None)
        lines.append(line)
    return lines


def record_starts(kind: str, text: str) -> list[int]:
    """The line where each record of ``text`` (a ``kind`` export) starts, in order."""
    if kind in ("csv", "tsv"):
        return count_rows(text)
    if kind == "bibtex":
        offsets = [
            m.start()
            for m in _BIBTEX.finditer(text)
            if m.group(1).lower() not in _BIBTEX_NOT_ENTRIES
        ]
    else:
        offsets = [m.start() for m in _STARTS[kind].finditer(text)]
    return _lines_of(text, offsets)
