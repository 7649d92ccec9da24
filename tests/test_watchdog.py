"""The watchdog sees a hang: sd_notify, /healthz, ``myco run --supervise`` and ``myco service``.

systemd itself cannot run here (no systemd as PID 1 in the test machine), so where systemd
would listen the test plays its part: it binds the unix datagram socket named in
``NOTIFY_SOCKET`` and reads what Myco sends, exactly the datagrams systemd would receive.
The hang is made on purpose with the test-only hook ``MYCO_TEST_HANG_AFTER_S``, which blocks
the frame loop for good while the rest of the process (the status server's thread) goes on.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from installation.app.supervise import child_arguments
from installation.app.watchdog import Heartbeat, notify
from installation.cli import main
from tests.services import free_port
from tests.waiting import Lines, wait_for

MYCO = [sys.executable, "-m", "installation"]
SMALL = ["--headless", "--no-audio", "--size", "160x90"]


class NotifyListener:
    """The part of systemd that listens on NOTIFY_SOCKET: every datagram, stamped when it came
    (read at once by a thread of its own, so a message is never stamped late)."""

    def __init__(self) -> None:
        self.name = f"@myco-test-{uuid.uuid4().hex}"  # the abstract namespace, as systemd's own socket often is
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind("\0" + self.name[1:])
        self.socket.settimeout(0.1)
        self.messages: list[tuple[float, str]] = []
        self._closing = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while not self._closing.is_set():
            try:
                data = self.socket.recv(4096)
            except TimeoutError:
                continue
            self.messages.append((time.monotonic(), data.decode()))

    def drain(self) -> list[tuple[float, str]]:
        return list(self.messages)

    def times(self, message: str) -> list[float]:
        return [when for when, text in self.drain() if message in text.splitlines()]

    def close(self) -> None:
        self._closing.set()
        self._reader.join(5)
        self.socket.close()


@pytest.fixture
def listener() -> Iterator[NotifyListener]:
    listening = NotifyListener()
    yield listening
    listening.close()


def get(port: int, path: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as reply:
            body = reply.read()
            code = reply.status
    except urllib.error.HTTPError as error:
        body, code = error.read(), error.code
    except OSError:
        return 0, None
    return code, json.loads(body) if path != "/metrics" else body.decode()


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(30)


# -- the heartbeat on its own ---------------------------------------------------------------
def test_notify_sends_one_datagram_to_a_path_socket(tmp_path: Path) -> None:
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(path))
        server.settimeout(5)
        assert notify("STATUS=hello", {"NOTIFY_SOCKET": str(path)})
        assert server.recv(100) == b"STATUS=hello"
    assert not notify("READY=1", {})  # no systemd: nothing sent, nothing raised
    assert not notify("READY=1", {"NOTIFY_SOCKET": str(tmp_path / "gone")})


def test_heartbeat_ready_after_the_first_frame_and_watchdog_only_while_frames_finish(
        listener: NotifyListener, tmp_path: Path) -> None:
    now = [100.0]
    beats_file = tmp_path / "heartbeat"
    heart = Heartbeat({"NOTIFY_SOCKET": listener.name, "WATCHDOG_USEC": "2000000",
                       "MYCO_HEARTBEAT_FILE": str(beats_file)}, clock=lambda: now[0])
    assert heart.every_s == 1.0  # half of systemd's interval
    heart.beat(0)
    heart.beat(1)
    wait_for(lambda: listener.times("READY=1"), 5, "READY=1")
    assert listener.drain()[0][1].startswith("READY=1")  # nothing before the first frame
    assert int(beats_file.read_text()) == 1
    for frames in range(2, 40):  # frames at 60 fps for about half a second: no beat yet (rate-limited)
        now[0] += 1 / 60
        heart.beat(frames)
    assert heart.beats == 0
    now[0] += 0.6
    heart.beat(40)
    assert heart.beats == 1
    now[0] += 5.0
    heart.beat(40)  # time went by but no frame finished: no beat
    assert heart.beats == 1
    heart.beat(41)
    assert heart.beats == 2
    wait_for(lambda: len(listener.times("WATCHDOG=1")) == 2, 5, "two WATCHDOG=1")
    assert int(beats_file.read_text()) == 41
    heart.stopping()
    wait_for(lambda: listener.times("STOPPING=1"), 5, "STOPPING=1")


def test_supervisor_flags_are_not_passed_to_the_child() -> None:
    argv = ["-v", "run", "--supervise", "--stale-after", "4", "--headless", "--startup-grace=9", "--stal", "3",
            "--show", "x"]
    assert child_arguments(argv, resume=False) == ["-v", "run", "--headless", "--show", "x"]
    assert child_arguments(argv, resume=True) == ["-v", "run", "--headless", "--show", "x", "--resume"]
    assert child_arguments(["run", "--resume", "--supervise"], resume=True) == ["run", "--resume"]


# -- a real Myco that hangs -------------------------------------------------------------------
def test_systemd_sees_ready_then_heartbeats_that_stop_when_the_loop_hangs_and_healthz_goes_503(
        listener: NotifyListener) -> None:
    port = free_port()
    env = {**os.environ, "NOTIFY_SOCKET": listener.name, "WATCHDOG_USEC": "1000000",
           "MYCO_TEST_HANG_AFTER_S": "5"}
    process = subprocess.Popen([*MYCO, "run", *SMALL, "--status", f"127.0.0.1:{port}"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines = Lines(process, process.stderr)  # type: ignore[arg-type]
    try:
        ready = wait_for(lambda: listener.times("READY=1"), 60, "READY=1", process=process, every=0.05)[0]
        code, status = get(port, "/status")
        assert status["last_frame_age_s"] is not None  # a frame had finished when READY came
        code, health = get(port, "/healthz")
        assert code == 200 and health["ok"], health
        # beats every half second (half of WATCHDOG_USEC) while frames finish ...
        wait_for(lambda: len(listener.times("WATCHDOG=1")) >= 3, 30, "three WATCHDOG=1", process=process)
        lines.wait_for("hanging the frame loop on purpose", 30, "the hang")
        hung_at = time.monotonic()
        # ... and none once the loop hangs: 3 s of silence (six missed beats), the process still alive
        wait_for(lambda: time.monotonic() - max(listener.times("WATCHDOG=1")) > 3.0, 30, "the beats to stop",
                 process=process, every=0.1)
        assert not [when for when in listener.times("WATCHDOG=1") if when > hung_at + 1.0]
        assert all(when > ready for when in listener.times("WATCHDOG=1"))
        # the status thread still answers, and says how old the last frame is now, not at the last snapshot
        code, health = wait_for(lambda: (lambda r: r if r[0] == 503 else None)(get(port, "/healthz?limit=2")),
                                30, "/healthz 503", process=process, every=0.2)
        assert not health["ok"] and health["last_frame_age_s"] > 2.0, health
        first = get(port, "/status")[1]["last_frame_age_s"]
        wait_for(lambda: get(port, "/status")[1]["last_frame_age_s"] > first + 0.5, 10, "the age to grow",
                 every=0.2)
        assert re.search(r"^myco_last_frame_age_seconds [0-9.]+$", get(port, "/metrics")[1], re.M)
        assert get(port, "/healthz?limit=abc")[0] == 400
        assert process.poll() is None
    finally:
        stop(process)
        print(lines.finish(10))  # shown when the test fails


def supervised(*args: str, env: dict[str, str]) -> tuple[subprocess.Popen[str], Lines]:
    process = subprocess.Popen([*MYCO, "run", "--supervise", *args], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    return process, Lines(process, process.stderr)  # type: ignore[arg-type]


def started_pids(lines: Lines) -> list[tuple[int, str]]:
    found = (re.search(r"started myco \(pid (\d+)\): myco (.*)$", line) for line in list(lines.lines))
    return [(int(match[1]), match[2]) for match in found if match]


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


def test_supervise_kills_a_hung_child_and_starts_it_again_with_resume() -> None:
    env = {**os.environ, "MYCO_TEST_HANG_AFTER_S": "4"}
    env.pop("NOTIFY_SOCKET", None)
    process, lines = supervised("--stale-after", "4", "--startup-grace", "60", *SMALL, "--no-status", env=env)
    try:
        lines.wait_for(r"pid \d+ is showing frames", 60, "the first child's frames")
        first, first_args = started_pids(lines)[0]
        assert "--resume" not in first_args.split() and "--supervise" not in first_args.split()
        lines.wait_for("hanging the frame loop on purpose", 30, "the hang")
        hung_at = time.monotonic()
        # stale after 4 s, SIGTERM ignored by the hung loop, SIGKILL 4 s later, 1 s backoff: well under 30 s
        wait_for(lambda: len(started_pids(lines)) >= 2, 30, "a second child", process=process, every=0.1)
        took = time.monotonic() - hung_at
        second, second_args = started_pids(lines)[1]
        assert second != first and not alive(first)
        assert "--resume" in second_args.split()
        assert any(re.search(rf"pid {first}: no frame for \d+ s", line) for line in lines.lines)
        assert any("restart 1" in line and "hung" in line for line in lines.lines)
        assert took < 4 + 4 + 1 + 10, f"restarted {took:.1f} s after the hang"
        process.send_signal(signal.SIGTERM)  # the operator stops it: the child goes too
        assert process.wait(30) == 0
        assert not alive(second)
    finally:
        stop(process)
        print(lines.finish(10))  # shown when the test fails


def test_supervise_starts_a_child_that_exited_again() -> None:
    env = {k: v for k, v in os.environ.items() if k != "MYCO_TEST_HANG_AFTER_S"}
    process, lines = supervised(*SMALL, "--no-status", "--seconds", "1", env=env)
    try:
        lines.wait_for(r"restart 1 .*exited \(exit status 0\)", 60, "the first restart")
        wait_for(lambda: len(started_pids(lines)) >= 2, 30, "a second child", process=process, every=0.1)
        (first, _), (second, second_args) = started_pids(lines)[:2]
        assert first != second and "--resume" in second_args.split()
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 0
        assert not any(alive(pid) for pid, _ in started_pids(lines))
    finally:
        stop(process)
        print(lines.finish(10))  # shown when the test fails


# -- systemd's unit ---------------------------------------------------------------------------
def test_service_install_writes_a_unit_that_status_reads_back(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    units = tmp_path / "units"
    assert main(["service", "install", "--user", "--unit-dir", str(units), "--venue", "gallery",
                 "--show", "kai-festival", "--", "--osc", "--status-token", "50% off"]) == 0
    printed = capsys.readouterr().out
    assert "systemctl --user enable --now myco.service" in printed
    text = (units / "myco.service").read_text()
    for line in ("Type=notify", "NotifyAccess=main", "WatchdogSec=20", "Restart=always", "RestartSec=2",
                 "After=graphical-session.target", "Environment=DISPLAY=:0", "WantedBy=graphical-session.target"):
        assert line in text.splitlines(), line
    exec_start = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    assert " run --resume --venue gallery --show kai-festival --osc --status-token \"50%% off\"" in exec_start
    assert main(["service", "status", "--user", "--unit-dir", str(units)]) == 0
    status = capsys.readouterr().out
    assert "venue: gallery" in status and "show: kai-festival" in status
    assert "type: notify" in status and "watchdog: 20 s" in status and "restart: always" in status
    assert "--status-token '50% off'" in status
    assert main(["service", "status", "--unit-dir", str(tmp_path / "none")]) == 1
    assert main(["service", "install", "--unit-dir", str(units), "--venue", "hall"]) == 0
    assert "After=graphical.target" in (units / "myco.service").read_text().splitlines()
    analyze = shutil.which("systemd-analyze")
    if analyze is not None:  # systemd's own parser, where the binary exists (no running systemd needed)
        done = subprocess.run([analyze, "verify", str(units / "myco.service")], capture_output=True, text=True,
                              timeout=60, check=False)
        assert done.returncode == 0 and "myco.service" not in done.stderr, done.stderr


def test_a_hung_gui_thread_stops_the_heartbeat(listener: NotifyListener, x_display: str) -> None:
    """With windows: the beat comes from the Qt tick that shows a world frame, so a GUI thread that
    blocks stops it, while the status server's thread still answers."""
    port = free_port()
    env = {**os.environ, "NOTIFY_SOCKET": listener.name, "WATCHDOG_USEC": "1000000", "MYCO_TEST_HANG_AFTER_S": "6"}
    process = subprocess.Popen([*MYCO, "run", "--no-audio", "--quality", "low", "--status", f"127.0.0.1:{port}"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines = Lines(process, process.stderr)  # type: ignore[arg-type]
    try:
        wait_for(lambda: listener.times("READY=1"), 60, "READY=1", process=process, every=0.05)
        assert lines.wait_for("first output frame", 10, "the first frame's log line")
        wait_for(lambda: len(listener.times("WATCHDOG=1")) >= 2, 30, "two WATCHDOG=1", process=process)
        lines.wait_for("hanging the frame loop on purpose", 30, "the hang")
        hung_at = time.monotonic()
        wait_for(lambda: time.monotonic() - max(listener.times("WATCHDOG=1")) > 3.0, 30, "the beats to stop",
                 process=process, every=0.1)
        assert not [when for when in listener.times("WATCHDOG=1") if when > hung_at + 1.0]
        _, health = wait_for(lambda: (lambda r: r if r[0] == 503 else None)(get(port, "/healthz?limit=2")),
                                30, "/healthz 503", process=process, every=0.2)
        assert health["last_frame_age_s"] > 2.0
    finally:
        stop(process)
        print(lines.finish(10))  # shown when the test fails
