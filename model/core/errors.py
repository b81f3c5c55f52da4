"""Domain errors: every problem names the file, the key and what was expected."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    file: Path
    key: str
    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = str(self.file)
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        key = f" {self.key}:" if self.key else ""
        return f"{where}:{key} {self.message}"


class PriorsError(Exception):
    """All problems found in a priors file (and its bases), reported at once."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class SurveyError(PriorsError):
    """All problems found in a survey table (``aar-risk cruxes --survey``), reported at once:
    each names the file, the line, the column and what was expected."""


class OutputError(Exception):
    """A report could not be written; the earlier report is left as it was."""
