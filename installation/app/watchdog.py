"""The heartbeat that proves frames are still being made: systemd's watchdog and ``--supervise``'s file.

systemd's notify protocol (``sd_notify(3)``) is one datagram to the unix socket named in
``$NOTIFY_SOCKET`` (a name starting with ``@`` is in the abstract namespace): ``READY=1``
once the show is up, ``WATCHDOG=1`` at least every ``$WATCHDOG_USEC`` microseconds while it
is healthy, ``STATUS=...`` for ``systemctl status``, ``STOPPING=1`` on the way out. It is
written here directly: a dozen lines, no library.

:class:`Heartbeat` is called by the frame loop from the step that completes a frame (the
desktop app's tick, the headless loop), never from a thread of its own: a GUI thread that
hangs, or a renderer that stops finishing frames, stops the beat, and systemd (or
``myco run --supervise``) restarts Myco. ``READY=1`` goes after the first finished frame;
``WATCHDOG=1`` only when a frame finished since the last beat, at half the watchdog interval.
For ``--supervise`` the same beat rewrites a small file (``MYCO_HEARTBEAT_FILE``, set by the
supervisor) at most once a second with a frame counter the supervisor watches.

``MYCO_TEST_HANG_AFTER_S`` is a hook for the tests only: read once at start, it makes the frame
loop block forever that many seconds after start, so the tests can make a hang on purpose.
Unset (as it always is in a show), it does nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping

from installation.app.health import FrameClock

log = logging.getLogger(__name__)

HEARTBEAT_FILE_ENV = "MYCO_HEARTBEAT_FILE"
TEST_HANG_ENV = "MYCO_TEST_HANG_AFTER_S"
FILE_EVERY_S = 1.0  # the supervisor's file is rewritten at most this often
DEFAULT_BEAT_S = 5.0  # without systemd's WATCHDOG_USEC: how often STATUS/file beats may go


class WorldClock(FrameClock):
    """The world's frame clock, which also remembers when the last frame finished (monotonic),
    so ``/status`` and ``/healthz`` can say how old it is at the moment they are asked."""

    def __init__(self, window: int = 600) -> None:
        super().__init__(window)
        self.last_done: float | None = None

    def frame_done(self, duration_s: float, now: float | None = None) -> None:
        stamp = time.monotonic() if now is None else now
        super().frame_done(duration_s, stamp)
        self.last_done = stamp  # one store of a float: readable from the status thread without the lock

    def age(self, now: float | None = None) -> float | None:
        """Seconds since the last finished frame, or None before the first."""
        last = self.last_done
        if last is None:
            return None
        return max(0.0, (time.monotonic() if now is None else now) - last)


def notify(message: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send one sd_notify message; False (and nothing happens) when there is no ``$NOTIFY_SOCKET``."""
    address = (os.environ if environ is None else environ).get("NOTIFY_SOCKET", "")
    if not address or address[0] not in "/@":
        return False
    target = "\0" + address[1:] if address[0] == "@" else address
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sender:
            sender.sendto(message.encode(), target)
    except OSError as error:  # systemd gone or the socket full: the show goes on
        log.debug("sd_notify %r: %s", message, error)
        return False
    return True


def watchdog_interval(environ: Mapping[str, str]) -> float | None:
    """systemd's ``WATCHDOG_USEC`` in seconds when it is meant for this process (``WATCHDOG_PID``)."""
    text = environ.get("WATCHDOG_USEC", "")
    pid = environ.get("WATCHDOG_PID", "")
    if not text.isdigit() or int(text) <= 0 or (pid and pid != str(os.getpid())):
        return None
    return int(text) / 1e6


def test_hang_after(environ: Mapping[str, str]) -> float | None:
    """The test-only hang hook's delay, or None (a show never sets it)."""
    try:
        value = float(environ.get(TEST_HANG_ENV, ""))
    except ValueError:
        return None
    return value if value >= 0 else None


class Heartbeat:
    """Beats for systemd and ``--supervise`` from the loop that completes frames.

    ``beat(frames)`` is called once per turn of the frame loop with the world clock's frame
    count; it costs a comparison unless something is due.
    """

    def __init__(self, environ: Mapping[str, str] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        env = dict(os.environ if environ is None else environ)
        self._env = env
        self._clock = clock
        self.started = clock()
        self.watchdog_s = watchdog_interval(env)
        self.every_s = self.watchdog_s / 2 if self.watchdog_s else DEFAULT_BEAT_S  # sd_watchdog_enabled's advice
        self.systemd = bool(env.get("NOTIFY_SOCKET"))
        self.ready = False
        self.beats = 0  # WATCHDOG=1 messages sent
        self._frames_seen = 0  # the frame count at the last watchdog beat
        self._last_beat = self.started
        self._file_frames = -1
        self._last_file = float("-inf")
        self._file_fd: int | None = None
        path = env.get(HEARTBEAT_FILE_ENV)
        if path:
            try:
                self._file_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as error:
                log.error("heartbeat file %s: %s (the supervisor will think Myco hung)", path, error)
        hang = test_hang_after(env)
        self._hang_at = None if hang is None else self.started + hang
        if hang is not None:
            log.warning("%s=%g: the frame loop will hang on purpose (a test hook)", TEST_HANG_ENV, hang)

    def beat(self, frames: int) -> None:
        """The frame loop's turn: ``frames`` is how many world frames have finished so far."""
        now = self._clock()
        if self._hang_at is not None and now >= self._hang_at:
            self._hang()
        if frames <= 0:
            return
        if not self.ready:
            self.ready = True
            self._frames_seen = frames
            self._last_beat = now
            if self.systemd:
                notify(f"READY=1\nSTATUS=showing: first frame after {now - self.started:.1f} s", self._env)
                log.info("told systemd the show is up%s",
                         f" (watchdog every {self.watchdog_s:g} s)" if self.watchdog_s else "")
        elif frames > self._frames_seen and now - self._last_beat >= self.every_s:
            self._frames_seen = frames
            self._last_beat = now
            self.beats += 1
            if self.watchdog_s:
                notify("WATCHDOG=1", self._env)
        if self._file_fd is not None and frames != self._file_frames and now - self._last_file >= FILE_EVERY_S:
            self._file_frames = frames
            self._last_file = now
            try:  # fixed width, one write at offset 0: a reader never sees half a number
                os.pwrite(self._file_fd, b"%20d\n" % frames, 0)
            except OSError as error:
                log.debug("heartbeat file: %s", error)

    def stopping(self) -> None:
        if self.systemd:
            notify("STOPPING=1", self._env)
        if self._file_fd is not None:
            os.close(self._file_fd)
            self._file_fd = None

    def _hang(self) -> None:
        """The test hook: block this thread for good, as a wedged driver or a deadlock would."""
        log.warning("hanging the frame loop on purpose (%s)", TEST_HANG_ENV)
        forever = threading.Event()
        while True:
            forever.wait(3600.0)
