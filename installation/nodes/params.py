"""The live-node parameters (``nodes.*``)."""

from __future__ import annotations

from installation.core.params import ParamSpec, float_param, int_param


def param_specs() -> list[ParamSpec]:
    return [
        float_param("nodes.silence_s", 5.0, 0.5, 600.0, "s", "silence before the simulation takes over",
                    label="Silence"),
        float_param("nodes.fade_s", 2.0, 0.0, 30.0, "s", "cross-fade between live data and the simulation",
                    label="Live fade"),
        int_param("nodes.max_joined", 64, 0, 10000, "nodes", "how many unknown live nodes may join the network",
                  label="Max joined"),
        float_param("nodes.spike_threshold_mv", 0.1, 0.005, 10.0, "mV",
                    "deviation from a live node's baseline that counts as a spike", label="Spike threshold"),
        float_param("nodes.baseline_s", 20.0, 1.0, 600.0, "s", "how slowly a live node's baseline follows its signal",
                    label="Baseline"),
    ]
