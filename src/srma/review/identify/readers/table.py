"""CSV, TSV and XLSX exports: one record per row, columns found by their names.

Rows are read with Python's ``csv`` module, not pandas: a row is reported,
not guessed, when it has more or fewer cells than the header (pandas takes
the first column as the index when every row has one cell more, and fills
short rows), and the reader knows the line each row starts on.

* Blank lines before the header are skipped; the header is the first
  non-blank line, and its separator is the commonest of tab, ``;`` and ``,``.
* Empty header cells at the end (a trailing delimiter) do not count, and
  nor do empty cells at the end of a row; any other difference between a
  row's cells and the header's is a problem at the row's line.  When such a
  row runs over several lines and a later line within it reads as a row
  of its own, a quote was left open: the row is reported and reading goes
  on at that line, so that the rows the quote swallowed are read.
* Duplicate column names: the first non-empty cell of the columns with
  the name is taken.
* XLSX (:mod:`srma.review.identify.readers.xlsx`): the first sheet, rows
  numbered as Excel numbers them; a formula without a saved value (a
  workbook written by a program that does not compute formulas) is a
  problem naming the sheet and cell.
"""

from __future__ import annotations

import csv
import re
import zipfile
from collections.abc import Iterator, Sequence
from io import BytesIO
from typing import TYPE_CHECKING

from srma.errors import InputError
from srma.review.identify.readers.fields import doi, nul_message, pages, split_keywords, year
from srma.review.identify.readers.xlsx import Workbook
from srma.review.identify.results import ImportProblem, Parsed, Record

if TYPE_CHECKING:
    import pandas as pd

# Column names (case-insensitive) of each field, in order of preference.  IEEE Xplore's CSV
# export names its columns "Document Title", "Authors", "Publication Title",
# "Publication Year" (older exports: "Year"), "Volume", "Issue", "Start Page", "End Page",
# "Abstract", "DOI", "PDF Link", "Author Keywords"; Web of Science's tab-delimited export
# "Article Title", "Source Title", "Author Full Names", "Pubmed Id".
COLUMNS: dict[str, tuple[str, ...]] = {
    "title": ("title", "article title", "document title", "ti", "primary_title"),
    "abstract": ("abstract", "ab", "notes_abstract"),
    "authors": ("authors", "author names", "author full names", "author", "au"),
    "year": ("year", "publication year", "py", "publication_year", "publication date"),
    "journal": (
        "journal", "source", "source title", "publication title", "journal_name",
        "secondary_title",
    ),
    "doi": ("doi", "do"),
    "pmid": ("pmid", "pubmed id", "medline pmid"),
    "volume": ("volume", "vl", "vol"),
    "issue": ("issue", "is", "number", "ip"),
    "pages": ("pages", "page", "pg", "page range"),
    "start_page": ("start page", "page start", "start_page", "bp", "sp"),
    "end_page": ("end page", "page end", "end_page", "ep"),
    "keywords": ("keywords", "author keywords", "kw", "de", "mesh terms", "index keywords"),
    "links": ("open url link", "url", "link", "links", "full text link", "pdf link"),
}  # fmt: skip

# Embase's CSV "Source": "Cancer (2004) 102:4 (253-258). Date of Publication: 25 Aug 2004"
_EMBASE_SOURCE = re.compile(
    r"^(?P<journal>.+?)\s+\((?P<year>\d{4})\)"
    r"(?:\s+(?P<volume>[^\s:()]+)(?::(?P<issue>[^\s()]+))?)?"
    r"(?:\s+\((?P<pages>[^()]*)\))?"
    r"(?:\s+Article Number:?\s*(?P<article>[^\s.]+))?"
    r"\.?(?:\s+Date of Publication:.*)?$"
)
_SURNAME_INITIALS = re.compile(r"^\S.*\s(?:[A-Z]\.?-?)+$")
# physical lines with their ends: after \n, or after a \r that no \n follows
_LINE_ENDS = re.compile(r"(?<=\n)|(?<=\r)(?!\n)")
_OTHER_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_LOOKAHEAD_LINES = 200
_RESUME_LINES = 10_000


def embase_source(text: str) -> dict[str, str] | None:
    """Journal, year, volume, issue and pages of an Embase CSV ``Source`` cell, else None.

    ``"Cancer (2004) 102:4 (253-258). Date of Publication: 25 Aug 2004"`` gives
    journal ``Cancer``, year ``2004``, volume ``102``, issue ``4``, pages
    ``253-258``; an ``Article Number`` stands for the pages when there are none.
    """
    if len(text) > 2000:  # a Source cell is one line; a long one is not Embase's
        return None
    match = _EMBASE_SOURCE.match(text.strip())
    if not match:
        return None
    parts = {key: (value or "").strip() for key, value in match.groupdict().items()}
    parts["pages"] = parts["pages"] or parts.pop("article")
    parts.pop("article", None)
    return parts


def _split_authors(text: str) -> tuple[str, ...]:
    """Authors of one cell: split at ``;`` or ``and``; Embase's ``Liu R., Adler D.G.`` at commas."""
    parts = [a.strip() for a in re.split(r";|\band\b", text) if a.strip()]
    if len(parts) == 1 and "," in text:
        names = [a.strip() for a in text.split(",") if a.strip()]
        if len(names) > 1 and all(_SURNAME_INITIALS.match(name) for name in names):
            return tuple(names)
    return tuple(parts)


class Table:
    """The columns of a table's header, by the field they hold."""

    def __init__(self, header: Sequence[object], path: str) -> None:
        names = [str(cell).strip().strip('"').strip().lower() for cell in header]
        while names and not names[-1]:
            names.pop()
        self.width = len(names)
        self.roles = {
            role: [index for name in aliases for index, cell in enumerate(names) if cell == name]
            for role, aliases in COLUMNS.items()
        }
        if not self.roles["title"] and not self.roles["abstract"]:
            shown = ", ".join(repr(name) for name in names[:12])
            raise InputError(f"no title or abstract column (the header has {shown})", file=path)

    def cells(self, row: Sequence[str]) -> list[str] | None:
        """The row's cells, ``width`` of them, or None if it has more or fewer."""
        cells = list(row)
        while len(cells) > self.width and not cells[-1].strip():
            cells.pop()
        return cells if len(cells) == self.width else None

    def record(self, cells: Sequence[str], path: str, line: int) -> Record:
        """The record of one row (``cells`` as :meth:`cells` gives them)."""

        def value(role: str) -> str:
            found = (cells[index].strip() for index in self.roles[role])
            return next((text for text in found if text), "")

        source = (embase_source(value("journal")) if not self.roles["year"] else None) or {}
        return Record(
            title=value("title"),
            abstract=value("abstract"),
            authors=_split_authors(value("authors")),
            year=year(value("year") or source.get("year", "")),
            journal=source.get("journal") or value("journal"),
            volume=value("volume") or source.get("volume", ""),
            issue=value("issue") or source.get("issue", ""),
            pages=value("pages")
            or pages(value("start_page"), value("end_page"))
            or source.get("pages", ""),
            doi=doi(value("doi")) or doi(value("links")),
            pmid=value("pmid"),
            keywords=split_keywords(value("keywords")),
            type="",
            source_file=path,
            source_line=line,
        )


def _keep_row(table: Table, cells: list[str], path: str, line: int, out: _Rows) -> None:
    record = table.record(cells, path, line)
    if record.title or record.abstract or record.doi:
        out.records.append(record)
    else:
        out.problems.append(ImportProblem(path, line, "row has no title, abstract or DOI"))


class _Rows:
    def __init__(self) -> None:
        self.records: list[Record] = []
        self.problems: list[ImportProblem] = []

    def parsed(self) -> Parsed:
        self.problems.sort(key=lambda problem: problem.line)
        return self.records, self.problems, len(self.records) + len(self.problems), []


def physical_lines(text: str) -> list[str]:
    """The lines of ``text`` with their line ends (``\\r\\n``, ``\\r`` or ``\\n``)."""
    if _OTHER_BREAKS.search(text) is None:  # str.splitlines also breaks at these
        return text.splitlines(keepends=True)
    lines = _LINE_ENDS.split(text)
    return lines[:-1] if lines and lines[-1] == "" else lines


class _Source:
    """Lines handed to ``csv.reader`` one at a time, so that a row's lines are known."""

    def __init__(self, lines: list[str], index: int) -> None:
        self.lines = lines
        self.index = index

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if self.index >= len(self.lines):
            raise StopIteration
        self.index += 1
        return self.lines[self.index - 1]


def header_line(lines: Sequence[str]) -> int:
    """The index of the first line that is not blank (the header), or ``len(lines)``."""
    return next((i for i, line in enumerate(lines) if line.strip()), len(lines))


def separator(line: str) -> str:
    """The commonest of tab, ``;`` and ``,`` in ``line`` (ties: in that order)."""
    return max(("\t", ";", ","), key=line.count)


def rows(lines: list[str], start: int, delimiter: str) -> Iterator[tuple[int, int, list[str]]]:
    """``(first line index, end line index, cells)`` of each row from line ``start``, as the
    ``csv`` module reads them, with nothing done about damage (the record counter's view)."""
    source = _Source(lines, start)
    reader = csv.reader(source, delimiter=delimiter)
    while True:
        begin = source.index
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            source.index = max(source.index, begin + 1)
            reader = csv.reader(source, delimiter=delimiter)
            continue
        yield begin, source.index, cells


def count_rows(text: str) -> list[int]:
    """The line of each non-blank data row of a delimited table, as the ``csv`` module reads it."""
    lines = physical_lines(text)
    start = header_line(lines)
    if start >= len(lines):
        return []
    delimiter = separator(lines[start])
    found = rows(lines, start, delimiter)
    next(found, None)  # the header
    return [begin + 1 for begin, _end, cells in found if cells]


def _unclosed(row_lines: list[str], delimiter: str) -> bool:
    """Whether the row of ``row_lines`` ends inside a quoted cell (the file ended first)."""
    try:
        for _cells in csv.reader(row_lines, delimiter=delimiter, strict=True):
            pass
    except csv.Error as error:
        return "unexpected end of data" in str(error)
    return False


def _resume(lines: list[str], begin: int, end: int, delimiter: str, table: Table) -> int | None:
    """Where reading can go on inside a row that ran from line ``begin`` to ``end`` with the
    wrong number of cells: the first later line that reads as a row of the header's width
    (ending by ``end``), or None."""
    for start in range(begin + 1, min(end, begin + 1 + _RESUME_LINES)):
        window = lines[start : min(end, start + _LOOKAHEAD_LINES)]
        first = next(rows(window, 0, delimiter), None)
        if first is not None and table.cells(first[2]) is not None and first[1] <= len(window):
            return start
    return None


def parse_delimited(text: str, path: str) -> Parsed:
    """A CSV or TSV export: the separator is the commonest of tab, ``;`` and ``,`` in the header."""
    lines = physical_lines(text)
    start = header_line(lines)
    if start >= len(lines):
        raise InputError("the table has no header", file=path)
    delimiter = separator(lines[start])
    source = _Source(lines, start)
    reader = csv.reader(source, delimiter=delimiter)
    try:
        table = Table(next(reader), path)
    except csv.Error as error:
        raise InputError(f"cannot read the header: {error}", file=path, line=start + 1) from error
    out = _Rows()
    while True:
        begin = source.index
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            out.problems.append(ImportProblem(path, begin + 1, f"row cannot be read: {error}"))
            source.index = max(source.index, begin + 1)
            reader = csv.reader(source, delimiter=delimiter)
            continue
        end = source.index
        if not cells:
            continue
        fitted = table.cells(cells)
        line = begin + 1
        resume = None
        unclosed = end == len(lines) and end - begin > 1 and _unclosed(lines[begin:end], delimiter)
        if (fitted is None or unclosed) and end - begin > 1:
            resume = _resume(lines, begin, end, delimiter, table)
        if resume is not None:
            cells_note = "" if fitted else f"row has {len(cells)} cells, the header {table.width}: "
            message = (
                f"{cells_note}a quote opened on this line is not closed, so the row ran on to "
                f"line {end}; lines {line}-{resume} were not imported"
            )
            out.problems.append(ImportProblem(path, line, message))
            source.index = resume
            reader = csv.reader(source, delimiter=delimiter)
        elif unclosed:
            message = f"a quote opened in the row at this line is never closed (lines {line}-{end})"
            out.problems.append(ImportProblem(path, line, message + "; not imported"))
        elif fitted is None:
            where = f" (lines {line}-{end})" if end - begin > 1 else ""
            message = f"row{where} has {len(cells)} cells, the header {table.width}; not imported"
            out.problems.append(ImportProblem(path, line, message))
        elif any("\x00" in cell for cell in fitted):
            nul = next(i for i in range(begin, end) if "\x00" in lines[i]) + 1
            out.problems.append(ImportProblem(path, line, nul_message(nul)))
        else:
            _keep_row(table, fitted, path, line, out)
    return out.parsed()


def parse_table(frame: pd.DataFrame, path: str) -> tuple[list[Record], list[ImportProblem], int]:
    """Records from a pandas DataFrame with recognisable column names (one record per row).

    Row ``i`` of ``frame`` is line (or spreadsheet row) ``i + 2``: the header is 1.
    """
    import pandas as pd

    table = Table([str(column) for column in frame.columns], path)
    out = _Rows()
    for index, row in enumerate(frame.itertuples(index=False, name=None), start=2):
        texts = ["" if pd.isna(cell) else str(cell) for cell in row]
        cells = table.cells(texts)
        if cells is None:  # values under a column with no name
            message = f"row has {len(texts)} cells, the header {table.width}; not imported"
            out.problems.append(ImportProblem(path, index, message))
        else:
            _keep_row(table, cells, path, index, out)
    records, problems, read, _notes = out.parsed()
    return records, problems, read


def read_xlsx(data: bytes, path: str) -> tuple[Parsed, list[int]]:
    """The first sheet of an Excel workbook, and the line of each data row (the count).

    Rows are numbered as Excel numbers them; blank rows before the header and
    after the last filled row are skipped, blank rows between are rows with no
    title, abstract or DOI (as pandas reads them).  A cell of a used column
    with a formula whose value was never saved is a problem naming sheet and
    cell.
    """
    try:
        return _read_sheet(data, path)
    except InputError:
        raise
    # a damaged workbook fails in the ZIP reader, the XML parser, a missing part
    # (KeyError) or a bad value (ValueError, IndexError): all mean the same to the user
    except Exception as error:
        reason = f"{type(error).__name__}: {error}"
        raise InputError(f"cannot read as an Excel workbook ({reason})", file=path) from error


def _read_sheet(data: bytes, path: str) -> tuple[Parsed, list[int]]:
    """:func:`read_xlsx` without its error handling: one pass over the rows."""
    from openpyxl.utils import get_column_letter

    with zipfile.ZipFile(BytesIO(data)) as archive:
        if "xl/workbook.xml" not in archive.namelist():
            message = "a ZIP archive, not an Excel workbook: unzip it and import the files inside"
            raise InputError(message, file=path)
    workbook = Workbook(data)
    counted: list[int] = []
    out = _Rows()
    table: Table | None = None
    blanks: list[int] = []  # blank rows after the header: rows only if a filled row follows
    last = 0
    for number, cells in workbook.rows():
        if table is not None:
            blanks.extend(range(last + 1, number))  # rows not written in the sheet are blank
        last = number
        texts = [cell.text for cell in cells]
        if table is not None and len(texts) < table.width:  # empty cells are not written
            texts.extend([""] * (table.width - len(texts)))
        if not any(text.strip() for text in texts):
            if table is not None:
                blanks.append(number)
            continue
        if table is None:
            table = Table(texts, path)
            continue
        for blank in blanks:
            counted.append(blank)
            out.problems.append(ImportProblem(path, blank, "row has no title, abstract or DOI"))
        blanks.clear()
        counted.append(number)
        fitted = table.cells(texts)
        used = sorted({index for indexes in table.roles.values() for index in indexes})
        unsaved = next(
            (i for i in used if i < len(cells) and cells[i].unsaved_formula is not None), None
        )
        if fitted is None:
            message = f"row has {len(texts)} cells, the header {table.width}; not imported"
            out.problems.append(ImportProblem(path, number, message))
        elif unsaved is not None:
            message = (
                f"{workbook.sheet_name}!{get_column_letter(unsaved + 1)}{number} holds a formula "
                f"with no saved value ({cells[unsaved].unsaved_formula}); open and save the file "
                "in Excel, or export it as CSV"
            )
            out.problems.append(ImportProblem(path, number, message))
        elif any("\x00" in text for text in fitted):
            out.problems.append(ImportProblem(path, number, nul_message(number)))
        else:
            _keep_row(table, fitted, path, number, out)
    if table is None:
        raise InputError("the first sheet is empty", file=path)
    return out.parsed(), counted


def parse_xlsx(data: bytes, path: str) -> Parsed:
    """The first sheet of an Excel workbook; rows are numbered as Excel does (header: 1)."""
    return read_xlsx(data, path)[0]
