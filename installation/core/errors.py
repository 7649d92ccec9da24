"""Errors that name the file, line and key of bad input.

Every loader (presets, seeds, shows, shader headers, MIDI maps) reports problems as
:class:`Problem` values collected into one :class:`LoadError`, so that an artist sees
every mistake in a file at once, each as ``file:line: key: reason``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one place in one file."""

    file: str
    line: int
    key: str
    reason: str

    def __str__(self) -> str:
        key = self.key or "-"
        return f"{self.file}:{self.line}: {key}: {self.reason}"


class LoadError(Exception):
    """A file could not be loaded; carries every problem found in it."""

    def __init__(self, problems: list[Problem]) -> None:
        if not problems:
            raise ValueError("LoadError needs at least one problem")
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def single(cls, file: str | Path, line: int, key: str, reason: str) -> LoadError:
        return cls([Problem(str(file), line, key, reason)])
