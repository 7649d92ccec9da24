"""A listener's receiving side in a process of its own.

Reading thousands of messages a second in Python (paho's packet reads, the JSON, validation)
takes a large part of a core; in the app's process it shares one GIL with the engine and the
renderer, and whichever runs starves the other: the listener falls behind (its socket and the
broker's queue fill) and the engine's step misses its frame. So the network client runs in a
child process (a fresh interpreter, see :meth:`Intake._spawn`), which decodes and validates each
reading there and sends them to the app in batches (every ``FLUSH_S`` or ``MOST`` readings) as
plain tuples through a pipe. In the app, one thread takes a batch (one ``recv``, one unpickling)
and hands it to :meth:`~installation.nodes.mux.NodeMux.offer_valid`, which counts it and applies
the rate limit: a few µs a reading instead of tens.

Nothing is lost between the two: when the mux's queue is full (the engine is late) the intake
waits for a step, a pipe that is full blocks the child, which then stops reading its socket, and
the sender holds the rest (the broker's queue; for UDP the socket's buffer, whose overflow the
kernel counts). A child that dies is counted (``restarts``) and started again after a second.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from installation.core.frames import NodeReading
from installation.nodes.mux import NodeMux
from installation.nodes.validate import Rejection, validate

log = logging.getLogger(__name__)
FLUSH_S = 0.004  # a reading waits at most this long in the child (a quarter of a 60 Hz frame)
MOST = 2048  # readings a batch at most
RESTART_S = 1.0
HOLD_S = 0.002

# A valid reading on the wire: node, potential_mv, toxin, waste, moisture, x, y.
Wire = tuple[str, float, float, float, float, float | None, float | None]


class Batcher:
    """The child's side: validates readings, gathers them and the rejections by reason, and
    sends them to the app in batches. Thread-safe (paho calls from its own thread)."""

    def __init__(self, conn: Connection, source: str) -> None:
        self.source = source
        self._conn = conn
        self._lock = threading.Lock()
        self._readings: list[Wire] = []
        self._rejected: Counter[str] = Counter()

    def offer(self, items: Iterable[tuple[object, Mapping[Any, object]]]) -> None:
        with self._lock:
            for node, values in items:
                reading = validate(node, values, t=0.0, source=self.source)
                if isinstance(reading, Rejection):
                    self._rejected[reading.reason] += 1
                else:
                    self._readings.append((reading.node, reading.potential_mv, reading.toxin, reading.waste,
                                           reading.moisture, reading.x, reading.y))
            full = len(self._readings) >= MOST
        if full:
            self.flush()

    def reject(self, reason: str) -> None:
        with self._lock:
            self._rejected[reason] += 1

    def send(self, *message: object) -> None:
        """Anything else for the app (a state change, a message it handles itself), in order with the readings."""
        with self._lock:
            self._send_batch()
            self._conn.send(message)

    def flush(self) -> None:
        with self._lock:
            self._send_batch()

    def _send_batch(self) -> None:
        if self._readings or self._rejected:
            self._conn.send(("batch", self._readings, dict(self._rejected)))
            self._readings, self._rejected = [], Counter()


# The child's work, a module-level function ``receiver(batcher, stop, *args)``: receive until
# ``stop`` (a threading.Event) is set, through ``batcher``, flushing it every FLUSH_S. Its module
# ends with ``if __name__ == "__main__": serve(receiver)``: the child runs that module.
Receiver = Callable[..., None]


def flush_until(batcher: Batcher, stop: Any) -> None:
    """For a receiver whose network client runs in threads of its own: flush until told to stop."""
    while not stop.wait(FLUSH_S):
        batcher.flush()


def serve(receiver: Receiver) -> None:
    """The child process (``python -m <the receiver's module>``, whose ``__main__`` block calls
    this): ``receiver`` runs with the source and arguments sent on stdin until stdin closes (the
    app stopped us, or is gone); batches go out on stdout."""
    commands = Connection(os.dup(0), writable=False)
    out = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)  # a print() must not write into the pipe
    source, args = commands.recv()
    logging.basicConfig(level=logging.WARNING, format=f"%(asctime)s {source} receiver %(levelname)s %(message)s")
    stop = threading.Event()

    def until_closed() -> None:
        try:
            commands.recv()
        except (EOFError, OSError):
            pass
        stop.set()

    threading.Thread(target=until_closed, daemon=True).start()
    batcher = Batcher(out, source)
    try:
        receiver(batcher, stop, *args)
        batcher.flush()
    except (BrokenPipeError, KeyboardInterrupt):  # the app went away
        pass
    finally:
        out.close()


class Intake:
    """The app's side: starts ``receiver`` (a module-level function) in a child process and takes
    its batches to the mux; every other message goes to ``on_message`` (in the intake's thread)."""

    def __init__(self, name: str, mux: NodeMux, source: str, receiver: Receiver, args: tuple[Any, ...],
                 on_message: Callable[[tuple[Any, ...]], None], pass_fds: tuple[int, ...] = ()) -> None:
        """``pass_fds``: descriptors the child inherits under the same numbers (a bound socket)."""
        self.name = name
        self._pass_fds = pass_fds
        self.mux = mux
        self.source = source
        self.restarts = 0
        self.batches = 0
        self._receiver = receiver
        self._args = args
        self._on_message = on_message
        self._process: subprocess.Popen[bytes] | None = None
        self._commands: Connection | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping = False
        batches = self._spawn()
        self._thread = threading.Thread(target=self._run, args=(batches,), name=f"{self.name}-intake", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stopping = True
        self._end_child()
        thread.join(timeout=5)

    def _end_child(self) -> None:
        commands, process = self._commands, self._process
        self._commands = self._process = None
        if commands is not None:
            commands.close()  # EOF on its stdin: the child stops
        if process is not None:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                log.warning("%s receiver did not stop; killing it", self.name)
                process.kill()
                process.wait(timeout=5)

    def _spawn(self) -> Connection:
        """A fresh interpreter (``-m``), not multiprocessing: it would import the app's main module
        again in the child, and fork would copy the app's threads' locks."""
        down_read, down_write = os.pipe()
        up_read, up_write = os.pipe()
        root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        try:
            self._process = subprocess.Popen([sys.executable, "-m", self._receiver.__module__],
                                             stdin=down_read, stdout=up_write,
                                             env=env, close_fds=True, pass_fds=self._pass_fds)
        finally:
            os.close(down_read)
            os.close(up_write)
        self._commands = Connection(down_write, readable=False)
        self._commands.send((self.source, self._args))
        return Connection(up_read, writable=False)

    def _run(self, batches: Connection) -> None:
        while True:
            self._pump(batches)
            batches.close()
            if self._stopping:
                return
            process = self._process
            code = process.poll() if process is not None else None
            log.error("%s receiver ended (exit code %s); starting it again", self.name, code)
            self.restarts += 1
            self._on_message(("ended",))
            self._end_child()
            time.sleep(RESTART_S)
            if self._stopping:
                return
            batches = self._spawn()

    def _pump(self, conn: Connection) -> None:
        source, mux = self.source, self.mux
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                return
            try:
                if message[0] == "batch":
                    _, wire, rejected = message
                    self.batches += 1
                    while not mux.has_room(len(wire)) and not self._stopping:
                        time.sleep(HOLD_S)  # the engine is late: hold back (the pipe, then the sender, keep the rest)
                    mux.offer_valid(source, [NodeReading(node, 0.0, mv, toxin, waste, moisture, x, y, source)
                                             for node, mv, toxin, waste, moisture, x, y in wire], rejected)
                else:
                    self._on_message(message)
            except Exception:  # a bug of ours must not stop the intake
                log.exception("%s intake", self.name)
                mux.reject(source, "handler_error")

