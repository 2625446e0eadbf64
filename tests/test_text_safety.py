"""srma.text_safety: nothing in record text acts on a terminal, a spreadsheet or a RIS reader."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from srma.text_safety import (
    BIDI_CONTROLS,
    FORMULA_TRIGGERS,
    one_line,
    printable,
    spreadsheet_cell,
)

# Text with more than its share of the characters that matter: ESC and sequence introducers,
# C0 and C1 controls, line breaks, bidi controls, markup brackets.
DANGEROUS = st.sampled_from(
    ["\x1b", "\x1b[", "\x1b]", "\x1bP", "\x1b\\", "\x07", "\x9b", "\x9c", "\x9d", "\x90",
     "\r", "\n", "\t", "\r\n", "\x08", "\x00", "\x7f", "\x85", "\u2028", "\u2029",
     "[", "]", "[/]", "2J", ";", "0", *sorted(BIDI_CONTROLS)]
)  # fmt: skip
TEXT = st.lists(st.one_of(st.text(), DANGEROUS), max_size=12).map("".join)


def _acts_on_terminal(char: str) -> bool:
    code = ord(char)
    return code < 0x20 or 0x7F <= code <= 0x9F or char in BIDI_CONTROLS


@settings(max_examples=400, deadline=None)
@given(TEXT, st.booleans(), st.booleans())
@example("\x1b[2J\x1b]0;pwned\x07\x1b]52;c;aGk=\x07[/]", True, True)
def test_printable_leaves_nothing_that_acts_on_a_terminal(
    text: str, newlines: bool, tabs: bool
) -> None:
    shown = printable(text, newlines=newlines, tabs=tabs)
    allowed = {"\n"} if newlines else set()
    if tabs:
        allowed.add("\t")
    assert not [c for c in shown if _acts_on_terminal(c) and c not in allowed]
    assert "\u2028" not in shown and "\u2029" not in shown
    assert printable(shown, newlines=newlines, tabs=tabs) == shown  # idempotent


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_printable_keeps_printable_text(text: str) -> None:
    """Without controls, every character is kept, in order; with them, every printable
    character outside an escape sequence is kept."""
    clean = "".join(c for c in text if c.isprintable() or c in "\n\t")
    assert printable(clean) == clean
    words = "".join(c for c in text if c.isprintable() and c not in BIDI_CONTROLS)
    assert printable(f"{words}\x07\u202e\x00{words}") == words + words


def test_printable_removes_escape_sequences_whole() -> None:
    assert printable("a\x1b[2Jb") == "ab"  # clear screen
    assert printable("\x1b[1;31mred\x1b[0m") == "red"
    assert printable("\x1b]0;pwned\x07Title") == "Title"  # window title, BEL-terminated
    assert printable("\x1b]52;c;aGk=\x1b\\Title") == "Title"  # clipboard, ST-terminated
    assert printable("\x1bP1$r\x1b\\Title") == "Title"  # DCS
    assert printable("\x9b2JTitle") == "Title"  # 8-bit CSI
    assert printable("\x9d0;x\x9cTitle") == "Title"  # 8-bit OSC and ST
    assert printable("\x1b(BTitle\x1bc") == "Title"
    # an unterminated control string loses its introducer only: its text stays, inert
    assert printable("a\x1b]0;rest of the title") == "a0;rest of the title"


def test_printable_line_breaks_tabs_and_other_controls() -> None:
    assert printable("one\r\ntwo\rthree\x0bfour\u2028five") == "one\ntwo\nthree\nfour\nfive"
    assert printable("one\r\ntwo\tthree", newlines=False, tabs=False) == "one two three"
    assert printable("ab\x08\x08cd\x00\x7f\x85e") == "abcd\ne"  # NEL is a line break
    assert printable("safe \u202eexe.txt\u202c \u2066x\u2069") == "safe exe.txt x"
    assert printable("\u200fשלום\u200e [bold red]x[/]") == "\u200fשלום\u200e [bold red]x[/]"
    assert printable("lone \udc80") == "lone \ufffd"


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Real\nER  - \nTY  - JOUR\nTI  - forged", "Real ER  -  TY  - JOUR TI  - forged"),
        ("a\r\nb\rc\x0bd\x0ce\x1cf\x85g\u2028h\u2029i", "a b c d e f g h i"),
        ("tab\tand\x1b[2Jesc", "tab and [2Jesc"),
        ("plain", "plain"),
    ],
)
def test_one_line_folds_breaks_and_controls_to_spaces(text: str, folded: str) -> None:
    assert one_line(text) == folded


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_one_line_is_one_line(text: str) -> None:
    folded = one_line(text)
    assert len(folded.splitlines()) <= 1
    assert not [c for c in folded if unicodedata.category(c) == "Cc"]
    assert len(folded) <= len(text)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-1.5", "'-1.5"),  # text that looks like a number stays text (OWASP)
        ("a=1", "a=1"),
        (" =1", " =1"),
        ("'quoted", "'quoted"),
        ("", ""),
        (-1.5, -1.5),  # a number is never a formula
        (-3, -3),
        (None, None),
    ],
)
def test_spreadsheet_cell(value: object, written: object) -> None:
    assert spreadsheet_cell(value) == written


@given(st.text())
def test_spreadsheet_cell_keeps_the_value(text: str) -> None:
    cell = spreadsheet_cell(text)
    assert isinstance(cell, str) and not cell.startswith(FORMULA_TRIGGERS)
    assert cell in (text, "'" + text)
