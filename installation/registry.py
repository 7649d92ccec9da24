"""Every parameter Myco knows, gathered from the parts that own them, in one bank.

Each part declares its parameters in its own ``params.py`` (``param_specs()``); the
renderer's come from the headers of the shader files (:mod:`installation.render.params`).
:func:`build_bank` is the one place they are registered: the composition root, ``myco
check``, the MIDI tools and the thumbnail process all take their bank from it, without
starting GL, audio or MIDI.
"""

from __future__ import annotations

from pathlib import Path

from installation.core import decks, modulation, shows, tempo
from installation.core.params import ParamBank, ParamSpec
from installation.midi import params as midi_params
from installation.nodes import params as nodes_params
from installation.render import params as render_params
from installation.sim import params as sim_params
from installation.synth import params as synth_params


def all_param_specs(shader_dir: Path | None = None) -> list[ParamSpec]:
    """With ``shader_dir``, the shader parameters are those of the artist's headers there."""
    return [*shows.param_specs(), *decks.param_specs(), *sim_params.param_specs(), *nodes_params.param_specs(),
            *render_params.param_specs(shader_dir), *synth_params.param_specs(), *midi_params.param_specs(),
            *tempo.param_specs(), *modulation.param_specs()]


def build_bank(shader_dir: Path | None = None) -> ParamBank:
    bank = ParamBank()
    bank.register_all(all_param_specs(shader_dir))
    return bank
