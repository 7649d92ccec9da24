"""Events: the story beats and the network's own happenings.

Events are fired by the kernel, by live data, by MIDI notes, by OSC and by the show
timeline. They are plain immutable values; the :class:`InputQueue` carries them (and
parameter changes) from any thread to the engine's single writer thread.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING

from installation.core.commands import Command, Quantum, check_argument

if TYPE_CHECKING:  # modulation reads events: this module only names its routings
    from installation.core.modulation import Routing


class EventKind(StrEnum):
    """Every kind of event Myco knows. Story events first, then the kernel's own."""

    SPIKE = "spike"
    TOXIN_CLUSTER = "toxin_cluster"
    PURIFICATION = "purification"
    BLOOM = "bloom"
    SURGE = "surge"
    DISRUPTION = "disruption"
    SHIELD = "shield"
    INTERFERENCE = "interference"
    NODE_JOINED = "node_joined"
    NODE_LOST = "node_lost"
    # fired by the kernel itself
    CLUSTER_PURIFIED = "cluster_purified"
    LINK_FUSED = "link_fused"
    SPIKE_BURST = "spike_burst"


STORY_EVENTS = (
    EventKind.TOXIN_CLUSTER,
    EventKind.PURIFICATION,
    EventKind.BLOOM,
    EventKind.SURGE,
    EventKind.DISRUPTION,
    EventKind.SHIELD,
    EventKind.INTERFERENCE,
    EventKind.NODE_JOINED,
    EventKind.NODE_LOST,
)


@dataclass(frozen=True)
class Event:
    """One event. ``x``/``y`` are canvas coordinates in 0..1 (None: the whole canvas)."""

    kind: EventKind
    t: float = 0.0
    strength: float = 1.0
    x: float | None = None
    y: float | None = None
    node: str | None = None
    source: str = "engine"
    data: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if not isinstance(self.kind, EventKind):
            object.__setattr__(self, "kind", EventKind(self.kind))
        if not math.isfinite(self.strength):
            raise ValueError("event strength must be finite")
        object.__setattr__(self, "strength", min(4.0, max(0.0, float(self.strength))))
        for axis in ("x", "y"):
            value = getattr(self, axis)
            if value is not None:
                if not math.isfinite(value):
                    raise ValueError(f"event {axis} must be finite")
                object.__setattr__(self, axis, min(1.0, max(0.0, float(value))))
        if not isinstance(self.data, MappingProxyType):
            object.__setattr__(self, "data", MappingProxyType(dict(self.data)))


@dataclass(frozen=True)
class ParamInput:
    """A parameter change posted from another thread (MIDI, OSC, the UI)."""

    name: str
    value: object
    source: str
    normalized: bool = False
    # Seconds to glide to the value; None: the parameter's own smoothing. A fader in a performer's
    # hand is its own smoothing, so the MIDI layer sends its moves with 0 (docs/perform.md).
    fade_s: float | None = None


@dataclass(frozen=True)
class CommandInput:
    """A command posted from any thread (see :mod:`installation.core.commands`).

    Raises ValueError for an unknown command or an argument that does not fit it, so each
    source rejects (and counts) a bad one where it arrives.
    """

    command: Command
    argument: str = ""
    source: str = "ui"
    at: str = ""  # launch on the next "beat" or "bar", or "now"; "" leaves it to tempo.quantize

    def __post_init__(self) -> None:
        object.__setattr__(self, "command", Command(self.command))
        check_argument(self.command, self.argument)
        if self.at and self.at not in tuple(Quantum):
            raise ValueError(f"launch {self.at!r} is not one of: {', '.join(Quantum)}")


@dataclass(frozen=True)
class ControlInput:
    """Where a MIDI control stands (``value`` 0..1; ``channel`` 1..16), whatever it is bound to: a
    modulation source (:mod:`installation.core.modulation`)."""

    channel: int
    number: int
    value: float


@dataclass(frozen=True)
class RoutingsInput:
    """The current preset's modulation routings, replaced (the control window's matrix)."""

    routings: tuple[Routing, ...]
    source: str = "ui"


Input = Event | ParamInput | CommandInput | ControlInput | RoutingsInput


class InputQueue:
    """A bounded multi-producer, single-consumer queue into the engine.

    Producers (listener threads, MIDI, UI) call :meth:`put`, which never blocks; when full,
    the input is dropped and counted. The engine calls :meth:`drain` once per tick.
    """

    def __init__(self, capacity: int = 8192) -> None:
        self._items: deque[Input] = deque()
        self._capacity = capacity
        self._lock = threading.Lock()
        self.dropped = 0

    def put(self, item: Input) -> bool:
        with self._lock:
            if len(self._items) >= self._capacity:
                self.dropped += 1
                return False
            self._items.append(item)
            return True

    def drain(self) -> list[Input]:
        with self._lock:
            items = list(self._items)
            self._items.clear()
        return items

    def __len__(self) -> int:
        return len(self._items)
