"""Errors of the step checker: input it cannot read, always with the file, line and column."""

from __future__ import annotations

from gradproof.errors import InputError


class StepsSyntaxError(InputError):
    """A derivation that cannot be read (a parse error, an undeclared index, an unsupported
    construct): ``str()`` is one line, ``FILE:LINE:COLUMN: message``."""

    def __init__(self, message: str, *, file: str, line: int, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.column = column

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"

    def as_json(self) -> dict:
        return {"line": self.line, "column": self.column, "message": self.message}
