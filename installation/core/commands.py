"""The commands an operator, a controller or a script can give, as one typed set.

Every source (the control window, MIDI bindings, OSC) posts a
:class:`~installation.core.events.CommandInput` naming one :class:`Command`; the engine's
one dispatcher carries it out. A command with a state (blackout, loop, pause) keeps that
state in a parameter, so MIDI LEDs and OSC clients get it back through the same feedback as
any parameter, and a preset recall or an act change never touches it (:data:`LIVE_PARAMS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Command(StrEnum):
    PRESET = "preset"
    DECK_LOAD = "deck_load"
    NEXT_ACT = "next_act"
    PREVIOUS_ACT = "previous_act"
    JUMP_ACT = "jump_act"
    BLACKOUT = "blackout"
    LOOP = "loop"
    PAUSE = "pause"
    PANIC = "panic"
    TAP_TEMPO = "tap_tempo"
    LEARN = "learn"
    OPEN_NOW = "open_now"
    CLOSE_NOW = "close_now"
    EFFECT_ADD = "effect_add"
    EFFECT_REMOVE = "effect_remove"
    EFFECT_BYPASS = "effect_bypass"
    EFFECT_MOVE = "effect_move"
    EFFECT_SET = "effect_set"


class Quantum(StrEnum):
    """When a performer's launch lands: at once, on the next beat, or on the next bar."""

    NOW = "now"
    BEAT = "beat"
    BAR = "bar"


class Argument(StrEnum):
    """What a command's argument must be."""

    NONE = "none"        # ignored
    NAME = "name"        # a preset name, required
    INDEX = "index"      # an act number counted from 0, required
    SWITCH = "switch"    # on/off (1/0, true/false, yes/no); empty toggles
    TARGET = "target"    # what to learn: "param:<name>", "event:<kind>" or "command:<name>", required
    EFFECT = "effect"    # an ISF effect, then what to do with it (core/effects.py), required


@dataclass(frozen=True)
class CommandSpec:
    command: Command
    argument: Argument
    description: str
    state: str = ""  # the parameter that holds the command's state, "" for a momentary command
    midi_only: bool = False  # carried out inside the MIDI layer (it needs the controller's timing)


SPECS: dict[Command, CommandSpec] = {spec.command: spec for spec in (
    CommandSpec(Command.PRESET, Argument.NAME, "recall a preset (crossfading for show.recall_crossfade)"),
    CommandSpec(Command.DECK_LOAD, Argument.NAME, "load a preset into the crossfader's deck that is off air"),
    CommandSpec(Command.NEXT_ACT, Argument.NONE, "go to the next act"),
    CommandSpec(Command.PREVIOUS_ACT, Argument.NONE, "go to the previous act"),
    CommandSpec(Command.JUMP_ACT, Argument.INDEX, "go to act N (0 is the first)"),
    CommandSpec(Command.BLACKOUT, Argument.SWITCH, "fade to black or back", state="render.blackout"),
    CommandSpec(Command.LOOP, Argument.SWITCH, "loop the show after its last act", state="show.loop"),
    CommandSpec(Command.PAUSE, Argument.SWITCH, "hold the show timeline (the organism lives on)", state="show.paused"),
    CommandSpec(Command.PANIC, Argument.NONE, "put every parameter back to the current preset at once"),
    CommandSpec(Command.TAP_TEMPO, Argument.NONE, "tap the tempo", midi_only=True),
    CommandSpec(Command.LEARN, Argument.TARGET, "bind the next control moved to a target", midi_only=True),
    CommandSpec(Command.OPEN_NOW, Argument.NONE, "open now, until the next scheduled change"),
    CommandSpec(Command.CLOSE_NOW, Argument.NONE, "close now, until the next scheduled change"),
    CommandSpec(Command.EFFECT_ADD, Argument.EFFECT, "add an ISF effect: FILE or NAME=FILE (fades in)"),
    CommandSpec(Command.EFFECT_REMOVE, Argument.EFFECT, "remove ISF effect NAME (fades out)"),
    CommandSpec(Command.EFFECT_BYPASS, Argument.EFFECT, "bypass ISF effect NAME [on|off] (none toggles)"),
    CommandSpec(Command.EFFECT_MOVE, Argument.EFFECT, "move ISF effect NAME to PLACE (from 0), crossfading"),
    CommandSpec(Command.EFFECT_SET, Argument.EFFECT, "set ISF effect NAME's blend, opacity, mask, mask_from (k=v)"),
)}

COMMAND_NAMES = tuple(command.value for command in Command)

# Parameters that are the state of a command: live performance state, which presets neither
# store nor recall (a recall must not lift a blackout).
# The opening hours' sound level is live state too (an act change at night must not lift the silence).
OPEN_LEVEL = "synth.open_level"
# So is the A/B crossfader's position (installation.core.decks): a recall must not move the fader.
CROSSFADER = "mix.crossfader"
# And the show's tempo (installation.core.tempo): the band's tempo outlives a recall.
TEMPO_PARAMS = ("tempo.bpm", "tempo.follow", "tempo.beats_per_bar", "tempo.running", "tempo.quantize")
LIVE_PARAMS = frozenset({*(spec.state for spec in SPECS.values() if spec.state), OPEN_LEVEL, CROSSFADER,
                         *TEMPO_PARAMS})

_ON = ("1", "true", "on", "yes")
_OFF = ("0", "false", "off", "no")


def switch(argument: str) -> bool | None:
    """A switch argument: True, False, or None (empty: toggle). Raises ValueError otherwise."""
    word = argument.strip().lower()
    if not word:
        return None
    if word in _ON:
        return True
    if word in _OFF:
        return False
    raise ValueError(f"{argument!r} is not on or off (one of {', '.join(_ON + _OFF)}; empty toggles)")


def check_argument(command: Command, argument: str) -> None:
    """Raise ValueError when ``argument`` does not fit ``command``."""
    kind = SPECS[command].argument
    if kind is Argument.SWITCH:
        switch(argument)
    elif kind is Argument.INDEX:
        if not argument.strip().isdigit():
            raise ValueError(f"command '{command}' needs an act number counted from 0, got {argument!r}")
    elif kind is Argument.NAME and not argument:
        raise ValueError(f"command '{command}' needs a preset name as argument")
    elif kind is Argument.EFFECT and not argument.strip():
        raise ValueError(f"command '{command}' needs an effect as argument ({SPECS[command].description})")
    elif kind is Argument.TARGET and ":" not in argument:
        raise ValueError(f"command '{command}' needs a target like 'param:render.glow', got {argument!r}")
