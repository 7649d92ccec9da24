"""The data contract: node readings in, world frames out.

A :class:`NodeReading` is one validated sample from one node (live or simulated). A
:class:`WorldFrame` is what one engine step hands to the renderer and the synth: the
nodes as parallel arrays, the links with their flow, the coarse fields, and the events.
Positions are canvas coordinates in 0..1 on both axes (the seed gives the aspect).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from installation.core.events import Event

NODE_ID_PATTERN = re.compile(r"^[a-z0-9_-]{1,32}$")
FIELD_NAMES = ("waste", "toxin", "density", "flora")

# Validation bounds for live readings. Fungal spikes are tens of microvolts to a few
# millivolts; anything beyond +-100 mV is a wiring fault, not a signal.
POTENTIAL_LIMIT_MV = 100.0

FloatArray = NDArray[np.float32]


@dataclass(frozen=True)
class NodeReading:
    """One sample from one node. Construct through ``installation.nodes.validate``."""

    node: str
    t: float
    potential_mv: float
    toxin: float
    waste: float
    moisture: float
    x: float | None = None
    y: float | None = None
    source: str = "sim"


@dataclass(frozen=True)
class WorldFrame:
    """One tick of the world, as the visuals and the sound see it.

    Node arrays share the order of ``node_ids``. ``links`` holds index pairs into them;
    ``flow`` (0..1, how much passes) and ``thickness`` (0..1) are per link. ``fields`` maps
    each name in :data:`FIELD_NAMES` to a small float32 grid (rows = y, columns = x) in 0..1.
    ``activity`` is each node's recent spiking in 0..1, for glow and loudness.
    """

    step: int
    t: float
    node_ids: tuple[str, ...]
    positions: FloatArray  # (N, 2)
    potential_mv: FloatArray  # (N,)
    toxin: FloatArray  # (N,)
    waste: FloatArray  # (N,)
    moisture: FloatArray  # (N,)
    activity: FloatArray  # (N,)
    live: NDArray[np.bool_]  # (N,) True where the node's data came from a sensor
    links: NDArray[np.int32]  # (E, 2)
    flow: FloatArray  # (E,)
    thickness: FloatArray  # (E,)
    fields: dict[str, FloatArray]
    events: tuple[Event, ...] = ()
    aspect: float = 16 / 9
    kinds: tuple[str, ...] = field(default=())

    @property
    def node_count(self) -> int:
        return len(self.node_ids)

    def index_of(self, node_id: str) -> int:
        return self.node_ids.index(node_id)


def empty_frame(grid: tuple[int, int] = (64, 64), aspect: float = 16 / 9) -> WorldFrame:
    """A frame with no nodes and empty fields: what outputs show before the first step."""
    none = np.zeros(0, np.float32)
    return WorldFrame(
        step=0,
        t=0.0,
        node_ids=(),
        positions=np.zeros((0, 2), np.float32),
        potential_mv=none,
        toxin=none,
        waste=none,
        moisture=none,
        activity=none,
        live=np.zeros(0, bool),
        links=np.zeros((0, 2), np.int32),
        flow=none,
        thickness=none,
        fields={name: np.zeros(grid, np.float32) for name in FIELD_NAMES},
        aspect=aspect,
    )


def with_all_events(frames: Sequence[WorldFrame]) -> WorldFrame:
    """The newest frame carrying the events of every step since the last draw, so none is missed."""
    if len(frames) == 1:
        return frames[0]
    return replace(frames[-1], events=tuple(event for frame in frames for event in frame.events))
