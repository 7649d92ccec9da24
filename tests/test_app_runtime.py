"""The runtime without windows: fixed steps against the wall clock, the status document, health."""

from __future__ import annotations

import json
import logging
import socket
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from installation.app.compose import build_runtime
from installation.app.health import FrameClock
from installation.app.metrics import to_prometheus
from installation.app.options import RunOptions
from installation.app.runtime import MAX_CATCH_UP, Runtime
from installation.core.commands import Command
from installation.core.events import CommandInput
from tests.test_osc_listener import oscsend
from tests.waiting import wait_for


@pytest.fixture
def runtime() -> Runtime:
    options = RunOptions(audio=False, status=None)
    return build_runtime(options).start()


def test_steps_follow_the_clock_and_skip_a_long_stall(runtime: Runtime) -> None:
    start = runtime._next_step
    dt = runtime.engine.dt
    assert len(runtime.tick(start + 10.5 * dt)) == 11  # steps due at 0..10 dt
    assert runtime.engine.step_count == 11 and runtime.late_steps == 0
    made = runtime.tick(start + 10.5 * dt + 5.0)  # a five-second stall
    assert len(made) == MAX_CATCH_UP
    assert runtime.late_steps == pytest.approx(5.0 / dt - MAX_CATCH_UP, abs=2)
    assert runtime.tick(start + 10.5 * dt + 5.0) == []  # nothing is replayed afterwards
    runtime.stop()


def test_status_document_has_every_field_operators_rely_on(runtime: Runtime) -> None:
    runtime.engine.advance(1.0)
    runtime.clock.frame_done(0.004)
    logging.getLogger("installation.test").error("projector 2 is too warm")
    status = runtime.publish_status()
    runtime.stop()
    for key in ("show", "act", "act_index", "position_s", "preset", "fps", "frame_ms", "audio", "params",
                "nodes", "inputs", "errors"):
        assert key in status, key
    assert status["show"] == "kai-festival" and status["act"] == "The living city"
    assert status["position_s"] == pytest.approx(1.0, abs=0.05)
    assert set(status["params"]) == set(runtime.engine.bank.names())
    assert all(isinstance(v, list) for k, v in status["params"].items()
               if runtime.engine.bank.spec(k).kind.value == "color")
    assert len(status["nodes"]) == runtime.engine.latest.node_count
    assert {"live", "last"} <= set(next(iter(status["nodes"].values())))
    assert status["errors"][-1]["message"] == "projector 2 is too warm" and status["errors"][-1]["time"]
    assert status["audio"] == {"running": False, "load": 0.0, "underflows": 0, "device": None,
                               "notice": "off (--no-audio)"}
    json.dumps(status)  # serialisable as it is


def test_frame_clock_fps_and_percentiles() -> None:
    clock = FrameClock()
    for i in range(121):
        clock.frame_done(0.010 if i % 10 else 0.030, now=100.0 + i / 60)
    assert clock.fps(now=100.0 + 2.0) == pytest.approx(60.0, rel=0.02)
    assert clock.percentiles_ms() == {"p50": 10.0, "p99": 30.0}
    assert clock.fps(now=200.0) == 0.0  # nothing completed lately: not a healthy-looking number


def test_a_draw_after_several_steps_gets_every_steps_events() -> None:
    from dataclasses import replace

    from installation.core.events import Event, EventKind
    from installation.core.frames import empty_frame, with_all_events

    surge, spike = Event(EventKind.SURGE, 1.0), Event(EventKind.SPIKE, 1.1, node="n1")
    frames = [replace(empty_frame(), step=1, events=(surge,)), replace(empty_frame(), step=2),
              replace(empty_frame(), step=3, events=(spike,))]
    merged = with_all_events(frames)
    assert merged.step == 3 and merged.events == (surge, spike)
    assert with_all_events(frames[1:2]) is frames[1]



def test_osc_commands_reach_the_one_dispatcher_and_their_state_comes_back() -> None:
    """oscsend (liblo) gives the commands; a controller's socket gets the state back."""
    runtime = build_runtime(RunOptions(audio=False, status=None, osc="127.0.0.1:0")).start()
    try:
        port = runtime.part("osc").port
        bank = runtime.engine.bank
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as controller:
            controller.bind(("127.0.0.1", 0))
            controller.settimeout(5)

            def replies(*wanted: str) -> dict[str, object]:
                """The latest value of each address until every one of ``wanted`` came."""
                seen: dict[str, object] = {}
                while not set(wanted) <= set(seen):
                    runtime.tick()
                    reply = OscMessage(controller.recv(1024))
                    seen[reply.address] = reply.params[0]
                return seen

            message = OscMessageBuilder("/myco/command/blackout")
            message.add_arg(1)
            controller.sendto(message.build().dgram, ("127.0.0.1", port))
            greeting = replies("/myco/state/preset", "/myco/state/act")  # a new peer gets the state at once
            assert greeting["/myco/state/preset"] == runtime.engine.preset.name
            assert greeting["/myco/state/act"] == 0
            oscsend(port, "/myco/command/pause", "i", 1)
            oscsend(port, "/myco/command/loop", "s", "off")
            oscsend(port, "/myco/command/next_act", "")
            wait_for(lambda: bool(runtime.tick()) and bank.target("render.blackout") == 1.0
                     and bank.get("show.paused") is True and bank.get("show.loop") is False
                     and runtime.engine.player.act_index == 1, 10, "blackout, pause, loop and the act set by OSC")
            state = replies("/myco/param/render.blackout", "/myco/param/show.paused", "/myco/param/show.loop",
                            "/myco/state/act", "/myco/state/preset")
        assert state["/myco/param/render.blackout"] == 1.0
        assert (state["/myco/param/show.paused"], state["/myco/param/show.loop"]) == (1.0, 0.0)
        assert state["/myco/state/act"] == 1 and state["/myco/state/preset"] == runtime.engine.preset.name
        assert runtime.engine.player.paused and not runtime.engine.player.loop
    finally:
        runtime.stop()


def test_status_and_metrics_show_the_opening_hours_of_the_venue(tmp_path: Path) -> None:
    path = tmp_path / "hall.toml"
    path.write_text('[venue]\ntitle = "Hall"\n\n[[output]]\nname = "wall"\n\n[schedule]\ntimezone = "Europe/Berlin"\n'
                    'tuesday = [["10:00", "18:00"]]\nclosing = { fade = 1.0 }\n', encoding="utf-8")
    runtime = build_runtime(RunOptions(audio=False, status=None, venue=str(path)))
    assert runtime.publish_status()["schedule"]["timezone"] == "Europe/Berlin"
    runtime.engine.hours.clock = lambda: datetime(2026, 3, 3, 20, 0, tzinfo=UTC)  # Tuesday, 21:00 in Berlin
    runtime.engine.advance(1.5)
    status = runtime.publish_status()
    assert status["schedule"] == {"open": False, "since": "2026-03-03T17:00:00+00:00",
                                  "next_change": "2026-03-10T09:00:00+00:00", "next_change_in_s": 565200.0,
                                  "next_state": "open", "override": False, "timezone": "Europe/Berlin"}
    assert status["blackout"] == 1.0 and status["params"]["synth.open_level"] == 0.0
    metrics = to_prometheus(status)
    assert "myco_open 0\n" in metrics and 'myco_next_change_seconds{to="open"} 565200\n' in metrics
    runtime.engine.inputs.put(CommandInput(Command.OPEN_NOW, source="ui"))
    runtime.engine.advance(0.1)
    assert runtime.publish_status()["schedule"]["override"] is True
    assert runtime.build_status()["schedule"]["open"] is True
    runtime.venue = replace(runtime.venue, schedule=None)  # the file re-read without its hours
    runtime.engine.advance(0.1)
    assert runtime.build_status()["schedule"] == {"open": True, "always": True}
    assert "myco_open 1\n" in to_prometheus(runtime.build_status())
    runtime.stop()


def test_osc_closes_and_opens_the_room_now() -> None:
    """oscsend's /myco/command/close_now and open_now reach the opening hours (no schedule: always open)."""
    runtime = build_runtime(RunOptions(audio=False, status=None, osc="127.0.0.1:0")).start()
    try:
        port = runtime.part("osc").port
        hours = runtime.engine.hours
        assert hours.open
        oscsend(port, "/myco/command/close_now", "")
        wait_for(lambda: runtime.tick() is not None and not hours.open, 10, "closed by OSC")
        assert runtime.build_status()["schedule"]["open"] is False
        oscsend(port, "/myco/command/open_now", "")
        wait_for(lambda: runtime.tick() is not None and hours.open, 10, "opened by OSC")
    finally:
        runtime.stop()
