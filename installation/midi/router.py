"""Everything MIDI does between the port wrapper and the engine, without any port.

The :class:`Router` owns one :class:`~installation.midi.mapper.Mapper` per open port (with
the bindings of the profile that matches the port's name, the user's learned bindings and
the current preset's overrides), the learner, the clock follower and tap tempo, and the
feedback that goes back out. The port wrapper feeds it raw bytes with timestamps and sends
what it returns; the engine receives only parameter values, events and commands.

One thread (the port wrapper's) calls everything here except :meth:`changed`, which the
parameter bank's listener calls from the engine's thread: it only appends to a deque.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from installation.core.events import CommandInput, ControlInput, Input, ParamInput
from installation.core.params import Kind, Value
from installation.core.tempo import Source, Tempo
from installation.midi.bindings import Binding, ButtonMode, Control, ControlType, TargetKind, parse_target
from installation.midi.clock import ClockFollower, TapTempo
from installation.midi.learn import Learner
from installation.midi.mapper import SOURCE, Mapper, SpecLookup, ValueLookup
from installation.midi.messages import Kind as MessageKind
from installation.midi.messages import Message, StreamParser, control_change, note_on, parse, pitch_bend
from installation.midi.params import CLOCK_RUNNING, CLOCK_SOURCE, TEMPO
from installation.midi.profile import Profile

TEMPO_STEP_BPM = 0.05    # publish the tempo when it moved this much (at most once per clock tick)


@dataclass
class PortCounts:
    received: int = 0
    dropped: int = 0     # malformed bytes
    unmapped: int = 0    # well-formed, but no binding wanted them
    sent: int = 0


def _select(bindings: Sequence[Binding], port: str) -> list[Binding]:
    """Bindings for ``port``, earlier ones replacing later ones on the same control."""
    chosen: list[Binding] = []
    for binding in bindings:
        if binding.port and binding.port.lower() not in port.lower():
            continue
        if not any(c.control.matches(binding.control) for c in chosen):
            chosen.append(binding)
    return chosen


class Router:
    """The pure MIDI layer for all controllers at once."""

    def __init__(self, profiles: Sequence[Profile], learned: Sequence[Binding], spec_of: SpecLookup,
                 value_of: ValueLookup, on_learned: Callable[[list[Binding]], None] | None = None) -> None:
        self.profiles = list(profiles)
        self.learned = list(learned)
        self.overrides: list[Binding] = []
        self._spec_of = spec_of
        self._value_of = value_of
        self._on_learned = on_learned
        self.mappers: dict[str, Mapper] = {}
        self._streams: dict[str, StreamParser] = {}
        self.counts: dict[str, PortCounts] = {}
        self.learner = Learner()
        self.clock = ClockFollower()
        self.tap = TapTempo()
        self._changes: deque[tuple[str, Value, str]] = deque(maxlen=4096)
        self._preset = ""  # the current preset's name, for the LEDs of preset buttons
        self._published_bpm: float | None = None
        self._source = "internal"
        self._clock_seen = -1e9  # when the last clock tick arrived (the caller's clock)
        self._controls: dict[tuple[int, int], float] = {}  # (channel 1..16, number) → 0..1, moved since controls()
        self.tempo: Tempo | None = None  # the show's tempo, which the clock leads (set by the port wrapper)
        # (arrival - sender's time) of the last ticks: the sender's timeline starts at the first message's
        # arrival (latency included) and may drift from the monotonic clock; their least puts it back
        # on the monotonic clock with the least latency seen lately.
        self._clock_lags: deque[float] = deque(maxlen=self.clock.window_ticks)

    # -- ports -----------------------------------------------------------------------------
    def profile_for(self, port: str) -> Profile | None:
        return next((p for p in self.profiles if p.matches_port(port)), None)

    def open_port(self, port: str) -> None:
        self.counts.setdefault(port, PortCounts())
        self.mappers[port] = Mapper(self._bindings_for(port), self._spec_of, self._value_of)

    def close_port(self, port: str) -> None:
        self.mappers.pop(port, None)

    def _bindings_for(self, port: str) -> list[Binding]:
        profile = self.profile_for(port)
        return _select([*self.overrides, *self.learned, *(profile.bindings if profile else ())], port)

    def _rebind(self) -> None:
        for port, mapper in self.mappers.items():
            mapper.set_bindings(self._bindings_for(port))

    def set_overrides(self, bindings: Sequence[Binding]) -> None:
        """A preset's ``[midi]`` bindings, which win over the profile's until the next preset."""
        self.overrides = list(bindings)
        self._rebind()

    # -- learn -----------------------------------------------------------------------------
    def arm(self, target_text: str) -> None:
        """Arm learn for a target like ``param:render.glow``; raises ValueError for a bad one."""
        target = parse_target(target_text)
        spec = self._spec_of(target.name) if target.kind is TargetKind.PARAM else None
        if target.kind is TargetKind.PARAM and spec is None:
            raise ValueError(f"unknown parameter {target.name!r}")
        self.learner.arm(target, toggle=spec is not None and spec.kind is Kind.BOOL)

    def cancel(self) -> None:
        self.learner.cancel()

    def clear(self, target_text: str | None = None) -> None:
        """Forget learned bindings of one target, or all of them."""
        target = parse_target(target_text) if target_text else None
        self.learned = [b for b in self.learned if target is not None and b.target != target]
        self._learned_changed()

    def _learn(self, binding: Binding | None) -> None:
        if binding is None:
            return
        self.learned = [binding, *(b for b in self.learned
                                   if not (b.control.matches(binding.control) and b.port == binding.port))]
        self._learned_changed()

    def _learned_changed(self) -> None:
        self._rebind()
        if self._on_learned is not None:
            self._on_learned(list(self.learned))

    # -- input -----------------------------------------------------------------------------
    def handle(self, port: str, data: Sequence[int], t: float, clock_t: float | None = None) -> list[Input]:
        """The inputs caused by one raw message from ``port`` at time ``t`` (seconds).

        ``clock_t`` is the message's time on the sender's timeline (the sum of the port's
        delta times), which MIDI clock is measured on; ``t`` when not given. Bytes that are
        not one complete message (a sender packing several, with running status) go through
        the port's stream parser, which recovers what it can.
        """
        counts = self.counts.setdefault(port, PortCounts())
        counts.received += 1
        message = parse(data)
        if message is not None:
            messages = [message]
        else:
            stream = self._streams.setdefault(port, StreamParser())
            messages = stream.feed(data) if all(isinstance(b, int) and 0 <= b <= 0xFF for b in data) else []
        if not messages:
            counts.dropped += 1
            return []
        out: list[Input] = []
        for item in messages:
            out.extend(self._message(port, item, t, t if clock_t is None else clock_t))
        return out

    def _message(self, port: str, message: Message, t: float, clock_t: float) -> list[Input]:
        if message.is_realtime:
            return self._clock(message, clock_t, t)
        if message.kind is MessageKind.SONG_POSITION:
            self.clock.locate(message.value)
            return []
        if message.kind is MessageKind.CC:
            self._controls[(message.channel + 1, message.number)] = message.value / 127.0
        if self.learner.armed:
            self._learn(self.learner.offer(port, message, t))
            return []
        mapper = self.mappers.get(port)
        if mapper is None:
            return []
        before = mapper.unmapped
        out = self._intercept(mapper.handle(message, t), t)
        self.counts[port].unmapped += mapper.unmapped - before
        self._share(port, out)
        return out

    def tick(self, t: float) -> list[Input]:
        """Smoothing glides, learn timeouts and the clock's presence; call every few ms."""
        if self.learner.armed:
            self._learn(self.learner.tick(t))
        out: list[Input] = []
        for port, mapper in self.mappers.items():
            glided = mapper.tick(t)
            self._share(port, glided)
            out.extend(glided)
        if self._source == "clock" and t - self._clock_seen > self.clock.timeout_s:
            self._source = "tap"
            out.append(ParamInput(CLOCK_SOURCE, "tap", SOURCE))
        return out

    def controls(self) -> list[ControlInput]:
        """The controls that moved since the last call, each where it stands now (modulation sources)."""
        moved = [ControlInput(channel, number, value) for (channel, number), value in self._controls.items()]
        self._controls.clear()
        return moved

    def _share(self, port: str, inputs: Sequence[Input]) -> None:
        """Tell the other controllers that this one moved a parameter (their takeover re-arms)."""
        for item in inputs:
            if isinstance(item, ParamInput):
                for other_port, mapper in self.mappers.items():
                    if other_port != port:
                        mapper.external(item.name, item.value)  # type: ignore[arg-type]

    def _intercept(self, inputs: list[Input], t: float) -> list[Input]:
        """Commands that belong to the MIDI layer itself: tap tempo and learn."""
        out: list[Input] = []
        for item in inputs:
            if isinstance(item, CommandInput) and item.command == "tap_tempo":
                out.extend(self._tap(t))
            elif isinstance(item, CommandInput) and item.command == "learn":
                try:
                    self.arm(item.argument)
                except ValueError:
                    continue
            else:
                out.append(item)
        return out

    # -- tempo -----------------------------------------------------------------------------
    def _clock(self, message: Message, clock_t: float, t: float) -> list[Input]:
        clock = self.clock
        if message.kind is MessageKind.CLOCK:
            if t - self._clock_seen > clock.timeout_s:  # a new clock (or the same after a gap)
                self._clock_lags.clear()
            self._clock_lags.append(t - clock_t)
            clock.tick(clock_t)
            self._clock_seen = t
            if self.tempo is not None and clock.bpm is not None and clock.fitted_t is not None:
                self.tempo.offer(Source.MIDI, clock.fitted_t + min(self._clock_lags), clock.bpm, clock.beat)
            return self._publish_tempo(clock.bpm, "clock")
        if message.kind is MessageKind.START:
            clock.start()
        else:
            clock.transport(message.kind is MessageKind.CONTINUE)
        if self.tempo is not None:
            self.tempo.transport(Source.MIDI, t, clock.running)
        return [ParamInput(CLOCK_RUNNING, clock.running, SOURCE)]

    def _tap(self, t: float) -> list[Input]:
        if t - self._clock_seen <= self.clock.timeout_s:
            return []  # a running clock wins over tapping
        if self.tempo is not None:
            self.tempo.tap(t)
        return self._publish_tempo(self.tap.tap(t), "tap", force=True)

    def _publish_tempo(self, bpm: float | None, source: str, force: bool = False) -> list[Input]:
        if bpm is None:
            return []
        out: list[Input] = []
        if source != self._source:
            self._source = source
            out.append(ParamInput(CLOCK_SOURCE, source, SOURCE))
        moved = self._published_bpm is None or abs(bpm - self._published_bpm) >= TEMPO_STEP_BPM
        if force or moved:
            self._published_bpm = bpm
            out.append(ParamInput(TEMPO, round(bpm, 2), SOURCE))
        return out

    # -- feedback --------------------------------------------------------------------------
    def changed(self, name: str, value: Value, source: str) -> None:
        """The bank's listener (any thread): remember a change for :meth:`feedback`."""
        self._changes.append((name, value, source))

    def feedback(self) -> list[tuple[str, list[int]]]:
        """(port, message) pairs that show the changes since the last call."""
        out: list[tuple[str, list[int]]] = []
        while self._changes:
            name, value, source = self._changes.popleft()
            for port, mapper in self.mappers.items():
                echo = source == SOURCE and mapper.last_sent.get(name) == value
                if source != SOURCE:
                    mapper.external(name, value)
                if echo:
                    continue
                for binding in mapper.bindings:
                    if binding.feedback and binding.target.shown == name:
                        out.extend((port, message) for message in self._messages(mapper, binding, value))
        return self._counted(out)

    def full_feedback(self, port: str) -> list[list[int]]:
        """Every feedback message of ``port``'s bindings (after it was opened)."""
        mapper = self.mappers.get(port)
        if mapper is None:
            return []
        out = []
        for binding in mapper.bindings:
            shown = binding.target.shown
            if binding.feedback and shown:
                value = self._value_of(shown)
                if value is not None:
                    out.extend(self._messages(mapper, binding, value))
        return out + self._preset_lights(mapper)

    def preset_changed(self, name: str) -> list[tuple[str, list[int]]]:
        """(port, message) pairs that light the button of preset ``name`` and darken the others'."""
        self._preset = name
        return self._counted([(port, message) for port, mapper in self.mappers.items()
                              for message in self._preset_lights(mapper)])

    def _counted(self, out: list[tuple[str, list[int]]]) -> list[tuple[str, list[int]]]:
        """``out`` (feedback about to be sent), counted as sent per port."""
        for port, _ in out:
            self.counts.setdefault(port, PortCounts()).sent += 1
        return out

    def _preset_lights(self, mapper: Mapper) -> list[list[int]]:
        return [message for binding in mapper.bindings
                if binding.feedback and binding.target.kind is TargetKind.COMMAND and binding.target.name == "preset"
                for message in feedback_messages(binding.control, float(binding.target.argument == self._preset),
                                                 binding)]

    def _messages(self, mapper: Mapper, binding: Binding, value: Value) -> list[list[int]]:
        """A parameter binding's control follows its value; a command's LED, the command's state."""
        if binding.target.state:
            spec = self._spec_of(binding.target.state)
            position = spec.to_normalized(value) if spec is not None else None
        else:
            position = mapper.feedback_position(binding, value)
        if position is None:
            return []
        return feedback_messages(binding.control, position, binding)


def feedback_messages(control: Control, position: float, binding: Binding) -> list[list[int]]:
    """The MIDI messages that put ``control`` (an LED, a motor fader) at ``position`` 0..1."""
    channel = control.channel or 0
    fine = round(position * 16383)
    if control.type is ControlType.CC:
        if binding.button is not ButtonMode.VALUE:
            return [control_change(channel, control.number, binding.led_on if position >= 0.5 else binding.led_off)]
        return [control_change(channel, control.number, round(position * 127))]
    if control.type is ControlType.CC14:
        return [control_change(channel, control.number, fine >> 7),
                control_change(channel, control.number + 32, fine & 0x7F)]
    if control.type is ControlType.NRPN:
        return [control_change(channel, 99, control.number >> 7), control_change(channel, 98, control.number & 0x7F),
                control_change(channel, 6, fine >> 7), control_change(channel, 38, fine & 0x7F)]
    if control.type is ControlType.NOTE:
        return [note_on(channel, control.number, binding.led_on if position >= 0.5 else binding.led_off)]
    if control.type is ControlType.PITCHBEND:
        return [pitch_bend(channel, fine)]
    return []
