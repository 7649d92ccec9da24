"""A parameter bank and a router wired the way the port wrapper wires them (no MIDI library)."""

from __future__ import annotations

from collections.abc import Sequence

from installation.core.events import CommandInput, ControlInput, Event, Input, ParamInput
from installation.core.params import Curve, ParamBank, bool_param, float_param, int_param
from installation.midi.bindings import Binding
from installation.midi.params import param_specs
from installation.midi.profile import Profile
from installation.midi.router import Router

PORT = "testctl:out"


def make_bank() -> ParamBank:
    bank = ParamBank()
    bank.register_all(param_specs())
    bank.register(float_param("render.glow", 1.0, 0.0, 2.0))
    bank.register(float_param("synth.decay", 1.0, 0.1, 10.0, curve=Curve.LOG))
    bank.register(bool_param("synth.mute", False))
    bank.register(int_param("synth.octave", 4, 1, 6))
    return bank


class InputSink:
    """Applies inputs to a bank the way the engine does, keeping the events and commands."""

    def __init__(self, bank: ParamBank) -> None:
        self.bank = bank
        self.events: list[Event] = []
        self.commands: list[CommandInput] = []
        self.controls: list[ControlInput] = []  # every control's position, for modulation sources

    def apply(self, inputs: Sequence[Input]) -> list[Input]:
        for item in inputs:
            if isinstance(item, ParamInput):
                self.bank.set(item.name, item.value, item.source)
            elif isinstance(item, Event):
                self.events.append(item)
            elif isinstance(item, ControlInput):
                self.controls.append(item)
            elif isinstance(item, CommandInput):
                self.commands.append(item)
        return list(inputs)


class Rig(InputSink):
    """Bank + router; applies the router's parameter inputs to the bank like the engine does."""

    def __init__(self, bindings: Sequence[Binding], learned: Sequence[Binding] = (), port: str = PORT) -> None:
        super().__init__(make_bank())
        self.saved: list[list[Binding]] = []
        self.router = Router([Profile("test", "testctl", tuple(bindings))], learned,
                             lambda n: self.bank.spec(n) if n in self.bank else None,
                             lambda n: self.bank.snapshot().get(n), self.saved.append)
        self.bank.subscribe(lambda c: self.router.changed(c.name, c.value, c.source))
        self.router.open_port(port)
        self.port = port
        self.t = 0.0

    def send(self, *message: int, dt: float = 0.01) -> list[Input]:
        self.t += dt
        return self.apply(self.router.handle(self.port, list(message), self.t))

    def tick(self, dt: float) -> list[Input]:
        self.t += dt
        return self.apply(self.router.tick(self.t))

    def value(self, name: str) -> object:
        return self.bank.get(name)
