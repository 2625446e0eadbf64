"""Errors and warnings raised by srma.

Every problem with user input is an :class:`InputError` that names where the
problem is (file, row, column) and what was expected, so that a user can fix
the data without reading a traceback.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input: names the file, row and column, and what was expected.

    ``row`` is the 1-based data row as a user sees it in a spreadsheet
    (the header is not counted) unless the caller says otherwise; ``line`` is
    the 1-based line of a text file (a protocol, an export).
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        line: int | None = None,
    ) -> None:
        self.file = file
        self.row = row
        self.line = line
        self.column = column
        self.reason = message
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.file is not None:
            where.append(f"file {self.file}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        prefix = ", ".join(where)
        return f"{prefix}: {self.reason}" if prefix else self.reason

    def with_file(self, file: str) -> InputError:
        """The same error, with the file it came from."""
        return InputError(self.reason, file=file, row=self.row, column=self.column, line=self.line)


class SrmaWarning(UserWarning):
    """A result was computed, but something about it needs the user's attention."""
