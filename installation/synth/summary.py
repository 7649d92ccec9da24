"""What the synth needs from a WorldFrame, reduced to a compact value.

The realtime engine sends this (not the whole frame, whose fields are grids) to the audio
process each tick; the offline renderer uses the same reduction, so both sound the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from installation.core.events import Event
from installation.core.frames import WorldFrame, with_all_events


@dataclass(frozen=True)
class FrameSummary:
    t: float
    node_ids: tuple[str, ...]
    positions: NDArray[np.float32]  # (N, 2)
    potential_mv: NDArray[np.float32]
    toxin: NDArray[np.float32]
    live: NDArray[np.bool_]
    density: float  # mean hyphal density 0..1
    toxin_level: float  # the network's toxicity 0..1
    flora: float
    waste: float
    flow: float  # mean link flow 0..1
    extent: float  # how far the network spreads over the canvas 0..1
    events: tuple[Event, ...] = ()
    beat: float | None = None  # the tempo's beat position at ``t`` (None: no tempo to follow)
    bpm: float = 0.0


def _mean(grid: NDArray[np.float32] | None) -> float:
    if grid is None or grid.size == 0:
        return 0.0
    value = float(np.mean(grid))
    return min(1.0, max(0.0, value)) if np.isfinite(value) else 0.0


def summarise(frame: WorldFrame) -> FrameSummary:
    fields = frame.fields
    toxin_nodes = float(np.mean(frame.toxin)) if frame.node_count else 0.0
    field_toxin = _mean(fields.get("toxin"))
    # toxin pools are local: their peak matters as well as the mean
    toxin_grid = fields.get("toxin")
    toxin_peak = float(np.max(toxin_grid)) if toxin_grid is not None and toxin_grid.size else 0.0
    toxin_level = min(1.0, max(toxin_nodes, 0.5 * field_toxin + 0.5 * field_toxin ** 0.5 * toxin_peak))
    if frame.node_count > 1:
        extent = float(min(1.0, 2.0 * np.mean(np.std(frame.positions, axis=0)) * 1.7))
    else:
        extent = 0.0
    flow = float(np.mean(frame.flow)) if len(frame.flow) else 0.0
    return FrameSummary(
        t=frame.t,
        node_ids=frame.node_ids,
        positions=np.asarray(frame.positions, np.float32),
        potential_mv=np.asarray(frame.potential_mv, np.float32),
        toxin=np.asarray(frame.toxin, np.float32),
        live=np.asarray(frame.live, bool),
        density=_mean(fields.get("density")),
        toxin_level=toxin_level if np.isfinite(toxin_level) else 0.0,
        flora=_mean(fields.get("flora")),
        waste=_mean(fields.get("waste")),
        flow=min(1.0, max(0.0, flow)) if np.isfinite(flow) else 0.0,
        extent=extent if np.isfinite(extent) else 0.0,
        events=frame.events,
    )


def summarise_steps(frames: Sequence[WorldFrame]) -> FrameSummary:
    """Several steps at once (a tick that caught up): the last state, every step's events."""
    if not frames:
        raise ValueError("no frames to summarise")
    return summarise(with_all_events(frames))
