"""Synthetic WorldFrames for the synth tests: a small network with controllable state."""

from __future__ import annotations

import numpy as np

from installation.core.events import Event
from installation.core.frames import FIELD_NAMES, WorldFrame

STEP_S = 1 / 60


def frame(step: int, *, nodes: int = 6, density: float = 0.4, toxin: float = 0.0, flow: float = 0.5,
          flora: float = 0.0, waste: float = 0.0, events: tuple[Event, ...] = (), live: bool = False,
          potential: np.ndarray | None = None, node_toxin: float | None = None) -> WorldFrame:
    rng = np.random.default_rng(7)
    positions = rng.random((nodes, 2)).astype(np.float32)
    links = np.array([(i, (i + 1) % nodes) for i in range(nodes)], np.int32)
    grids = {name: np.zeros((16, 16), np.float32) for name in FIELD_NAMES}
    grids["density"][:] = density
    grids["toxin"][:] = toxin
    grids["flora"][:] = flora
    grids["waste"][:] = waste
    return WorldFrame(
        step=step,
        t=(step + 1) * STEP_S,
        node_ids=tuple(f"n{i}" for i in range(nodes)),
        positions=positions,
        potential_mv=np.zeros(nodes, np.float32) if potential is None else potential.astype(np.float32),
        toxin=np.full(nodes, toxin if node_toxin is None else node_toxin, np.float32),
        waste=np.full(nodes, waste, np.float32),
        moisture=np.full(nodes, 0.5, np.float32),
        activity=np.full(nodes, 0.5, np.float32),
        live=np.full(nodes, live, bool),
        links=links,
        flow=np.full(len(links), flow, np.float32),
        thickness=np.full(len(links), 0.5, np.float32),
        fields=grids,
        events=events,
    )


def frames(seconds: float, events_at: dict[int, tuple[Event, ...]] | None = None, **state: object) -> list[WorldFrame]:
    """``seconds`` of frames at 60 Hz with the same state; ``events_at`` maps step -> events."""
    events_at = events_at or {}
    return [frame(k, events=events_at.get(k, ()), **state) for k in range(round(seconds * 60))]  # type: ignore[arg-type]
