"""MIDI learn (arm, move, done; cancel; clear), learned-file saving, and the profile loader."""

from __future__ import annotations

from pathlib import Path

import pytest

from installation.core.errors import LoadError
from installation.core.events import CommandInput, EventKind
from installation.core.paths import UserDirs
from installation.core.tomlsource import Checker, TomlSource
from installation.midi.bindings import ButtonMode, Control, ControlType, Relative, Takeover, Target
from installation.midi.profile import (
    learned_path,
    load_learned,
    load_profile,
    read_bindings,
    save_learned,
    shipped_profile_paths,
)
from tests.core.midi_helpers import Rig


def test_learn_cc_param_then_it_controls() -> None:
    rig = Rig([])
    rig.router.arm("param:render.glow")
    rig.send(0xB1, 20, 64)
    rig.send(0xB1, 20, 66, dt=0.01)        # the same knob still turning
    assert rig.router.learner.armed
    rig.tick(0.1)                           # no LSB followed: a plain CC
    assert not rig.router.learner.armed
    learned = rig.router.learned[0]
    assert learned.control == Control(ControlType.CC, 1, 20) and learned.target == Target.param("render.glow")
    assert learned.takeover is Takeover.PICKUP and learned.feedback and learned.port == rig.port
    assert rig.saved[-1] == [learned]
    for value in range(60, 70):
        rig.send(0xB1, 20, value)
    assert rig.value("render.glow") == pytest.approx(2.0 * 69 / 127)


def test_learn_detects_14_bit_pairs_nrpn_and_notes() -> None:
    rig = Rig([])
    rig.router.arm("param:synth.decay")
    rig.send(0xB0, 3, 10)
    rig.send(0xB0, 35, 20, dt=0.001)
    assert rig.router.learned[0].control == Control(ControlType.CC14, 0, 3)
    rig.router.arm("param:render.glow")
    for number, value in ((99, 1), (98, 2), (6, 64)):
        rig.send(0xB0, number, value, dt=0.001)
    assert rig.router.learned[0].control == Control(ControlType.NRPN, 0, (1 << 7) | 2)
    rig.router.arm("event:bloom")
    rig.send(0x80, 40, 0)                  # note-offs are not learned
    rig.send(0x90, 40, 90)
    assert rig.router.learned[0].control == Control(ControlType.NOTE, 0, 40)
    rig.send(0x90, 40, 127)
    assert rig.events[-1].kind is EventKind.BLOOM


def test_learn_bool_param_from_a_button_makes_a_toggle_and_commands_learn() -> None:
    rig = Rig([])
    rig.router.arm("param:synth.mute")
    rig.send(0x90, 10, 127)
    assert rig.router.learned[0].button is ButtonMode.TOGGLE
    rig.send(0x80, 10, 0)
    rig.send(0x90, 10, 127)
    assert rig.value("synth.mute") is True
    rig.router.arm("command:preset kai-3-surge")
    rig.send(0xC0, 9)
    rig.send(0xC0, 9)
    assert rig.commands == [CommandInput("preset", "kai-3-surge", "midi")]


def test_learn_replaces_a_profile_binding_and_cancel_and_clear() -> None:
    from installation.midi.bindings import Binding

    rig = Rig([Binding(Control(ControlType.CC, None, 7), Target.param("synth.decay"), takeover=Takeover.JUMP)])
    rig.router.arm("param:render.glow")
    rig.router.cancel()
    rig.send(0xB0, 7, 127)
    assert rig.value("synth.decay") == pytest.approx(10.0)  # cancelled: the profile still rules
    rig.router.arm("param:render.glow")
    rig.send(0xB0, 7, 127)
    rig.tick(0.2)
    rig.bank.set("render.glow", 1.0, "ui")
    for value in range(60, 70):
        rig.send(0xB0, 7, value)
    assert rig.value("render.glow") == pytest.approx(2.0 * 69 / 127)
    assert rig.value("synth.decay") == pytest.approx(10.0)  # the learned binding replaced the profile's
    rig.router.clear("param:render.glow")
    assert rig.router.learned == [] and rig.saved[-1] == []
    rig.send(0xB0, 7, 0)
    assert rig.value("synth.decay") == pytest.approx(0.1)


def test_learn_rejects_unknown_targets() -> None:
    rig = Rig([])
    with pytest.raises(ValueError, match="unknown parameter"):
        rig.router.arm("param:render.nothing")
    with pytest.raises(ValueError):
        rig.router.arm("command:explode")
    with pytest.raises(ValueError, match="needs a preset name"):
        rig.router.arm("command:preset")
    assert not rig.router.learner.armed


def test_learned_file_round_trip_keeps_comments(myco_home: Path) -> None:
    rig = Rig([])
    path = learned_path(UserDirs.default())
    assert path.is_relative_to(myco_home)
    rig.router.arm("param:render.glow")
    rig.send(0xB0, 21, 5)
    rig.tick(0.2)
    save_learned(path, rig.router.learned)
    text = path.read_text()
    path.write_text(text.replace("[[binding]]", "# my favourite knob\n[[binding]]", 1))
    rig.router.arm("event:surge")
    rig.send(0x90, 36, 100)
    save_learned(path, rig.router.learned)
    reloaded = load_learned(path)
    assert {b.target for b in reloaded.bindings} == {Target.param("render.glow"), Target.event("surge")}
    assert "# my favourite knob" in path.read_text()
    assert (path.parent / f".{path.name}.1").exists()  # the previous version is kept as a backup


def test_shipped_profiles_load_with_their_numbers() -> None:
    profiles = {load_profile(path).name: load_profile(path) for path in shipped_profile_paths()}
    nano = profiles["Korg nanoKONTROL2"]
    assert nano.matches_port("nanoKONTROL2:nanoKONTROL2 MIDI 1 24:0")
    sliders = [b.control.number for b in nano.bindings if b.control.type is ControlType.CC and b.control.number < 8]
    assert sliders == list(range(8)) and all(b.control.channel == 0 for b in nano.bindings)
    apc = profiles["Akai APC mini"]
    faders = sorted(b.control.number for b in apc.bindings if b.control.type is ControlType.CC)
    assert faders == list(range(48, 57))
    assert any(b.control == Control(ControlType.NOTE, 0, 82) and b.feedback for b in apc.bindings)


def test_profile_errors_name_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[controller]\nname = "x"\n\n[[binding]]\ntype = "cc"\nnumber = 300\nparam = "render.glow"\n'
                    '\n[[binding]]\ntype = "knob"\nnumber = 1\nevent = "nope"\ncurve = "cubic"\nwobble = 1\n'
                    '\n[[binding]]\ntype = "note"\nnumber = 1\nparam = "a.b"\ncommand = "panic"\n'
                    '\n[[binding]]\ntype = "note"\nnumber = 2\ncommand = "preset"\nrelative = "twos_complement"\n')
    with pytest.raises(LoadError) as caught:
        load_profile(path)
    text = str(caught.value)
    for expected in (f"{path}:6: binding[0].number: 300 is outside [0, 127]",
                     f"{path}:10: binding[1].type: 'knob' is not one of",
                     f"{path}:12: binding[1].event: unknown event 'nope'",
                     f"{path}:13: binding[1].curve: 'cubic' is not one of",
                     f"{path}:14: binding[1].wobble: unknown key",
                     f"{path}:16: binding[2]: needs exactly one of param, event, command",
                     f"{path}:22: binding[3].argument: command 'preset' needs",
                     f"{path}:26: binding[3].relative: only cc controls"):
        assert expected in text, (expected, text)


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[controller\n")
    with pytest.raises(LoadError, match=r"broken.toml:1: -: invalid TOML"):
        load_profile(path)
    with pytest.raises(LoadError, match="cannot read"):
        load_profile(tmp_path / "absent.toml")


def test_preset_midi_table_uses_the_same_schema(tmp_path: Path) -> None:
    path = tmp_path / "preset.toml"
    path.write_text('[preset]\ntitle = "t"\n\n[[midi.binding]]\ntype = "cc"\nchannel = 2\nnumber = 16\n'
                    'param = "render.glow"\nrelative = "binary_offset"\n')
    source = TomlSource.read(path)
    checker = Checker(source)
    bindings = read_bindings(checker, source.data["midi"], "midi")
    assert checker.problems == []
    assert bindings[0].control == Control(ControlType.CC, 1, 16) and bindings[0].relative is Relative.BINARY_OFFSET
    rig = Rig([])
    rig.router.set_overrides(bindings)
    rig.send(0xB1, 16, 70)
    assert rig.value("render.glow") == pytest.approx(1.0 + 6 * 2.0 / 127)
