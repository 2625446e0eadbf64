"""The text of an export file, decoded so that a damaged byte damages only its own line.

Exports are UTF-8 (with or without a byte-order mark), UTF-16 (with a BOM,
or without one when every other byte of ASCII text is NUL), or a
single-byte Windows encoding (Windows-1252, which Latin-1 text also reads
as).  The encoding is chosen for the whole file only when the whole file is
consistent with it:

* valid UTF-8: UTF-8;
* bytes that are not valid UTF-8, and not one line that is wholly valid
  UTF-8 with a multi-byte character and no control bytes: Windows-1252
  (its five undefined bytes as Latin-1), noted once;
* otherwise UTF-8, each line decoded on its own, so that one bad byte does
  not turn the file's ``–`` into ``â€“``: a line that is not valid UTF-8 is
  read as Windows-1252 if it holds no UTF-8 character at all (single-byte
  text, as in a file made of two exports), else its bad bytes become
  U+FFFD; either way a note names the line, and every other line keeps its
  characters.  A line with a bad byte or a control byte does not count as
  evidence of UTF-8, so junk holding a valid sequence by chance cannot make
  a Windows-1252 file UTF-8.

UTF-16 is decoded line by line too, each line from the line break before
it, so that a byte lost or inserted in one line does not shift the rest of
the file.  A file in which more than 1 in 20 bytes is NUL or another control
byte (and which is not UTF-16) is binary: an :class:`~srma.errors.InputError`.
NUL characters in a text file are left for the readers, which report the
record that holds one.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from srma.errors import InputError

# Windows-1252, with Latin-1's characters for the five bytes it leaves undefined.
_CP1252 = "".join(
    bytes([byte]).decode("cp1252", errors="strict") if byte not in b"\x81\x8d\x8f\x90\x9d"
    else chr(byte)
    for byte in range(256)
)  # fmt: skip
#: Bytes that do not occur in text: NUL and other controls, but tab, line breaks and Ctrl-Z.
CONTROL_BYTES = bytes([*range(0, 9), 11, 12, *range(14, 26), *range(27, 32), 127])
_CONTROL_BYTE = re.compile(b"[" + re.escape(CONTROL_BYTES) + b"]")
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")


@dataclass(frozen=True)
class Decoded:
    """A file's text, the encoding it was read with, and notes ``(line, message)``."""

    text: str
    encoding: str
    notes: tuple[tuple[int, str], ...] = ()


def decode_export(data: bytes, path: str) -> Decoded:
    """The text of an export's bytes (see the module's docstring for the rules)."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        encoding = "utf-32"
        return Decoded(data.decode(encoding, errors="replace"), encoding)
    if data.startswith(codecs.BOM_UTF16_LE):
        return _utf16(data[2:], big_endian=False)
    if data.startswith(codecs.BOM_UTF16_BE):
        return _utf16(data[2:], big_endian=True)
    bomless = _bomless_utf16(data)
    if bomless is not None:
        return _utf16(data, big_endian=bomless)
    controls = len(data) - len(data.translate(None, CONTROL_BYTES))
    if controls * 20 > len(data):
        message = (
            f"cannot decode the file as text: {controls} of its {len(data)} bytes are NUL or "
            "control bytes (a binary file, not an export)"
        )
        raise InputError(message, file=path)
    body = data[3:] if data.startswith(codecs.BOM_UTF8) else data
    try:
        return Decoded(body.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    lines = body.split(b"\n")
    if not any(_votes_utf8(line) for line in lines):
        first = next(i for i, line in enumerate(lines, start=1) if _HIGH_BYTE.search(line))
        note = (first, "the file is not UTF-8: it was read as Windows-1252 (Latin-1)")
        return Decoded(codecs.charmap_decode(body, "strict", _CP1252)[0], "windows-1252", (note,))
    return _utf8_by_line(lines)


def utf8_unless_valid(head: bytes) -> bool:
    """Whether a file starting with ``head`` (its first 4096 bytes, or all of a shorter
    file) is read as UTF-8 if it is valid UTF-8: it has no UTF-16 or UTF-32 byte-order
    mark and does not read as UTF-16 without one."""
    marks = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    return not head.startswith(marks) and _bomless_utf16(head) is None


def _votes_utf8(line: bytes) -> bool:
    """Whether ``line`` is evidence of UTF-8: it is valid UTF-8, holds a multi-byte
    sequence, and no control bytes (binary junk can hold valid sequences by chance)."""
    if not _HIGH_BYTE.search(line) or _CONTROL_BYTE.search(line):
        return False
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _utf8_by_line(lines: list[bytes]) -> Decoded:
    """UTF-8, line by line.  A line that is not valid UTF-8 is read as Windows-1252 when it
    holds no UTF-8 character at all (a line of single-byte text in a UTF-8 file), else its
    bad bytes become U+FFFD; a note for each run of such lines."""
    texts: list[str] = []
    single: list[int] = []
    replaced: list[int] = []
    for number, line in enumerate(lines, start=1):
        try:
            texts.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            if _UTF8_MULTIBYTE.search(line):
                texts.append(line.decode("utf-8", errors="replace"))
                replaced.append(number)
            else:
                texts.append(codecs.charmap_decode(line, "strict", _CP1252)[0])
                single.append(number)
    notes = _line_notes(replaced, "bytes that are not UTF-8; they were replaced by U+FFFD")
    notes += _line_notes(single, "bytes that are not UTF-8; they were read as Windows-1252")
    return Decoded("\n".join(texts), "utf-8", tuple(sorted(notes)))


def _line_notes(lines: list[int], what: str) -> tuple[tuple[int, str], ...]:
    """One note for each run of consecutive lines: ``line N holds <what>``."""
    notes: list[tuple[int, str]] = []
    start = 0
    for index in range(1, len(lines) + 1):
        if index < len(lines) and lines[index] == lines[index - 1] + 1:
            continue
        first, last = lines[start], lines[index - 1]
        where = f"lines {first}-{last} hold" if last > first else f"line {first} holds"
        notes.append((first, f"{where} {what}"))
        start = index
    return tuple(notes)


def _bomless_utf16(data: bytes) -> bool | None:
    """``False`` (little-endian) or ``True`` (big-endian) when ``data`` reads as UTF-16
    without a byte-order mark: most bytes at one parity are NUL and almost none at the other
    (ASCII text in UTF-16); else None."""
    sample = data[:4096]
    half = len(sample) // 2
    if half < 8:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if odd > 0.4 * half and even < 0.05 * half:
        return False
    if even > 0.4 * half and odd < 0.05 * half:
        return True
    return None


def _utf16(data: bytes, big_endian: bool) -> Decoded:
    """UTF-16, each line decoded from the line break before it (damage stays in its line)."""
    codec = "utf-16-be" if big_endian else "utf-16-le"
    name = "utf-16"
    try:
        return Decoded(data.decode(codec), name)
    except UnicodeDecodeError:
        pass
    newline = b"\x00\n" if big_endian else b"\n\x00"
    texts: list[str] = []
    damaged: list[int] = []
    for number, line in enumerate(data.split(newline), start=1):
        try:
            texts.append(line.decode(codec))
        except UnicodeDecodeError:
            texts.append(line.decode(codec, errors="replace"))
            damaged.append(number)
    notes = _line_notes(damaged, "bytes that are not UTF-16; they were replaced by U+FFFD")
    return Decoded("\n".join(texts), name, notes)
