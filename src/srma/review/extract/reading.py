"""What a form file holds once read: its values, the studies it submits, its problems.

Both readers (:mod:`~srma.review.extract.workbook` for XLSX,
:mod:`~srma.review.extract.longform` for the long CSV form) return a
:class:`ReadForm` or raise :class:`FormError`, which lists every problem with
where it is (sheet and cell, or line and column) and what was expected, so a
reviewer fixes them all at once.  A file with any problem stores nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from srma.errors import InputError
from srma.review.extract.values import Entry, Problem

#: More problems than this are counted, not listed (a wrong file gives one per cell).
SHOWN_PROBLEMS = 200


class FormError(InputError):
    """Every problem found in a form file, one per line of the message."""

    def __init__(self, file: str, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        shown = [
            f"{file}, {p.where}: {p.message}" if p.where else f"{file}: {p.message}"
            for p in self.problems[:SHOWN_PROBLEMS]
        ]
        if len(self.problems) > SHOWN_PROBLEMS:
            shown.append(f"{file}: ... and {len(self.problems) - SHOWN_PROBLEMS} more problems")
        super().__init__("\n".join(shown) or "invalid form")
        self.file = file

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "stored": 0,
            "problems": [{"where": p.where, "message": p.message} for p in self.problems],
        }


@dataclass(frozen=True)
class ReadForm:
    """A form file as read: who it is for (None: the long CSV form, which names nobody),
    whether it is a consensus form, every value (blank cells as None), the studies it
    marks submitted or not submitted (with where), and the problems found in its cells
    (``bad_rows``: the rows, study x scope x arm x time point, holding one)."""

    file: str
    sha256: str
    assessment: str
    reviewer: str | None
    consensus: bool
    entries: tuple[Entry, ...]
    submitted: tuple[tuple[int, str], ...] = ()
    not_submitted: tuple[tuple[int, str], ...] = ()
    problems: tuple[Problem, ...] = ()
    bad_rows: frozenset[tuple[int, str, str, str]] = frozenset()


def file_hash(path: Path) -> str:
    """SHA-256 of a file's bytes (stored with the values it gave)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()
