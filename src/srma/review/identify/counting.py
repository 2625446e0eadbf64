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
from srma.review.identify.readers.fields import at_line_starts
from srma.review.identify.readers.table import count_rows

_STARTS = {
    "ris": re.compile(r"\n\ufeff?[ \t]*[Tt][Yy][ \t]*[-\u2013\u2014]"),
    "medline": re.compile(r"\n\ufeff?[ \t]*PMID[ \t]*-"),
    "wos": re.compile(r"\n\ufeff?[ \t]*PT[ \t]"),
}
_BIBTEX = re.compile(rf"@[ \t]*({ENTRY_TYPE})\s*[{{(]")
_BIBTEX_NOT_ENTRIES = frozenset({"comment", "string", "preamble"})


def _bibtex_starts(text: str) -> list[int]:
    """Lines of ``@type{`` at a line's start or after ``}``/``)``, but comment, string, preamble."""
    lines: list[int] = []
    line, counted = 1, 0
    for match in _BIBTEX.finditer(text):
        before = match.start() - 1
        while before >= 0 and text[before] in " \t":
            before -= 1
        if before >= 0 and text[before] not in "\r\n})":
            continue
        if match.group(1).lower() in _BIBTEX_NOT_ENTRIES:
            continue
        segment = text[counted : match.start()]
        line += segment.count("\n") + segment.count("\r") - segment.count("\r\n")
        counted = match.start()
        lines.append(line)
    return lines


def record_starts(kind: str, text: str) -> list[int]:
    """The line where each record of ``text`` (a ``kind`` export) starts, in order."""
    if kind in ("csv", "tsv"):
        return count_rows(text)
    if kind == "bibtex":
        return _bibtex_starts(text)
    return [line for line, _match in at_line_starts(_STARTS[kind], text)]
