"""Making text from records safe to show and to write: terminals, spreadsheets, RIS.

Bibliographic records come from files that anyone can write, so a title can
hold anything.  Three places would otherwise act on it:

- a **terminal** acts on control characters: an ESC sequence can clear the
  screen (``ESC [ 2 J``), set the window title (OSC 0) or write the clipboard
  (OSC 52), a carriage return or backspace can overwrite what was printed, and
  the bidirectional overrides (U+202A-U+202E, U+2066-U+2069) can make text read
  differently from what it is (the "Trojan Source" trick).  :func:`printable`
  removes all of these and keeps every other character;
- a **spreadsheet** runs a cell that begins with ``=``, ``+``, ``-``, ``@``,
  tab or carriage return as a formula (``=HYPERLINK(...)``); following OWASP's
  guidance on CSV injection, :func:`spreadsheet_cell` prefixes such a text
  cell with a single quote and keeps the value otherwise as it is.  Numbers
  (``int``, ``float``) are never changed: a numeric cell cannot be a formula;
- a **line-based file format** (RIS) ends a record at a line: :func:`one_line`
  folds line breaks and other control characters in a value to spaces, so a
  title holding ``\\nER  - \\nTY  - JOUR`` stays one title of one record.

Layer 0: no srma imports (not even :mod:`srma.errors`: nothing here can fail).
"""

from __future__ import annotations

import re

__all__ = [
    "BIDI_CONTROLS",
    "FORMULA_TRIGGERS",
    "one_line",
    "printable",
    "spreadsheet_cell",
]

#: Bidirectional embeddings, overrides and isolates (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI,
#: PDI): they reorder the text around them, so shown text could read unlike what it holds.
#: The marks U+200E, U+200F and U+061C reorder nothing and are kept.
BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))

#: First characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# Escape sequences, 7-bit (ESC ...) and 8-bit (C1 introducers):
# - control strings: OSC (ESC ] / 0x9D), DCS (ESC P / 0x90), SOS (ESC X / 0x98),
#   PM (ESC ^ / 0x9E), APC (ESC _ / 0x9F), up to their terminator (ST = ESC \ or 0x9C, or BEL);
#   without a terminator only the introducer goes (what follows is then plain text);
# - CSI (ESC [ / 0x9B): parameter bytes, intermediate bytes, one final byte;
# - other escapes (ESC, intermediates, one final byte: ESC ( B, ESC 7, ESC c).
_SEQUENCE = re.compile(
    r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
    r"|(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]"
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]"
)
# Line breaks as terminals and str.splitlines() see them (CRLF is one).
_BREAK = re.compile(r"\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")
# Every control character (C0, DEL, C1).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _is_control(char: str) -> bool:
    code = ord(char)
    return code < 0x20 or 0x7F <= code <= 0x9F


def printable(text: str, *, newlines: bool = True, tabs: bool = True) -> str:
    """``text`` as it may be printed on a terminal: nothing in it acts on the terminal.

    Escape sequences (CSI, OSC, DCS, SOS, PM, APC and the short ESC ones, in
    their 7-bit and 8-bit forms) are removed whole; the bidirectional
    controls of :data:`BIDI_CONTROLS` are removed; line breaks (LF, CR, CRLF,
    VT, FF, the separators U+2028 and U+2029 and NEL) become ``"\\n"`` with
    ``newlines`` or a space without it; tab stays with ``tabs`` or becomes a
    space; every other control character (C0, DEL, C1: NUL, BEL, backspace...)
    is removed, and a lone surrogate becomes U+FFFD.  Every other character
    (letters of any script, marks, punctuation, emoji, the markup characters
    ``[`` and ``]``) is kept as it is, so printable text comes out unchanged.
    """
    if text.isprintable():  # the common case: nothing to do
        return text
    text = _SEQUENCE.sub("", text)
    text = _BREAK.sub("\n" if newlines else " ", text)
    kept = []
    for char in text:
        if char in BIDI_CONTROLS:
            continue
        if "\ud800" <= char <= "\udfff":  # a lone surrogate cannot be encoded to print
            kept.append("\ufffd")
            continue
        if _is_control(char):
            if char == "\n" or (char == "\t" and tabs):
                kept.append(char)
            elif char == "\t":
                kept.append(" ")
            continue
        kept.append(char)
    return "".join(kept)


def one_line(text: str) -> str:
    """``text`` on one line, for a line-based format (RIS): each line break (CRLF as one, and
    the breaks ``str.splitlines`` knows: VT, FF, U+001C-U+001E, NEL, U+2028, U+2029) and every
    other control character becomes one space; nothing else changes."""
    text = _BREAK.sub(" ", text)
    return _CONTROL.sub(" ", text)


def spreadsheet_cell(value: object) -> object:
    """A cell that a spreadsheet shows as it is and never runs as a formula.

    A text cell beginning with one of :data:`FORMULA_TRIGGERS` (``=``, ``+``,
    ``-``, ``@``, tab, carriage return) gets a single quote in front
    (``=HYPERLINK(...)`` → ``'=HYPERLINK(...)``, ``-1.5`` as text → ``'-1.5``),
    as OWASP advises; the rest of the value is kept.  Anything that is not a
    ``str`` (numbers, missing values) is returned unchanged: a number such as
    ``-1.5`` in a numeric column is written as a number and cannot be a formula.
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value
