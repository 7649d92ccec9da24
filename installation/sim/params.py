"""The simulation kernel's parameters (``sim.*``): cheap to import, no numpy work."""

from __future__ import annotations

from installation.core.params import Curve, ParamSpec, float_param


def param_specs() -> list[ParamSpec]:
    return [
        float_param("sim.growth_rate", 1.0, 0.0, 4.0, "x", "how fast hyphae extend and thicken", 1.0,
                    label="Growth"),
        float_param("sim.branching", 0.5, 0.0, 1.0, "", "how many links each node grows (1 at 0, 5 at 1)",
                    label="Branching"),
        float_param("sim.dieback", 0.5, 0.0, 2.0, "x", "how quickly links without flow wither", 1.0,
                    label="Die-back"),
        float_param("sim.toxin_appetite", 1.0, 0.0, 4.0, "x", "how fast the network consumes toxin", 1.0,
                    label="Toxin appetite"),
        float_param("sim.waste_appetite", 1.0, 0.0, 4.0, "x", "how fast the network digests waste", 1.0,
                    label="Waste appetite"),
        float_param("sim.waste_regen", 0.05, 0.0, 1.0, "1/min", "how fast digested waste returns towards the seed's",
                    label="Waste return"),
        float_param("sim.flora_growth", 1.0, 0.0, 4.0, "x", "how fast flora blooms on purified ground", 1.0,
                    label="Flora"),
        float_param("sim.mask_steering", 1.0, 0.0, 4.0, "x", "how strongly the mural mask steers growth", 1.0,
                    label="Mask steering"),
        float_param("sim.reach", 0.2, 0.05, 0.5, "canvas", "longest link a node may grow (canvas heights)",
                    label="Reach"),
        float_param("sim.spike_rate", 1.0, 0.0, 4.0, "x", "how often spike trains start", 0.5, label="Spike rate"),
        float_param("sim.time_compression", 3600.0, 60.0, 100000.0, "fungal s per show s",
                    "maps fungal time to show time (3600: one fungal hour per second)", 0.5, curve=Curve.LOG,
                    label="Time compression"),
        float_param("sim.propagation", 0.35, 0.0, 1.0, "", "chance a spike travels on along a link",
                    label="Propagation"),
        float_param("sim.propagation_delay", 0.4, 0.02, 5.0, "s",
                    "show seconds for activity to travel 0.1 canvas heights along a link", curve=Curve.LOG,
                    label="Propagation delay"),
    ]
