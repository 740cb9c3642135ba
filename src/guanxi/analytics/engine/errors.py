"""Errors raised by the analytics engine.

Every check on input data raises :class:`InputError`, which names where the problem is (the file,
the column, the 1-based row or line) and what it is, so that a command-line user or a job log can
point at the offending value without a traceback.
"""

from __future__ import annotations


class InputError(ValueError):
    """Input that the engine refuses: a missing column, a bad value, a broken model rule.

    ``line`` is a physical line of a text file (the header, if any, is line 1); ``row`` is a
    1-based position in an array or in a Parquet file. At most one of the two is given.
    """

    def __init__(
        self,
        problem: str,
        *,
        source: str | None = None,
        column: str | None = None,
        row: int | None = None,
        line: int | None = None,
    ) -> None:
        self.problem = problem
        self.source = source
        self.column = column
        self.row = row
        self.line = line
        super().__init__(self._message())

    def _message(self) -> str:
        where: list[str] = []
        if self.column is not None:
            where.append(f"column {self.column!r}")
        if self.line is not None:
            where.append(f"line {self.line}")
        elif self.row is not None:
            where.append(f"row {self.row}")
        parts = [p for p in (self.source, ", ".join(where)) if p]
        return ": ".join([*parts, self.problem])

    def with_source(self, source: str) -> InputError:
        """The same error, attributed to ``source`` (a file name) when it names none yet."""
        if self.source is not None:
            return self
        return InputError(
            self.problem, source=source, column=self.column, row=self.row, line=self.line
        )


class SnapshotError(ValueError):
    """A stored fit that cannot be used: another model, or another engine version (refit it)."""
