"""Bibliographic records read from database exports.

Formats: RIS, PubMed MEDLINE (``.nbib``), Web of Science plain text, BibTeX,
CSV/TSV and XLSX; ``docs/import_formats.md`` lists how each is detected and
which fields are read.  :func:`read_records` decodes the file
(:mod:`~srma.review.identify.decoding`: damage stays in its line), picks the
reader (:mod:`srma.review.identify.readers`), and checks the reader's count
against the format's own record delimiters
(:mod:`~srma.review.identify.counting`).  Nothing is dropped silently::

    records_read == len(records) + len(problems)

and every record start the counter finds is a stored record or a problem.
"""

from __future__ import annotations

import gc
import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from srma.errors import InputError
from srma.review.identify.counting import record_starts
from srma.review.identify.decoding import decode_export
from srma.review.identify.readers.bibtex import parse_bibtex
from srma.review.identify.readers.medline import parse_medline
from srma.review.identify.readers.ris import parse_ris
from srma.review.identify.readers.table import (
    COLUMNS,
    embase_source,
    parse_delimited,
    parse_table,
    parse_xlsx,
    read_xlsx,
    separator,
)
from srma.review.identify.readers.wos import parse_wos
from srma.review.identify.results import ImportProblem, ImportResult, Parsed, Record

__all__ = [
    "ImportProblem",
    "ImportResult",
    "Parsed",
    "Record",
    "detect_format",
    "embase_source",
    "parse_bibtex",
    "parse_delimited",
    "parse_medline",
    "parse_ris",
    "parse_table",
    "parse_wos",
    "parse_xlsx",
    "read_records",
]

_TEXT_PARSERS: dict[str, Callable[[str, str], Parsed]] = {
    "ris": parse_ris,
    "medline": parse_medline,
    "wos": parse_wos,
    "bibtex": parse_bibtex,
    "csv": parse_delimited,
    "tsv": parse_delimited,
}
_SIGNATURES = (
    ("ris", re.compile(r"^[ \t]*TY[ \t]*-", re.MULTILINE)),
    ("medline", re.compile(r"^PMID ?-", re.MULTILINE)),
    ("wos", re.compile(r"\A\s*(?:FN|PT) |^PT [JBSP]\r?$", re.MULTILINE)),
    ("bibtex", re.compile(r"^\s*@[\w:+.\-]+\s*[{(]", re.MULTILINE)),
)
_EXTENSIONS = {
    ".ris": "ris",
    ".nbib": "medline",
    ".medline": "medline",
    ".ciw": "wos",
    ".bib": "bibtex",
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
}
_START_NAMES = {
    "ris": "a RIS record (TY tag)",
    "medline": "a MEDLINE record (PMID tag)",
    "wos": "a Web of Science record (PT tag)",
    "bibtex": "a BibTeX entry (@type{)",
    "csv": "a row",
    "tsv": "a row",
    "xlsx": "a row",
}
_ZIP = b"PK\x03\x04"
_NOT_SPACE = re.compile(r"\S")
_LINE_END = re.compile(r"[\r\n]")


def _first_line(text: str) -> str:
    """The first line of ``text`` that is not blank."""
    found = _NOT_SPACE.search(text)
    if found is None:
        return ""
    start = max(text.rfind("\n", 0, found.start()), text.rfind("\r", 0, found.start())) + 1
    end = _LINE_END.search(text, found.start())
    return text[start : end.start() if end else len(text)]


def _table_header(text: str) -> bool:
    """Whether the first non-blank line is a delimited header naming a title or abstract column."""
    first = _first_line(text)
    delimiter = separator(first)
    if delimiter not in first:
        return False
    names = {cell.strip().strip('"').strip().lower() for cell in first.split(delimiter)}
    return bool(names & {*COLUMNS["title"], *COLUMNS["abstract"]})


def detect_format(text: str, suffix: str) -> str | None:
    """The format of an export's text: by its content first, by its extension second."""
    if _table_header(text):  # a quoted cell of a table may hold lines of another format
        return "tsv" if separator(_first_line(text)) == "\t" else "csv"
    kind = next((kind for kind, sign in _SIGNATURES if sign.search(text)), None)
    kind = kind or _EXTENSIONS.get(suffix.lower())
    if kind in ("csv", "tsv"):
        return "tsv" if separator(_first_line(text)) == "\t" else "csv"
    return kind


def _reconcile(
    kind: str, starts: list[int], records: list[Record], problems: list[ImportProblem], path: str
) -> list[ImportProblem]:
    """The problems, with one more for each counted record start at which nothing was read.

    This is the one place where ``records_read`` is checked: the counter's
    starts (a multiset of lines) must each be matched by a stored record or a
    problem at that line; whatever is left over was lost by the reader and is
    reported here, at its line.
    """
    found = Counter(record.source_line for record in records)
    found.update(problem.line for problem in problems)
    missing = Counter(starts) - found
    if not missing:
        return problems
    message = f"looks like the start of {_START_NAMES[kind]}, but no record was read from it"
    extra = [ImportProblem(path, line, message) for line in sorted(missing.elements())]
    return sorted(problems + extra, key=lambda problem: problem.line)


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a file is read.

    The readers make millions of small lists, dicts and records and no
    reference cycles; the collector's passes over that growing heap took about
    half of the time of reading a 100,000-record file.  Reference counting
    still frees everything; the collector is switched back on as it was.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_records(path: str | Path) -> ImportResult:
    """Read one export file: RIS, MEDLINE, Web of Science, BibTeX, CSV/TSV or XLSX.

    Raises :class:`~srma.errors.InputError` (naming the file) when the file is
    missing, empty, binary, of no recognised format, or holds no record of its
    format; a table without a title or abstract column; a workbook that cannot
    be opened.  Everything else that goes wrong is a problem or a note.
    """
    with _without_cycle_collection():
        return _read(Path(path))


def _read(path: Path) -> ImportResult:
    name = str(path)
    if not path.exists():
        raise InputError("no such file", file=name)
    if path.is_dir():
        raise InputError("is a folder, not an export file", file=name)
    data = path.read_bytes()
    if not data.strip():
        raise InputError("the file is empty", file=name)
    digest = hashlib.sha256(data).hexdigest()
    decoded_notes: list[ImportProblem] = []
    if data.startswith(_ZIP):
        kind = "xlsx"
        (records, problems, _read, notes), starts = read_xlsx(data, name)
    else:
        decoded = decode_export(data, name)
        decoded_notes = [ImportProblem(name, line, text) for line, text in decoded.notes]
        text = decoded.text
        found = detect_format(text, path.suffix)
        if found is None:
            message = "not a recognised export (RIS, MEDLINE, Web of Science, BibTeX, CSV, TSV)"
            raise InputError(message, file=name)
        kind = found
        records, problems, _read, notes = _TEXT_PARSERS[kind](text, name)
        starts = record_starts(kind, text)
    problems = _reconcile(kind, starts, records, problems, name)
    read = len(records) + len(problems)
    if read == 0 and kind not in ("csv", "tsv", "xlsx"):
        raise InputError(f"no {kind} records found", file=name)
    all_notes = sorted(decoded_notes + list(notes), key=lambda note: note.line)
    return ImportResult(name, kind, digest, read, tuple(records), tuple(problems), tuple(all_notes))
