"""The interface every source of the world implements: the simulation kernel and the node mux.

The engine calls :meth:`WorldSource.step` once per fixed step with the events of that step
and a snapshot of the parameters; it returns the :class:`WorldFrame` for the outputs. The
renderer and the synth only ever see frames, so they never know whether the data is live.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from installation.core.events import Event
from installation.core.frames import WorldFrame
from installation.core.params import Value
from installation.core.seeds import Seed


class WorldSource(Protocol):
    def step(self, dt: float, events: Sequence[Event], params: Mapping[str, Value]) -> WorldFrame:
        """Advance by ``dt`` seconds of show time and return the new frame."""

    def reseed(self, seed: Seed, transition_s: float) -> None:
        """Move towards a new seed's layout and fields over ``transition_s`` (an act change)."""
