"""Bibliographic records read from database exports (RIS and CSV/TSV so far).

RIS files from Embase, Scopus, Web of Science, Ovid, ProQuest, PubMed via
EndNote or Zotero, and Rayyan differ in small ways: a byte-order mark,
numbered lines between records (Ovid), values that continue on the next line
(Rayyan's keywords, long abstracts), tags with empty values.  The file is
split into records here, keeping each record's line number for error
messages, and tags are named with rispy's mapping (``rispy.TAG_KEY_MAPPING``),
so that the dialects agree on what a title or an author is.  Nothing is
dropped silently: ``records_read == len(records) + len(problems)``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path

import pandas as pd
import rispy

from srma.errors import InputError

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
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError("cannot decode the file as UTF-8 or Latin-1", file=path)  # pragma: no cover


def _first(fields: dict[str, list[str]], *names: str) -> str:
    for name in names:
        values = fields.get(name)
        if values and values[0].strip():
            return values[0].strip()
    return ""


def _doi(text: str) -> str:
    match = _DOI.search(text)
    return match.group(0).rstrip(".").lower() if match else ""


def _year(text: str) -> int | None:
    match = _YEAR.search(text)
    return int(match.group(0)) if match else None


def _record_from_tags(tags: dict[str, list[str]], path: str, line: int) -> Record:
    named: dict[str, list[str]] = {}
    for tag, values in tags.items():
        named.setdefault(rispy.TAG_KEY_MAPPING.get(tag, tag), []).extend(values)
    start, end = _first(named, "start_page"), _first(named, "end_page")
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
        pages=f"{start}-{end}" if start and end else start,
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
        record = _record_from_tags(tags, path, start)
        if record.title or record.abstract or record.doi:
            records.append(record)
        else:
            problems.append(ImportProblem(path, start, "record has no title, abstract or DOI"))

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


_CSV_COLUMNS = {
    "title": ("title", "article title", "ti", "primary_title"),
    "abstract": ("abstract", "ab", "notes_abstract"),
    "authors": ("authors", "author names", "author", "au"),
    "year": ("year", "publication year", "py", "publication_year", "publication date"),
    "journal": ("journal", "source", "source title", "journal_name", "secondary_title"),
    "doi": ("doi", "do"),
    "pmid": ("pmid", "pubmed id", "medline pmid"),
}


def parse_table(frame: pd.DataFrame, path: str) -> tuple[list[Record], list[ImportProblem], int]:
    """Records from a CSV/TSV export with recognisable column names."""
    lower = {str(c).strip().lower(): c for c in frame.columns}

    def column(role: str) -> object | None:
        return next((lower[name] for name in _CSV_COLUMNS[role] if name in lower), None)

    if column("title") is None and column("abstract") is None:
        raise InputError("no title or abstract column", file=path)
    records, problems = [], []
    for index, row in frame.iterrows():
        line = int(index) + 2  # the header is line 1

        def value(role: str, row: pd.Series = row) -> str:
            name = column(role)
            cell = row[name] if name is not None else ""
            return "" if pd.isna(cell) else str(cell).strip()

        title, abstract, doi = value("title"), value("abstract"), _doi(value("doi"))
        if not (title or abstract or doi):
            problems.append(ImportProblem(path, line, "row has no title, abstract or DOI"))
            continue
        authors = tuple(a.strip() for a in re.split(r";|\band\b", value("authors")) if a.strip())
        records.append(
            Record(
                title=title,
                abstract=abstract,
                authors=authors,
                year=_year(value("year")),
                journal=value("journal"),
                volume="",
                issue="",
                pages="",
                doi=doi,
                pmid=value("pmid"),
                keywords=(),
                type="",
                source_file=path,
                source_line=line,
            )
        )
    return records, problems, len(frame)


def read_records(path: str | Path) -> ImportResult:
    """Read one export file (RIS, or CSV/TSV with title or abstract columns)."""
    path = Path(path)
    name = str(path)
    if not path.exists():
        raise InputError("no such file", file=name)
    data = path.read_bytes()
    if not data.strip():
        raise InputError("the file is empty", file=name)
    text = _decode(data, name)
    digest = hashlib.sha256(data).hexdigest()
    if re.search(r"^TY  -", text, flags=re.MULTILINE):
        records, problems, read, notes = parse_ris(text, name)
        kind = "ris"
    elif path.suffix.lower() in (".csv", ".tsv", ".txt"):
        first = text.splitlines()[0]
        separator = max(("\t", ";", ","), key=first.count)
        frame = pd.read_csv(StringIO(text), sep=separator, dtype=str, keep_default_na=False)
        records, problems, read = parse_table(frame, name)
        notes = []
        kind = "csv"
    else:
        raise InputError("not a recognised export (RIS, CSV or TSV)", file=name)
    return ImportResult(name, kind, digest, read, tuple(records), tuple(problems), tuple(notes))
