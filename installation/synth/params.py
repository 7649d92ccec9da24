"""The synth's parameters (``synth.*``); cheap to import, used by ``myco check`` and the bank."""

from __future__ import annotations

from installation.core.params import Curve, ParamSpec, bool_param, enum_param, float_param, int_param
from installation.synth.scales import NOTE_NAMES, SCALES

TIMBRES = ("pluck", "bell", "grain", "mixed")
LAYOUTS = ("line", "ring")
QUANTIZE = ("off", "1/4", "1/8", "1/16")  # a beat is a quarter note
# The ceiling can be lowered, never raised above -0.3 dBFS (the promise).
CEILING_MAX_DB = -0.3
BED_OFF_DB = -60.0  # the bottom of a level's range: the noise bed is off, not merely quiet


def param_specs() -> list[ParamSpec]:
    return [
        bool_param("synth.mute", False, "Silence the output (fades, never clicks)"),
        _level("synth.master_gain", -3.0, "Master gain before the limiter"),
        float_param("synth.open_level", 1.0, 0.0, 1.0, "", "Sound under the opening hours: 0 while closed, "
                    "faded by the schedule (live state, never in presets)", smoothing_s=0.2),
        float_param("synth.limiter_ceiling", -1.0, -24.0, CEILING_MAX_DB, "dBFS", "Peak ceiling of the master limiter"),
        enum_param("synth.scale", "pentatonic_major", SCALES, "Scale every note is quantised to"),
        enum_param("synth.root", "C", NOTE_NAMES, "Root note of the scale"),
        int_param("synth.octave", 4, 1, 6, "", "Octave of the root for spike voices (4: middle C)"),
        int_param("synth.range_octaves", 2, 1, 4, "oct", "How many octaves node positions spread over"),
        float_param("synth.density", 0.6, 0.0, 1.0, "", "Share of spikes that become notes, and the note rate cap"),
        _level("synth.voice_level", -8.0, "Level of the spike voices"),
        enum_param("synth.voice_timbre", "mixed", TIMBRES, "Voice timbre: pluck, bell, grain, or by node"),
        float_param("synth.voice_decay", 1.6, 0.05, 10.0, "s", "Decay time of spike voices", curve=Curve.LOG),
        float_param("synth.voice_brightness", 0.5, 0.0, 1.0, "", "Upper partials of the voices", smoothing_s=0.2),
        _level("synth.drone_level", -14.0, "Level of the network drone"),
        float_param("synth.drone_brightness", 0.4, 0.0, 1.0, "", "Openness of the drone's filter", smoothing_s=0.5),
        _level("synth.texture_level", -20.0, "Noise, static and grains"),
        _level("synth.event_level", -8.0, "Story events: swell, buzz, hum, chime"),
        _level("synth.bed_level", -60.0, "The act's noise bed (soil, water, air...); -60: none"),
        float_param("synth.bed_low", 200.0, 20.0, 16000.0, "Hz", "Low edge of the noise bed's band",
                    smoothing_s=1.0, curve=Curve.LOG),
        float_param("synth.bed_high", 2000.0, 20.0, 16000.0, "Hz", "High edge of the noise bed's band",
                    smoothing_s=1.0, curve=Curve.LOG),
        float_param("synth.toxicity", 1.0, 0.0, 2.0, "", "How strongly toxin turns into dissonance and noise",
                    smoothing_s=0.5),
        float_param("synth.reverb_size", 2.5, 0.2, 12.0, "s", "Reverb decay (RT60) of a mid-sized network",
                    smoothing_s=1.0, curve=Curve.LOG),
        float_param("synth.reverb_mix", 0.3, 0.0, 1.0, "", "Wet share of the reverb", smoothing_s=0.3),
        float_param("synth.reverb_follow", 0.6, 0.0, 1.0, "", "How much the network's size scales the reverb",
                    smoothing_s=1.0),
        float_param("synth.live_threshold", 5.0, 1.0, 12.0, "sigma",
                    "Deviation from a live node's baseline that counts as a spike"),
        float_param("synth.live_hysteresis", 0.5, 0.0, 0.95, "",
                    "Fraction of the threshold the signal must fall back under before the next spike"),
        float_param("synth.live_baseline", 4.0, 0.5, 120.0, "s", "Time constant of a live node's running baseline",
                    curve=Curve.LOG),
        enum_param("synth.quantize", "off", QUANTIZE,
                   "Spike voices wait for the next quarter, eighth or sixteenth of the tempo's beat"),
        enum_param("synth.speaker_layout", "line", LAYOUTS,
                   "Multichannel: speakers in a line left to right, or in a ring around the canvas"),
    ]


def _level(name: str, default: float, description: str) -> ParamSpec:
    return float_param(name, default, -60.0, 6.0, "dB", description, smoothing_s=0.2)
