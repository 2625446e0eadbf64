"""Split tagged bibliographic text (RIS, PubMed MEDLINE, Web of Science plain text) into records.

The three formats write one field per line as a tag and a value, continue
long values on further lines, and group the fields of one record between a
start tag and an end: ``TY`` and ``ER`` in RIS, ``PMID-`` and a blank line in
MEDLINE, ``PT`` and ``ER`` in Web of Science.  :func:`split_tagged` reads any
of them, described by a :class:`TaggedFormat`, keeping the line where each
record starts.

Nothing that looks like a record is dropped without a word.  Fields outside
any record (their start tag was damaged, e.g. ``PMlD-``, ``Ty  -``) become a
problem at their first line ("record at line N has no PMID start tag"); so
does a line that looks like a damaged start tag inside an open record, which
ends that record (so that the fields after it are not added to the record
before it); and a record holding a NUL character is a problem, not a record.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from srma.review.identify.readers.fields import keep, nul_message
from srma.review.identify.results import ImportProblem, Parsed, Record


@dataclass(frozen=True)
class TaggedFormat:
    """How one tagged format writes its tags, continuations and record bounds."""

    tag: re.Pattern[str]
    """Matches a tag line: group 1 is the tag (padding is stripped), group 2 the value."""
    indent: str | None
    """The prefix of a line that continues the previous tag's value; ``None``: any line
    that is not a tag continues it (RIS)."""
    start: str
    """The tag that opens a record."""
    end: str | None
    """The tag that closes a record; ``None``: a blank line closes it."""
    header: frozenset[str] = frozenset()
    """Tags expected outside records (file header and trailer), ignored silently."""
    line_lists: frozenset[str] = frozenset()
    """Tags whose continuation lines are further values, not more of the same value."""
    start_like: re.Pattern[str] | None = None
    """Lines that look like a damaged start tag (``PMlD- 1``, ``Ty  - JOUR``)."""
    known: frozenset[str] = frozenset()
    """Tags read as the tags they are even where ``start_like`` matches their line."""
    content: frozenset[str] = frozenset()
    """Tags (title, abstract, DOI) that make fields outside a record a lost record, reported
    as a problem, rather than stray lines, which are notes."""
    note_stray_text: bool = True
    """Whether lines of text outside records are noted (RIS: no; Ovid numbers its records)."""


@dataclass(frozen=True)
class TaggedRecord:
    """The values of each tag of one record, and the line of its start tag."""

    line: int
    tags: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class TaggedSplit:
    """Records, things read that are not records (``problems``), and ignored lines (``notes``).

    ``problems`` and ``notes`` are ``(line, message)`` pairs.  Every item of
    ``records`` and ``problems`` counts as read; ``notes`` do not.  A problem
    that stands for a record is at the record's first line.
    """

    records: tuple[TaggedRecord, ...]
    problems: tuple[tuple[int, str], ...]
    notes: tuple[tuple[int, str], ...]


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def text_lines(text: str) -> list[str]:
    """Lines as an editor numbers them: split at ``\\r\\n``, ``\\r`` or ``\\n`` only."""
    return _LINE_BREAK.split(text) if "\r" in text else text.split("\n")


@dataclass
class _Group:
    """The record being read, or fields outside a record (``orphan``)."""

    line: int
    orphan: bool
    tags: dict[str, list[str]] = field(default_factory=dict)
    last: str | None = None
    nul: int | None = None
    start_like: bool = False
    content: bool = False
    tag_lines: list[tuple[int, str]] = field(default_factory=list)
    more: list[str] = field(default_factory=list)
    """Continuation lines of the last value, joined when the value is done (joining them one
    at a time would copy a long value once per line)."""

    def add(self, tag: str, value: str) -> None:
        """A new value of ``tag``."""
        self.finish_value()
        values = self.tags.get(tag)
        if values is None:
            self.tags[tag] = [value]  # a list of one, not one grown to hold four
        else:
            values.append(value)
        self.last = tag

    def continue_value(self, text: str, new_value: bool) -> None:
        """A continuation line: a further value of the last tag, or more of its last value."""
        assert self.last is not None
        if new_value:
            self.finish_value()
            self.tags[self.last].append(text)
        else:
            self.more.append(text)

    def finish_value(self) -> None:
        """Join the continuation lines to the last value, each after a space."""
        if self.more and self.last is not None:
            values = self.tags[self.last]
            values[-1] = " ".join([values[-1], *self.more]).strip()
            self.more.clear()


def split_tagged(text: str, fmt: TaggedFormat) -> TaggedSplit:
    """Split ``text`` into records of ``fmt`` (:func:`split_tagged_lines` of its lines)."""
    return split_tagged_lines(text_lines(text), fmt)


def split_tagged_lines(
    lines: Iterable[str],
    fmt: TaggedFormat,
    on_record: Callable[[TaggedRecord], None] | None = None,
) -> TaggedSplit:
    """Split ``lines`` (numbered from 1, as :func:`text_lines` splits a text) into records
    of ``fmt``.

    With ``on_record``, each record is passed to it as soon as it is complete and is not
    kept in the split (so that a file read line by line never holds all its records twice).

    A start tag inside an open record closes it (its end was missing), and so
    does a line that looks like a damaged start tag, which opens fields that
    are reported.  An end tag with no open record is a problem (it is read,
    but is no record).  Fields outside a record are a problem at their first
    line when they follow a damaged start tag, end with an end tag, or hold a
    title, abstract or DOI; other tags outside a record, other than header
    tags, and lines that are neither tags nor continuations are notes.
    """
    splitter = _Splitter(fmt, on_record)
    tag_match, start_like = fmt.tag.match, fmt.start_like
    start, end, known, indent, lists = fmt.start, fmt.end, fmt.known, fmt.indent, fmt.line_lists
    for number, raw in enumerate(lines, start=1):
        # the common case, inline: a tag or an indented continuation inside an open record
        group = splitter.group
        if group is not None and not group.orphan and "\x00" not in raw:
            if indent is not None and raw.startswith(indent):
                if group.last is not None and raw.strip():
                    group.continue_value(raw.strip(), group.last in lists)
                    continue
            elif (match := tag_match(raw)) is not None:
                tag, value = match.groups()
                tag = tag.strip()
                if (
                    tag != start
                    and tag != end
                    and (tag in known or start_like is None or start_like.match(raw) is None)
                ):
                    # group.add(tag, value), inline: this line runs once for most lines
                    if group.more:
                        group.finish_value()
                    value = value.strip() if value else ""
                    if (values := group.tags.get(tag)) is None:
                        group.tags[tag] = [value]
                    else:
                        values.append(value)
                    group.last = tag
                    continue
        splitter.read(number, raw)
    splitter.close()
    return TaggedSplit(tuple(splitter.records), tuple(splitter.problems), tuple(splitter.notes))


class _Splitter:
    """The state of :func:`split_tagged`: what was read, and the group of lines now open."""

    def __init__(
        self, fmt: TaggedFormat, on_record: Callable[[TaggedRecord], None] | None = None
    ) -> None:
        self.fmt = fmt
        self.records: list[TaggedRecord] = []
        self.emit = self.records.append if on_record is None else on_record
        self.problems: list[tuple[int, str]] = []
        self.notes: list[tuple[int, str]] = []
        self.group: _Group | None = None

    def close(self, by_end: bool = False) -> None:
        """End the open group: a record, a problem (a record without its start, or with a
        NUL), or notes (stray tags)."""
        done, self.group = self.group, None
        if done is None:
            return
        if done.nul is not None:
            self.problems.append((done.line, nul_message(done.nul)))
        elif not done.orphan:
            done.finish_value()
            self.emit(TaggedRecord(done.line, done.tags))
        elif done.start_like or by_end or done.content:
            message = (
                f"record at line {done.line} has no {self.fmt.start} start tag; "
                "its fields were not imported"
            )
            self.problems.append((done.line, message))
        else:
            self.notes.extend(
                (line, f"tag {tag} outside a record, ignored") for line, tag in done.tag_lines
            )

    def read(self, number: int, raw: str) -> None:
        """Read line ``number``."""
        fmt = self.fmt
        line = raw.lstrip("\ufeff") if raw.startswith("\ufeff") else raw
        if not line.strip():
            if fmt.end is None:
                self.close()
            return
        if fmt.indent is not None and line.startswith(fmt.indent):
            group = self.group
            if group is not None and not group.orphan and group.last is not None:
                group.continue_value(line.strip(), group.last in fmt.line_lists)
            elif group is None:
                self.notes.append((number, "continuation line outside a record, ignored"))
        else:
            self._read_tag_or_text(number, line)
        if "\x00" in raw:
            if self.group is not None:
                self.group.nul = self.group.nul or number
            else:
                self.notes.append((number, "line holds NUL bytes (binary data), ignored"))

    def _read_tag_or_text(self, number: int, line: str) -> None:
        fmt = self.fmt
        match = fmt.tag.match(line)
        tag = match.group(1).strip() if match else None
        value = (match.group(2) or "").strip() if match else ""
        if tag == fmt.start:
            self.close()
            self.group = _Group(number, orphan=False)
            self.group.add(tag, value)
        elif (tag is None or tag != fmt.end) and self._looks_like_start(tag, line):
            self.close()
            self.group = _Group(number, orphan=True, start_like=True)
        elif tag is not None and tag == fmt.end:
            if self.group is None:
                self.problems.append((number, f"{tag} without a {fmt.start} before it"))
            self.close(by_end=True)
        elif tag is not None:
            self._add_tag(number, tag, value)
        elif self.group is not None and not self.group.orphan:
            group = self.group
            if fmt.indent is None and group.last is not None:
                group.continue_value(line.strip(), group.last in fmt.line_lists)
            else:
                self.notes.append((number, "line is neither a tag nor a continuation, ignored"))
        elif self.group is None and fmt.note_stray_text:
            self.notes.append((number, "line is neither a tag nor a continuation, ignored"))

    def _looks_like_start(self, tag: str | None, line: str) -> bool:
        fmt = self.fmt
        if fmt.start_like is None or (tag is not None and tag in fmt.known):
            return False
        return fmt.start_like.match(line) is not None

    def _add_tag(self, number: int, tag: str, value: str) -> None:
        group = self.group
        if tag in self.fmt.header and (group is None or group.orphan):
            return
        if group is None:
            group = self.group = _Group(number, orphan=True)
        if group.orphan:
            group.tag_lines.append((number, tag))
            group.content = group.content or tag in self.fmt.content
        else:
            group.add(tag, value)


def to_parsed(
    split: TaggedSplit, path: str, convert: Callable[[TaggedRecord, str], Record]
) -> Parsed:
    """Records of a tagged split, converted; its problems (sorted by line) and notes.

    A converted record with no title, abstract or DOI is a problem too.
    """
    records: list[Record] = []
    problems = [ImportProblem(path, line, message) for line, message in split.problems]
    for tagged in split.records:
        keep(convert(tagged, path), records, problems)
    problems.sort(key=lambda problem: problem.line)
    notes = [ImportProblem(path, line, message) for line, message in split.notes]
    return records, problems, len(records) + len(problems), notes
