"""Field values shared by the readers: DOIs, years, pages, keyword and author lists."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from urllib.parse import unquote

from srma.review.identify.results import ImportProblem, Record

_DOI = re.compile(r"10\.\d{4,9}/\S+", re.IGNORECASE)
_YEAR = re.compile(r"(1[5-9]|20)\d{2}")
_NO_PAGES = re.compile(r"^(?:no|not)[\s-]*specified$|^n/?a$", re.IGNORECASE)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_KEYWORD_MARKS = re.compile(r"[(),]")


def first(fields: dict[str, list[str]], *names: str) -> str:
    """The first non-blank value of the first of ``names`` that has one, stripped."""
    for name in names:
        values = fields.get(name)
        if values and values[0].strip():
            return values[0].strip()
    return ""


def doi(text: str) -> str:
    """The first DOI in ``text``, lower-cased; in a URL, percent-escapes are decoded first
    and the DOI ends at the next ``&`` (Embase's ``Open URL Link``: ``id=doi:10.1002%2F...&``)."""
    url = "://" in text
    match = _DOI.search(unquote(text) if url else text)
    if not match:
        return ""
    found = re.split(r"[&#]", match.group(0), maxsplit=1)[0] if url else match.group(0)
    return found.rstrip(".").lower()


def pages(start: str, end: str) -> str:
    """``start-end`` (or ``start``); Ovid's ``SP - No`` / ``EP - Specified`` is no pages."""
    if _NO_PAGES.match(f"{start} {end}".strip()) or _NO_PAGES.match(start):
        return ""
    return f"{start}-{end}" if start and end else start


def values(
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


def split_keywords(text: str) -> tuple[str, ...]:
    """Keywords of one cell: split at ``;`` if there is one, else at commas outside brackets
    (Embase's ``cyst (diagnosis, surgery)`` stays whole); linear in the cell's length."""
    if ";" in text:
        parts = text.split(";")
    elif "(" not in text:
        parts = text.split(",")
    else:
        parts, depth, start = [], 0, 0
        for mark in _KEYWORD_MARKS.finditer(text):
            char = mark.group(0)
            if char == "(":
                depth += 1
            elif char == ")":
                depth = max(depth - 1, 0)
            elif depth == 0:
                parts.append(text[start : mark.start()])
                start = mark.end()
        parts.append(text[start:])
    return tuple(part.strip() for part in parts if part.strip())


def year(text: str) -> int | None:
    """The first four-digit year from 1500 to 2099 in ``text``."""
    match = _YEAR.search(text)
    return int(match.group(0)) if match else None


def keep(record: Record, records: list[Record], problems: list[ImportProblem]) -> None:
    """Store ``record``, or report it if it has nothing to screen (no title, abstract or DOI)."""
    if record.title or record.abstract or record.doi:
        records.append(record)
    else:
        message = "record has no title, abstract or DOI"
        problems.append(ImportProblem(record.source_file, record.source_line, message))


def line_finder(text: str) -> Callable[[int], int]:
    """A function from a character offset in ``text`` to its 1-based line (``\\r\\n``, ``\\r``
    and ``\\n`` end lines, as an editor counts them)."""
    starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]
    return lambda offset: bisect.bisect_right(starts, offset)


def nul_message(line: int) -> str:
    """Why a record holding a NUL character is not stored."""
    return (
        f"line {line} holds a NUL byte (binary data: the file is damaged there); "
        "the record was not imported"
    )


def at_line_starts(pattern: re.Pattern[str], text: str) -> list[tuple[int, re.Match[str]]]:
    """``(line, match)`` for each line of ``text`` that ``pattern`` matches at its start.

    ``pattern`` must begin with ``\\n``: it is searched in ``"\\n" + text`` with its line
    ends made ``\\n``, so that a literal leads the search (many times faster than ``^``
    with MULTILINE on a file of hundreds of megabytes) and the line is a count of ``\\n``.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "\n" + text
    found: list[tuple[int, re.Match[str]]] = []
    line, counted = 0, 0
    for match in pattern.finditer(text):
        line += text.count("\n", counted, match.start() + 1)
        counted = match.start() + 1
        found.append((line, match))
    return found
