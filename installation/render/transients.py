"""The renderer's memory of recent events: what the transient layers still show.

Not model state: only how long ago each event happened, so a surge's wave can keep
travelling after the frame that carried it. Packed into a 32x2 float texture for the
shaders (see ``shaders/include/events.glsl``). Pure numpy, no GL.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from installation.core.events import Event, EventKind

SLOTS = 32
KIND_CODES = {kind: index for index, kind in enumerate(EventKind)}
# How long each kind stays on screen, in seconds at strength 1.
DURATIONS = {
    EventKind.SURGE: 7.0,
    EventKind.SPIKE_BURST: 4.0,
    EventKind.TOXIN_CLUSTER: 16.0,
    EventKind.PURIFICATION: 10.0,
    EventKind.CLUSTER_PURIFIED: 6.0,
    EventKind.BLOOM: 10.0,
    EventKind.DISRUPTION: 12.0,
    EventKind.SHIELD: 10.0,
    EventKind.INTERFERENCE: 9.0,
    EventKind.NODE_JOINED: 4.0,
    EventKind.LINK_FUSED: 2.0,
    EventKind.NODE_LOST: 3.0,
}
NEVER = 1.0e4  # "seconds since" for something that has not happened


def glsl_defines() -> dict[str, str]:
    """``EV_<KIND>`` codes for the shaders, as floats."""
    return {f"EV_{kind.name}": f"{code}.0" for kind, code in KIND_CODES.items()}


@dataclass
class Transient:
    kind: EventKind
    start: float
    x: float
    y: float
    strength: float
    duration: float
    seed: float
    turn: float = NEVER  # for drones: their age when a shield rose


class Transients:
    """Recent events and node spikes, aged by the renderer's clock."""

    def __init__(self) -> None:
        self.items: list[Transient] = []
        self.spikes: dict[str, float] = {}
        self.joined: dict[str, float] = {}
        self._count = 0

    def add(self, events: Iterable[Event], now: float, node_ids: tuple[str, ...],
            positions: NDArray[np.float32]) -> None:
        for event in events:
            if event.kind is EventKind.SPIKE:
                if event.node is not None:
                    self.spikes[event.node] = now
                continue
            if event.kind is EventKind.SPIKE_BURST:
                # A burst makes every node near it spike, so pulses leave along its links.
                for index, node in enumerate(node_ids):
                    if event.x is None or math.dist((event.x, event.y or 0.5), positions[index]) < 0.25:
                        self.spikes[node] = now
            if event.kind is EventKind.NODE_JOINED and event.node is not None:
                self.joined[event.node] = now
            duration = DURATIONS.get(event.kind)
            if duration is None:
                continue
            x, y = self._place(event, node_ids, positions)
            self._count += 1
            item = Transient(event.kind, now, x, y, event.strength, duration * (0.6 + 0.4 * event.strength),
                             seed=(self._count * 0.6180339) % 1.0)
            if event.kind is EventKind.SHIELD:
                for other in self.items:
                    if other.kind is EventKind.DISRUPTION and other.turn >= NEVER:
                        other.turn = now - other.start
            self.items.append(item)
        self.items = [i for i in self.items if now - i.start < i.duration][-SLOTS:]

    @staticmethod
    def _place(event: Event, node_ids: tuple[str, ...], positions: NDArray[np.float32]) -> tuple[float, float]:
        if event.x is not None:
            return event.x, event.y if event.y is not None else 0.5
        if event.node is not None and event.node in node_ids:
            x, y = positions[node_ids.index(event.node)]
            return float(x), float(y)
        return -1.0, -1.0

    def texture(self, now: float) -> NDArray[np.float32]:
        data = np.zeros((2, SLOTS, 4), np.float32)
        for slot, item in enumerate(self.items[:SLOTS]):
            data[0, slot] = (KIND_CODES[item.kind], item.x, item.y, now - item.start)
            data[1, slot] = (item.strength, item.duration, item.seed, item.turn)
        return data

    def envelopes(self, now: float) -> dict[str, float]:
        """Per kind, the strongest ``strength * (1 - age/duration)`` still running."""
        result: dict[str, float] = {}
        for item in self.items:
            level = item.strength * max(0.0, 1.0 - (now - item.start) / item.duration)
            result[item.kind.value] = max(result.get(item.kind.value, 0.0), level)
        return result

    def since_spike(self, node_ids: tuple[str, ...], now: float) -> NDArray[np.float32]:
        return np.array([now - self.spikes.get(n, -NEVER) for n in node_ids], np.float32)

    def since_joined(self, node_ids: tuple[str, ...], now: float) -> NDArray[np.float32]:
        return np.array([now - self.joined.get(n, -NEVER) for n in node_ids], np.float32)
