"""BibTeX exports, read by a small tokenizer written for srma.

Why not bibtexparser: its 1.x parser is built on pyparsing and takes about
6 ms per entry (10,000 entries in about a minute, 100,000 in ten), a single
1 MB line of junk takes it nearly a minute, and it drops entries it cannot
parse without saying where; 2.x is still a beta.  The grammar a database
export uses is small, and this reader takes one pass over the text:

* ``@type{key, name = value, ...}`` or ``@type(key, ...)``; the type may
  hold letters, digits, ``_``, ``-``, ``:``, ``+`` and ``.``; several
  entries may share a line;
* a value is ``{...}`` (nested braces), ``"..."`` (braces inside balanced;
  a ``"`` inside braces does not end it), a number, or a macro name, and
  values are joined with ``#``;
* ``@string{name = value}`` defines a macro (names are case-insensitive;
  ``jan`` ... ``dec`` are predefined as the month names), ``@comment`` and
  ``@preamble`` are skipped with their balanced braces, and so are lines
  that start with ``%`` between entries;
* field values are turned into Unicode text by
  :func:`srma.review.identify.readers.latex.latex_to_text`.

Damage stays local.  A brace that is not closed before a line that starts
a new entry (``@article{``) ends the broken entry there; it is reported at
the line of its ``@`` and reading goes on with the next entry.  Text between
entries that holds ``name = {value}`` fields (an entry whose ``@type{key``
line was damaged) is reported too, and so is an entry holding a NUL.
"""

from __future__ import annotations

import re

from srma.review.identify.readers.fields import (
    doi,
    keep,
    line_finder,
    nul_message,
    split_keywords,
    year,
)
from srma.review.identify.readers.latex import latex_to_text
from srma.review.identify.results import ImportProblem, Parsed, Record

ENTRY_TYPE = r"[\w:+.\-]+"
"""The characters of an entry type (shared with the record counter)."""

_HEAD = re.compile(rf"@[ \t]*({ENTRY_TYPE})\s*([{{(])")
# a line that starts an entry: where a broken entry ends and reading goes on
_NEXT_LINE_ENTRY = rf"(?:\r\n?|\n)[ \t]*(?=@[ \t]*{ENTRY_TYPE}\s*[{{(])"
_LINE_ENTRY = re.compile(rf"(?:(?<=[\r\n])|\A)[ \t]*(@)[ \t]*{ENTRY_TYPE}\s*[{{(]")
_IN_BRACES = re.compile(rf"[{{}}]|{_NEXT_LINE_ENTRY}")
_IN_QUOTES = re.compile(rf"[\"{{}}]|{_NEXT_LINE_ENTRY}")
_IN_PARENTHESES = re.compile(rf"[{{}})]|{_NEXT_LINE_ENTRY}")
_LINE_END = re.compile(r"[^\r\n]*")
_KEY = re.compile(r"[^,\s{}()\"=#%]*")
_NAME = re.compile(r"[^\s=,{}()\"#%]+")
_WORD = re.compile(r"[^\s,#{}()\"=%]+")
_SPACE = re.compile(r"\s*")
_SPACE_COMMAS = re.compile(r"[\s,]*")
_COMMENT_LINE = re.compile(r"(?:(?<=[\r\n])|\A)[ \t]*%[^\r\n]*")
# a field name at the start of a word (the lookbehind keeps a long run of letters linear)
_FIELD = re.compile(r"(?<![\w\-])[A-Za-z][\w\-]*[ \t]*=[ \t]*[{\"]")
_MONTHS = {
    name[:3].lower(): name
    for name in (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    )
}  # fmt: skip
_NOT_ENTRIES = frozenset({"comment", "preamble", "string"})


class _BrokenError(Exception):
    """An entry (or @string) that cannot be read: why, and where reading goes on."""

    def __init__(self, reason: str, resume: int) -> None:
        super().__init__(reason)
        self.resume = resume


class _Reader:
    """One pass over a BibTeX text: entries, macros, and where each entry starts."""

    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        self.size = len(text)
        self.strings: dict[str, str] = dict(_MONTHS)
        self.line_of = line_finder(text)
        self.records: list[Record] = []
        self.problems: list[ImportProblem] = []
        self.notes: list[ImportProblem] = []
        self.comments = [m.span() for m in _COMMENT_LINE.finditer(text)] if "%" in text else []

    # --- the whole text -------------------------------------------------------------------

    def read(self) -> None:
        text, comments = self.text, self.comments
        done = search = 0  # the end of the last item read; where to look for the next '@'
        comment = 0
        while True:
            at = text.find("@", search)
            if at < 0:
                self._check_gap(done, self.size)
                return
            while comment < len(comments) and comments[comment][1] <= at:
                comment += 1
            if comment < len(comments) and comments[comment][0] <= at:
                search = comments[comment][1]  # an '@' on a '%' line between entries
                continue
            head = _HEAD.match(text, at)
            if head is None:
                search = at + 1
                continue
            self._check_gap(done, at)
            done = search = self._item(at, head)

    def _item(self, at: int, head: re.Match[str]) -> int:
        """Read the entry, macro, comment or preamble at ``at``; where it ends."""
        kind = head.group(1).lower()
        closer = ")" if head.group(2) == "(" else "}"
        line = self.line_of(at)
        try:
            if kind in ("comment", "preamble"):
                return self._group_end(head.end() - 1, closer)
            if kind == "string":
                return self._string(head.end(), closer)
            key, fields, end = self._entry(head.end(), closer)
        except _BrokenError as broken:
            if kind in _NOT_ENTRIES:
                message = f"@{kind} could not be read ({broken}), ignored"
                self.notes.append(ImportProblem(self.path, line, message))
            else:
                key = _KEY.match(self.text, _SPACE.match(self.text, head.end()).end()).group(0)
                message = (
                    f"BibTeX entry '{key}' could not be parsed"
                    if key
                    else "BibTeX entry could not be parsed"
                )
                self.problems.append(ImportProblem(self.path, line, message))
            return max(broken.resume, head.end())
        nul = self.text.find("\x00", at, end)
        if nul >= 0:
            self.problems.append(ImportProblem(self.path, line, nul_message(self.line_of(nul))))
        elif not key:
            self.problems.append(ImportProblem(self.path, line, "BibTeX entry has no key"))
        else:
            entry = {"ENTRYTYPE": kind, "ID": key, **fields}
            keep(_record(entry, self.path, line), self.records, self.problems)
        return end

    def _check_gap(self, start: int, end: int) -> None:
        """Report fields written between entries: an entry whose ``@type{key`` was damaged."""
        text, position = self.text, start
        while True:
            match = _FIELD.search(text, position, end)
            if match is None:
                return
            line_start = max(
                text.rfind("\n", start, match.start()), text.rfind("\r", start, match.start())
            )
            if text[max(line_start + 1, start) : match.start()].lstrip().startswith("%"):
                position = match.end()
                continue
            first = self._first_text(start, end)
            begin, last = self.line_of(first), self.line_of(max(end - 1, first))
            where = f"lines {begin}-{last}" if last > begin else f"line {begin}"
            message = (
                f"{where} hold BibTeX fields without an @type{{key line before them "
                "(a damaged entry?); they were not imported"
            )
            self.problems.append(ImportProblem(self.path, begin, message))
            return

    def _first_text(self, start: int, end: int) -> int:
        """Where the first text between ``start`` and ``end`` is that is not a ``%`` line."""
        position = _SPACE.match(self.text, start, end).end()
        while position < end and self.text[position] == "%":
            position = _SPACE.match(
                self.text, _LINE_END.match(self.text, position).end(), end
            ).end()
        return position

    # --- one item -------------------------------------------------------------------------

    def _entry(self, start: int, closer: str) -> tuple[str, dict[str, str], int]:
        """``key, name = value, ...`` up to ``closer``: the key, the fields, where it ends."""
        text, size = self.text, self.size
        position = _SPACE.match(text, start).end()
        key = _KEY.match(text, position).group(0)
        position = _SPACE.match(text, position + len(key)).end()
        fields: dict[str, str] = {}
        if position < size and text[position] == closer:
            return key, fields, position + 1
        if position >= size or text[position] != ",":
            raise _BrokenError("no comma after the key", self._resync(position))
        while True:
            position = _SPACE_COMMAS.match(text, position).end()
            if position >= size:
                raise _BrokenError("the entry is not closed", size)
            if text[position] == closer:
                return key, fields, position + 1
            name = _NAME.match(text, position)
            if name is None:
                raise _BrokenError(f"unexpected {text[position]!r}", self._resync(position))
            position = _SPACE.match(text, name.end()).end()
            if position >= size or text[position] != "=":
                raise _BrokenError(f"no '=' after {name.group(0)!r}", self._resync(position))
            value, position = self._value(position + 1)
            fields.setdefault(name.group(0).lower(), latex_to_text(value))
            position = _SPACE.match(text, position).end()
            if position < size and text[position] == closer:
                return key, fields, position + 1
            if position >= size or text[position] != ",":
                raise _BrokenError("the entry is not closed", self._resync(position))

    def _string(self, start: int, closer: str) -> int:
        """``@string{name = value}``: define the macro; where it ends."""
        text = self.text
        position = _SPACE.match(text, start).end()
        name = _NAME.match(text, position)
        if name is None:
            raise _BrokenError("no macro name", self._resync(position))
        position = _SPACE.match(text, name.end()).end()
        if position >= self.size or text[position] != "=":
            raise _BrokenError("no '=' after the macro name", self._resync(position))
        value, position = self._value(position + 1)
        position = _SPACE.match(text, position).end()
        if position >= self.size or text[position] != closer:
            raise _BrokenError("the macro is not closed", self._resync(position))
        self.strings[name.group(0).lower()] = value
        return position + 1

    def _value(self, start: int) -> tuple[str, int]:
        """A value: braced, quoted, a number or a macro, joined by ``#``; where it ends."""
        text, size = self.text, self.size
        parts: list[str] = []
        position = start
        while True:
            position = _SPACE.match(text, position).end()
            if position >= size:
                raise _BrokenError("the entry is not closed", size)
            char = text[position]
            if char == "{":
                part, position = self._braced(position)
            elif char == '"':
                part, position = self._quoted(position)
            else:
                word = _WORD.match(text, position)
                if word is None:
                    raise _BrokenError(f"unexpected {char!r} in a value", self._resync(position))
                name, position = word.group(0), word.end()
                part = name if name.isdigit() else self.strings.get(name.lower(), name)
            parts.append(part)
            after = _SPACE.match(text, position).end()
            if after < size and text[after] == "#":
                position = after + 1
                continue
            return "".join(parts), position

    def _braced(self, start: int) -> tuple[str, int]:
        """The text inside the braces opened at ``start``; where they close."""
        depth, position = 0, start
        while True:
            match = _IN_BRACES.search(self.text, position)
            if match is None:
                raise _BrokenError("a brace is not closed", self.size)
            token = match.group(0)
            if token == "{":
                depth += 1
            elif token == "}":
                depth -= 1
                if depth == 0:
                    return self.text[start + 1 : match.start()], match.end()
            else:  # a line that starts the next entry
                raise _BrokenError("a brace is not closed before the next entry", match.end())
            position = match.end()

    def _quoted(self, start: int) -> tuple[str, int]:
        """The text inside the quotes opened at ``start``; where they close."""
        depth, position = 0, start + 1
        while True:
            match = _IN_QUOTES.search(self.text, position)
            if match is None:
                raise _BrokenError("a quote is not closed", self.size)
            token = match.group(0)
            if token == '"' and depth == 0:
                return self.text[start + 1 : match.start()], match.end()
            if token == "{":
                depth += 1
            elif token == "}":
                if depth == 0:
                    raise _BrokenError("a brace closes inside quotes", self._resync(match.end()))
                depth -= 1
            elif token != '"':
                raise _BrokenError("a quote is not closed before the next entry", match.end())
            position = match.end()

    def _group_end(self, start: int, closer: str) -> int:
        """Where the group opened at ``start`` (``{`` or ``(``) closes; braces inside balance."""
        if closer == "}":
            return self._braced(start)[1]
        depth, position = 0, start + 1
        while True:
            match = _IN_PARENTHESES.search(self.text, position)
            if match is None:
                raise _BrokenError("a parenthesis is not closed", self.size)
            token = match.group(0)
            if token == ")" and depth == 0:
                return match.end()
            if token == "{":
                depth += 1
            elif token == "}":
                depth = max(depth - 1, 0)
            elif token != ")":
                raise _BrokenError("a parenthesis is not closed before the next entry", match.end())
            position = match.end()

    def _resync(self, position: int) -> int:
        """Where reading goes on after damage at ``position``: the next line starting an entry."""
        match = _LINE_ENTRY.search(self.text, position)
        return match.start(1) if match else self.size


def _record(entry: dict[str, str], path: str, line: int) -> Record:
    def text(*names: str) -> str:
        return next((entry[n] for n in names if entry.get(n, "")), "")

    return Record(
        title=text("title"),
        abstract=text("abstract"),
        authors=tuple(a.strip() for a in re.split(r"\s+and\s+", text("author")) if a.strip()),
        year=year(text("year", "date")),
        journal=text("journal", "journaltitle", "booktitle"),
        volume=text("volume"),
        issue=text("number", "issue"),
        pages=text("pages").replace("--", "-"),
        doi=doi(text("doi", "url")),
        pmid=text("pmid"),
        keywords=split_keywords(text("keywords")),
        type=entry.get("ENTRYTYPE", ""),
        source_file=path,
        source_line=line,
        fields=dict(entry),
    )


def parse_bibtex(text: str, path: str) -> Parsed:
    """BibTeX entries, each at the line of its ``@``.

    An entry that cannot be read (unbalanced braces, bad syntax) is a
    problem at the line of its ``@``, and so are an entry without a key, one
    with no title, abstract or DOI, one holding a NUL, and fields between
    entries with no ``@type{key`` before them.  ``@comment``, ``@preamble`` and
    ``@string`` are not records; a broken one is a note.
    """
    reader = _Reader(text, path)
    reader.read()
    problems = sorted(reader.problems, key=lambda problem: problem.line)
    return reader.records, problems, len(reader.records) + len(problems), reader.notes
