"""The first sheet of an Excel workbook (``.xlsx``), read straight from its XML.

Why not openpyxl's reader: in read-only mode it builds an object for every
cell and a rich-text object for every inline string (what openpyxl and
pandas write), about 0.6 ms per row of 20 columns, so 100,000 rows took more
than a minute; it also needs a second pass over the workbook to tell a
formula without a saved value from an empty cell.  The sheet XML is simple
(SpreadsheetML, ECMA-376 Part 1, §18.3): one ``<row r="N">`` per row, one
``<c r="B3" t="..." s="...">`` per cell with its value in ``<v>``, an inline
string in ``<is>`` and the formula in ``<f>``; shared strings are ``<si>``
items of ``xl/sharedStrings.xml``.  This module parses it with the standard
library's streaming XML parser (expat, which refuses entity-expansion
bombs), and uses openpyxl only for what it knows best: which number formats
are dates, and Excel's date serial numbers.
"""

from __future__ import annotations

import datetime
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from typing import IO
from xml.etree.ElementTree import Element, iterparse

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

_REFERENCE = re.compile(r"([A-Za-z]+)(\d+)")


@dataclass(frozen=True)
class Cell:
    """A cell's text as Excel shows it (numbers without ``.0``, dates as ISO dates), and
    its formula if the formula has no saved value."""

    text: str
    unsaved_formula: str | None = None


def _local(tag: str) -> str:
    """A tag without its namespace (transitional and strict OOXML use different ones)."""
    return tag.rsplit("}", 1)[-1]


def _relationship_id(element: Element) -> str | None:
    return next((value for key, value in element.attrib.items() if key.endswith("}id")), None)


def column_index(letters: str) -> int:
    """``A`` is 0, ``Z`` 25, ``AA`` 26."""
    index = 0
    for letter in letters.upper():
        index = index * 26 + ord(letter) - 64
    return index - 1


class Workbook:
    """The parts of a workbook needed to read its first sheet."""

    def __init__(self, data: bytes) -> None:
        self.archive = zipfile.ZipFile(BytesIO(data))
        names = set(self.archive.namelist())
        book = self._parse("xl/workbook.xml")
        sheets = [e for e in book.iter() if _local(e.tag) == "sheet"]
        if not sheets:
            raise ValueError("the workbook has no sheets")
        self.sheet_name = sheets[0].get("name") or "Sheet1"
        properties = next((e for e in book.iter() if _local(e.tag) == "workbookPr"), None)
        date1904 = properties is not None and properties.get("date1904") in ("1", "true")
        self.epoch = CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900
        targets = self._relationships("xl/_rels/workbook.xml.rels")
        sheet_id = _relationship_id(sheets[0])
        self.sheet_path = targets.get(sheet_id or "", "xl/worksheets/sheet1.xml")
        shared = next((t for t in targets.values() if t.endswith("sharedStrings.xml")), None)
        shared = shared or "xl/sharedStrings.xml"
        self.shared = self._shared_strings(shared) if shared in names else []
        self.date_styles = self._date_styles() if "xl/styles.xml" in names else frozenset()

    def _open(self, name: str) -> IO[bytes]:
        return self.archive.open(name)

    def _parse(self, name: str) -> Element:
        root: Element | None = None
        for _event, element in iterparse(self._open(name), events=("end",)):
            root = element
        assert root is not None
        return root

    def _relationships(self, name: str) -> dict[str, str]:
        if name not in self.archive.namelist():
            return {}
        targets = {}
        for element in self._parse(name).iter():
            if _local(element.tag) == "Relationship" and element.get("Id"):
                target = element.get("Target") or ""
                path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                targets[element.get("Id") or ""] = posixpath.normpath(path)
        return targets

    def _shared_strings(self, name: str) -> list[str]:
        strings: list[str] = []
        for _event, element in iterparse(self._open(name), events=("end",)):
            if _local(element.tag) == "si":
                strings.append(_text_of(element))
                element.clear()
        return strings

    def _date_styles(self) -> frozenset[int]:
        """The indexes of the cell formats (``s``) whose number format is a date."""
        styles = self._parse("xl/styles.xml")
        codes = {
            int(e.get("numFmtId") or -1): e.get("formatCode") or ""
            for e in styles.iter()
            if _local(e.tag) == "numFmt"
        }
        formats = next((e for e in styles.iter() if _local(e.tag) == "cellXfs"), None)
        if formats is None:
            return frozenset()
        dates = set()
        for index, xf in enumerate(e for e in formats if _local(e.tag) == "xf"):
            number = int(xf.get("numFmtId") or 0)
            code = codes.get(number) or BUILTIN_FORMATS.get(number, "")
            if code and is_date_format(code):
                dates.add(index)
        return frozenset(dates)

    def rows(self) -> Iterator[tuple[int, list[Cell]]]:
        """``(row number, cells)`` of each row of the first sheet that is written in it."""
        number = 0
        cells: list[Cell] = []
        column = -1
        for _event, element in iterparse(self._open(self.sheet_path), events=("end",)):
            tag = _local(element.tag)
            if tag == "c":
                reference = _REFERENCE.fullmatch(element.get("r") or "")
                column = column_index(reference.group(1)) if reference else column + 1
                if column >= len(cells):
                    cells.extend([Cell("")] * (column + 1 - len(cells)))
                cells[column] = self._cell(element)
                element.clear()
            elif tag == "row":
                given = element.get("r")
                number = int(given) if given and given.isdigit() else number + 1
                yield number, cells
                cells, column = [], -1
                element.clear()

    def _cell(self, element: Element) -> Cell:
        kind = element.get("t") or "n"
        value: str | None = None
        formula: str | None = None
        inline = ""
        for child in element:
            tag = _local(child.tag)
            if tag == "v":
                value = child.text or ""
            elif tag == "f":
                formula = "=" + (child.text or "(a shared formula)")
            elif tag == "is":
                inline = _text_of(child)
        if kind == "inlineStr":
            return Cell(inline)
        if formula is not None and (value is None or (value == "" and kind != "str")):
            return Cell("", formula)
        if value is None:
            return Cell("")
        if kind == "s":
            index = int(value)
            return Cell(self.shared[index] if 0 <= index < len(self.shared) else "")
        if kind == "b":
            return Cell("TRUE" if value.strip() in ("1", "true") else "FALSE")
        if kind in ("str", "e", "d"):
            return Cell(value)
        return Cell(self._number(value, element.get("s")))

    def _number(self, value: str, style: str | None) -> str:
        number = float(value)
        if style is not None and style.isdigit() and int(style) in self.date_styles:
            moment = from_excel(number, self.epoch)
            if isinstance(moment, datetime.datetime):
                if moment.time() == datetime.time():
                    return moment.date().isoformat()
                return moment.isoformat()
            return str(moment)
        if number.is_integer() and "e" not in value.lower():
            return str(int(number))
        return repr(number) if "e" in value.lower() else value.strip()


def _text_of(element: Element) -> str:
    """The text of a rich-text item (``<si>`` or ``<is>``): its ``<t>`` and runs' ``<t>``,
    not the phonetic runs (``<rPh>``)."""
    parts = []
    for child in element:
        tag = _local(child.tag)
        if tag == "t":
            parts.append(child.text or "")
        elif tag == "r":
            parts.extend(t.text or "" for t in child if _local(t.tag) == "t")
    return "".join(parts)
