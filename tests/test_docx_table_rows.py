"""A report's DOCX table: rows written as copies of the first row's XML are the XML
python-docx writes cell by cell (texts with spaces to keep, tabs, line breaks or nothing
are written by python-docx itself)."""

from __future__ import annotations

import pandas as pd
from docx import Document
from hypothesis import given, settings
from hypothesis import strategies as st

from srma.report import document as report_document
from srma.report.document import add_docx_table


def _table_xml(frame: pd.DataFrame, *, copy_rows: bool) -> str:
    original = report_document._add_body

    def body(grid, rows, fill, *, copy_rows_: bool = copy_rows):  # type: ignore[no-untyped-def]
        original(grid, rows, fill, copy_rows=copy_rows_)

    report_document._add_body = body  # type: ignore[assignment]
    try:
        document = Document()
        add_docx_table(document, frame, 6.5)
    finally:
        report_document._add_body = original  # type: ignore[assignment]
    return document.tables[-1]._tbl.xml


def test_copied_rows_are_the_rows_python_docx_writes() -> None:
    frame = pd.DataFrame(
        {
            "Study omitted": ["Trial 1", " padded ", "Trial 3", "", "tab\there", "Trial 6"],
            "k": [5, 5, 5, 5, 5, None],
            "Estimate": [0.12, -1.5, 2.0, 3.25, 1e-9, 4.0],
            "Note": ["a & b <c>", "line\nbreak", "x", "y", "z", "\x00 control"],
        }
    )
    assert _table_xml(frame, copy_rows=True) == _table_xml(frame, copy_rows=False)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.text(max_size=6), min_size=1, max_size=6))
def test_any_texts_give_the_same_table(texts: list[str]) -> None:
    frame = pd.DataFrame({"a": texts, "b": list(reversed(texts))})
    assert _table_xml(frame, copy_rows=True) == _table_xml(frame, copy_rows=False)
