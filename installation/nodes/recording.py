"""Recordings: node readings and events with their times, one JSON object per line.

The format (``myco-nodes`` version 1), documented in ``docs/nodes.md``::

    {"type": "header", "format": "myco-nodes", "version": 1, "source": "simulate", "seed": "kai-city"}
    {"type": "reading", "t": 0.5, "node": "n1", "potential_mv": 0.12, "toxin": 0.3, "waste": null, ...}
    {"type": "event", "t": 0.5, "kind": "spike", "strength": 1.2, "x": 0.4, "y": 0.6, "node": "n1", ...}

``t`` is seconds from the start of the recording. ``null`` marks a value the node does not
measure. A :class:`Replay` hands the readings back on their times, as a live source would.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO

from installation.core.errors import LoadError, Problem
from installation.core.events import Event
from installation.core.frames import NodeReading, WorldFrame
from installation.core.textfile import decode, loads_json, open_regular
from installation.nodes.validate import Rejection, validate

FORMAT = "myco-nodes"
VERSION = 1
MAX_LINE = 4096
# Hours of readings are legitimately large, and lines are read one at a time, so the cap is only
# against absurd files: the readings are kept in memory.
MAX_RECORDING_BYTES = 1 << 30
READING_FIELDS = ("potential_mv", "toxin", "waste", "moisture", "x", "y")


def _value(number: float | None) -> float | None:
    return None if number is None or math.isnan(number) else round(float(number), 6)


class RecordingWriter:
    """Writes a recording line by line (flushed often, so a crash loses at most a moment)."""

    def __init__(self, path: Path, source: str, **header: str | float) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: IO[str] = path.open("w", encoding="utf-8")
        self._lines = 0
        self._write({"type": "header", "format": FORMAT, "version": VERSION, "source": source, **header})

    def _write(self, record: dict[str, Any]) -> None:
        self._file.write(json.dumps(record, separators=(",", ":")) + "\n")
        self._lines += 1
        if self._lines % 256 == 0:
            self._file.flush()

    def reading(self, reading: NodeReading, t: float) -> None:
        record: dict[str, Any] = {"type": "reading", "t": round(t, 6), "node": reading.node, "source": reading.source}
        record.update({name: _value(getattr(reading, name)) for name in READING_FIELDS})
        self._write(record)

    def event(self, event: Event) -> None:
        self._write({"type": "event", "t": round(event.t, 6), "kind": event.kind.value, "strength": event.strength,
                     "x": event.x, "y": event.y, "node": event.node, "source": event.source,
                     "data": dict(event.data)})

    def frame(self, frame: WorldFrame, readings: bool = True) -> None:
        """Every node's state (as readings) and the frame's events."""
        if readings:
            for reading in frame_readings(frame):
                self.reading(reading, frame.t)
        for event in frame.events:
            self.event(event)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def frame_readings(frame: WorldFrame) -> list[NodeReading]:
    """A frame's nodes as readings: the simulation (or the mux) seen as a source of readings."""
    return [NodeReading(node, frame.t, float(frame.potential_mv[i]), float(frame.toxin[i]), float(frame.waste[i]),
                        float(frame.moisture[i]), float(frame.positions[i, 0]), float(frame.positions[i, 1]),
                        "live" if frame.live[i] else "sim")
            for i, node in enumerate(frame.node_ids)]


@dataclass
class Recording:
    header: dict[str, Any]
    readings: list[tuple[float, NodeReading]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return self.readings[-1][0] if self.readings else 0.0


def read_recording(path: Path, source: str = "replay") -> Recording:
    """Read a recording; bad lines are skipped and reported as ``file:line`` problems.

    A file that cannot be read at all (missing, a folder, a named pipe, over the size cap)
    raises :class:`LoadError`.
    """
    recording = Recording(header={})
    with open_regular(path, MAX_RECORDING_BYTES) as file:
        for number, line in enumerate(_lines(file), start=1):
            problem = _line(recording, path, number, line, source)
            if problem:
                recording.problems.append(Problem(str(path), number, "", problem))
    if recording.header.get("format") != FORMAT:
        recording.problems.insert(0, Problem(str(path), 1, "format", f"not a {FORMAT} recording"))
    recording.readings.sort(key=lambda item: item[0])
    return recording


def _lines(file: BinaryIO) -> Iterator[bytes | None]:
    """The file's lines; None for one longer than MAX_LINE, skipped without holding it in memory."""
    while line := file.readline(MAX_LINE + 1):
        if len(line) > MAX_LINE:
            while line and not line.endswith(b"\n"):
                line = file.readline(1 << 16)
            yield None
        else:
            yield line


def _line(recording: Recording, path: Path, number: int, line: bytes | None, source: str) -> str:
    if line is None:
        return "line too long"
    try:
        text = decode(line, path, number)
        if not text.strip():
            return ""
        record = loads_json(text, path, number)
    except LoadError as error:
        return error.problems[0].reason
    if not isinstance(record, dict):
        return "not a JSON object"
    kind = record.get("type")
    t = record.get("t")
    if kind == "header":
        if recording.header:
            return "a second header"
        recording.header = record
        return ""
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t < 0:
        return "t must be a finite number of seconds >= 0"
    if kind == "event":
        recording.events.append(record)
        return ""
    if kind != "reading":
        return f"unknown record type {kind!r}"
    values = {name: record[name] for name in READING_FIELDS if record.get(name) is not None}
    reading = validate(record.get("node"), values, t=float(t), source=source)
    if isinstance(reading, Rejection):
        return f"{reading.reason}: {reading.detail}"
    recording.readings.append((float(t), reading))
    return ""


def open_replay(path: Path, loop: bool = False) -> Replay:
    """A replay of the recording at ``path``; a file that is no recording at all raises LoadError."""
    try:
        recording = read_recording(path)
    except OSError as error:  # a read failing midway (a disk error)
        raise LoadError.single(path, 0, "", f"cannot read recording: {error}") from None
    if recording.header.get("format") != FORMAT:
        raise LoadError(recording.problems[:20])
    return Replay(recording, loop)


class Replay:
    """Hands out a recording's readings as their times come due (optionally looping)."""

    def __init__(self, recording: Recording, loop: bool = False) -> None:
        self.recording = recording
        self.loop = loop
        self._index = 0
        self._offset = 0.0

    @property
    def finished(self) -> bool:
        return not self.loop and self._index >= len(self.recording.readings)

    def due(self, t: float) -> Iterator[NodeReading]:
        readings = self.recording.readings
        if not readings:
            return
        while True:
            while self._index < len(readings) and readings[self._index][0] + self._offset <= t:
                yield readings[self._index][1]
                self._index += 1
            if self._index < len(readings) or not self.loop:
                return
            # Loop: start again after the last reading, at least a step later.
            self._offset += max(self.recording.duration_s, 1e-3)
            self._index = 0
