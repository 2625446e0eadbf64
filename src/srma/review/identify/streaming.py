"""A UTF-8 export read piece by piece, so that a large file is never held whole.

:func:`~srma.review.identify.decoding.decode_export` decodes a whole file at
once.  A file it reads as UTF-8 (valid UTF-8, with or without a byte-order
mark) gives the same text when it is decoded in pieces with an incremental
decoder; :func:`text_pieces` does that, cutting the text after a line break
(never inside ``\\r\\n``), and :func:`piece_lines` turns the pieces into the
lines :func:`~srma.review.identify.tagged.text_lines` gives for the whole text.
:class:`ByteCount` gathers, as the bytes go by, what the whole-file reader
learns from them: the SHA-256, the size and the control bytes.
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from srma.review.identify.decoding import CONTROL_BYTES
from srma.review.identify.tagged import text_lines

#: Bytes read at a time.
CHUNK_SIZE = 1 << 20


def byte_chunks(path: Path, size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """The bytes of ``path``, ``size`` at a time."""
    with path.open("rb") as handle:
        while chunk := handle.read(size):
            yield chunk


class ByteCount:
    """The SHA-256, size and number of control bytes of the chunks passed through it."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.size = 0
        self.controls = 0

    def count(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """``chunks``, unchanged, counted as they pass."""
        for chunk in chunks:
            self.digest.update(chunk)
            self.size += len(chunk)
            self.controls += len(chunk) - len(chunk.translate(None, CONTROL_BYTES))
            yield chunk


def line_breaks(text: str) -> int:
    """How many lines ``text`` ends (``\\r\\n``, ``\\r`` and ``\\n`` end one each)."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def text_pieces(chunks: Iterable[bytes]) -> Iterator[str]:
    """The UTF-8 text of ``chunks`` (a leading byte-order mark dropped) in pieces.

    Every piece but the last ends with a line break, and no ``\\r\\n`` is cut in
    two; the last piece is what follows the last break (empty when the text
    ends with one).  Raises :class:`UnicodeDecodeError` where the bytes are not
    UTF-8.
    """
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    pending = ""
    started = False
    for chunk in chunks:
        text = pending + decoder.decode(chunk)
        if not text:
            continue
        if not started:
            started = True
            text = text.removeprefix("\ufeff")
        # the last \n, or the last \r that is not the final character (a \n may follow it)
        cut = max(text.rfind("\n"), text.rfind("\r", 0, len(text) - 1))
        if cut < 0:
            pending = text
            continue
        yield text[: cut + 1]
        pending = text[cut + 1 :]
    text = pending + decoder.decode(b"", final=True)
    yield text if started else text.removeprefix("\ufeff")


def piece_lines(pieces: Iterable[str]) -> Iterator[str]:
    """The lines of the text that ``pieces`` (as :func:`text_pieces` cuts it) make up,
    as :func:`~srma.review.identify.tagged.text_lines` splits the whole text."""
    previous: str | None = None
    for piece in pieces:
        if previous is not None:
            lines = text_lines(previous)
            lines.pop()  # the empty rest after the piece's final line break
            yield from lines
        previous = piece
    if previous is not None:
        yield from text_lines(previous)
