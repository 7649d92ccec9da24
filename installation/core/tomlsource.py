"""Reading TOML with line numbers for errors, and writing it atomically with backups.

``tomllib`` parses but forgets positions; :class:`TomlSource` keeps the text so that a
problem with key ``acts[2].cues[0].at`` can be reported at the line where it stands.
Files are read through :mod:`installation.core.textfile` (regular files only, a size cap,
BOM dropped, UTF-8 checked, recursion guarded), so whatever is on disk, a loader ends with
a :class:`LoadError`. Saves go through :func:`atomic_write` (temporary file, fsync, rename)
after rotating backups, so neither a crash nor a full disk can lose the last good file.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import tomllib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import tomlkit
from tomlkit.exceptions import TOMLKitError

from installation.core.errors import LoadError, Problem
from installation.core.textfile import MAX_DEPTH, TOO_DEEP, decode, guarded, line_at, read_bytes, tree_problem

BACKUPS_KEPT = 5
T = TypeVar("T")

# Linear on any line (a lazy group between optional spaces made a line of spaces in a multi-line
# string cost seconds): the name is stripped afterwards.
_TABLE_HEADER = re.compile(r"^\s*\[\[?([^\]]+)\]\]?\s*(#.*)?$")
_KEY_LINE = re.compile(r"""^\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_.-]+)\s*=""")
_LINE_IN_MESSAGE = re.compile(r"line (\d+)")
_KEY_CUT = re.compile(r"[.\[]")
# tomllib takes time quadratic in a dotted key's parts (16,000 parts: seconds), so a key of more
# parts than any file may nest is refused before parsing. Possessive parts, and no start inside a
# part or after a dot, keep the search linear. Strings are not told apart: no real text holds 17
# dot-joined words.
_KEY_PART = r"""(?:[A-Za-z0-9_-]++|"(?:[^"\\\n]|\\.)*+"|'[^'\n]*+')"""
_DEEP_KEY = re.compile(rf"(?<![A-Za-z0-9_.-]){_KEY_PART}(?:[ \t]*+\.[ \t]*+{_KEY_PART}){{{MAX_DEPTH},}}")


def _unquote(key: str) -> str:
    key = key.strip()
    if len(key) >= 2 and key[0] == key[-1] and key[0] in "\"'":
        return key[1:-1]
    return key


@dataclass
class TomlSource:
    """A parsed TOML file that can say on which line a key stands."""

    path: Path
    text: str
    data: dict[str, Any]
    _index: dict[str, int] = field(default_factory=dict)
    _lengths: set[int] = field(default_factory=set)

    @classmethod
    def read(cls, path: Path) -> TomlSource:
        """Read and parse ``path``; raises LoadError naming the file and line on any failure."""
        return cls.parse(read_bytes(path), path)

    @classmethod
    def parse(cls, raw: bytes | str, path: Path) -> TomlSource:
        text = decode(raw, path)
        deep_key = _DEEP_KEY.search(text)
        if deep_key:
            raise LoadError.single(path, line_at(text, deep_key.start()), "", TOO_DEEP)
        with guarded(path, text):
            try:
                data = tomllib.loads(text)
            except tomllib.TOMLDecodeError as error:
                message = str(error)
                found = _LINE_IN_MESSAGE.search(message)
                # "at end of document": a truncated file ends on its last line with content.
                line = int(found.group(1)) if found else text.rstrip().count("\n") + 1
                reason = re.sub(r"\s*\(at .*\)$", "", message) or "invalid TOML"
                raise LoadError.single(path, line, "", f"invalid TOML: {reason}") from None
        source = cls(path, text, data)
        source._build_index()
        problem = tree_problem(data)
        if problem is not None:
            key, reason = problem
            raise LoadError.single(path, source.line_within(key), key, reason)
        return source

    def _build_index(self) -> None:
        """Map dotted keys (with [n] for array tables) to the line where they are defined."""
        array_counts: dict[str, int] = {}
        table = ""
        # Split on "\n" only, as tomllib counts lines (splitlines would also break at U+2028 in a string).
        for number, line in enumerate(self.text.split("\n"), start=1):
            header = _TABLE_HEADER.match(line)
            if header and not _KEY_LINE.match(line):
                parts = [_unquote(p) for p in _split_dotted(header.group(1).strip())]
                name = ".".join(parts)
                if line.lstrip().startswith("[["):
                    # Array of tables: nested ones count within their parent's current element.
                    parent = _resolve_arrays(".".join(parts[:-1]), array_counts) if len(parts) > 1 else ""
                    full = f"{parent}.{parts[-1]}" if parent else parts[-1]
                    index = array_counts.get(full, -1) + 1
                    array_counts[full] = index
                    table = f"{full}[{index}]"
                else:
                    table = _resolve_arrays(name, array_counts)
                self._index.setdefault(table, number)
                continue
            key = _KEY_LINE.match(line)
            if key:
                parts = [_unquote(p) for p in _split_dotted(key.group(1))]
                dotted = ".".join(parts)
                self._index.setdefault(f"{table}.{dotted}" if table else dotted, number)
        self._lengths = {len(key) for key in self._index}

    def line_of(self, key: str) -> int:
        """The line of ``key`` (e.g. ``acts[1].cues[0].at``), or of its nearest enclosing table."""
        # Only prefixes as long as some indexed key are looked up: a key of thousands of parts
        # (from a hostile file) then costs one pass, not one slice and hash per part.
        cuts = [match.start() for match in _KEY_CUT.finditer(key) if match.start() > 0]
        for end in (len(key), *reversed(cuts)):
            if end in self._lengths and key[:end] in self._index:
                return self._index[key[:end]]
        return 1

    def line_within(self, key: str) -> int:
        """The first line of ``key`` or of a key under it: where a dotted key deeper than ``key`` stands."""
        under = (f"{key}.", f"{key}[")
        lines = [line for name, line in self._index.items() if name == key or name.startswith(under)]
        return min(lines, default=self.line_of(key))

    def problem(self, key: str, reason: str) -> Problem:
        return Problem(str(self.path), self.line_of(key), key, reason)


def parse_document(text: str, path: Path) -> tomlkit.TOMLDocument:
    """``text`` as a tomlkit document, to edit in place keeping comments; LoadError if it cannot be.

    The text must first load as a :class:`TomlSource`, so tomlkit never meets a file that the
    loaders' guards refuse (deep nesting, huge keys).
    """
    TomlSource.parse(text, path)
    try:
        return tomlkit.parse(text)
    except (TOMLKitError, ValueError, RecursionError) as error:
        raise LoadError.single(path, getattr(error, "line", 0), "", f"cannot edit in place: {error}") from None


def _split_dotted(text: str) -> list[str]:
    """Split ``a."b.c".d`` into ['a', '"b.c"', 'd']."""
    parts: list[str] = []
    current = ""
    quote = ""
    for char in text:
        if quote:
            current += char
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
            current += char
        elif char == ".":
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return parts


def _resolve_arrays(name: str, array_counts: Mapping[str, int]) -> str:
    """Turn ``acts.cues`` into ``acts[2].cues`` using the current element of each array table."""
    parts = name.split(".")
    resolved: list[str] = []
    for part in parts:
        prefix = ".".join([*resolved, part])
        if prefix in array_counts:
            resolved.append(f"{part}[{array_counts[prefix]}]")
        else:
            resolved.append(part)
    return ".".join(resolved)


class Checker:
    """Collects problems while reading a parsed TOML document into typed values.

    Each accessor returns a usable fallback after recording a problem, so a loader can keep
    going and report every mistake in a file at once; :meth:`raise_if_any` ends the load.
    """

    def __init__(self, source: TomlSource) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def fail(self, key: str, reason: str) -> None:
        self.problems.append(self.source.problem(key, reason))

    def raise_if_any(self) -> None:
        if self.problems:
            raise LoadError(self.problems)

    def table(self, parent: Mapping[str, Any], name: str, key: str, required: bool = True) -> dict[str, Any]:
        value = parent.get(name)
        if value is None:
            if required:
                self.fail(key, f"missing table [{key}]")
            return {}
        if not isinstance(value, dict):
            self.fail(key, "must be a table")
            return {}
        return value

    def tables(self, parent: Mapping[str, Any], name: str, key: str, limit: int | None = None) -> list[dict[str, Any]]:
        """An array of tables (``[[key]]``); more than ``limit`` of them is a problem, and none are read."""
        value = parent.get(name, [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.fail(key, f"must be an array of tables ([[{key}]])")
            return []
        if limit is not None and len(value) > limit:
            self.fail(key, f"more than {limit} entries")
            return []
        return value

    def string(self, table: Mapping[str, Any], name: str, key: str, default: str | None = None,
               pattern: re.Pattern[str] | None = None) -> str:
        value = table.get(name, default)
        if value is None:
            self.fail(key, "missing")
            return ""
        if not isinstance(value, str):
            self.fail(key, f"must be a string, got {type(value).__name__}")
            return default or ""
        if pattern is not None and not pattern.match(value):
            self.fail(key, f"{value!r} does not match {pattern.pattern}")
            return default or ""
        return value

    def number(self, table: Mapping[str, Any], name: str, key: str, default: float | None = None,
               minimum: float = -math.inf, maximum: float = math.inf) -> float:
        value = table.get(name, default)
        if value is None:
            self.fail(key, "missing")
            return minimum if math.isfinite(minimum) else 0.0
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(key, f"must be a number, got {type(value).__name__}")
            return default if default is not None else max(minimum, 0.0)
        if not math.isfinite(value) or not minimum <= value <= maximum:
            self.fail(key, f"{value!r} is outside [{minimum:g}, {maximum:g}]")
            return default if default is not None else min(max(minimum, 0.0), maximum)
        return float(value)

    def integer(self, table: Mapping[str, Any], name: str, key: str, default: int | None = None,
                minimum: int = -(2**63), maximum: int = 2**63 - 1) -> int:
        value = table.get(name, default)
        if value is None:
            self.fail(key, "missing")
            return max(minimum, 0)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"must be an integer, got {type(value).__name__}")
            return default if default is not None else max(minimum, 0)
        if not minimum <= value <= maximum:
            self.fail(key, f"{value} is outside [{minimum}, {maximum}]")
            return default if default is not None else max(minimum, 0)
        return value

    def boolean(self, table: Mapping[str, Any], name: str, key: str, default: bool) -> bool:
        value = table.get(name, default)
        if not isinstance(value, bool):
            self.fail(key, f"must be true or false, got {type(value).__name__}")
            return default
        return value

    def unknown_keys(self, table: Mapping[str, Any], allowed: set[str], key: str) -> None:
        for name in table:
            if name not in allowed:
                where = f"{key}.{name}" if key else name
                self.fail(where, f"unknown key (expected one of: {', '.join(sorted(allowed))})")

    def guard(self, key: str, action: Callable[[], T], fallback: T) -> T:
        """Run ``action``; a ValueError becomes a problem at ``key`` and ``fallback`` is returned."""
        try:
            return action()
        except ValueError as error:
            self.fail(key, str(error))
            return fallback


def rotate_backups(path: Path, keep: int = BACKUPS_KEPT) -> None:
    """Keep ``keep`` previous versions beside ``path`` as ``.name.toml.1`` (newest) .. ``.N``."""
    if not path.exists():
        return
    def backup(index: int) -> Path:
        return path.with_name(f".{path.name}.{index}")
    oldest = backup(keep)
    if oldest.exists():
        oldest.unlink()
    for index in range(keep - 1, 0, -1):
        if backup(index).exists():
            os.replace(backup(index), backup(index + 1))
    # A copy, not a rename: the current file stays in place until the new one replaces it.
    atomic_write(backup(1), path.read_bytes(), keep_backups=False)


def atomic_write(path: Path, content: bytes, *, keep_backups: bool = True) -> None:
    """Write ``content`` to ``path`` so that a reader sees either the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if keep_backups:
        rotate_backups(path)
    with _temporary_beside(path) as (handle, temporary):
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
        os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


@contextmanager
def _temporary_beside(path: Path) -> Iterator[tuple[Any, Path]]:
    descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temporary = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            yield handle, temporary
    finally:
        if temporary.exists():
            temporary.unlink()
