"""The A/B crossfader: two decks, each holding a preset, and one fader that morphs between them.

The fader is the parameter :data:`CROSSFADER` (0 plays deck A, 1 deck B), so a MIDI fader (with
soft takeover), OSC ``/param`` and the control window all move it the same way. Every parameter
whose value differs between the decks follows :func:`~installation.core.morph.morph` at the
fader's position: numbers glide, colours travel through OKLab, enums, switches, the look's
name and the seed change at the midpoint (the renderer crossfades the two looks meanwhile).

The rules a performer can rely on:

- A preset is loaded into the deck that is **off air**: the one the fader is fully away from.
  While the fader is between the ends both decks are on air, and a load is refused.
- At that load, the deck on air takes the values on air now (your tweaks included), so the
  fade starts from exactly the picture you see.
- A parameter you touch while the fader is between the ends leaves the fade: it stays where
  you put it until the fader reaches an end, and from then on it is part of the deck on air.
- A recall or an act change that does not go through the fader puts its preset into the deck
  the fader is nearer to and sends the fader to that end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from installation.core.commands import CROSSFADER
from installation.core.morph import morph
from installation.core.params import ParamBank, ParamSpec, Value, float_param
from installation.core.presets import Preset


def param_specs() -> list[ParamSpec]:
    # No smoothing: the fader's own travel is the fade, and smoothing would only add latency.
    return [float_param(CROSSFADER, 0.0, 0.0, 1.0, "", "A/B crossfader: 0 plays deck A, 1 deck B",
                        label="Crossfader")]


class Deck(StrEnum):
    A = "a"
    B = "b"

    @property
    def end(self) -> float:
        """The fader's position that plays this deck alone."""
        return 0.0 if self is Deck.A else 1.0

    @property
    def other(self) -> Deck:
        return Deck.B if self is Deck.A else Deck.A


@dataclass
class FaderMove:
    """The fader moved by the show (an act's crossfader transition), in whole steps."""

    start: float
    end: float
    steps: int
    done: int = 0

    def advance(self) -> float:
        self.done += 1
        return self.start + (self.end - self.start) * min(1.0, self.done / max(1, self.steps))

    @property
    def finished(self) -> bool:
        return self.done >= self.steps


@dataclass
class Decks:
    """What each deck holds and where the fader was last followed; the engine owns it."""

    presets: dict[Deck, Preset]
    values: dict[Deck, dict[str, Value]]
    position: float = 0.0
    touched: set[str] = field(default_factory=set)
    move: FaderMove | None = None

    @classmethod
    def holding(cls, preset: Preset, values: Mapping[str, Value]) -> Decks:
        """Both decks hold ``preset`` (the engine's first), the fader at A."""
        return cls({Deck.A: preset, Deck.B: preset}, {Deck.A: dict(values), Deck.B: dict(values)})

    @property
    def between(self) -> bool:
        """Both decks are on air."""
        return 0.0 < self.position < 1.0

    def nearer(self) -> Deck:
        """The deck whose preset, look and seed are on air (B from the midpoint on, as morph's enums)."""
        return Deck.B if self.position >= 0.5 else Deck.A

    def off_air(self) -> Deck | None:
        if self.between:
            return None
        return self.nearer().other

    def load(self, preset: Preset, values: Mapping[str, Value], bank: ParamBank, on_air: Preset) -> Deck:
        """Put ``preset`` (its ``values``) into the off-air deck; the deck on air takes the bank's targets
        and ``on_air``, the preset playing now (as edited since it was loaded).

        Raises ValueError while the fader is between the ends (both decks are on air)."""
        deck = self.off_air()
        if deck is None:
            raise ValueError(f"the crossfader is at {self.position:.2f}, between the decks, so both are on air: "
                             "move it to an end before loading")
        live = deck.other
        self.values[live] = {name: bank.target(name) if name in bank else value
                             for name, value in self.values[live].items()}
        self.presets[live] = on_air
        self.presets[deck], self.values[deck] = preset, dict(values)
        return deck

    def put_on_air(self, preset: Preset, values: Mapping[str, Value]) -> float:
        """A recall or act change not made with the fader: returns the fader's new position."""
        deck = self.nearer()
        self.presets[deck], self.values[deck] = preset, dict(values)
        self.position, self.move = deck.end, None
        self.touched.clear()
        return self.position

    def fade_to_off_air(self, seconds: float, step_hz: float) -> None:
        """Move the fader from the deck on air to the other over ``seconds`` (a show's transition)."""
        self.move = FaderMove(self.position, self.nearer().other.end, max(1, round(seconds * step_hz)))

    def touch(self, name: str) -> None:
        """A performer set ``name``: the fader itself ends the show's move; any other takes the
        parameter out of a fade in progress."""
        if name == CROSSFADER:
            self.move = None
        elif self.between:
            self.touched.add(name)

    def status(self) -> dict[str, object]:
        """For ``/status``: each deck's preset and the fader."""
        return {"a": self.presets[Deck.A].name, "b": self.presets[Deck.B].name, "crossfader": round(self.position, 4)}

    def look_mix(self) -> tuple[str, str, float] | None:
        """(deck A's look, deck B's look, the fader) while both are on air, else None."""
        if not self.between:
            return None
        return (self.presets[Deck.A].look, self.presets[Deck.B].look, self.position)

    def step(self, bank: ParamBank) -> bool:
        """Follow the fader (moving it first if the show is): set the parameters that differ between
        the decks, and say whether it moved."""
        if self.move is not None:
            bank.set(CROSSFADER, self.move.advance(), "show", immediate=True)
            if self.move.finished:
                self.move = None
        position = bank.number(CROSSFADER)
        if position == self.position:
            return False
        self.position = position
        a, b = self.values[Deck.A], self.values[Deck.B]
        specs = {name: bank.spec(name) for name in a.keys() | b.keys()
                 if name in bank and name not in self.touched and a.get(name) != b.get(name)}
        bank.set_many(morph(specs, a, b, position), "show", immediate=True)
        if not self.between:
            self.touched.clear()
        return True
