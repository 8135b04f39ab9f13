"""A problem found while validating the data in ``content/``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ContentProblem:
    """One problem in one file of ``content/``.

    ``file`` is relative to the content directory; ``entry`` names the entry inside the file
    (an id, a code, a CSV line such as ``"línea 12"``), or is empty for the whole file.
    ``message`` says what is wrong, in English (it is read by the coordinators' technical staff
    running ``integridad-bot content check``).
    """

    file: str
    entry: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file} [{self.entry}]" if self.entry else self.file
        return f"{where}: {self.message}"


class ContentError(Exception):
    """Raised when content cannot be loaded; carries every problem found."""

    def __init__(self, problems: list[ContentProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
