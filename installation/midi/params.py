"""The parameters the MIDI layer owns: tempo and clock state, for tempo-synced parts."""

from __future__ import annotations

from installation.core.params import ParamSpec, bool_param, enum_param, float_param

TEMPO = "midi.tempo_bpm"
CLOCK_RUNNING = "midi.clock_running"
CLOCK_SOURCE = "midi.clock_source"
CLOCK_SOURCES = ("internal", "clock", "tap")


def param_specs() -> list[ParamSpec]:
    return [
        float_param(TEMPO, 120.0, 20.0, 300.0, unit="BPM", label="Tempo",
                    description="Tempo from MIDI clock, or tapped; tempo-synced modulation follows it"),
        bool_param(CLOCK_RUNNING, False, label="Clock running",
                   description="MIDI clock start/continue received and not stopped since"),
        enum_param(CLOCK_SOURCE, "internal", CLOCK_SOURCES, label="Tempo source",
                   description="Where the tempo comes from: the preset (internal), MIDI clock, or tap tempo"),
    ]
