"""Every parameter Myco knows, gathered from the parts that own them.

Each part declares its parameters in its own ``params.py`` (``param_specs()``); this list
only names the parts, so ``myco check`` can validate presets against the full set without
starting GL, audio or MIDI.
"""

from __future__ import annotations

import importlib

from installation.core.params import ParamSpec

PARTS = (
    "installation.core.shows",
    "installation.sim.params",
    "installation.nodes.params",
    "installation.render.params",
    "installation.synth.params",
    "installation.midi.params",
)


def all_param_specs() -> list[ParamSpec]:
    specs: list[ParamSpec] = []
    for module in PARTS:
        specs.extend(importlib.import_module(module).param_specs())
    return specs
