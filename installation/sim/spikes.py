"""Spike trains with published fungal statistics, for every node at once.

All timing here runs on the *fungal* clock (hours), so the statistics hold whatever the
time compression; the kernel converts show seconds to fungal hours each step.

Each node is either inside a spike (one at a time: fungal spikes are long), waiting inside
a train for the next spike, or resting between trains. Spikes also start when activity
arrives from a neighbour along a link (see :meth:`SpikeTrains.trigger`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class SpikeStats:
    """Spike figures in fungal time, with where they come from."""

    citation: str
    amplitude_mv: tuple[float, float]  # cited range
    duration_h: tuple[float, float]  # cited range
    amplitude_median_mv: float  # model choice inside the range
    duration_median_h: float  # model choice inside the range
    spread: float  # log-normal sigma for amplitude and duration (model choice)
    gap_in_train_h: float  # median rest between spikes of one train (model choice)
    train_mean_spikes: float  # mean spikes per train (model choice)
    rest_between_trains_h: float  # mean rest between trains at spike_rate 1 (model choice)


# The cited ranges are from the abstract of Adamatzky (2022), measured across four species
# (Omphalotus nidiformis, Flammulina velutipes, Schizophyllum commune, Cordyceps militaris):
# "a spike duration varies from 1 to 21 h and an amplitude from 0.03 to 2.1 mV" and "spikes are
# often clustered into trains". The medians and train shape are our choices inside those ranges.
ADAMATZKY_2022 = SpikeStats(
    citation=("Adamatzky A. 2022 Language of fungi derived from their electrical spiking activity. "
              "R. Soc. Open Sci. 9: 211926. doi:10.1098/rsos.211926"),
    amplitude_mv=(0.03, 2.1),
    duration_h=(1.0, 21.0),
    amplitude_median_mv=0.25,
    duration_median_h=2.5,
    spread=0.6,
    gap_in_train_h=0.5,
    train_mean_spikes=4.0,
    rest_between_trains_h=12.0,
)


@dataclass(frozen=True)
class Onsets:
    """The spikes that began in one step: node indices, amplitudes (mV), durations (fungal h)."""

    nodes: NDArray[np.intp]
    amplitude_mv: Floats
    duration_h: Floats
    triggered: NDArray[np.bool_]


class SpikeTrains:
    def __init__(self, rng: np.random.Generator, stats: SpikeStats = ADAMATZKY_2022) -> None:
        self.rng = rng
        self.stats = stats
        self.start_h = np.zeros(0)
        self.duration_h = np.ones(0)
        self.amplitude = np.zeros(0)
        self.next_h = np.zeros(0)  # next spike inside a train
        self.rest = np.zeros(0)  # rest still to go before the next train, in hours at rate 1
        self.left = np.zeros(0, np.int64)  # spikes left in the current train
        self.trigger_h = np.zeros(0)  # when activity from a neighbour arrives (inf: none)
        self.trigger_gain = np.zeros(0)

    def add(self, count: int, now_h: float, rate: Floats) -> None:
        """Nodes that join start resting, with a random phase so they do not all fire at once."""
        self.rest = np.concatenate([self.rest, self.rng.exponential(self.stats.rest_between_trains_h, count)])
        self.start_h = np.concatenate([self.start_h, np.full(count, -1e9)])
        self.duration_h = np.concatenate([self.duration_h, np.ones(count)])
        self.amplitude = np.concatenate([self.amplitude, np.zeros(count)])
        self.next_h = np.concatenate([self.next_h, np.full(count, np.inf)])
        self.left = np.concatenate([self.left, np.zeros(count, np.int64)])
        self.trigger_h = np.concatenate([self.trigger_h, np.full(count, np.inf)])
        self.trigger_gain = np.concatenate([self.trigger_gain, np.zeros(count)])

    def keep(self, mask: NDArray[np.bool_]) -> None:
        for name in ("start_h", "duration_h", "amplitude", "next_h", "rest", "left", "trigger_h", "trigger_gain"):
            setattr(self, name, getattr(self, name)[mask])

    def trigger(self, nodes: NDArray[np.intp], at_h: Floats, gain: Floats) -> None:
        """Activity reaches ``nodes`` at fungal time ``at_h`` (the earliest arrival wins)."""
        if len(nodes) == 0:
            return
        earlier = at_h < self.trigger_h[nodes]
        np.minimum.at(self.trigger_h, nodes, at_h)
        self.trigger_gain[nodes[earlier]] = gain[earlier]

    def busy(self, now_h: float) -> NDArray[np.bool_]:
        return now_h < self.start_h + self.duration_h

    def step(self, now_h: float, dt_h: float, rate: Floats, present: NDArray[np.bool_]) -> Onsets:
        """Start the spikes due at ``now_h``; ``rate`` scales how often trains start per node.

        Rests between trains run down at ``rate`` (a Poisson process whose rate may change at
        any time); gaps inside a train are fixed when the train's previous spike starts.
        """
        s = self.stats
        busy = self.busy(now_h)
        resting = self.left <= 0
        self.rest = np.where(resting & ~busy, self.rest - dt_h * rate, self.rest)
        own = np.where(resting, self.rest <= 0.0, now_h >= self.next_h) & ~busy & present
        triggered = (now_h >= self.trigger_h) & ~busy & present & ~own
        self.trigger_h[(now_h >= self.trigger_h) & (busy | ~present)] = np.inf
        fire = np.flatnonzero(own | triggered)
        count = len(fire)
        if count == 0:
            return Onsets(fire, np.zeros(0), np.zeros(0), np.zeros(0, bool))
        amp = np.clip(s.amplitude_median_mv * np.exp(self.rng.normal(0.0, s.spread * 1.4, count)), *s.amplitude_mv)
        gain = np.where(triggered[fire], np.maximum(self.trigger_gain[fire], 0.2), 1.0)
        amp = np.clip(amp * gain, *s.amplitude_mv)
        dur = np.clip(s.duration_median_h * np.exp(self.rng.normal(0.0, s.spread, count)), *s.duration_h)
        self.start_h[fire] = now_h
        self.duration_h[fire] = dur
        self.amplitude[fire] = amp
        self.trigger_h[fire] = np.inf
        # A new train begins where the last one ended (or where a neighbour's activity arrived).
        fresh = self.left[fire] <= 0
        lengths = 1 + self.rng.geometric(1.0 / s.train_mean_spikes, count)
        self.left[fire] = np.where(fresh, lengths, self.left[fire]) - 1
        gaps = s.gap_in_train_h * np.exp(self.rng.normal(0.0, s.spread, count))
        self.next_h[fire] = np.where(self.left[fire] > 0, now_h + dur + gaps, np.inf)
        self.rest[fire] = np.where(self.left[fire] > 0, 0.0, self.rng.exponential(s.rest_between_trains_h, count))
        return Onsets(fire, amp, dur, triggered[fire])

    def potential(self, now_h: float) -> Floats:
        """Each node's extracellular potential (mV): a smooth rise and fall over the spike."""
        phase = (now_h - self.start_h) / self.duration_h
        inside = (phase >= 0.0) & (phase < 1.0)
        return np.where(inside, self.amplitude * np.sin(np.pi * np.clip(phase, 0.0, 1.0)) ** 2, 0.0)
