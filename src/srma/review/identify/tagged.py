"""Split tagged bibliographic text (PubMed MEDLINE, Web of Science plain text) into records.

Both formats write one field per line as a tag and a value, continue long
values on indented lines, and group the fields of one record between a start
tag and an end: ``PMID-`` and a blank line in MEDLINE, ``PT`` and ``ER`` in
Web of Science.  :func:`split_tagged` reads either, described by a
:class:`TaggedFormat`, keeping the line where each record starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class TaggedFormat:
    """How one tagged format writes its tags, continuations and record bounds."""

    tag: re.Pattern[str]
    """Matches a tag line: group 1 is the tag (padding is stripped), group 2 the value."""
    indent: str
    """The prefix of a line that continues the previous tag's value."""
    start: str
    """The tag that opens a record."""
    end: str | None
    """The tag that closes a record; ``None``: a blank line closes it."""
    header: frozenset[str] = frozenset()
    """Tags expected outside records (file header and trailer), ignored silently."""
    line_lists: frozenset[str] = frozenset()
    """Tags whose continuation lines are further values, not more of the same value."""


@dataclass(frozen=True)
class TaggedRecord:
    """The values of each tag of one record, and the line of its start tag."""

    line: int
    tags: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class TaggedSplit:
    """Records, things read that are not records (``problems``), and ignored lines (``notes``).

    ``problems`` and ``notes`` are ``(line, message)`` pairs.  Every item of
    ``records`` and ``problems`` counts as read; ``notes`` do not.
    """

    records: tuple[TaggedRecord, ...]
    problems: tuple[tuple[int, str], ...]
    notes: tuple[tuple[int, str], ...]


def text_lines(text: str) -> list[str]:
    """Lines as an editor numbers them: split at ``\\r\\n``, ``\\r`` or ``\\n`` only."""
    return re.split(r"\r\n|\r|\n", text)


def split_tagged(text: str, fmt: TaggedFormat) -> TaggedSplit:
    """Split ``text`` into records of ``fmt``.

    A start tag inside an open record closes it (its end was missing).  An
    end tag with no open record is a problem (it is read, but is no record).
    Tags outside a record, other than header tags, and lines that are neither
    tags nor continuations are notes.
    """
    records: list[TaggedRecord] = []
    problems: list[tuple[int, str]] = []
    notes: list[tuple[int, str]] = []
    current: TaggedRecord | None = None
    last: str | None = None

    for number, line in enumerate(text_lines(text), start=1):
        if not line.strip():
            if fmt.end is None and current is not None:
                records.append(current)
                current, last = None, None
            continue
        if line.startswith(fmt.indent):
            if current is not None and last is not None:
                _continue(current.tags[last], line.strip(), last in fmt.line_lists)
            else:
                notes.append((number, "continuation line outside a record, ignored"))
            continue
        match = fmt.tag.match(line)
        if match is None:
            notes.append((number, "line is neither a tag nor a continuation, ignored"))
            continue
        tag, value = match.group(1).strip(), (match.group(2) or "").strip()
        if tag == fmt.start:
            if current is not None:
                records.append(current)
            current, last = TaggedRecord(number, {tag: [value]}), tag
        elif tag == fmt.end:
            if current is None:
                problems.append((number, f"{tag} without a {fmt.start} before it"))
            else:
                records.append(current)
                current, last = None, None
        elif current is not None:
            current.tags.setdefault(tag, []).append(value)
            last = tag
        elif tag not in fmt.header:
            notes.append((number, f"tag {tag} outside a record, ignored"))
    if current is not None:
        records.append(current)
    return TaggedSplit(tuple(records), tuple(problems), tuple(notes))


def _continue(values: list[str], text: str, new_value: bool) -> None:
    """Add a continuation line to a tag's values: as a new value, or joined to the last."""
    if new_value:
        values.append(text)
    else:
        values[-1] = f"{values[-1]} {text}".strip()
