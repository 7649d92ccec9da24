"""``myco run --supervise``: Myco as a child process, started again when it exits or hangs.

For a machine without systemd (or where nobody may install a unit). The supervisor starts
``myco run`` with the same arguments, less its own, and hands it a heartbeat file
(``MYCO_HEARTBEAT_FILE``) that the child's frame loop rewrites while frames finish (see
:mod:`installation.app.watchdog`). When the child exits, or its heartbeat has not changed for
``--stale-after`` seconds (``--startup-grace`` before its first frame), the supervisor stops it
(SIGTERM, then SIGKILL for a child that does not go), waits a short backoff and starts it
again with ``--resume``, so the show comes back where it was. SIGTERM and SIGINT are passed on
to the child; the supervisor then waits for it and exits.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from installation.app.watchdog import HEARTBEAT_FILE_ENV

log = logging.getLogger(__name__)

STALE_AFTER_S = 20.0
STARTUP_GRACE_S = 90.0  # the first frame may take long: shaders compile, a cold disk, a busy boot
KILL_AFTER_S = 10.0  # SIGTERM, then this long, then SIGKILL
BACKOFF_S = (1.0, 2.0, 5.0, 10.0, 30.0)  # quick failures back off further each time
HEALTHY_RUN_S = 60.0  # a child that ran this long starts the backoff again from the first step
POLL_S = 0.25
OWN_FLAGS = {"--supervise": False, "--stale-after": True, "--startup-grace": True}  # flag: takes a value


@dataclass(frozen=True)
class Limits:
    stale_after_s: float = STALE_AFTER_S
    startup_grace_s: float = STARTUP_GRACE_S
    kill_after_s: float = KILL_AFTER_S


def child_arguments(argv: Sequence[str], resume: bool) -> list[str]:
    """``myco`` arguments for the child: ``argv`` less the supervisor's flags (also abbreviated or
    with ``=VALUE``, as argparse takes them), plus ``--resume`` on a restart."""
    out: list[str] = []
    skip_value = False
    for token in argv:
        if skip_value:
            skip_value = False
            continue
        name, equals, _ = token.partition("=")
        flag = next((flag for flag in OWN_FLAGS if len(name) >= 5 and flag.startswith(name)), None)
        if flag is None or token == "--":
            out.append(token)
            continue
        skip_value = OWN_FLAGS[flag] and not equals
    if resume and "--resume" not in out:
        out.append("--resume")
    return out


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL should the supervisor die, so no show is left orphaned."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)


class Supervisor:
    def __init__(self, argv: Sequence[str], limits: Limits, stop: threading.Event,
                 command: Sequence[str] | None = None) -> None:
        self.argv = list(argv)
        self.limits = limits
        self.stop = stop
        self.command = list(command) if command is not None else [sys.executable, "-m", "installation"]
        self.restarts = 0
        self.child: subprocess.Popen[bytes] | None = None
        self._ever_beat = False  # has any child shown a frame?

    def run(self) -> int:
        with tempfile.TemporaryDirectory(prefix="myco-supervise-") as folder:
            heartbeat = Path(folder) / "heartbeat"
            return self._loop(heartbeat)

    def _loop(self, heartbeat: Path) -> int:
        failures = 0
        while True:
            started = time.monotonic()
            code, why = self._run_once(heartbeat, resume=self.restarts > 0)
            if self.stop.is_set():
                log.info("supervisor stopped by the operator; the child exited with %s", code)
                return 0
            if code == 2 and why == "exited" and self.restarts == 0 and not self._ever_beat:
                log.error("myco run exited with 2 (a problem with its arguments or files) before its "
                          "first frame: not restarting what cannot start")
                return 2
            failures = 0 if time.monotonic() - started >= HEALTHY_RUN_S else failures + 1
            backoff = BACKOFF_S[min(failures, len(BACKOFF_S)) - 1] if failures else BACKOFF_S[0]
            self.restarts += 1
            log.warning("restart %d in %.0f s: the child %s (exit status %s)",
                        self.restarts, backoff, why, code)
            if self.stop.wait(backoff):
                return 0

    def _run_once(self, heartbeat: Path, resume: bool) -> tuple[int, str]:
        heartbeat.write_bytes(b"")
        arguments = child_arguments(self.argv, resume)
        env = {**os.environ, HEARTBEAT_FILE_ENV: str(heartbeat)}
        self.child = child = subprocess.Popen(  # its own process group: a hung one is killed whole
            [*self.command, *arguments], env=env, start_new_session=True, preexec_fn=_die_with_parent)
        log.info("started myco (pid %d): myco %s", child.pid, " ".join(arguments))
        seen = b""
        started = last_change = time.monotonic()
        beating = False
        while True:
            code = child.poll()
            if code is not None:
                return code, "exited"
            if self.stop.is_set():
                return self._end(child, "stopped"), "was stopped"
            content = _read(heartbeat)
            now = time.monotonic()
            if content.strip() and content != seen:
                seen, last_change = content, now
                if not beating:
                    log.info("pid %d is showing frames", child.pid)
                beating = self._ever_beat = True
            if beating and now - last_change > self.limits.stale_after_s:
                log.error("pid %d: no frame for %.0f s (its heartbeat went stale): stopping it",
                          child.pid, now - last_change)
                quiet = now - last_change
                return self._end(child, "hung", self.limits.stale_after_s), f"hung (no frame for {quiet:.0f} s)"
            if not beating and now - started > self.limits.startup_grace_s:
                log.error("pid %d: no first frame in %.0f s: stopping it", child.pid, now - started)
                return self._end(child, "never started"), "showed no frame"
            self.stop.wait(POLL_S)

    def _end(self, child: subprocess.Popen[bytes], why: str, patience_s: float | None = None) -> int:
        """SIGTERM to the child's process group, then SIGKILL if it has not gone."""
        patience = min(self.limits.kill_after_s, patience_s or self.limits.kill_after_s)
        _signal_group(child, signal.SIGTERM)
        try:
            return child.wait(patience)
        except subprocess.TimeoutExpired:
            log.error("pid %d (%s) did not stop in %.0f s: killing it", child.pid, why, patience)
        _signal_group(child, signal.SIGKILL)
        return child.wait()


def _signal_group(child: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, sig)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    from installation.app.launch import stop_on_signals

    with stop_on_signals() as stop:
        yield stop


def supervise(argv: Sequence[str], limits: Limits) -> int:
    """Run ``myco ARGV`` (the arguments with ``--supervise``) under supervision until stopped."""
    with _stop_on_signals() as stop:
        return Supervisor(argv, limits, stop).run()
