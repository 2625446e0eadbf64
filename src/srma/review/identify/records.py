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

A RIS file that is UTF-8 is read piece by piece
(:mod:`~srma.review.identify.streaming`), in two passes: the first hashes it,
counts its records and learns its dialect, the second reads its records; the
file's text is never held whole.  Every other file is read whole; both ways
give the same result.
"""

from __future__ import annotations

import gc
import hashlib
import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from srma.errors import InputError
from srma.review.identify.counting import record_starts
from srma.review.identify.decoding import decode_export, utf8_unless_valid
from srma.review.identify.readers.bibtex import parse_bibtex
from srma.review.identify.readers.fields import keep
from srma.review.identify.readers.medline import parse_medline
from srma.review.identify.readers.ris import parse_ris, ris_dialect, ris_record, ty_separators
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
from srma.review.identify.streaming import (
    CHUNK_SIZE,
    ByteCount,
    byte_chunks,
    line_breaks,
    piece_lines,
    text_pieces,
)
from srma.review.identify.tagged import TaggedRecord, split_tagged_lines

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
_DETECT_CHARS = 1 << 16  # the text a streamed file's format is detected from, at least
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
def without_cycle_collection() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a file is read (or its records stored).

    The readers make millions of small lists, dicts and records and no
    reference cycles; the collector's passes over that growing heap took about
    half of the time of reading a 100,000-record file, and, while they are
    stored, a tenth of the time of storing them.  Reference counting
    still frees everything; the collector is switched back on as it was.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_records(path: str | Path, *, chunk_size: int = CHUNK_SIZE) -> ImportResult:
    """Read one export file: RIS, MEDLINE, Web of Science, BibTeX, CSV/TSV or XLSX.

    Raises :class:`~srma.errors.InputError` (naming the file) when the file is
    missing, empty, binary, of no recognised format, or holds no record of its
    format; a table without a title or abstract column; a workbook that cannot
    be opened.  Everything else that goes wrong is a problem or a note.
    A UTF-8 RIS file is read ``chunk_size`` bytes at a time (any size gives
    the same result).
    """
    with without_cycle_collection():
        return _read(Path(path), chunk_size)


def _read(path: Path, chunk_size: int) -> ImportResult:
    name = str(path)
    if not path.exists():
        raise InputError("no such file", file=name)
    if path.is_dir():
        raise InputError("is a folder, not an export file", file=name)
    streamed = _read_streamed_ris(path, chunk_size)
    if streamed is not None:
        return streamed
    data = path.read_bytes()
    if not data.strip():
        raise InputError("the file is empty", file=name)
    digest = hashlib.sha256(data).hexdigest()
    decoded_notes: list[ImportProblem] = []
    if data.startswith(_ZIP):
        kind = "xlsx"
        (records, problems, _count, notes), starts = read_xlsx(data, name)
    else:
        decoded = decode_export(data, name)
        del data
        decoded_notes = [ImportProblem(name, line, text) for line, text in decoded.notes]
        text = decoded.text
        found = detect_format(text, path.suffix)
        if found is None:
            message = "not a recognised export (RIS, MEDLINE, Web of Science, BibTeX, CSV, TSV)"
            raise InputError(message, file=name)
        kind = found
        records, problems, _count, notes = _TEXT_PARSERS[kind](text, name)
        starts = record_starts(kind, text)
    return _result(name, kind, digest, starts, records, problems, decoded_notes + list(notes))


def _result(
    name: str,
    kind: str,
    digest: str,
    starts: list[int],
    records: list[Record],
    problems: list[ImportProblem],
    notes: list[ImportProblem],
) -> ImportResult:
    """The result of a file read, its count checked (:func:`_reconcile`)."""
    problems = _reconcile(kind, starts, records, problems, name)
    read = len(records) + len(problems)
    if read == 0 and kind not in ("csv", "tsv", "xlsx"):
        raise InputError(f"no {kind} records found", file=name)
    all_notes = sorted(notes, key=lambda note: note.line)
    return ImportResult(name, kind, digest, read, tuple(records), tuple(problems), tuple(all_notes))


def _read_streamed_ris(path: Path, chunk_size: int) -> ImportResult | None:
    """A UTF-8 RIS file read piece by piece, as :func:`_read` reads it whole; None when the
    file is not one (another format or encoding, binary: the whole-file read decides).

    The streamed read is :func:`parse_ris` line by line; a RIS reader put in its place in
    ``_TEXT_PARSERS`` has no streamed form, and reads the whole text.
    """
    if _TEXT_PARSERS["ris"] is not parse_ris:
        return None
    with path.open("rb") as handle:
        head = handle.read(4096)
    if not head.strip() or head.startswith(_ZIP) or not utf8_unless_valid(head):
        return None  # blank at the start (an empty file), a workbook, not UTF-8: read whole
    name = str(path)
    count = ByteCount()
    pieces = text_pieces(count.count(byte_chunks(path, chunk_size)))
    before: set[str] = set()
    bare_after = False
    starts: list[int] = []
    lines = 0
    try:
        head = _ris_head(pieces, path.suffix)
        if head is None:
            return None
        for piece in itertools.chain(head, pieces):
            separators, bare = ty_separators(piece)
            before |= separators
            bare_after = bare_after or bare
            starts.extend(lines + line for line in record_starts("ris", piece))
            lines += line_breaks(piece)
    except UnicodeDecodeError:
        return None
    if count.controls * 20 > count.size:
        return None  # binary: refused by the whole-file read
    records: list[Record] = []
    kept: list[ImportProblem] = []

    def convert(tagged: TaggedRecord) -> None:
        keep(ris_record(tagged, name), records, kept)

    split = split_tagged_lines(
        piece_lines(text_pieces(byte_chunks(path, chunk_size))),
        ris_dialect(before, bare_after),
        convert,
    )
    problems = [ImportProblem(name, line, message) for line, message in split.problems] + kept
    problems.sort(key=lambda problem: problem.line)
    notes = [ImportProblem(name, line, message) for line, message in split.notes]
    return _result(name, "ris", count.digest.hexdigest(), starts, records, problems, notes)


def _ris_head(pieces: Iterator[str], suffix: str) -> list[str] | None:
    """The first pieces of ``pieces`` (at least :data:`_DETECT_CHARS` characters and the
    whole first line that is not blank), if :func:`detect_format` finds them RIS; else None.

    What :func:`detect_format` finds RIS in a beginning of a text it finds RIS in the
    whole text: the table header is the first line, and a ``TY`` line found stays found.
    """
    head: list[str] = []
    size = 0
    text = False
    for piece in pieces:
        head.append(piece)
        size += len(piece)
        text = text or _NOT_SPACE.search(piece) is not None
        if size >= _DETECT_CHARS and text:
            break  # every piece but the last ends with a line break: the first line is whole
    return head if detect_format("".join(head), suffix) == "ris" else None
