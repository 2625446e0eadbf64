"""Bibliographic records read from database exports.

Formats: RIS, PubMed MEDLINE (``.nbib``), Web of Science plain text, BibTeX,
CSV/TSV and XLSX; ``docs/import_formats.md`` lists how each is detected and
which fields are read.

RIS files from Embase, Scopus, Web of Science, Ovid, ProQuest, PubMed via
EndNote or Zotero, and Rayyan differ in small ways: a byte-order mark,
numbered lines between records (Ovid), values that continue on the next line
(Rayyan's keywords, long abstracts), tags with empty values.  The file is
split into records here, keeping each record's line number for error
messages, and tags are named with rispy's mapping (``rispy.TAG_KEY_MAPPING``),
so that the dialects agree on what a title or an author is.  Nothing is
dropped silently: ``records_read == len(records) + len(problems)``.
MEDLINE and Web of Science plain text are split by
:func:`srma.review.identify.tagged.split_tagged`; BibTeX is parsed by ``bibtexparser``.
"""

from __future__ import annotations

import bisect
import codecs
import hashlib
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from io import BytesIO, StringIO
from pathlib import Path
from urllib.parse import unquote

import bibtexparser
import pandas as pd
import rispy
from bibtexparser.bparser import BibTexParser
from bibtexparser.customization import convert_to_unicode

from srma.errors import InputError
from srma.review.identify.tagged import (
    TaggedFormat,
    TaggedRecord,
    TaggedSplit,
    split_tagged,
    text_lines,
)

_TAG = re.compile(r"^([A-Z][A-Z0-9])  -(?: (.*))?$")
_DOI = re.compile(r"10\.\d{4,9}/\S+", re.IGNORECASE)
_YEAR = re.compile(r"(1[5-9]|20)\d{2}")


@dataclass(frozen=True)
class Record:
    """One bibliographic record, with where it was read."""

    title: str
    abstract: str
    authors: tuple[str, ...]
    year: int | None
    journal: str
    volume: str
    issue: str
    pages: str
    doi: str
    pmid: str
    keywords: tuple[str, ...]
    type: str
    source_file: str
    source_line: int
    fields: dict[str, object] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class ImportProblem:
    """A record that could not be read, and why."""

    file: str
    line: int
    message: str


@dataclass(frozen=True)
class ImportResult:
    """Records and problems from one file."""

    path: str
    format: str
    sha256: str
    records_read: int
    records: tuple[Record, ...]
    problems: tuple[ImportProblem, ...]
    notes: tuple[ImportProblem, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "format": self.format,
            "sha256": self.sha256,
            "records_read": self.records_read,
            "records_stored": len(self.records),
            "problems": [problem.__dict__ for problem in self.problems],
            "notes": [note.__dict__ for note in self.notes],
        }


def _decode(data: bytes, path: str) -> str:
    """Text of an export: UTF-16 with a byte-order mark, UTF-8, else Windows-1252/Latin-1."""
    encodings = ("utf-8-sig", "cp1252", "latin-1")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text
    raise InputError("cannot decode the file as text (UTF-8, UTF-16 or Latin-1)", file=path)


def _first(fields: dict[str, list[str]], *names: str) -> str:
    for name in names:
        values = fields.get(name)
        if values and values[0].strip():
            return values[0].strip()
    return ""


def _doi(text: str) -> str:
    """The first DOI in ``text``, lower-cased; in a URL, percent-escapes are decoded first
    and the DOI ends at the next ``&`` (Embase's ``Open URL Link``: ``id=doi:10.1002%2F...&``)."""
    url = "://" in text
    match = _DOI.search(unquote(text) if url else text)
    if not match:
        return ""
    doi = re.split(r"[&#]", match.group(0), maxsplit=1)[0] if url else match.group(0)
    return doi.rstrip(".").lower()


_NO_PAGES = re.compile(r"^(?:no|not)[\s-]*specified$|^n/?a$", re.IGNORECASE)


def _pages(start: str, end: str) -> str:
    """``start-end`` (or ``start``); Ovid's ``SP - No`` / ``EP - Specified`` is no pages."""
    if _NO_PAGES.match(f"{start} {end}".strip()) or _NO_PAGES.match(start):
        return ""
    return f"{start}-{end}" if start and end else start


def _values(
    fields: dict[str, list[str]], *names: str, separator: str | None = None
) -> tuple[str, ...]:
    """The non-empty values of ``names``, each split at ``separator`` if one is given."""
    parts = (
        part.strip()
        for name in names
        for value in fields.get(name, [])
        for part in (value.split(separator) if separator else [value])
    )
    return tuple(part for part in parts if part)


def _split_keywords(text: str) -> tuple[str, ...]:
    """Keywords of one cell: split at ``;`` if there is one, else at commas outside brackets."""
    parts = text.split(";") if ";" in text else re.split(r",(?![^()]*\))", text)
    return tuple(part.strip() for part in parts if part.strip())


def _keep(record: Record, records: list[Record], problems: list[ImportProblem]) -> None:
    """Store ``record``, or report it if it has nothing to screen (no title, abstract or DOI)."""
    if record.title or record.abstract or record.doi:
        records.append(record)
    else:
        message = "record has no title, abstract or DOI"
        problems.append(ImportProblem(record.source_file, record.source_line, message))


def _year(text: str) -> int | None:
    match = _YEAR.search(text)
    return int(match.group(0)) if match else None


def _record_from_tags(tags: dict[str, list[str]], path: str, line: int) -> Record:
    named: dict[str, list[str]] = {}
    for tag, values in tags.items():
        named.setdefault(rispy.TAG_KEY_MAPPING.get(tag, tag), []).extend(values)
    authors = tuple(
        a.strip() for a in named.get("authors", []) + named.get("first_authors", []) if a.strip()
    )
    keywords = tuple(k.strip() for k in named.get("keywords", []) if k.strip())
    pmid = _first(named, "pubmed_id")
    accession = _first(named, "accession_number")
    if not pmid and accession.isdigit() and len(accession) <= 9:
        pmid = accession
    return Record(
        title=_first(named, "title", "primary_title", "translated_title"),
        abstract=_first(named, "abstract", "notes_abstract"),
        authors=authors,
        year=_year(_first(named, "year", "publication_year", "date")),
        journal=_first(
            named,
            "secondary_title",
            "journal_name",
            "alternate_title3",
            "alternate_title1",
            "alternate_title2",
        ),
        volume=_first(named, "volume"),
        issue=_first(named, "number"),
        pages=_pages(_first(named, "start_page"), _first(named, "end_page")),
        doi=_doi(_first(named, "doi") or " ".join(named.get("urls", []))),
        pmid=pmid,
        keywords=keywords,
        type=_first(named, "type_of_reference"),
        source_file=path,
        source_line=line,
        fields={key: value for key, value in named.items()},
    )


def parse_ris(
    text: str, path: str
) -> tuple[list[Record], list[ImportProblem], int, list[ImportProblem]]:
    """Split RIS text into records; each starts with ``TY`` and ends with ``ER``.

    A record whose ``ER`` is missing ends where the next ``TY`` (or the file)
    does.  Records with no title, abstract or DOI are reported, not stored.
    """
    records: list[Record] = []
    problems: list[ImportProblem] = []
    notes: list[ImportProblem] = []
    read = 0
    tags: dict[str, list[str]] | None = None
    last: str | None = None
    start = 0

    def close() -> None:
        nonlocal read
        read += 1
        _keep(_record_from_tags(tags, path, start), records, problems)

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r")
        match = _TAG.match(line)
        if match:
            tag, value = match.group(1), (match.group(2) or "").strip()
            if tag == "TY":
                if tags is not None:
                    close()
                tags, last, start = {"TY": [value]}, "TY", number
            elif tag == "ER":
                if tags is None:
                    read += 1
                    problems.append(ImportProblem(path, number, "ER without a TY before it"))
                else:
                    close()
                    tags, last = None, None
            elif tags is not None:
                tags.setdefault(tag, []).append(value)
                last = tag
            else:  # Ovid writes NL after ER: reported, but it is not a record
                notes.append(ImportProblem(path, number, f"tag {tag} outside a record, ignored"))
        elif tags is not None and last is not None and line.strip():
            # a value continued on the next line: a new keyword, or more of the same text
            if last in rispy.LIST_TYPE_TAGS:
                tags[last].append(line.strip())
            else:
                tags[last][-1] = (tags[last][-1] + " " + line.strip()).strip()
    if tags is not None:
        close()
    return records, problems, read, notes


Parsed = tuple[list[Record], list[ImportProblem], int, list[ImportProblem]]
"""What every parser returns: records, problems, records read, notes."""

_MEDLINE = TaggedFormat(
    tag=re.compile(r"^(?=.{4}-)([A-Z][A-Z0-9]{0,3}) *-(?: (.*))?$"),
    indent="      ",
    start="PMID",
    end=None,
)
_WOS = TaggedFormat(
    tag=re.compile(r"^([A-Z][A-Z0-9])(?: (.*))?$"),
    indent="   ",
    start="PT",
    end="ER",
    header=frozenset({"FN", "VR", "EF"}),
    line_lists=frozenset({"AU", "AF", "BA", "BF", "BE", "CA", "GP", "C1", "C3", "CR", "RP"}),
)


def _medline_record(tagged: TaggedRecord, path: str) -> Record:
    """A ``Record`` from the tags of one MEDLINE record (NLM element names)."""
    tags = tagged.tags
    marked = [v for v in tags.get("LID", []) + tags.get("AID", []) if "[doi]" in v]
    return Record(
        title=_first(tags, "TI", "BTI"),
        abstract=_first(tags, "AB"),
        authors=_values(tags, "FAU") or _values(tags, "AU"),
        year=_year(_first(tags, "DP")),
        journal=_first(tags, "JT", "TA"),
        volume=_first(tags, "VI"),
        issue=_first(tags, "IP"),
        pages=_first(tags, "PG"),
        doi=_doi(marked[0]) if marked else "",
        pmid=_first(tags, "PMID"),
        keywords=_values(tags, "MH", "OT"),
        type=_first(tags, "PT"),
        source_file=path,
        source_line=tagged.line,
        fields=dict(tags),
    )


def _wos_record(tagged: TaggedRecord, path: str) -> Record:
    """A ``Record`` from the tags of one Web of Science record (Clarivate field tags)."""
    tags = tagged.tags
    return Record(
        title=_first(tags, "TI"),
        abstract=_first(tags, "AB"),
        authors=_values(tags, "AF") or _values(tags, "AU"),
        year=_year(_first(tags, "PY", "EA")),
        journal=_first(tags, "SO", "J9", "JI"),
        volume=_first(tags, "VL"),
        issue=_first(tags, "IS"),
        pages=_pages(_first(tags, "BP"), _first(tags, "EP")) or _first(tags, "AR"),
        doi=_doi(_first(tags, "DI")),
        pmid=_first(tags, "PM"),
        keywords=_values(tags, "DE", "ID", separator=";"),
        type=_first(tags, "DT"),
        source_file=path,
        source_line=tagged.line,
        fields=dict(tags),
    )


def _from_split(
    split: TaggedSplit, path: str, convert: Callable[[TaggedRecord, str], Record]
) -> Parsed:
    """Records of a tagged split, converted, with its problems (sorted by line) and notes."""
    records: list[Record] = []
    problems = [ImportProblem(path, line, message) for line, message in split.problems]
    for tagged in split.records:
        _keep(convert(tagged, path), records, problems)
    problems.sort(key=lambda problem: problem.line)
    notes = [ImportProblem(path, line, message) for line, message in split.notes]
    return records, problems, len(split.records) + len(split.problems), notes


def parse_medline(text: str, path: str) -> Parsed:
    """PubMed's MEDLINE format: records start with ``PMID-`` and end at a blank line.

    Authors are the full names (``FAU``) where given, else ``AU``; the DOI is
    the ``LID`` or ``AID`` value marked ``[doi]``; keywords are ``MH`` and ``OT``.
    """
    return _from_split(split_tagged(text, _MEDLINE), path, _medline_record)


def parse_wos(text: str, path: str) -> Parsed:
    """Web of Science plain text: ``FN``/``VR`` header, records from ``PT`` to ``ER``.

    Authors are the full names (``AF``) where given, else ``AU``; keywords are
    the ``; ``-separated ``DE`` and ``ID`` values.
    """
    return _from_split(split_tagged(text, _WOS), path, _wos_record)


_BIB_ENTRY = re.compile(r"@[ \t]*([A-Za-z]+)[ \t]*[{(]\s*([^,\s{}()]*)")
_BIB_NOT_ENTRIES = frozenset({"comment", "string", "preamble"})


def _line_finder(text: str) -> Callable[[int], int]:
    """A function from a character offset in ``text`` to its 1-based line."""
    starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    return lambda offset: bisect.bisect_right(starts, offset)


def _bib_text(value: str) -> str:
    return " ".join(value.replace("{", "").replace("}", "").split())


def _bibtex_record(entry: dict[str, str], path: str, line: int) -> Record:
    def text(*names: str) -> str:
        return next((_bib_text(entry[n]) for n in names if _bib_text(entry.get(n, ""))), "")

    return Record(
        title=text("title"),
        abstract=text("abstract"),
        authors=tuple(a.strip() for a in re.split(r"\s+and\s+", text("author")) if a.strip()),
        year=_year(text("year", "date")),
        journal=text("journal", "journaltitle", "booktitle"),
        volume=text("volume"),
        issue=text("number", "issue"),
        pages=text("pages").replace("--", "-"),
        doi=_doi(text("doi", "url")),
        pmid=text("pmid"),
        keywords=_split_keywords(text("keywords")),
        type=entry.get("ENTRYTYPE", ""),
        source_file=path,
        source_line=line,
        fields=dict(entry),
    )


def parse_bibtex(text: str, path: str) -> Parsed:
    """BibTeX entries, parsed by ``bibtexparser``; each is found by its ``@type{key``.

    ``bibtexparser`` skips entries it cannot parse, so every ``@type{key`` in
    the text (but ``@comment``, ``@string``, ``@preamble``) is matched in
    order with the parsed entries, and the ones left without a match are
    reported at the line of their ``@``.
    """
    parser = BibTexParser(
        common_strings=True, ignore_nonstandard_types=False, interpolate_strings=True
    )
    parser.customization = convert_to_unicode
    parsed = list(bibtexparser.loads(text, parser=parser).entries)
    line_of = _line_finder(text)
    records: list[Record] = []
    problems: list[ImportProblem] = []
    read = 0
    for match in _BIB_ENTRY.finditer(text):
        if match.group(1).lower() in _BIB_NOT_ENTRIES:
            continue
        read += 1
        key, line = match.group(2), line_of(match.start())
        if key and parsed and parsed[0].get("ID") == key:
            _keep(_bibtex_record(parsed.pop(0), path, line), records, problems)
        else:
            message = (
                f"BibTeX entry '{key}' could not be parsed" if key else "BibTeX entry has no key"
            )
            problems.append(ImportProblem(path, line, message))
    for entry in parsed:  # parsed, but not found in order: stored where their key is
        read += 1
        offset = text.find(entry.get("ID", ""))
        _keep(_bibtex_record(entry, path, line_of(max(offset, 0))), records, problems)
    return records, problems, read, []


_CSV_COLUMNS = {
    "title": ("title", "article title", "ti", "primary_title"),
    "abstract": ("abstract", "ab", "notes_abstract"),
    "authors": ("authors", "author names", "author", "au"),
    "year": ("year", "publication year", "py", "publication_year", "publication date"),
    "journal": ("journal", "source", "source title", "journal_name", "secondary_title"),
    "doi": ("doi", "do"),
    "pmid": ("pmid", "pubmed id", "medline pmid"),
    "volume": ("volume", "vl", "vol"),
    "issue": ("issue", "is", "number", "ip"),
    "pages": ("pages", "page", "pg", "page range"),
    "start_page": ("start page", "page start", "start_page", "bp", "sp"),
    "end_page": ("end page", "page end", "end_page", "ep"),
    "keywords": ("keywords", "author keywords", "kw", "de", "mesh terms", "index keywords"),
    "links": ("open url link", "url", "link", "links", "full text link"),
}

# Embase's CSV "Source": "Cancer (2004) 102:4 (253-258). Date of Publication: 25 Aug 2004"
_EMBASE_SOURCE = re.compile(
    r"^(?P<journal>.+?)\s+\((?P<year>\d{4})\)"
    r"(?:\s+(?P<volume>[^\s:()]+)(?::(?P<issue>[^\s()]+))?)?"
    r"(?:\s+\((?P<pages>[^()]*)\))?"
    r"(?:\s+Article Number:?\s*(?P<article>[^\s.]+))?"
    r"\.?(?:\s+Date of Publication:.*)?$"
)


def embase_source(text: str) -> dict[str, str] | None:
    """Journal, year, volume, issue and pages of an Embase CSV ``Source`` cell, else None.

    ``"Cancer (2004) 102:4 (253-258). Date of Publication: 25 Aug 2004"`` gives
    journal ``Cancer``, year ``2004``, volume ``102``, issue ``4``, pages
    ``253-258``; an ``Article Number`` stands for the pages when there are none.
    """
    match = _EMBASE_SOURCE.match(text.strip())
    if not match:
        return None
    parts = {key: (value or "").strip() for key, value in match.groupdict().items()}
    parts["pages"] = parts["pages"] or parts.pop("article")
    parts.pop("article", None)
    return parts


_SURNAME_INITIALS = re.compile(r"^\S.*\s(?:[A-Z]\.?-?)+$")


def _split_authors(text: str) -> tuple[str, ...]:
    """Authors of one cell: split at ``;`` or ``and``; Embase's ``Liu R., Adler D.G.`` at commas."""
    parts = [a.strip() for a in re.split(r";|\band\b", text) if a.strip()]
    if len(parts) == 1 and "," in text:
        names = [a.strip() for a in text.split(",") if a.strip()]
        if len(names) > 1 and all(_SURNAME_INITIALS.match(name) for name in names):
            return tuple(names)
    return tuple(parts)


def parse_table(frame: pd.DataFrame, path: str) -> tuple[list[Record], list[ImportProblem], int]:
    """Records from a CSV/TSV/XLSX export with recognisable column names.

    Row ``i`` of ``frame`` is line (or spreadsheet row) ``i + 2``: the header is 1.
    """
    lower = {str(c).strip().lower(): c for c in frame.columns}

    def column(role: str) -> object | None:
        return next((lower[name] for name in _CSV_COLUMNS[role] if name in lower), None)

    if column("title") is None and column("abstract") is None:
        raise InputError("no title or abstract column", file=path)
    records: list[Record] = []
    problems: list[ImportProblem] = []
    for index, row in frame.iterrows():

        def value(role: str, row: pd.Series = row) -> str:
            name = column(role)
            cell = row[name] if name is not None else ""
            return "" if pd.isna(cell) else str(cell).strip()

        source = embase_source(value("journal")) if column("year") is None else None
        source = source or {}
        record = Record(
            title=value("title"),
            abstract=value("abstract"),
            authors=_split_authors(value("authors")),
            year=_year(value("year") or source.get("year", "")),
            journal=source.get("journal") or value("journal"),
            volume=value("volume") or source.get("volume", ""),
            issue=value("issue") or source.get("issue", ""),
            pages=value("pages")
            or _pages(value("start_page"), value("end_page"))
            or source.get("pages", ""),
            doi=_doi(value("doi")) or _doi(value("links")),
            pmid=value("pmid"),
            keywords=_split_keywords(value("keywords")),
            type="",
            source_file=path,
            source_line=int(index) + 2,
        )
        if record.title or record.abstract or record.doi:
            records.append(record)
        else:
            problems.append(
                ImportProblem(path, record.source_line, "row has no title, abstract or DOI")
            )
    return records, problems, len(frame)


def _separator(text: str) -> str:
    first = text_lines(text)[0]
    return max(("\t", ";", ","), key=first.count)


def parse_delimited(text: str, path: str) -> Parsed:
    """A CSV or TSV export: the separator is the commonest of tab, ``;`` and ``,`` in line 1."""
    try:
        frame = pd.read_csv(StringIO(text), sep=_separator(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise InputError(f"cannot read as a delimited table: {error}", file=path) from error
    records, problems, read = parse_table(frame, path)
    return records, problems, read, []


def parse_xlsx(data: bytes, path: str) -> Parsed:
    """The first sheet of an Excel workbook; rows are numbered as Excel does (header: 1)."""
    try:
        frame = pd.read_excel(BytesIO(data), dtype=str, keep_default_na=False, engine="openpyxl")
    except (ValueError, KeyError, OSError, zipfile.BadZipFile) as error:
        raise InputError(f"cannot read as an Excel workbook: {error}", file=path) from error
    records, problems, read = parse_table(frame, path)
    return records, problems, read, []


_TEXT_PARSERS: dict[str, Callable[[str, str], Parsed]] = {
    "ris": parse_ris,
    "medline": parse_medline,
    "wos": parse_wos,
    "bibtex": parse_bibtex,
    "csv": parse_delimited,
    "tsv": parse_delimited,
}
_SIGNATURES = (
    ("ris", re.compile(r"^TY  -", re.MULTILINE)),
    ("medline", re.compile(r"^PMID-", re.MULTILINE)),
    ("wos", re.compile(r"\A\s*(?:FN|PT) ")),
    ("bibtex", re.compile(r"^\s*@[A-Za-z]+\s*[{(]", re.MULTILINE)),
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
_ZIP = b"PK\x03\x04"


def _table_header(text: str) -> bool:
    """Whether the first non-blank line is a delimited header naming a title or abstract column."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    separator = "\t" if "\t" in first else ","
    if separator not in first:
        return False
    names = {cell.strip().strip('"').strip().lower() for cell in first.split(separator)}
    return bool(names & {*_CSV_COLUMNS["title"], *_CSV_COLUMNS["abstract"]})


def detect_format(text: str, suffix: str) -> str | None:
    """The format of an export's text: by its content first, by its extension second."""
    if _table_header(text):  # a quoted cell of a table may hold lines of another format
        return "tsv" if _separator(text) == "\t" else "csv"
    kind = next((kind for kind, sign in _SIGNATURES if sign.search(text)), None)
    kind = kind or _EXTENSIONS.get(suffix.lower())
    if kind in ("csv", "tsv"):
        return "tsv" if _separator(text) == "\t" else "csv"
    return kind


def read_records(path: str | Path) -> ImportResult:
    """Read one export file: RIS, MEDLINE, Web of Science, BibTeX, CSV/TSV or XLSX."""
    path = Path(path)
    name = str(path)
    if not path.exists():
        raise InputError("no such file", file=name)
    data = path.read_bytes()
    if not data.strip():
        raise InputError("the file is empty", file=name)
    digest = hashlib.sha256(data).hexdigest()
    if data.startswith(_ZIP):
        kind = "xlsx"
        records, problems, read, notes = parse_xlsx(data, name)
    else:
        text = _decode(data, name)
        kind = detect_format(text, path.suffix)
        if kind is None:
            message = "not a recognised export (RIS, MEDLINE, Web of Science, BibTeX, CSV, TSV)"
            raise InputError(message, file=name)
        records, problems, read, notes = _TEXT_PARSERS[kind](text, name)
        if read == 0 and kind not in ("csv", "tsv"):
            raise InputError(f"no {kind} records found", file=name)
    return ImportResult(name, kind, digest, read, tuple(records), tuple(problems), tuple(notes))
