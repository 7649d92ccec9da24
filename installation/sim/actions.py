"""How the stories' events act on the kernel's world.

Each handler changes the kernel's state and may return events of the kernel's own (rarely:
most answers, such as a cluster purified, come later from the kernel's step). Positions
default to somewhere chosen by the kernel's random stream, so replays stay identical.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from installation.core.events import Event, EventKind
from installation.core.frames import NODE_ID_PATTERN
from installation.core.seeds import NODE_KINDS
from installation.sim.spiking import Interference

if TYPE_CHECKING:
    from installation.sim.kernel import Kernel


def _where(kernel: Kernel, event: Event) -> tuple[float, float]:
    if event.x is not None and event.y is not None:
        return event.x, event.y
    x, y = kernel.rng.uniform(0.1, 0.9, 2)
    return float(x), float(y)


def toxin_cluster(kernel: Kernel, event: Event) -> None:
    x, y = _where(kernel, event)
    s = max(event.strength, 0.1)
    radius = 0.05 + 0.04 * math.sqrt(s)
    fields = kernel.fields
    disc = fields.geometry.disc(x, y, radius)
    fields.toxin = np.clip(fields.toxin + (0.45 + 0.15 * s) * disc, 0.0, 1.0).astype(np.float32)
    kernel.watch_cluster(x, y, radius)


def purification(kernel: Kernel, event: Event) -> None:
    fields = kernel.fields
    s = np.float32(event.strength)
    if event.x is None or event.y is None:
        fields.purify = np.maximum(fields.purify, s)
    else:
        fields.purify = np.maximum(fields.purify, s * fields.geometry.disc(event.x, event.y, 0.3))


def surge(kernel: Kernel, event: Event) -> None:
    """A wave of activity from a point (the centre by default) that travels along every link."""
    x = 0.5 if event.x is None else event.x
    y = 0.5 if event.y is None else event.y
    kernel.surge(x, y, max(event.strength, 0.2))


def bloom(kernel: Kernel, event: Event) -> None:
    fields = kernel.fields
    s = np.float32(event.strength)
    if event.x is None or event.y is None:
        add = 0.3 * s * np.clip(fields.density * 2.0, 0.0, 1.0) * (1.0 - fields.toxin)
    else:
        add = 0.5 * s * fields.geometry.disc(event.x, event.y, 0.15)
    fields.flora = np.clip(fields.flora + add, 0.0, 1.0).astype(np.float32)


def disruption(kernel: Kernel, event: Event) -> None:
    """Drones sweep a band across the canvas: links cut, hyphae and flora scarred, unless shielded."""
    x, y = _where(kernel, event)
    angle = float(event.data.get("angle", kernel.rng.uniform(0.0, math.pi)))
    half_width = 0.03 + 0.03 * event.strength
    fields = kernel.fields
    band = fields.geometry.band(x, y, angle, half_width) * (fields.shield <= 0)
    fields.density *= 1.0 - 0.85 * band
    fields.flora *= 1.0 - 0.5 * band
    kernel.cut_links(band)


def shield(kernel: Kernel, event: Event) -> None:
    x = 0.5 if event.x is None else event.x
    y = 0.5 if event.y is None else event.y
    radius = 0.15 + 0.1 * event.strength
    seconds = float(event.data.get("duration_s", 4.0 + 8.0 * event.strength))
    fields = kernel.fields
    disc = (fields.geometry.distance(x, y) <= radius).astype(np.float32)
    fields.shield = np.maximum(fields.shield, np.float32(max(0.0, seconds)) * disc)


def interference(kernel: Kernel, event: Event) -> None:
    x, y = _where(kernel, event)
    seconds = float(event.data.get("duration_s", 3.0 + 3.0 * event.strength))
    kernel.interference.append(Interference(x, y, 0.1 + 0.1 * event.strength, kernel.t + seconds, event.strength))


def spike(kernel: Kernel, event: Event) -> None:
    """A spike asked for from outside (a cue, a MIDI pad): the named node, or the one nearest x, y."""
    index = kernel.index_of(event.node) if event.node else None
    if index is None and event.x is not None and event.y is not None and kernel.ids:
        index = int(np.argmin(kernel.distances(event.x, event.y)))
    if index is not None:
        kernel.fire(np.array([index]), np.zeros(1), max(event.strength, 0.2))


def spike_burst(kernel: Kernel, event: Event) -> None:
    """A burst asked for from outside: the nodes around x, y (the centre) fire within half a second."""
    if not kernel.ids:
        return
    x = 0.5 if event.x is None else event.x
    y = 0.5 if event.y is None else event.y
    distance = kernel.distances(x, y)
    near = np.flatnonzero(distance < 0.15 + 0.1 * event.strength)
    if len(near) == 0:
        near = np.array([int(np.argmin(distance))])
    kernel.fire(near, kernel.rng.uniform(0.0, 0.5, len(near)), max(event.strength, 0.2))


def node_joined(kernel: Kernel, event: Event) -> None:
    x, y = _where(kernel, event)
    kind_index = int(event.data.get("kind", NODE_KINDS.index("node")))
    kind = NODE_KINDS[kind_index] if 0 <= kind_index < len(NODE_KINDS) else "node"
    node_id = event.node if event.node and NODE_ID_PATTERN.match(event.node) else kernel.fresh_id()
    kernel.add_node(node_id, x, y, kind, announce=False)


def node_lost(kernel: Kernel, event: Event) -> None:
    if event.node is not None:
        kernel.remove_node(event.node, announce=False)
        return
    if not kernel.ids:
        return
    x, y = _where(kernel, event)
    nearest = int(np.argmin(kernel.distances(x, y)))
    kernel.remove_node(kernel.ids[nearest], announce=False)


HANDLERS: dict[EventKind, Callable[[Kernel, Event], None]] = {
    EventKind.SPIKE: spike,
    EventKind.SPIKE_BURST: spike_burst,
    EventKind.TOXIN_CLUSTER: toxin_cluster,
    EventKind.PURIFICATION: purification,
    EventKind.SURGE: surge,
    EventKind.BLOOM: bloom,
    EventKind.DISRUPTION: disruption,
    EventKind.SHIELD: shield,
    EventKind.INTERFERENCE: interference,
    EventKind.NODE_JOINED: node_joined,
    EventKind.NODE_LOST: node_lost,
}


def apply(kernel: Kernel, event: Event) -> None:
    """Let one event act on the world (link_fused and cluster_purified only report, so they change nothing)."""
    handler = HANDLERS.get(event.kind)
    if handler is not None:
        handler(kernel, event)
