"""The engine: fixed steps, the show's cues and acts, preset morphs, inputs, hot reload of presets."""

from __future__ import annotations

import codecs
import os
import time
from pathlib import Path

import numpy as np
import pytest

from installation.core.commands import Command
from installation.core.events import CommandInput, Event, EventKind, ParamInput
from installation.core.paths import UserDirs
from installation.core.presets import PresetLibrary
from installation.engine import Engine
from installation.registry import build_bank


def test_the_default_show_runs_deterministically_on_a_fixed_step() -> None:
    first = Engine.for_show("kai-festival", bank=build_bank())
    second = Engine.for_show("kai-festival", bank=build_bank())
    frames = first.advance(2.0)
    second.advance(2.0)
    assert len(frames) == 120
    assert first.latest.step == second.latest.step == 120
    assert first.world.state_hash() == second.world.state_hash()  # type: ignore[attr-defined]
    assert first.player.act.title == "The living city"
    assert frames[-1].node_count >= 30
    assert frames[-1].fields["waste"].shape[0] > 8


def test_act_changes_morph_the_preset_over_the_transition_and_reseed_the_world() -> None:
    engine = Engine.for_show("kai-festival", bank=build_bank())
    engine.bank.set("show.time_scale", 8.0, "ui")
    toxin_before = float(engine.latest.fields["toxin"].mean()) if engine.latest.fields else 0.0
    engine.advance(90 / 8 + 0.5)
    assert engine.player.act_index == 1
    assert engine.seed.name == "kai-clusters"
    assert engine.current_look() == "festival"
    engine.advance(3.0)
    assert float(engine.latest.fields["toxin"].mean()) > toxin_before + 0.01, "the poison pools seep in"


def test_inputs_from_other_threads_reach_params_events_and_commands() -> None:
    engine = Engine.for_show("elara-mural", bank=build_bank())
    engine.inputs.put(ParamInput("show.recall_crossfade", 7.0, "osc"))
    engine.inputs.put(ParamInput("show.time_scale", 4.0, "midi"))
    engine.inputs.put(ParamInput("sim.no_such_param", 1.0, "osc"))
    engine.inputs.put(Event(EventKind.SURGE, strength=2.0, x=0.5, y=0.5, source="osc"))
    frame = engine.step()
    assert engine.bank.get("show.recall_crossfade") == 7.0 and engine.bank.source("show.recall_crossfade") == "osc"
    assert engine.bank.get("show.time_scale") == pytest.approx(4.0)
    assert engine.input_errors == 1 and "sim.no_such_param" in engine.errors[-1][1]
    assert any(event.kind is EventKind.SURGE for event in frame.events)
    engine.inputs.put(CommandInput("next_act", source="midi"))
    engine.step()
    assert engine.player.act_index == 1
    engine.inputs.put(CommandInput("preset", "../../etc/passwd", source="osc"))
    engine.step()
    assert engine.preset.name == "elara-2-unveiled", "a bad recall keeps the current preset"
    assert "not a valid name" in engine.errors[-1][1]


def test_a_preset_edited_on_disk_is_live_within_a_second_and_a_broken_one_keeps_the_last_good(
        tmp_path: Path) -> None:
    user = UserDirs.default().ensure()
    shipped = PresetLibrary(user).path("kai-1-living-city")
    mine = user.presets / "kai-1-living-city.toml"
    mine.write_text(shipped.read_text())
    engine = Engine.for_show("kai-festival", bank=build_bank(), presets=PresetLibrary(user))
    assert engine.preset.path == mine.resolve()
    engine.advance(0.5)
    mine.write_text(mine.read_text().replace('"show.recall_crossfade" = 4.0', '"show.recall_crossfade" = 11.0'))
    os.utime(mine, (time.time() + 2, time.time() + 2))
    engine.advance(1.0)
    assert engine.bank.get("show.recall_crossfade") == pytest.approx(11.0)
    mine.write_text(mine.read_text().replace("11.0", '"eleven"'))
    os.utime(mine, (time.time() + 4, time.time() + 4))
    engine.advance(1.0)
    assert engine.bank.get("show.recall_crossfade") == pytest.approx(11.0), "the last good state stays"
    assert f"{mine.resolve()}:" in engine.errors[-1][1] and "params.show.recall_crossfade" in engine.errors[-1][1]



def test_a_hostile_save_is_reported_and_a_windows_save_is_live(tmp_path: Path) -> None:
    user = UserDirs.default().ensure()
    good = PresetLibrary(user).path("kai-1-living-city").read_bytes().replace(
        b'"show.recall_crossfade" = 4.0', b'"show.recall_crossfade" = 7.0')  # not the shipped value
    mine = user.presets / "kai-1-living-city.toml"
    mine.write_bytes(good)
    engine = Engine.for_show("kai-festival", bank=build_bank(), presets=PresetLibrary(user))
    stamp = time.time()

    def saved(reason: str | None) -> None:
        """Move the mtime on (as an editor's save does), let the engine poll, check what it kept."""
        nonlocal stamp
        stamp += 2
        os.utime(mine, (stamp, stamp))
        errors = len(engine.errors)
        start = time.monotonic()
        engine.advance(1.0)
        assert time.monotonic() - start < 10, "a load that blocks stalls the show"
        if reason is None:
            assert len(engine.errors) == errors, engine.errors
            return
        assert engine.bank.get("show.recall_crossfade") == pytest.approx(7.0), "the last good state stays"
        assert engine.errors[-1][1].startswith(f"{mine.resolve()}:") and reason in engine.errors[-1][1]

    title = good.index(b"The living city")
    for content, reason in (
        (good + b"deep = " + b"[" * 5000 + b"]" * 5000 + b"\n", "nested more than"),
        (good[:title] + b"\x00" + good[title:], "NUL"),
        (good[:title] + b"\xff" + good[title:], "UTF-8"),
        (good[: len(good) // 2], "invalid TOML"),
        (good + b"#" * (1 << 20), "larger than"),
    ):
        mine.write_bytes(content)
        saved(reason)
    mine.unlink()
    os.mkfifo(mine)  # nobody writes to it: a plain read would wait forever
    saved("a named pipe, not a file")
    mine.unlink()
    mine.mkdir()
    saved("a folder, not a file")
    mine.rmdir()
    # Saved by a Windows editor: a byte-order mark and CRLF line endings, and a new value.
    windows = good.replace(b'"show.recall_crossfade" = 7.0', b'"show.recall_crossfade" = 11.0')
    mine.write_bytes(codecs.BOM_UTF8 + windows.replace(b"\n", b"\r\n"))
    saved(None)
    assert engine.bank.get("show.recall_crossfade") == pytest.approx(11.0)

def test_recall_crossfades_numbers_smoothly() -> None:
    engine = Engine.for_show("kai-festival", bank=build_bank())
    engine.bank.set("show.recall_crossfade", 2.0, "ui")
    start = engine.bank.get("show.recall_crossfade")
    assert engine.recall("elara-1-reclamation", crossfade_s=2.0)
    values = []
    for _ in range(120):
        engine.step()
        values.append(engine.bank.get("show.recall_crossfade"))
    assert values[-1] == 3.0
    assert np.all(np.diff(values) <= 1e-9) or np.all(np.diff(values) >= -1e-9)
    assert start != 3.0 and min(values) >= 2.0 - 1e-9


def test_after_a_crash_the_show_resumes_in_the_same_act() -> None:
    engine = Engine.for_show("elara-mural", bank=build_bank(), resume=True)
    engine.bank.set("show.time_scale", 8.0, "ui")
    engine.advance(100 / 8)  # act 1 lasts 90 s: now in act 2, and the position was saved
    assert engine.player.act_index == 1
    saved_at = engine.player.position_s
    del engine  # the "crash"
    again = Engine.for_show("elara-mural", bank=build_bank(), resume=True)
    assert again.player.act_index == 1
    assert again.preset.name == "elara-2-unveiled"
    assert again.player.position_s == pytest.approx(saved_at, abs=5 * 8)
    other = Engine.for_show("kai-festival", bank=build_bank(), resume=True)
    assert other.player.act_index == 0, "another show starts at the top"
    assert Engine.for_show("elara-mural", bank=build_bank()).player.act_index == 0, "resume is asked for, not assumed"


def test_blackout_command_fades_to_black_and_back() -> None:
    engine = Engine.for_show("kai-festival", bank=build_bank())
    engine.inputs.put(CommandInput("blackout", source="midi"))
    engine.advance(0.1)
    assert engine.bank.target("render.blackout") == 1.0
    assert 0.0 < engine.bank.number("render.blackout") < 1.0, "a fade, not a cut"
    engine.advance(3.0)
    assert engine.bank.number("render.blackout") == 1.0
    engine.inputs.put(CommandInput("blackout", "off", source="ui"))
    engine.advance(3.0)
    assert engine.bank.number("render.blackout") == 0.0


def test_blackout_loop_and_pause_are_live_state_a_recall_or_an_act_change_leaves_alone() -> None:
    engine = Engine.for_show("kai-festival", bank=build_bank())
    for command in (Command.BLACKOUT, Command.PAUSE):
        engine.inputs.put(CommandInput(command, "on", source="midi"))
    engine.inputs.put(CommandInput(Command.LOOP, "off", source="osc"))
    engine.advance(0.1)
    assert (engine.bank.target("render.blackout"), engine.bank.get("show.paused"), engine.bank.get("show.loop")) \
        == (1.0, True, False)
    position = engine.player.position_s
    engine.advance(1.0)
    assert engine.player.position_s == position and engine.player.paused, "paused: the timeline holds"
    assert not engine.player.loop
    engine.recall("kai-3-surge", crossfade_s=0.5)
    engine.inputs.put(CommandInput(Command.NEXT_ACT, source="ui"))
    engine.advance(1.0)
    assert engine.player.act_index == 1
    assert engine.bank.target("render.blackout") == 1.0, "a recall and an act change keep the blackout"
    assert engine.bank.get("show.paused") is True and engine.bank.get("show.loop") is False
    engine.inputs.put(CommandInput(Command.PAUSE, source="ui"))  # no argument: toggle
    engine.advance(1.0)
    assert engine.player.position_s > 0.5, "the timeline runs again"


@pytest.mark.parametrize(("command", "argument"), [("dance", ""), ("jump_act", "two"), ("blackout", "maybe"),
                                                   ("preset", ""), ("learn", "render.glow")])
def test_a_command_that_does_not_exist_or_does_not_fit_its_argument_is_refused_where_it_arrives(
        command: str, argument: str) -> None:
    with pytest.raises(ValueError):
        CommandInput(command, argument, "osc")  # type: ignore[arg-type]
