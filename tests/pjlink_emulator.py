"""A PJLink class 1 projector on 127.0.0.1, for the tests: it answers like a real one, or
refuses (a password the client gets wrong: ``PJLINK ERRA``), or hangs (accepts the connection
and never says a word), or reports a lamp error.

The protocol (PJLink class 1): on connect the projector greets with ``PJLINK 0`` (no
authentication) or ``PJLINK 1 <random>``; the client then sends commands ``%1CMND param\\r``,
the first one prefixed with md5(random + password) in hex when asked, and each is answered
``%1CMND=result\\r`` (``OK``, a value, or ``ERR1``..``ERR4``). Only the standard library is
used; every connection is served by a thread that ends when the emulator stops.
"""

from __future__ import annotations

import hashlib
import secrets
import socket
import socketserver
import threading
import time
from dataclasses import dataclass, field


@dataclass
class ProjectorModel:
    """The emulated projector's state; tests read and change it while it runs."""

    password: str | None = None
    power: str = "0"  # 0 off, 1 on, 2 cooling, 3 warming
    input: str = "11"
    inputs: tuple[str, ...] = ("11", "31", "32")
    lamp_hours: int = 1234
    lamp: bool = True  # False: a laser projector (LAMP answers ERR1)
    errors: str = "000000"  # fan, lamp, temperature, cover, filter, other: 0 ok, 1 warning, 2 error
    warm_s: float = 0.0  # seconds in "warming" after power on, then "on"
    cool_s: float = 0.0  # seconds in "cooling" after power off, then "off"
    hang: bool = False  # accept connections and never answer
    commands: list[str] = field(default_factory=list)  # every command received, e.g. "POWR 1"
    _changed_at: float = 0.0

    def settle(self) -> None:
        now = time.monotonic()
        if self.power == "3" and now - self._changed_at >= self.warm_s:
            self.power = "1"
        if self.power == "2" and now - self._changed_at >= self.cool_s:
            self.power = "0"

    def answer(self, command: str, param: str) -> str:
        self.settle()
        self.commands.append(f"{command} {param}")
        if command == "POWR":
            if param == "?":
                return self.power
            if param not in ("0", "1"):
                return "ERR2"
            if self.power in ("2", "3"):
                return "ERR3"  # not while warming or cooling
            if param == "1" and self.power == "0":
                self.power, self._changed_at = "3", time.monotonic()
            elif param == "0" and self.power == "1":
                self.power, self._changed_at = "2", time.monotonic()
            self.settle()
            return "OK"
        if command == "INPT":
            if param == "?":
                return self.input if self.power == "1" else "ERR3"
            if param not in self.inputs:
                return "ERR2"
            if self.power != "1":
                return "ERR3"  # projectors take no input while off or warming
            self.input = param
            return "OK"
        if command == "LAMP" and param == "?":
            return f"{self.lamp_hours} {1 if self.power == '1' else 0}" if self.lamp else "ERR1"
        if command == "ERST" and param == "?":
            return self.errors
        if command == "AVMT" and param == "?":
            return "30"
        if command == "NAME" and param == "?":
            return "Myco test projector"
        if command in ("INF1", "INF2") and param == "?":
            return "Myco" if command == "INF1" else "Emulator 1"
        if command == "INFO" and param == "?":
            return ""
        if command == "CLSS" and param == "?":
            return "1"
        if command == "INST" and param == "?":
            return " ".join(self.inputs)
        return "ERR1"


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = False
    block_on_close = True  # server_close() waits for every connection's thread
    emulator: PJLinkEmulator


class _Handler(socketserver.StreamRequestHandler):
    timeout = 10.0  # a client that goes silent is dropped

    def handle(self) -> None:
        emulator = self.server.emulator  # type: ignore[attr-defined]
        model: ProjectorModel = emulator.model
        emulator.connections += 1
        if model.hang:
            emulator.stopping.wait(30.0)  # accepted, never answered (until the emulator stops)
            return
        token = ""
        if model.password is None:
            self.wfile.write(b"PJLINK 0\r")
        else:
            token = secrets.token_hex(4)
            self.wfile.write(f"PJLINK 1 {token}\r".encode())
        authenticated = model.password is None
        while not emulator.stopping.is_set():
            try:
                line = self._read_line()
            except (TimeoutError, OSError):
                return
            if line is None:
                return
            if not authenticated:
                digest = hashlib.md5(f"{token}{model.password}".encode()).hexdigest()
                if line[:32] != digest:
                    self.wfile.write(b"PJLINK ERRA\r")
                    emulator.refused += 1
                    return
                line = line[32:]
                authenticated = True
            if len(line) < 7 or line[0] != "%" or line[1] != "1" or line[6] != " ":
                self.wfile.write(b"PJLINK ERR1\r" if not line.startswith("%") else f"{line[:6]}=ERR1\r".encode())
                continue
            command, param = line[2:6], line[7:]
            with emulator.lock:
                result = model.answer(command, param)
            self.wfile.write(f"%1{command}={result}\r".encode())

    def _read_line(self) -> str | None:
        data = bytearray()
        while not data.endswith(b"\r"):
            chunk = self.rfile.read(1)
            if not chunk:
                return None
            data += chunk
            if len(data) > 256:
                return None
        return data[:-1].decode("ascii", "replace")


class PJLinkEmulator:
    """One emulated projector listening on 127.0.0.1 (a free port, or ``port``)."""

    def __init__(self, model: ProjectorModel | None = None, port: int = 0) -> None:
        self.model = model or ProjectorModel()
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.connections = 0
        self.refused = 0
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.emulator = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"pjlink-emulator-{self.port}", daemon=True)

    def start(self) -> PJLinkEmulator:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5.0)

    def commands(self, name: str) -> list[str]:
        with self.lock:
            return [c for c in self.model.commands if c.startswith(name)]

    def __enter__(self) -> PJLinkEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port() -> int:
    """A port nothing listens on now (for a projector that is switched off at the wall)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
