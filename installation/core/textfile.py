"""Reading Myco's text files so that no file on disk can crash, hang or stall a loader.

Every loader (presets, seeds, shows, MIDI maps, looks, shader files, node recordings, the
resume state) reads through here, so a hostile file meets the same guards everywhere and
ends as the loaders' :class:`LoadError` (``file:line: key: reason``), never a traceback:

- only a regular file is read. A folder, a named pipe or a device is refused after a
  non-blocking open: a plain open of a named pipe would wait for a writer forever;
- a size cap, checked before reading;
- a UTF-8 byte-order mark, which Windows editors write, is dropped. It is not a line break,
  so line numbers stay right; CRLF line endings are left to the parsers, which accept them;
- invalid UTF-8 and NUL bytes are refused at their line;
- parsers run inside :func:`guarded`: tomllib and json recurse once per nesting level, and
  ``int()`` refuses numbers of thousands of digits, so both become the loader's error;
- :func:`tree_problem` bounds what a parse may hand on (nesting depth, 64-bit integers), so
  nothing that walks the data later can recurse without bound or overflow a float.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, TypeAlias

from installation.core.errors import LoadError

MAX_TEXT_BYTES = 256 * 1024  # forty times the largest shipped file; tomllib reads it well within a second
MAX_DEPTH = 16  # Myco's formats nest four levels at most; tomllib slows with the square of a key's parts
TOO_DEEP = f"nested more than {MAX_DEPTH} levels deep"
INT_MIN, INT_MAX = -(2**63), 2**63 - 1  # TOML's integers (and any count or seed Myco reads)

BOM = "\ufeff"
_BRACKETS = re.compile(r"[\[\]{}]")

# (key, enclosing trail): the way to a value in parsed data, built only when a problem is reported.
_Trail: TypeAlias = "tuple[str | int, _Trail] | None"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _too_large(path: Path, limit: int) -> LoadError:
    size = next(f"{limit >> shift:g} {unit}" for shift, unit in ((30, "GiB"), (20, "MiB"), (10, "KiB"), (0, "bytes"))
                if limit >> shift)
    return LoadError.single(path, 0, "", f"file is larger than {size}")


def open_regular(path: Path, limit: int) -> BinaryIO:
    """Open ``path`` for reading in binary if it is a regular file of at most ``limit`` bytes.

    The open never blocks (O_NONBLOCK), and the type is taken from the open descriptor, so a
    file swapped for a named pipe between a check and the open cannot slip through.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        raise LoadError.single(path, 0, "", f"cannot read: {error.strerror or error}") from None
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise LoadError.single(path, 0, "", f"{_kind(status.st_mode)}, not a file")
        if status.st_size > limit:
            raise _too_large(path, limit)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def read_bytes(path: Path, limit: int = MAX_TEXT_BYTES) -> bytes:
    with open_regular(path, limit) as file:
        try:
            raw = file.read(limit + 1)
        except OSError as error:
            raise LoadError.single(path, 0, "", f"cannot read: {error.strerror or error}") from None
    if len(raw) > limit:  # it grew since it was opened
        raise _too_large(path, limit)
    return raw


def decode(raw: bytes | str, path: Path, first_line: int = 1) -> str:
    """Text from ``raw`` (the lines of ``path`` from ``first_line``) without a byte-order mark.

    Invalid UTF-8 and NUL bytes (no format Myco reads allows a raw NUL) are refused at their line.
    """
    if isinstance(raw, bytes):
        try:
            text = raw.removeprefix(codecs.BOM_UTF8).decode("utf-8")
        except UnicodeDecodeError as error:
            start = error.start + (len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0)
            line = first_line + raw.count(b"\n", 0, start)
            raise LoadError.single(path, line, "", "not valid UTF-8 text") from None
    else:
        text = raw.removeprefix(BOM)
    nul = text.find("\0")
    if nul >= 0:
        raise LoadError.single(path, first_line + text.count("\n", 0, nul), "", "contains a NUL byte (binary data?)")
    return text


def read_text(path: Path, limit: int = MAX_TEXT_BYTES) -> str:
    """The text of the regular file ``path`` (at most ``limit`` bytes of UTF-8); LoadError otherwise."""
    return decode(read_bytes(path, limit), path)


def mtime(path: Path) -> int:
    """A file's modification stamp, to reload it after an edit; -1 while it is missing (mid-save)."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return -1


def line_at(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _deepest_line(text: str) -> int:
    """The line where brackets are nested deepest (strings are not told apart: for error messages)."""
    depth = deepest = where = 0
    for match in _BRACKETS.finditer(text):
        depth += 1 if match.group() in "[{" else -1
        if depth > deepest:
            deepest, where = depth, match.start()
    return line_at(text, where)


def _digits_line(text: str, digits: int) -> int | None:
    """The line of the first run of at least ``digits`` digits (underscores allowed, as in TOML)."""
    found = re.search(f"(?<![0-9_])[0-9][0-9_]{{{digits - 1},}}", text)  # from a run's start: linear
    return line_at(text, found.start()) if found else None


@contextmanager
def guarded(path: Path, text: str, first_line: int = 1, key: str = "") -> Iterator[None]:
    """Around a parser's call: its recursion, and ``int()`` refusing a huge number, become a LoadError.

    The parser's own syntax errors are the caller's to catch inside: they carry positions.
    """
    try:
        yield
    except RecursionError:
        raise LoadError.single(path, first_line - 1 + _deepest_line(text), key, TOO_DEEP) from None
    except ValueError as error:  # not a syntax error: int() refusing thousands of digits
        line = _digits_line(text, sys.get_int_max_str_digits() or 1)
        if line is None:
            raise LoadError.single(path, first_line, key, f"cannot read: {error}") from None
        raise LoadError.single(path, first_line - 1 + line, key, "a number too long to read") from None


def _key(trail: _Trail) -> str:
    parts: list[str] = []
    while trail is not None:
        name, trail = trail
        parts.append(f"[{name}]" if isinstance(name, int) else f".{name}")
    return "".join(reversed(parts)).removeprefix(".")


def tree_problem(data: object) -> tuple[str, str] | None:
    """The key and reason of a value in parsed ``data`` no loader should meet, or None.

    Containers nested more than :data:`MAX_DEPTH` deep, and integers beyond 64 bits (which
    ``float()`` and ``math.isfinite`` refuse with OverflowError). Iterative, so it cannot
    recurse itself.
    """
    stack: list[tuple[object, int, _Trail]] = [(data, 0, None)]
    while stack:
        value, depth, trail = stack.pop()
        if isinstance(value, int) and not isinstance(value, bool):
            if not INT_MIN <= value <= INT_MAX:
                return _key(trail), "integer outside the 64-bit range"
            continue
        if isinstance(value, dict):
            items: Any = value.items()
        elif isinstance(value, list):
            items = enumerate(value)
        else:
            continue
        if depth >= MAX_DEPTH:
            return _key(trail), TOO_DEEP
        stack.extend((child, depth + 1, (name, trail)) for name, child in items)
    return None


def loads_json(text: str, path: Path, first_line: int = 1, key: str = "") -> Any:
    """Parse JSON found at ``first_line`` of ``path``; any failure is a LoadError at its line.

    ``key`` names what the JSON is (e.g. a shader's ``header``) in the errors that have no key.
    """
    with guarded(path, text, first_line, key):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise LoadError.single(path, first_line + error.lineno - 1, key, f"invalid JSON: {error.msg}") from None
    problem = tree_problem(data)
    if problem is not None:
        where, reason = problem
        line = _deepest_line(text) if reason == TOO_DEEP else _digits_line(text, 19) or 1
        raise LoadError.single(path, first_line - 1 + line, where or key, reason)
    return data

