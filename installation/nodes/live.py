"""The live nodes' state as columns (one row a node), so the mux's per-frame work on thousands of
live nodes is a few array operations rather than a Python loop over them.

A row is written when a reading arrives (the engine thread, a few hundred a frame at most) and
every column is advanced together once a frame. :class:`LiveNode` is the same state as a record:
snapshots, the status page and tests read and write that.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from installation.core.frames import NodeReading

MEASURED = ("potential_mv", "toxin", "waste", "moisture")


@dataclass
class LiveNode:
    reading: NodeReading
    last_t: float  # mux time of the latest reading
    weight: float = 0.0  # how much of the node's output is live (0..1)
    baseline: float = math.nan
    armed: bool = True
    activity: float = 0.0


class LiveTable:
    def __init__(self) -> None:
        self.ids: list[str] = []
        self.readings: list[NodeReading] = []
        self.rows: dict[str, int] = {}
        self.values = np.empty((0, len(MEASURED)))  # the latest reading's values, NaN where not measured
        self.last_t = np.empty(0)
        self.weight = np.empty(0)
        self.baseline = np.empty(0)
        self.activity = np.empty(0)
        self.armed = np.empty(0, bool)

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, reading: NodeReading, t: float) -> int:
        """The reading becomes its node's latest (a new node gets a row); returns the row."""
        row = self.rows.get(reading.node)
        if row is None:
            row = self._append(LiveNode(reading, t))
        self.readings[row] = reading
        self.values[row] = [getattr(reading, name) for name in MEASURED]
        self.last_t[row] = t
        return row

    def _append(self, node: LiveNode) -> int:
        row = len(self.ids)
        if row == len(self.last_t):  # grow by doubling
            size = max(16, 2 * row)
            self.values = np.resize(self.values, (size, len(MEASURED)))
            for name in ("last_t", "weight", "baseline", "activity", "armed"):
                setattr(self, name, np.resize(getattr(self, name), size))
        self.ids.append(node.reading.node)
        self.readings.append(node.reading)
        self.rows[node.reading.node] = row
        self.values[row] = [getattr(node.reading, name) for name in MEASURED]
        self.last_t[row], self.weight[row], self.baseline[row] = node.last_t, node.weight, node.baseline
        self.activity[row], self.armed[row] = node.activity, node.armed
        return row

    def records(self) -> dict[str, LiveNode]:
        return {node: LiveNode(self.readings[row], float(self.last_t[row]), float(self.weight[row]),
                               float(self.baseline[row]), bool(self.armed[row]), float(self.activity[row]))
                for node, row in self.rows.items()}

    @classmethod
    def of(cls, records: Mapping[str, LiveNode]) -> LiveTable:
        table = cls()
        for record in records.values():
            table._append(record)
        return table

    def column(self, name: str) -> NDArray[np.float64]:
        """The rows in use of one of the per-node columns."""
        return getattr(self, name)[:len(self.ids)]  # type: ignore[no-any-return]
