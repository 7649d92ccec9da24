"""Errors that name the file, line and key of bad input.

Every loader (presets, seeds, shows, shader headers, MIDI maps) reports problems as
:class:`Problem` values collected into one :class:`LoadError`, so that an artist sees
every mistake in a file at once, each as ``file:line: key: reason``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

KEY_SHOWN = 120
REASON_SHOWN = 300


def shown(text: str, limit: int | None = None) -> str:
    """``text`` for one line of a report: cut to ``limit`` characters, unprintable ones escaped.

    Keys and values come from the file: a hostile one may be a megabyte long, hold a line break
    (which would forge a report line) or a lone surrogate (which stdout cannot encode).
    """
    cut = text if limit is None or len(text) <= limit else text[: limit - 1] + "…"
    if cut.isprintable():
        return cut
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in cut)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one place in one file."""

    file: str
    line: int
    key: str
    reason: str

    def __str__(self) -> str:
        key = shown(self.key, KEY_SHOWN) or "-"
        return f"{shown(self.file)}:{self.line}: {key}: {shown(self.reason, REASON_SHOWN)}"


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
