"""Real services for the tests: Xvfb (Mesa GL), jackd with the dummy driver, mosquitto.

Each starts on loopback (or its own display / server name) on a free port and is stopped
afterwards. A service that cannot start raises :class:`ServiceUnavailable`; the fixtures in
``conftest.py`` turn that into a test failure, never a skip, because ``make test`` installs
every one of them.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.waiting import wait_for


class ServiceUnavailable(RuntimeError):
    pass


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def accepting(port: int) -> bool:
    """Whether a TCP server accepts connections on the loopback ``port``."""
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def myco_status(port: int) -> dict[str, Any] | None:
    """The /status document of a Myco serving it on the loopback ``port``; None while none answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=2) as reply:
            return dict(json.loads(reply.read()))
    except OSError:
        return None


def require(binary: str) -> str:
    path = shutil.which(binary)
    if path is None:
        raise ServiceUnavailable(f"{binary} is not installed (run `make test`, which installs it)")
    return path


def stop(process: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)


@dataclass
class Xvfb:
    display: str
    process: subprocess.Popen[bytes]


@contextlib.contextmanager
def xvfb(width: int = 1920, height: int = 1080) -> Iterator[Xvfb]:
    binary = require("Xvfb")
    for number in range(90, 190):
        if Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
            continue
        display = f":{number}"
        # 24-bit depth: QOpenGLWidget needs an alpha-capable visual (docs/pitfalls.md).
        process = subprocess.Popen(
            [binary, display, "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp", "+extension", "GLX"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        socket_path = Path(f"/tmp/.X11-unix/X{number}")
        try:
            wait_for(socket_path.exists, 10, "Xvfb", process=process, error=ServiceUnavailable)
        except ServiceUnavailable:
            stop(process)
            continue
        try:
            yield Xvfb(display, process)
        finally:
            stop(process)
        return
    raise ServiceUnavailable("no free X display number for Xvfb")


@contextlib.contextmanager
def x_server() -> Iterator[None]:
    """For the scripts run by hand: the X server in ``DISPLAY``, or an Xvfb started for them."""
    if os.environ.get("DISPLAY"):
        yield
        return
    with xvfb() as server:
        os.environ["DISPLAY"] = server.display
        os.environ["QT_QPA_PLATFORM"] = "xcb"
        yield


@dataclass
class Jack:
    server_name: str
    sample_rate: int
    period: int
    process: subprocess.Popen[bytes]

    def env(self) -> dict[str, str]:
        return {"JACK_DEFAULT_SERVER": self.server_name, "JACK_NO_START_SERVER": "1"}


def jack_running(server_name: str) -> bool:
    env = dict(os.environ, JACK_DEFAULT_SERVER=server_name, JACK_NO_START_SERVER="1")
    result = subprocess.run(["jack_lsp"], env=env, capture_output=True, timeout=10)
    return result.returncode == 0


JACK_REGISTRY = Path("/dev/shm/jack-shm-registry")
JACK_MAX_SERVERS = 8  # jackd2's shm registry has this many server entries (common/shm.h MAX_SERVERS)
JACK_ENTRY = struct.Struct("i257s3x")  # an entry: the server's pid, its "jack-<uid>:<name>:", padding
JACK_ENTRIES_AT = 24  # after the registry header's six 32-bit fields


def dead_jack_servers() -> list[str]:
    """Names of servers whose registry entry outlived them (a jackd that was killed or crashed).

    jackd frees an entry only when it stops cleanly, or when a server of the same name starts;
    the registry holds eight, so after eight such deaths under fresh names no server starts at
    all ("Too many servers already active"), and nothing on the machine ever clears them."""
    try:
        data = JACK_REGISTRY.read_bytes()
    except OSError:
        return []
    names = []
    for index in range(JACK_MAX_SERVERS):
        at = JACK_ENTRIES_AT + index * JACK_ENTRY.size
        if at + JACK_ENTRY.size > len(data):
            break
        pid, raw = JACK_ENTRY.unpack_from(data, at)
        prefix, _, rest = raw.split(b"\0", 1)[0].decode(errors="replace").partition(":")
        if pid <= 0 or not rest or prefix != f"jack-{os.getuid()}":
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            names.append(rest.rstrip(":"))
        except PermissionError:  # alive, another user's
            pass
    return names


def reclaim_dead_jack_servers() -> list[str]:
    """Free the registry entries of dead servers the way jackd itself does: start a server of
    each such name (it takes over the stale entry) and stop it cleanly (which frees it)."""
    reclaimed = []
    for name in dead_jack_servers():
        with contextlib.suppress(ServiceUnavailable):
            stop(_launch_jack(name, 48000, 256).process)
            reclaimed.append(name)
    return reclaimed


def start_jack(server_name: str, sample_rate: int = 48000, period: int = 256) -> Jack:
    if dead_jack_servers():
        reclaim_dead_jack_servers()
    return _launch_jack(server_name, sample_rate, period)


def _launch_jack(server_name: str, sample_rate: int, period: int) -> Jack:
    binary = require("jackd")
    require("jack_lsp")
    env = dict(os.environ, JACK_NO_START_SERVER="1", JACK_NO_AUDIO_RESERVATION="1")
    with tempfile.TemporaryFile() as log:  # what jackd says, for the error when it does not start
        process = subprocess.Popen(
            [binary, "--no-realtime", "-n", server_name, "-d", "dummy", "-r", str(sample_rate), "-p", str(period),
             "-C", "2", "-P", "8"],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=env,
        )
        try:
            wait_for(lambda: jack_running(server_name), 15, f"jackd -d dummy ({server_name})", process=process,
                     error=ServiceUnavailable)
        except ServiceUnavailable as error:
            stop(process)
            log.seek(0)
            said = log.read().decode(errors="replace").strip().splitlines()[-3:]
            raise ServiceUnavailable(f"{error}; jackd said: {' / '.join(said)}") from None
    return Jack(server_name, sample_rate, period, process)


@contextlib.contextmanager
def jackd(sample_rate: int = 48000, period: int = 256) -> Iterator[Jack]:
    jack = start_jack(f"myco-test-{uuid.uuid4().hex[:8]}", sample_rate, period)
    try:
        yield jack
    finally:
        stop(jack.process)


@dataclass
class Mosquitto:
    port: int
    process: subprocess.Popen[bytes]
    config: Path

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"


def start_mosquitto(folder: Path, port: int | None = None) -> Mosquitto:
    binary = require("mosquitto")
    port = port or free_port()
    config = folder / f"mosquitto-{port}.conf"
    config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")

    process = subprocess.Popen([binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: accepting(port), 10, "mosquitto", process=process, error=ServiceUnavailable)
    except ServiceUnavailable:
        stop(process)
        raise
    return Mosquitto(port, process, config)


@contextlib.contextmanager
def mosquitto(folder: Path) -> Iterator[Mosquitto]:
    broker = start_mosquitto(folder)
    try:
        yield broker
    finally:
        stop(broker.process)


def jack_connected(port: str) -> bool:
    """Whether some JACK port is connected to ``port`` (``jack_lsp -c`` lists connections indented)."""
    listing = subprocess.run([require("jack_lsp"), "-c", port], capture_output=True, text=True, timeout=10).stdout
    return any(line[:1].isspace() for line in listing.splitlines())
