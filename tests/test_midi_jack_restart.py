"""The JACK server itself killed and restarted mid-show: MIDI comes back, nothing crashes.

Uses a private jackd (not the session's), because killing it is the point. Handles of a dead
server are dropped, never closed: libjack frees their clients itself (docs/pitfalls.md,
python-rtmidi); the subprocess tests below fail if that ever crashes a process, at once or at exit.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from installation.core.events import InputQueue
from installation.core.params import ParamBank, float_param
from installation.inputs.midi import MidiInputs
from installation.inputs.midi_ports import JackServerWatch
from installation.midi.bindings import Binding, Control, ControlType, Takeover, Target
from installation.midi.params import param_specs as midi_param_specs
from installation.midi.profile import Profile
from tests import services
from tests.midi_rig import Applier, TestController
from tests.waiting import Lines, wait_for


class PrivateJack:
    """A jackd of the test's own, named in the environment; ``restart`` starts it again by that name."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.name = f"myco-midi-restart-{uuid.uuid4().hex[:6]}"
        self.jack = services.start_jack(self.name)
        for key, value in self.jack.env().items():
            monkeypatch.setenv(key, value)

    def restart(self) -> None:
        self.jack = services.start_jack(self.name)


@pytest.fixture
def private_jack(monkeypatch: pytest.MonkeyPatch) -> Iterator[PrivateJack]:
    server = PrivateJack(monkeypatch)
    try:
        yield server
    finally:
        services.stop(server.jack.process)


def test_midi_survives_a_jackd_restart(private_jack: PrivateJack) -> None:
    controller = TestController()
    bank, queue = ParamBank(), InputQueue()
    bank.register_all(midi_param_specs())  # the MIDI layer's own (tempo, clock)
    bank.register(float_param("render.exposure", 1.0, 0.0, 4.0))
    app = Applier(queue, bank)
    profile = Profile("t", controller.name, (Binding(Control(ControlType.CC, None, 7),
                                                     Target.param("render.exposure"), takeover=Takeover.JUMP),))
    midi = MidiInputs(queue, bank, [profile], pattern=controller.name)
    midi.start()
    try:
        wait_for(midi.open_ports, 3, "the controller's port to open")
        wait_for(controller.listened_to, 8, "our port to connect to the controller")
        controller.send(0xB0, 7, 127)
        app.until(lambda: bank.get("render.exposure") == 4.0)
        services.stop(private_jack.jack.process)
        wait_for(lambda: not midi.open_ports(), 8, "the ports to close with the server (checked every second)")
        private_jack.restart()
        controller.plug()
        wait_for(midi.open_ports, 8, "the ports to reopen on the new server")
        # an open port is connected a moment later (JACK connects it; on a loaded machine, not
        # at once): a message sent before that is lost, so send once the connection exists
        wait_for(controller.listened_to, 8, "our port to connect to the controller again")
        controller.send(0xB0, 7, 0)
        app.until(lambda: bank.get("render.exposure") == 0.0)
        assert midi.status()["ports"][f"{controller.name}:out"]["open"]
    finally:
        midi.stop()
        controller.unplug()


def test_the_server_watch_tells_a_live_server_from_a_killed_or_restarted_one(private_jack: PrivateJack) -> None:
    watch = JackServerWatch()
    assert watch.available and watch.same_server()
    private_jack.jack.process.kill()  # SIGKILL: the socket file stays behind, but nobody listens on it
    private_jack.jack.process.wait(timeout=10)
    assert watch.path is not None and watch.path.exists()
    assert not watch.same_server()
    private_jack.restart()
    assert not watch.same_server(), "a restarted server is another server: our ports died with the old one"
    assert JackServerWatch().same_server()


# Run in a process of its own: opens JACK MIDI handles with virtual ports, waits for the test to
# kill the server, makes libjack free the dead clients (a client open that fails), then drops
# the handles: one at once, one at interpreter exit.
DEAD_HANDLES = """
import gc, sys
import rtmidi
kept = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="kept")
kept.open_virtual_port("out")
dropped = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name="dropped")
dropped.open_virtual_port("in")
print("open", flush=True)
sys.stdin.readline()  # the server is dead
try:
    rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name="again")
except rtmidi.SystemError:
    print("no server", flush=True)
del dropped
gc.collect()
print("dropped", flush=True)
"""


def test_dropping_a_dead_servers_handles_never_crashes(private_jack: PrivateJack) -> None:
    """The measured crash, and why dropping is safe: after the failed open below, libjack has freed
    both clients ("Jack server was closed but clients are still allocated, cleanup..."), so
    close_port() or delete() would die in libjack; the Python objects must still free quietly,
    now and at exit (python-rtmidi's destructor leaves the C++ object alone). A python-rtmidi whose
    destructor does free it fails this test: then dead handles must be kept, see docs/pitfalls.md."""
    script = subprocess.Popen([sys.executable, "-X", "faulthandler", "-c", DEAD_HANDLES], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert script.stdin is not None and script.stdout is not None and script.stderr is not None
    out, errors = Lines(script, script.stdout), Lines(script, script.stderr)
    try:
        out.wait_for("^open", 10, "the handles to open")
        services.stop(private_jack.jack.process)
        # libjack frees the clients on the next open only once it has seen the server go, client by client.
        wait_for(lambda: sum("JackSocketClientChannel read fail" in line for line in errors.lines) >= 2, 10,
                 "both clients to see the server go", process=script)
        script.stdin.write("dead\n")
        script.stdin.close()
        code = script.wait(20)
        printed, logged = out.finish(5), errors.finish(5)
        assert code == 0, f"exit code {code}\n{logged}"
        assert "no server" in printed and "dropped" in printed
        assert "clients are still allocated, cleanup" in logged, "libjack did not free the dead clients: no test"
    finally:
        if script.poll() is None:
            script.kill()
        script.stdin.close()
        out.finish(10)
        errors.finish(10)


def test_myco_midi_monitor_exits_cleanly_after_jackd_restarts_and_dies(private_jack: PrivateJack,
                                                                       tmp_path: Path) -> None:
    """The whole command across a restart, then stopped while the server is down: exit code 0."""
    controller = TestController()
    errors = tmp_path / "monitor.err"
    with errors.open("w") as stderr:
        monitor = subprocess.Popen([sys.executable, "-X", "faulthandler", "-m", "installation", "midi", "monitor",
                                    controller.name, "--midi-api", "jack", "--seconds", "120"],
                                   stdout=subprocess.PIPE, stderr=stderr, text=True)
    assert monitor.stdout is not None
    lines = Lines(monitor, monitor.stdout)
    try:
        lines.wait_for("^monitoring", 20, "the monitor to start")
        wait_for(controller.listened_to, 8, "the monitor to connect to the controller")
        controller.send(0xB0, 7, 127)
        lines.wait_for("b0 07 7f", 5, "the first message")
        services.stop(private_jack.jack.process)
        private_jack.restart()
        controller.plug()
        wait_for(controller.listened_to, 10, "the monitor to reconnect on the new server")
        controller.send(0xB0, 7, 0)
        lines.wait_for("b0 07 00", 5, "a message after the restart")
        controller.unplug()  # while the server runs, so its ports are seen to vanish
        services.stop(private_jack.jack.process)
        monitor.send_signal(signal.SIGINT)  # Ctrl-C: stop with the server down, then exit
        with contextlib.suppress(subprocess.TimeoutExpired):
            monitor.wait(30)
    finally:
        if monitor.poll() is None:  # hung: faulthandler (-X faulthandler) writes every thread's stack
            monitor.send_signal(signal.SIGABRT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                monitor.wait(10)
        if monitor.poll() is None:
            monitor.kill()
        out = lines.finish(10)
    log = errors.read_text()
    assert monitor.returncode == 0, f"exit code {monitor.returncode}\n{out}\n{log[-3000:]}"
    assert "Fatal Python error" not in log
