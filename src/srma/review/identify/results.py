"""What reading an export gives: records, the problems that kept a record out, notes.

These are the values every reader in :mod:`srma.review.identify.readers`
returns and :func:`srma.review.identify.records.read_records` gathers into an
:class:`ImportResult`, whose ``records_read`` is always
``len(records) + len(problems)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Record:
    """One bibliographic record, with where it was read."""

    title: str
    abstract: str
    authors: tuple[str, ...]
    year: int | None
    journal: str
    volume: str
    issue: str
    pages: str
    doi: str
    pmid: str
    keywords: tuple[str, ...]
    type: str
    source_file: str
    source_line: int
    fields: dict[str, object] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class ImportProblem:
    """A record that could not be read (or a line that was ignored), and why."""

    file: str
    line: int
    message: str


@dataclass(frozen=True)
class ImportResult:
    """Records and problems from one file."""

    path: str
    format: str
    sha256: str
    records_read: int
    records: tuple[Record, ...]
    problems: tuple[ImportProblem, ...]
    notes: tuple[ImportProblem, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "format": self.format,
            "sha256": self.sha256,
            "records_read": self.records_read,
            "records_stored": len(self.records),
            "problems": [problem.__dict__ for problem in self.problems],
            "notes": [note.__dict__ for note in self.notes],
        }


Parsed = tuple[list[Record], list[ImportProblem], int, list[ImportProblem]]
"""What every text reader returns: records, problems, records read, notes.

``records read`` is ``len(records) + len(problems)``: every problem stands for
one record (or one thing meant as a record) that was read and not stored.
"""
