"""LaTeX in BibTeX field values, as Unicode text.

Written here rather than taken from bibtexparser's ``latexenc.latex_to_unicode``:
that function tries each of its ~2,500 table entries against every value that
holds a brace or a backslash (about 0.3 ms per value, which made 100,000
entries take minutes) and rewrites the whole string once per combining
accent found.  One regular expression and small tables cover what database
exports and reference managers write: accents on a letter (``\\'e``,
``\\'{e}``, ``{\\"o}``, ``\\c{c}``, ``\\v s``, ``\\'{\\i}``), letters without an
ASCII form (``\\ss``, ``\\o``, ``\\aa``, ``\\ae``, ``\\l``), escaped specials
(``\\&``, ``\\%``, ``\\_``), Greek letters (``\\alpha``, ``\\Gamma``), dashes
and quotes commands, and text-style commands (``\\emph{x}`` is ``x``); braces
and ``$`` are dropped, whitespace runs become one space, and the result is
NFC-normalised.  An unknown command is kept as written.
"""

from __future__ import annotations

import re
import unicodedata

# Accent commands and the combining characters they put on the next letter.
_ACCENTS = {
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    '"': "\u0308",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "u": "\u0306",
    "v": "\u030c",
    "H": "\u030b",
    "c": "\u0327",
    "k": "\u0328",
    "r": "\u030a",
    "d": "\u0323",
    "b": "\u0331",
    "t": "\u0361",
}
_SYMBOLS = {
    "ss": "ß",
    "o": "ø",
    "O": "Ø",
    "aa": "å",
    "AA": "Å",
    "ae": "æ",
    "AE": "Æ",
    "oe": "œ",
    "OE": "Œ",
    "l": "ł",
    "L": "Ł",
    "i": "ı",
    "j": "ȷ",
    "dh": "ð",
    "DH": "Ð",
    "th": "þ",
    "TH": "Þ",
    "ng": "ŋ",
    "NG": "Ŋ",
    "textendash": "–",
    "textemdash": "—",
    "textquoteleft": "‘",
    "textquoteright": "’",
    "textquotedblleft": "“",
    "textquotedblright": "”",
    "textellipsis": "…",
    "ldots": "…",
    "dots": "…",
    "copyright": "©",
    "textcopyright": "©",
    "textregistered": "®",
    "texttrademark": "™",
    "textdegree": "°",
    "pounds": "£",
    "textsterling": "£",
    "texteuro": "€",
    "euro": "€",
    "S": "§",
    "P": "¶",
    "pm": "±",
    "times": "×",
    "leq": "≤",
    "geq": "≥",
    "le": "≤",
    "ge": "≥",
    "neq": "≠",
    "infty": "∞",
    "textmu": "µ",
    "textbackslash": "\\",
    "textasciitilde": "~",
    "textunderscore": "_",
}
# Commands that only style their argument: the argument stays, the command goes.
_STYLES = frozenset(
    {
        "emph", "textit", "textbf", "textsc", "textrm", "textsf", "texttt", "textup",
        "textsl", "textnormal", "mathrm", "mathit", "mathbf", "mathsf", "mathtt",
        "mathcal", "mbox", "text", "it", "bf", "sc", "rm", "sf", "tt", "em", "sl",
        "upshape", "itshape", "bfseries", "scshape", "protect", "relax", "noopsort",
        "url", "path", "nolinkurl",
    }
)  # fmt: skip
_GREEK = frozenset(
    {
        "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota",
        "kappa", "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau",
        "upsilon", "phi", "chi", "psi", "omega",
    }
)  # fmt: skip
_BASE = r"(?:\\[ij](?![A-Za-z])|[A-Za-z])"
_LATEX = re.compile(
    r"\\(?:"
    rf"(?P<acc>['`^\"~=.])[ \t]*(?:\{{[ \t]*(?P<a1>{_BASE})[ \t]*\}}|(?P<a2>{_BASE}))"
    rf"|(?P<lacc>[uvHckrdbt])(?:[ \t]*\{{[ \t]*(?P<l1>{_BASE})[ \t]*\}}|[ \t]+(?P<l2>[A-Za-z]))"
    r"|(?P<esc>[&%$#_{}\\ ])"
    r"|(?P<cmd>[A-Za-z]+)[ \t]*(?:\{\})?"
    r")"
    r"|(?P<drop>[{}$])"
)
_SPACE = re.compile(r"\s+")


def _replace(match: re.Match[str]) -> str:
    accent = match.group("acc") or match.group("lacc")
    if accent:
        base = match.group("a1") or match.group("a2") or match.group("l1") or match.group("l2")
        base = base[1] if base.startswith("\\") else base  # \'{\i}: the accent on a plain i
        return base + _ACCENTS[accent]
    escaped = match.group("esc")
    if escaped is not None:
        return " " if escaped == "\\" else escaped  # ``\\`` is a line break
    command = match.group("cmd")
    if command is None:
        return ""
    if command in _SYMBOLS:
        return _SYMBOLS[command]
    if command in _STYLES:
        return ""
    if command.lower() in _GREEK:
        case = "CAPITAL" if command[0].isupper() else "SMALL"
        return unicodedata.lookup(f"GREEK {case} LETTER {command.upper()}")
    return match.group(0)


def latex_to_text(value: str) -> str:
    """``value`` with its LaTeX accents, symbols and braces turned into Unicode text."""
    if "\\" in value or "{" in value or "}" in value or "$" in value:
        value = unicodedata.normalize("NFC", _LATEX.sub(_replace, value))
    return _SPACE.sub(" ", value).strip()
