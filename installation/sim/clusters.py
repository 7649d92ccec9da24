"""Toxin pools watched until the network has consumed them (then: a cluster_purified event)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from installation.core.events import Event, EventKind
from installation.core.seeds import Seed
from installation.sim.fields import Fields, Grid

MAX_CLUSTERS = 64
CHECK_STEPS = 30  # pools shrink slowly: a look every half second is enough


@dataclass
class Cluster:
    """A toxin pool the kernel watches until the network has consumed it."""

    x: float
    y: float
    radius: float
    mass: float  # toxin inside the disc when it appeared (or will have, once an act's fields blend in)
    present: bool = False  # it has (nearly) reached that mass: only then can it be purified


class ClusterWatch:
    def __init__(self, fields: Fields) -> None:
        self.fields = fields
        self.clusters: list[Cluster] = []

    def _inside(self, toxin: Grid, x: float, y: float, radius: float) -> np.float32:
        """The toxin inside a pool's disc, in float32 (as the fields are)."""
        return np.float32((toxin * self.fields.geometry.disc(x, y, radius)).sum())

    def watch(self, x: float, y: float, radius: float, toxin: Grid | None = None) -> None:
        """Watch a pool until it is consumed; its starting mass is taken from ``toxin`` (default: now)."""
        mass = float(self._inside(self.fields.toxin if toxin is None else toxin, x, y, radius))
        if mass > 0:
            self.clusters = [*self.clusters[-(MAX_CLUSTERS - 1):], Cluster(x, y, radius, mass)]

    def watch_seed(self, seed: Seed) -> None:
        # Measured on the seed's own field: after an act change the pools are still blending in.
        for blob in seed.toxin.blobs:
            self.watch(blob.x, blob.y, blob.radius, self.fields.seed_toxin)

    def forget_absent(self) -> None:
        """After an act change: pools the new act does not have fade with it, which is no purification."""
        self.clusters = [c for c in self.clusters
                         if self._inside(self.fields.seed_toxin, c.x, c.y, c.radius) >= 0.5 * c.mass]

    def check(self, step_count: int, t: float) -> list[Event]:
        """Every :data:`CHECK_STEPS` steps: the pools now consumed, as events (no longer watched)."""
        if step_count % CHECK_STEPS:
            return []
        events, remaining = [], []
        for cluster in self.clusters:
            mass = float(self._inside(self.fields.toxin, cluster.x, cluster.y, cluster.radius))
            cluster.present = cluster.present or mass >= 0.5 * cluster.mass
            if cluster.present and mass < 0.2 * cluster.mass:
                events.append(Event(EventKind.CLUSTER_PURIFIED, t, 1.0, cluster.x, cluster.y, source="sim"))
            else:
                remaining.append(cluster)
        self.clusters = remaining
        return events
