"""The synth: WorldFrames and events in, sample blocks out.

Control happens per pushed frame (60 Hz): parameters, the drone's chord and levels, the
toxicity and consonance states, and every event turned into voices or envelopes. Audio
happens per block in :meth:`Synth.process`: voices, drone, story sounds and textures are
summed, sent through the reverb, the master gain and the limiter, into the caller's buffer.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from installation.core.events import Event, EventKind
from installation.core.frames import WorldFrame
from installation.core.params import Value
from installation.synth.detect import ChangeDetector
from installation.synth.effects import FirFilter, Limiter, Reverb, ShapedNoise, lowpass_kernel
from installation.synth.modes import TIMBRE_FUNCTIONS, ModeBank
from installation.synth.oscillators import Buzz, Envelope, Partials
from installation.synth.params import BED_OFF_DB, CEILING_MAX_DB, param_specs
from installation.synth.scales import Scale, midi_to_hz
from installation.synth.spatial import Panner, SpeakerLayout
from installation.synth.summary import FrameSummary, summarise

SPECS = {spec.name: spec for spec in param_specs()}
DEFAULTS: dict[str, Value] = {name: spec.default for name, spec in SPECS.items()}
TIMBRE_ORDER = ("pluck", "bell", "grain")
DRONE_WEIGHTS = np.array([0.5, 1.0, 0.6, 0.5, 0.35, 0.3, 0.2, 0.15, 0.12, 0.1, 0.0, 0.0])
CONSONANT = {EventKind.PURIFICATION, EventKind.BLOOM, EventKind.CLUSTER_PURIFIED}
QUANTIZE_BEATS = {"1/4": 1.0, "1/8": 0.5, "1/16": 0.25}


def db(value: float) -> float:
    return 10.0 ** (value / 20.0)


def lowpass_response(freqs: NDArray[np.float64], cutoff_hz: float) -> NDArray[np.float64]:
    """A 4th-order lowpass magnitude: how the closing filter weights a partial."""
    return 1.0 / np.sqrt(1.0 + (freqs / cutoff_hz) ** 8)


class Synth:
    def __init__(self, sample_rate: int = 48000, channels: int = 2, block: int = 256, seed: int = 0,
                 speakers: SpeakerLayout | None = None) -> None:
        """``speakers``: the venue's speakers (DBAP over them); None: the ``synth.speaker_layout``
        line or ring over ``channels``."""
        if channels < 1 or block < 16 or sample_rate < 8000:
            raise ValueError("synth needs at least 1 channel, 16-frame blocks and 8 kHz")
        self.sample_rate, self.channels, self.block = sample_rate, channels, block
        self.panner = Panner(channels, speakers)
        # a speaker's trim on its output, silence where no speaker stands (None: every output as is)
        self._trims = None if speakers is None else speakers.channel_trims(channels)
        self.position = 0  # samples rendered so far
        self.params: dict[str, Value] = dict(DEFAULTS)
        self.rng = np.random.default_rng(seed)
        self.scale = Scale("pentatonic_major", "C", 4)
        self.modes = ModeBank(sample_rate, channels, block)
        self.drone = Partials(sample_rate, channels, block, len(DRONE_WEIGHTS))
        self.drone.pan[:] = self.panner.spread(len(DRONE_WEIGHTS))
        self.swell, self.hum, self.chord = (Partials(sample_rate, channels, block, n) for n in (10, 4, 5))
        for pad in (self.swell, self.hum, self.chord):
            pad.pan[:] = self.panner.spread(len(pad.freqs))
        self.swell_env, self.hum_env, self.chord_env, self.static_env = Envelope(), Envelope(), Envelope(), Envelope()
        self.buzz = Buzz(sample_rate, channels, block)
        self.noise_filter = FirFilter(channels, block)
        self.bed = ShapedNoise(sample_rate, channels, block, self.rng)
        self.bed_level = 0.0
        self.reverb = Reverb(sample_rate, channels, block, self.panner.outputs())
        self.limiter = Limiter(sample_rate, channels, block)
        self.detector = ChangeDetector()
        self._dry = np.zeros((block, channels), np.float32)
        self._wet = np.zeros((block, channels), np.float32)
        self._noise = np.zeros((block, channels), np.float32)
        self._gain = 0.0  # master gain at the end of the last block (linear)
        self._ramp = (np.arange(block, dtype=np.float32) + 1) / block
        self._gain_ramp = np.zeros(block, np.float32)
        self.toxicity = 0.0  # smoothed 0..1
        self.toxic_burst = 0.0  # transient from toxin_cluster events
        self.consonance = 0.0  # from purification and bloom, decays
        self.energy = 0.0  # drone drive from density and flow
        self.extent = 0.5
        self.waste = 0.0
        self.cutoff_hz = 2000.0
        self.noise_level = 0.0
        self._tokens = 4.0
        self._last_t: float | None = None
        self._drone_time = 0.0
        self._beat_ref: tuple[int, float, float] | None = None  # (a sample, the beat there, bpm)
        self.notes = 0

    # -- control --------------------------------------------------------------------------
    def set_params(self, params: Mapping[str, Value]) -> None:
        """Take the ``synth.*`` values that changed; others are ignored, and a value of the wrong
        type is dropped (the bank has already validated what comes from it)."""
        changed = False
        for name, value in params.items():
            spec = SPECS.get(name)
            if spec is None or self.params[name] == value:
                continue
            try:
                self.params[name] = spec.coerce(value)[0]
            except ValueError:
                continue
            changed = True
        if changed:
            p = self.params
            self.scale = Scale(str(p["synth.scale"]), str(p["synth.root"]), int(self._num("synth.octave")))

    def push_frame(self, frame: WorldFrame, params: Mapping[str, Value], *, start_sample: int | None = None,
                   step_s: float | None = None) -> None:
        self.push_summary(summarise(frame), params, start_sample=start_sample, step_s=step_s)

    def push_summary(self, summary: FrameSummary, params: Mapping[str, Value], *, start_sample: int | None = None,
                     step_s: float | None = None) -> None:
        """Take one tick of the world.

        With ``start_sample`` and ``step_s`` (offline), the tick covers world time
        ``(t - step_s, t]`` starting at sample ``start_sample``, and events sound at their own
        times; without (realtime), they sound at the start of the next block.
        """
        self.set_params(params)
        if summary.beat is not None and summary.bpm > 0:
            # offline the tick's time t falls at the end of its span; live, on the next block
            at = self.position if start_sample is None or step_s is None else start_sample + round(
                step_s * self.sample_rate)
            self._beat_ref = (at, summary.beat, summary.bpm)
        dt = 1 / 60 if self._last_t is None else min(0.25, max(0.0, summary.t - self._last_t))
        self._last_t = summary.t
        response = self._num("synth.toxicity")
        target_tox = min(1.0, summary.toxin_level * response + self.toxic_burst)
        self.toxicity += (target_tox - self.toxicity) * min(1.0, dt / 1.5)
        self.toxic_burst *= math.exp(-dt / 6.0)
        self.consonance = max(0.0, self.consonance * math.exp(-dt / 10.0))
        resolved = min(1.0, self.consonance + 0.5 * summary.flora)
        self.energy += (min(1.0, 1.6 * summary.density + 0.8 * summary.flow) - self.energy) * min(1.0, dt / 2.0)
        self.extent += (summary.extent - self.extent) * min(1.0, dt / 3.0)
        self.waste = summary.waste
        self._tokens = min(self._rate(), self._tokens + dt * self._rate())
        bright = self._num("synth.drone_brightness")
        self.cutoff_hz = 80.0 * 2 ** (bright * 7.0) * (1 - 0.85 * self.toxicity) * (1 + resolved)
        self.noise_level = db(self._num("synth.texture_level")) * (0.04 + 1.2 * self.toxicity)
        self._update_bed()
        self._update_drone(dt, resolved)
        size = self._num("synth.reverb_size") * (1 + self._num("synth.reverb_follow") * (self.extent - 0.5))
        self.reverb.configure(size, 0.6 + 2.0 * self.extent)

        def delay_of(event: Event) -> int:
            if start_sample is None or step_s is None:
                return 0
            offset = (event.t - (summary.t - step_s)) * self.sample_rate
            at = start_sample + round(min(step_s * self.sample_rate, max(0.0, offset)))
            return max(0, at - self.position)

        live_ids = {node for node, live in zip(summary.node_ids, summary.live, strict=True) if live}
        index = {node: i for i, node in enumerate(summary.node_ids)}
        for event in summary.events:
            if event.kind is EventKind.SPIKE and event.node in live_ids:
                continue  # live nodes play from change detection below, not from the kernel
            self.on_event(event, delay_of(event), summary, index.get(event.node or ""))
        if summary.live.any():
            triggers = self.detector.update(
                summary.node_ids, summary.potential_mv, summary.live, dt, self._num("synth.live_threshold"),
                self._num("synth.live_hysteresis"), self._num("synth.live_baseline"))
            for trigger in triggers:
                x, y = summary.positions[trigger.index]
                self.note(summary.node_ids[trigger.index], float(x), float(y), trigger.strength,
                          float(summary.toxin[trigger.index]), 0, lift=1 if trigger.rising else -1)
        if self.waste > 0.05 and self.rng.random() < self.waste * dt * 6 * self._num("synth.density"):
            self._texture_grain()

    def _update_bed(self) -> None:
        """The act's steady noise bed: its band from the preset, breathing slowly with the network."""
        bed_db = self._num("synth.bed_level")
        if bed_db <= BED_OFF_DB:
            self.bed_level = 0.0
            return
        self.bed.set_band(self._num("synth.bed_low"), self._num("synth.bed_high"))
        breath = 0.85 + 0.15 * math.sin(2 * math.pi * 0.07 * self._drone_time)
        self.bed_level = db(bed_db) * (0.5 + 0.5 * self.energy) * breath

    def _rate(self) -> float:
        return 2.0 + 28.0 * self._num("synth.density")

    def _update_drone(self, dt: float, resolved: float) -> None:
        self._drone_time += dt
        s = self.scale
        root = s.root_midi - 24
        fifth = min(s.steps, key=lambda step: abs(step - 7))
        third = min(s.steps, key=lambda step: abs(step - 4))
        second = s.steps[1]
        midi = np.array([root - 12, root, root + fifth, root + 12, root + 12 + third, root + 12 + fifth,
                         root + 24, root + 24 + second, root + 36, root + 36 + fifth, root + 6, root + 13],
                        np.float64)
        sour = self.toxicity * (1 - 0.8 * resolved)
        cents = np.array([0, 1, -1, 1, -1, 1, -1, 1, -1, 1, 0, 0]) * 35.0 * sour
        freqs = np.asarray(midi_to_hz(midi + cents / 100.0))
        t = self._drone_time
        count = len(DRONE_WEIGHTS)
        lfo = 0.75 + 0.25 * np.sin(2 * np.pi * 0.05 * np.arange(1, count + 1) * t + np.arange(count))
        weights = DRONE_WEIGHTS.copy()
        weights[-2:] = 0.5 * sour  # the tritone and the minor ninth creep in with toxin
        level = db(self._num("synth.drone_level")) * (0.3 + 0.7 * self.energy) * 0.25
        level *= 1.0 + 1.5 * self.swell_env.value(self.position / self.sample_rate)
        self.drone.freqs[:] = freqs
        self.drone.target[:] = weights * lfo * lowpass_response(freqs, self.cutoff_hz) * level

    # -- events ---------------------------------------------------------------------------
    def on_event(self, event: Event, delay: int, summary: FrameSummary | None = None,
                 node_index: int | None = None) -> None:
        """Turn one event into sound, ``delay`` samples after the next block starts."""
        kind, strength = event.kind, event.strength
        x, y = event.x, event.y
        toxin = self.toxicity
        if node_index is not None and summary is not None:
            px, py = summary.positions[node_index]
            x = float(px) if x is None else x
            y = float(py) if y is None else y
            toxin = float(summary.toxin[node_index]) * self._num("synth.toxicity")
        x = 0.5 if x is None else x
        y = 0.5 if y is None else y
        now = (self.position + delay) / self.sample_rate
        level = db(self._num("synth.event_level"))
        top = self.scale.size * int(self._num("synth.range_octaves"))
        if kind is EventKind.SPIKE:
            if self._accept():
                self.note(event.node or "", x, y, strength, toxin, delay)
        elif kind is EventKind.SPIKE_BURST:
            for i in range(3):
                self.note(event.node or "", x, y, strength * 0.7, toxin, delay + i * self.sample_rate // 16,
                          timbre="grain", lift=i)
        elif kind is EventKind.TOXIN_CLUSTER:
            self.toxic_burst = min(1.0, self.toxic_burst + 0.35 * strength)
            for degree, semis in ((0, 1), (0, 6)):
                freq = float(midi_to_hz(self.scale.degree_to_midi(degree) - 12 + semis))
                self._play("bell", freq, 2.5, 0.2, 1.0, level * 0.25 * min(1.0, strength), x, y, delay)
        elif kind in CONSONANT:
            self.consonance = min(1.0, self.consonance + 0.5 * strength)
            self._chord(now, level * min(1.5, 0.5 + 0.5 * strength))
            for i, degree in enumerate((0, 2, 4) if kind is not EventKind.BLOOM else (2, 4, 7)):
                d = self.scale.chord_degree(degree + self.scale.size)
                freq = float(midi_to_hz(self.scale.degree_to_midi(d)))
                self._play("bell", freq, 3.0, 0.7, 0.0, level * 0.3, x, y, delay + i * self.sample_rate // 8)
        elif kind is EventKind.SURGE:
            self._surge(now, level * min(2.0, 0.6 + 0.5 * strength), strength)
        elif kind is EventKind.DISRUPTION:
            self.buzz.envelope.trigger(now, level * min(2.0, 0.6 + 0.5 * strength), 0.3, 1.5 * strength, 1.5)
            self.buzz.f_start, self.buzz.f_end = 70.0, 70.0 + 150.0 * min(1.5, strength)
            self.buzz.pan_from[:] = self.panner.gains(x, y, self._layout())
            self.buzz.pan_to[:] = self.panner.gains(1 - x, 1 - y, self._layout())
        elif kind is EventKind.SHIELD:
            root = float(midi_to_hz(self.scale.root_midi - 24))
            self.hum.freqs[:] = (root, root * 1.004, root * 2.0, root * 3.0)
            self.hum_env.trigger(now, level * min(1.5, 0.4 + 0.4 * strength), 0.8, 3.0 * strength, 2.0)
        elif kind is EventKind.INTERFERENCE:
            self.static_env.trigger(now, min(2.0, 0.5 + 0.5 * strength), 0.1, 2.0 * strength, 1.0)
        elif kind is EventKind.NODE_JOINED:
            for i, degree in enumerate((top + 2, top + 4)):
                freq = float(midi_to_hz(self.scale.degree_to_midi(self.scale.chord_degree(degree))))
                self._play("bell", freq, 1.2, 0.8, 0.0, level * 0.25, x, y, delay + i * self.sample_rate // 11)
        elif kind is EventKind.NODE_LOST:
            for i, degree in enumerate((2, 0)):
                freq = float(midi_to_hz(self.scale.degree_to_midi(degree - self.scale.size)))
                self._play("pluck", freq, 1.5, 0.3, toxin, level * 0.3, x, y, delay + i * self.sample_rate // 6)
        elif kind is EventKind.LINK_FUSED:
            self.note(event.node or "", x, y, 0.5, toxin, delay, timbre="grain")

    def _accept(self) -> bool:
        share = 0.2 + 0.8 * self._num("synth.density")
        if self._tokens < 1.0 or self.rng.random() >= share:
            return False
        self._tokens -= 1.0
        return True

    def note(self, node: str, x: float, y: float, strength: float, toxin: float, delay: int,
             timbre: str | None = None, lift: int = 0) -> None:
        """A spike voice: pitch from the node's height and identity, quantised to the scale."""
        p = self.params
        crc = zlib.crc32(node.encode())
        top = self.scale.size * int(self._num("synth.range_octaves"))
        degree = int((1.0 - y) * top) + (crc % 3) + lift + int(min(2.0, strength))
        degree = min(top + 2, max(-2, degree))
        if self.consonance > 0.5:
            degree = self.scale.chord_degree(degree)
        freq = float(midi_to_hz(self.scale.degree_to_midi(degree)))
        chosen = timbre or str(p["synth.voice_timbre"])
        if chosen == "mixed":
            chosen = TIMBRE_ORDER[(crc >> 3) % 3]
        amp = db(self._num("synth.voice_level")) * (0.35 + 0.25 * min(2.0, strength)) * 0.5
        sour = min(1.0, max(0.0, toxin)) * (1 - self.consonance)
        self._play(chosen, freq, self._num("synth.voice_decay"), self._num("synth.voice_brightness"),
                   sour, amp, x, y, self._on_grid(delay))
        self.notes += 1

    def _on_grid(self, delay: int) -> int:
        """``delay`` pushed on to the next beat division of ``synth.quantize`` (while a tempo is known)."""
        grid = QUANTIZE_BEATS.get(str(self.params["synth.quantize"]))
        if grid is None or self._beat_ref is None:
            return delay
        sample, beat, bpm = self._beat_ref
        per_beat = self.sample_rate * 60.0 / bpm
        here = beat + (self.position + delay - sample) / per_beat
        line = math.ceil(here / grid - 1e-9) * grid
        return delay + max(0, round((line - here) * per_beat))

    def _play(self, timbre: str, freq: float, decay: float, brightness: float, sour: float, amp: float,
              x: float, y: float, delay: int) -> None:
        freqs, decays, amps = TIMBRE_FUNCTIONS[timbre](freq, decay, brightness, sour)
        amps = amps * amp * lowpass_response(freqs, max(self.cutoff_hz * 3, 400.0))
        self.modes.add(freqs, decays, amps, self.panner.gains(x, y, self._layout()), delay)

    def _texture_grain(self) -> None:
        degree = int(self.rng.integers(0, self.scale.size * 2)) + self.scale.size
        freq = float(midi_to_hz(self.scale.degree_to_midi(degree)))
        amp = db(self._num("synth.texture_level")) * 0.5 * min(1.0, self.waste * 2)
        self._play("grain", freq, 0.3, 0.6, 0.0, amp, float(self.rng.random()), float(self.rng.random()),
                   int(self.rng.integers(0, self.block)))

    def _chord(self, now: float, peak: float) -> None:
        s = self.scale
        degrees = [s.chord_degree(d) for d in (0, 2, 4, s.size, s.size + 2)]
        self.chord.freqs[:] = [float(midi_to_hz(s.degree_to_midi(d) - 12)) for d in degrees]
        self.chord_env.trigger(now, peak, 1.5, 2.0, 6.0)

    def _surge(self, now: float, peak: float, strength: float) -> None:
        s = self.scale
        degrees = [s.chord_degree(d) for d in range(-2 * s.size, 3 * s.size, s.size // 2 or 1)][:10]
        degrees += [0] * (10 - len(degrees))
        self.swell.freqs[:] = [float(midi_to_hz(s.degree_to_midi(d) - 12)) for d in degrees]
        self.swell_env.trigger(now, peak, 2.0, 1.0 * strength, 5.0)

    def _num(self, name: str) -> float:
        value = self.params[name]
        return float(value) if isinstance(value, (int, float)) else 0.0

    def _layout(self) -> str:
        return str(self.params["synth.speaker_layout"])

    # -- audio ----------------------------------------------------------------------------
    def process(self, out: NDArray[np.float32]) -> None:
        """Render the next block into ``out`` (block, channels), float32."""
        now = self.position / self.sample_rate
        end = now + self.block / self.sample_rate
        dry, wet = self._dry, self._wet
        dry.fill(0.0)
        self.modes.render(dry)
        self.drone.render(dry)
        for pad, env, weights in ((self.swell, self.swell_env, 0.12), (self.hum, self.hum_env, 0.5),
                                  (self.chord, self.chord_env, 0.15)):
            pad.target[:] = env.value(end) * weights
            pad.render(dry)
        self.buzz.render(dry, now)
        if self.bed_level > 0.0:
            self.bed.render(dry, self.bed_level)
        self._textures(dry, end)
        mix = self._num("synth.reverb_mix")
        self.reverb.process(dry, wet)
        dry *= 1.0 - 0.5 * mix
        wet *= mix
        dry += wet
        muted = bool(self.params["synth.mute"])
        # synth.open_level: the opening hours' fade to silence, linear, on top of the master gain
        target = 0.0 if muted else db(self._num("synth.master_gain")) * self._num("synth.open_level")
        out[:] = dry
        np.multiply(self._ramp, target - self._gain, out=self._gain_ramp)
        self._gain_ramp += self._gain
        out *= self._gain_ramp[:, None]
        self._gain = target
        if self._trims is not None:
            out *= self._trims
        ceiling = min(CEILING_MAX_DB, self._num("synth.limiter_ceiling"))
        np.nan_to_num(out, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
        self.limiter.process(out, ceiling)
        self.position += self.block

    def _textures(self, dry: NDArray[np.float32], end: float) -> None:
        static = self.static_env.value(end)
        level = self.noise_level
        if level < 1e-5 and static == 0.0:
            return
        noise = self._noise
        noise[:] = self.rng.standard_normal((self.block, self.channels), dtype=np.float32)
        self.noise_filter.kernel = lowpass_kernel(1500.0 + 9000.0 * self.toxicity, self.sample_rate)
        self.noise_filter.process(noise)
        noise *= level * 0.3
        if static > 0.0:
            # interference: sparse crackle and clicks over the noise
            clicks = self.rng.random((self.block, self.channels)) < 0.01 * static
            noise += clicks * self.rng.choice(np.array([-0.4, 0.4], np.float32), size=noise.shape) * static
        dry += noise

