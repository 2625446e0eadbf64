"""Text taken from data, made safe to draw and to write as XML, HTML or DOCX.

Study labels, outcome names, titles, column names and reasons come from files
someone else wrote.  Three things go wrong when they are drawn as they are:

* matplotlib parses a text with a pair of unescaped ``$`` as mathtext
  (``US$ 5 vs US$ 10`` is drawn as ``US5vsUS 10``; ``$\\notacommand$`` raises),
  and with ``text.usetex`` it hands the text to LaTeX;
* characters XML 1.0 does not allow (NUL, ESC and the other C0 controls but
  tab, newline and carriage return; lone surrogates; U+FFFE, U+FFFF) make an
  SVG that no XML parser reads, a DOCX that python-docx refuses to write and an
  HTML file that cannot be encoded as UTF-8;
* the explicit bidirectional controls (U+202A to U+202E, U+2066 to U+2069)
  make the text shown differ from the text stored: ``rtl\\u202eevil`` is shown
  as ``rtllive``.

:func:`safe_text` replaces each such character, the C1 controls and DEL
(allowed by XML but invisible, and terminal controls) and the bidirectional
controls by U+FFFD, the replacement character, so that the text stays visibly
damaged rather than silently changed.  Right-to-left scripts still display in
their own direction (the implicit bidirectional algorithm needs no controls).

:func:`literal` also escapes ``$`` as ``\\$``, which matplotlib draws as a
plain dollar sign.  :func:`no_tex` turns ``usetex`` off for every text of a
figure, whatever ``rcParams`` say.  srma's own labels (tau², I², Chi²) use
Unicode superscripts, not mathtext, and are unaffected.
"""

from __future__ import annotations

import re

from matplotlib.figure import Figure
from matplotlib.text import Text

#: What stands in for a character that cannot be written.
REPLACEMENT = "\ufffd"

# C0 controls but tab, LF and CR; DEL and the C1 controls; the explicit bidirectional
# embeddings, overrides and isolates; surrogates; U+FFFE and U+FFFF.
_NOT_WRITABLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)


def safe_text(text: object) -> str:
    """``text`` as a string every XML 1.0 writer accepts and shows as stored.

    Characters XML cannot hold, invisible controls and bidirectional controls
    are replaced by U+FFFD.
    """
    return _NOT_WRITABLE.sub(REPLACEMENT, str(text))


def literal(text: object) -> str:
    """``text`` as matplotlib should draw it: literally, never as mathtext.

    Unwritable characters are replaced (:func:`safe_text`) and each ``$`` is
    escaped, so that matplotlib finds no mathtext and draws a plain ``$``.
    """
    return safe_text(text).replace("$", r"\$")


def no_tex(figure: Figure) -> Figure:
    """Turn LaTeX rendering off for every text of ``figure`` (tick labels made later copy it)."""
    for artist in figure.findobj(Text):
        artist.set_usetex(False)
    return figure
