"""Commands as one typed set: what OSC and MIDI make of them, and the feedback of their state."""

from __future__ import annotations

from pathlib import Path

import pytest

from installation.core.commands import LIVE_PARAMS, SPECS, TEMPO_PARAMS, Command, switch
from installation.core.errors import LoadError
from installation.core.events import CommandInput
from installation.core.params import bool_param, float_param
from installation.core.presets import parse_preset
from installation.core.tomlsource import TomlSource
from installation.midi.bindings import Binding, Control, ControlType, Target
from installation.nodes.codec import decode_osc
from installation.nodes.validate import Rejection
from tests.core.midi_helpers import Rig


def test_every_command_with_a_state_keeps_it_in_a_live_parameter() -> None:
    # and the hours' sound, the crossfader's position and the tempo
    assert LIVE_PARAMS == {"render.blackout", "show.loop", "show.paused", "synth.open_level", "mix.crossfader",
                           *TEMPO_PARAMS}
    assert {spec.command for spec in SPECS.values() if spec.state} == {Command.BLACKOUT, Command.LOOP, Command.PAUSE}
    assert [switch(word) for word in ("on", "OFF", " 1 ", "", "yes")] == [True, False, True, None, True]


@pytest.mark.parametrize(("address", "args", "expected"), [
    ("/myco/command/blackout", [1], CommandInput(Command.BLACKOUT, "on", "osc")),
    ("/myco/command/blackout", [0.2], CommandInput(Command.BLACKOUT, "off", "osc")),
    ("/myco/command/pause", [], CommandInput(Command.PAUSE, "", "osc")),
    ("/myco/command/loop", [True], CommandInput(Command.LOOP, "on", "osc")),
    ("/myco/command/jump_act", [2], CommandInput(Command.JUMP_ACT, "2", "osc")),
    ("/myco/command/preset", ["kai-3-surge"], CommandInput(Command.PRESET, "kai-3-surge", "osc")),
    ("/myco/command/next_act", [], CommandInput(Command.NEXT_ACT, "", "osc")),
])
def test_osc_commands_are_typed_where_they_arrive(address: str, args: list[object], expected: CommandInput) -> None:
    assert decode_osc(address, args) == expected


@pytest.mark.parametrize(("address", "args"), [
    ("/myco/command/explode", []),          # no such command
    ("/myco/command/learn", ["param:x.y"]),  # the MIDI layer's own
    ("/myco/command/jump_act", ["two"]),
    ("/myco/command/blackout", ["dim"]),
    ("/myco/command/preset", []),
    ("/myco/command/blackout", [1, 2]),
    ("/myco/command/blackout", [float("nan")]),
])
def test_bad_osc_commands_are_rejected_not_raised(address: str, args: list[object]) -> None:
    assert isinstance(decode_osc(address, args), Rejection)


def test_a_command_buttons_led_follows_the_commands_state_whoever_changed_it() -> None:
    blackout = Binding(Control(ControlType.NOTE, 0, 98), Target.command("blackout"), feedback=True, led_on=3, led_off=0)
    pause = Binding(Control(ControlType.NOTE, 0, 97), Target.command("pause"), feedback=True, led_on=1, led_off=0)
    rig = Rig([blackout, pause])
    rig.bank.register(float_param("render.blackout", 0.0, 0.0, 1.0, smoothing_s=1.5))
    rig.bank.register(bool_param("show.paused", False))
    assert rig.router.full_feedback(rig.port) == [[0x90, 98, 0], [0x90, 97, 0]]  # a controller plugged in
    rig.bank.set("render.blackout", 1.0, "osc")  # from OSC, the control window or the button itself
    rig.bank.set("show.paused", True, "ui")
    assert rig.router.feedback() == [(rig.port, [0x90, 98, 3]), (rig.port, [0x90, 97, 1])]
    rig.send(0x90, 98, 127)  # pressing it gives the command; the engine will set the state
    assert rig.commands == [CommandInput(Command.BLACKOUT, "", "midi")]


def test_a_preset_that_sets_live_state_is_refused_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "dark.toml"
    text = '[preset]\nseed = "kai-city"\nlook = "festival"\n\n[params]\n"render.blackout" = 1.0\n'
    with pytest.raises(LoadError) as caught:
        parse_preset(TomlSource.parse(text, path))
    assert f"{path}:6: params.render.blackout: is live state" in str(caught.value)
    edited = parse_preset(TomlSource.parse(text.replace('"render.blackout" = 1.0', ""), path))
    assert "show.paused" not in edited.with_params({"show.paused": True, "sim.growth_rate": 2.0}).params
