"""Errors a user can act on. The CLI prints them without a traceback."""

from __future__ import annotations

from pathlib import Path


class TrendstudieError(Exception):
    """An error with a message meant for the user."""


class InputError(TrendstudieError):
    """Malformed input: names the file, line and column (1-based) where known."""

    def __init__(self, path: str | Path, message: str, line: int | None = None, column: int | str | None = None):
        self.path = str(path)
        self.line = line
        self.column = column
        self.message = message
        where = self.path
        if line is not None:
            where += f", regel {line}"
        if column is not None:
            where += f", kolom {column}"
        super().__init__(f"{where}: {message}")


class DatabaseError(TrendstudieError):
    """The store is missing, damaged or of another version: the message says to rebuild it."""
