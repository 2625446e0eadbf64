"""The streamed read of RIS files (issue 17) gives what the whole-file read gives.

``read_records`` reads a UTF-8 RIS file piece by piece; the whole-file read
(decode everything, split the text) is still what every other file gets.  For
every export fixture, as written and with its line breaks and byte-order mark
changed, the two give the same result, field by field, whatever the size of
the chunks the file is read in.
"""

from __future__ import annotations

import codecs
import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SHARED
from srma import InputError
from srma.review.identify import records as records_module
from srma.review.identify.records import ImportResult, read_records
from srma.review.identify.streaming import piece_lines, text_pieces
from srma.review.identify.tagged import text_lines

HERE = Path(__file__).parent / "fixtures"
FIXTURES = sorted(
    [
        *(SHARED / "fixtures" / "exports").glob("*.ris"),
        *(SHARED / "fixtures" / "exports").glob("*.txt"),
        *(HERE / "exports").glob("*.*"),
        *(HERE / "hostile_imports").glob("ris_*.ris"),
        *(HERE / "hostile_imports").glob("*.nbib"),
        *(HERE / "hostile_imports").glob("wos_*.txt"),
    ]
)
FIXTURES = [path for path in FIXTURES if path.name != "README.md"]
VARIANTS = ("as_is", "crlf", "cr", "bom")


def outcome(path: Path, chunk_size: int = 1 << 20) -> ImportResult | str:
    """What ``read_records`` gives: the result, or the message of the error it raises."""
    try:
        return read_records(path, chunk_size=chunk_size)
    except InputError as error:
        return str(error)


def whole(path: Path, monkeypatch: pytest.MonkeyPatch) -> ImportResult | str:
    """The file read as before the streamed read: decoded whole, then split."""
    with monkeypatch.context() as patch:
        patch.setattr(records_module, "_read_streamed_ris", lambda _path, _size: None)
        return outcome(path)


def same(streamed: ImportResult | str, expected: ImportResult | str) -> None:
    assert streamed == expected
    if isinstance(streamed, ImportResult) and isinstance(expected, ImportResult):
        assert [r.fields for r in streamed.records] == [r.fields for r in expected.records]


def variant(path: Path, kind: str, folder: Path) -> Path:
    """``path`` with its line breaks made ``\\r\\n`` or ``\\r``, or a UTF-8 BOM put first."""
    data = path.read_bytes()
    if kind == "as_is":
        return path
    if kind == "bom":
        data = codecs.BOM_UTF8 + data
    else:
        unix = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        data = unix.replace(b"\n", b"\r\n" if kind == "crlf" else b"\r")
    out = folder / f"{kind}_{path.name}"
    out.write_bytes(data)
    return out


def test_the_fixtures_include_ris_files_that_are_streamed() -> None:
    streamed = [
        path for path in FIXTURES if records_module._read_streamed_ris(path, 1 << 20) is not None
    ]
    assert len(streamed) >= 20


@pytest.mark.parametrize("kind", VARIANTS)
@pytest.mark.parametrize("path", FIXTURES, ids=lambda path: path.name)
def test_streamed_read_equals_whole_read(
    path: Path, kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = variant(path, kind, tmp_path)
    same(outcome(file), whole(file, monkeypatch))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    index=st.integers(min_value=0, max_value=len(FIXTURES) - 1),
    kind=st.sampled_from(VARIANTS),
    chunk_size=st.integers(min_value=1, max_value=512),
)
def test_any_chunk_size_gives_the_same_result(
    index: int, kind: str, chunk_size: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = variant(FIXTURES[index], kind, tmp_path)
    same(outcome(file, chunk_size), whole(file, monkeypatch))


@settings(max_examples=200, deadline=None)
@given(
    parts=st.lists(st.sampled_from(["a", "é", "–", "\r", "\n", "\r\n", " ", "\ufeff"])),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=8),
    bom=st.booleans(),
)
def test_pieces_make_the_lines_of_the_whole_text(
    parts: list[str], cuts: list[int], bom: bool
) -> None:
    text = "".join(parts)
    data = (codecs.BOM_UTF8 if bom else b"") + text.encode("utf-8")
    bounds = sorted({min(cut, len(data)) for cut in cuts} | {0, len(data)})
    chunks = [data[a:b] for a, b in itertools.pairwise(bounds)]
    pieces = list(text_pieces(chunks))
    assert "".join(pieces) == (text if bom else text.removeprefix("\ufeff"))
    assert all(piece.endswith(("\n", "\r")) for piece in pieces[:-1])
    assert not any(a.endswith("\r") and b.startswith("\n") for a, b in itertools.pairwise(pieces))
    assert list(piece_lines(pieces)) == text_lines("".join(pieces))


@pytest.mark.parametrize("text", ["", "\n", "   \r\n\t\n"])
def test_a_blank_ris_file_is_called_empty(tmp_path: Path, text: str) -> None:
    blank = tmp_path / "blank.ris"
    blank.write_text(text)
    with pytest.raises(InputError, match="the file is empty"):
        read_records(blank)
