"""Errors a user can cause: each names where it happened and what to do."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Location:
    """A place in an input: file, 1-based line and column (0 when unknown)."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if not self.line:
            return self.file
        if not self.column:
            return f"{self.file}:{self.line}"
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, at its location."""

    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class PelvicvoiceError(Exception):
    """A problem the user can fix; the CLI prints it as one line per problem."""

    def __init__(self, problems: list[Problem]):
        # The same problem met by several sessions (an --engine with no profile) is said once.
        self.problems = list(dict.fromkeys(problems))
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self):
        return (type(self), (self.problems,))

    @classmethod
    def at(cls, location: Location, message: str) -> PelvicvoiceError:
        """Make an error with a single problem."""
        return cls([Problem(location, message)])


# More problems than this in one error are summed up in one line: fix these first.
MAX_PROBLEMS_SHOWN = 50


def error_lines(error: PelvicvoiceError) -> list[str]:
    """Return the lines the CLI prints for an error: one per problem, the first MAX_PROBLEMS_SHOWN of them."""
    shown = error.problems[:MAX_PROBLEMS_SHOWN]
    lines = [f"error: {problem}" for problem in shown]
    if hidden := len(error.problems) - len(shown):
        lines.append(f"error: {shown[-1].location.file}: {hidden:,} more problems not shown; fix these first")
    return lines


class DefinitionError(PelvicvoiceError):
    """A program, catalog, voice profile or option value is invalid."""


class SpeechError(PelvicvoiceError):
    """The speech engine could not speak a phrase."""


class BuildError(PelvicvoiceError):
    """A session cannot be built as defined (e.g. speech longer than its slot)."""


class OutputError(PelvicvoiceError):
    """An output file or folder cannot be written."""
