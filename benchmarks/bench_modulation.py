"""Modulation's cost per engine step: every source and routing updated and the bank's snapshot
rebuilt with the offsets, beside a control doing the same job by hand (the same parameters set
through the bank each step, as a controller moving them all would)."""

from __future__ import annotations

import time

import numpy as np

from installation.core.modulation import Modulator, RateUnit, Routing, Shape, Source, SourceKind
from installation.core.seeds import find_seed
from installation.registry import build_bank
from installation.sim.kernel import Kernel

TARGETS = ("render.exposure", "synth.reverb_mix", "synth.drone_brightness", "synth.voice_brightness",
           "synth.density", "synth.toxicity", "synth.reverb_size", "synth.voice_decay")


def routings() -> list[Routing]:
    """16 routings over 8 parameters, every kind of source."""
    sources = [Source(SourceKind.LFO, shape=shape, rate=rate, unit=unit)
               for shape, rate, unit in ((Shape.SINE, 4.0, RateUnit.BEATS), (Shape.SMOOTH_RANDOM, 0.3, RateUnit.HZ),
                                         (Shape.SQUARE, 1.0, RateUnit.BEATS), (Shape.RANDOM, 0.5, RateUnit.BEATS))]
    sources += [Source(SourceKind.ENVELOPE, "spike", decay=0.3), Source(SourceKind.NETWORK, "activity"),
                Source(SourceKind.NETWORK, "spike_rate"), Source(SourceKind.NETWORK, "toxin"),
                Source(SourceKind.ROOM, "low"), Source(SourceKind.MIDI, channel=1, cc=74)]
    return [Routing(sources[i % len(sources)], TARGETS[i % len(TARGETS)], 0.1, bipolar=i % 2 == 0) for i in range(16)]


def run(quick: bool = False) -> dict[str, object]:
    steps = 600 if quick else 3600
    kernel = Kernel(find_seed("kai-city"))
    bank = build_bank()
    frames = [kernel.step(1 / 60, [], bank.snapshot()) for _ in range(120)]  # real frames, with spikes
    modulator = Modulator(room={"room.low": 0.3})
    modulator.set_routings(routings())
    modulated: list[float] = []
    control: list[float] = []
    specs = {name: bank.spec(name) for name in TARGETS}
    for k in range(steps):
        frame = frames[k % len(frames)]
        begin = time.perf_counter()
        bank.modulate(modulator.update(k / 60, k / 30, 1 / 60, frame))
        modulated.append((time.perf_counter() - begin) * 1e6)
        values = {name: spec.from_normalized(0.5 + 0.1 * np.sin(k / 30 + i))
                  for i, (name, spec) in enumerate(specs.items())}
        begin = time.perf_counter()
        bank.set_many(values, "midi", immediate=True)
        control.append((time.perf_counter() - begin) * 1e6)
    mod, ctl = np.array(modulated), np.array(control)
    return {
        "routings": 16, "parameters": len(TARGETS), "bank_parameters": len(bank),
        "modulation_step_us_p50": round(float(np.percentile(mod, 50)), 1),
        "modulation_step_us_p99": round(float(np.percentile(mod, 99)), 1),
        "control_set_many_us_p50": round(float(np.percentile(ctl, 50)), 1),
        "modulation_share_of_60hz_frame_p50": round(float(np.percentile(mod, 50)) / (1e6 / 60), 4),
        "headline": ["modulation_step_us_p50", "control_set_many_us_p50", "modulation_share_of_60hz_frame_p50"],
    }
