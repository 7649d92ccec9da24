"""The audio process: owns the synth and the PortAudio stream, so no other Python thread's
work (the UI, the renderer) can hold the GIL when the audio callback is due.

Messages come in on two queues (world frames with parameter changes; events on their own,
the short path for MIDI notes) and are moved by two receiver threads into a deque that the
callback drains at the start of each block. The callback never logs, never blocks, and
outputs silence if anything in it raises (counted and reported).

When the stream dies (jackd killed), PortAudio's JACK backend hangs in any teardown of that
stream (close, abort, terminate: measured), so this process reports the loss and exits
without teardown; :class:`installation.audio.engine.AudioEngine` starts a new one, which
re-initialises PortAudio every second until the device is back.
"""

from __future__ import annotations

import ctypes
import gc
import os
import queue
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from installation.audio.devices import find_output, list_devices
from installation.core.events import Event, EventKind
from installation.synth.synth import Synth

EXIT_DEVICE_LOST = 75
STATUS_EVERY_S = 0.5
RETRY_S = 1.0
JACK_CLIENT_NAME = b"myco"
EVENT_KINDS = tuple(EventKind)
MAX_MESSAGES_PER_BLOCK = 12
REALTIME_PRIORITY = 20  # below JACK's usual 70-95 for its own threads, above everything ordinary


@dataclass(frozen=True)
class AudioConfig:
    device: str | None = None
    sample_rate: int = 48000
    block: int = 256
    channels: int = 2
    latency: float | str = "low"
    seed: int = 0
    realtime: bool = True  # ask for real-time scheduling of the audio process


def read_only(data: dict[str, Any]) -> MappingProxyType[str, Any]:
    """Unpickles an event's data (see the reducer in :mod:`installation.audio.engine`)."""
    return MappingProxyType(data)


class BlockFifo:
    """Serves callbacks of any length from a renderer of fixed-size blocks, without allocating."""

    def __init__(self, render: Callable[[NDArray[np.float32]], None], block: int, channels: int) -> None:
        self._render = render
        self._buffer = np.zeros((block, channels), np.float32)
        self._block = block
        self._offset = block  # empty

    def read(self, out: NDArray[np.float32], frames: int) -> None:
        done = 0
        while done < frames:
            if self._offset == self._block:
                self._render(self._buffer)
                self._offset = 0
            count = min(self._block - self._offset, frames - done)
            out[done:done + count] = self._buffer[self._offset:self._offset + count]
            done += count
            self._offset += count


class Player:
    """The callback side: the synth, the inbox, and the counters the status reports."""

    RING = 4096
    RING_EVENTS = 1024
    RING_UNDERFLOWS = 64

    def __init__(self, config: AudioConfig) -> None:
        self.config = config
        self.synth = Synth(config.sample_rate, config.channels, config.block, config.seed)
        self.fifo = BlockFifo(self.synth.process, config.block, config.channels)
        self.inbox: deque[tuple[Any, ...]] = deque()
        self.stopping = threading.Event()
        self.callbacks = 0
        self.underflows = 0
        self.underflow_times = np.zeros(self.RING_UNDERFLOWS)  # time.monotonic() of the flagged callbacks
        self.late = 0
        self.errors = 0
        self.last_error = ""
        self.last_callback = time.monotonic()
        self.loads = np.zeros(self.RING)
        self._previous_start = 0.0
        self.thread_priority = ""
        self.event_latency = np.zeros(self.RING_EVENTS)
        self.events = 0
        self._dac_ahead = 0.0

    def callback(self, outdata: NDArray[np.float32], frames: int, time_info: Any, status: Any) -> None:
        start = time.perf_counter()
        if self.thread_priority == "":
            # PortAudio's callback thread belongs to JACK's client library, which starts it with
            # the server's scheduling (ordinary with a non-real-time server); ask once, here.
            self.thread_priority = raise_priority(REALTIME_PRIORITY) if self.config.realtime else "normal"
        try:
            self._dac_ahead = max(0.0, float(time_info.outputBufferDacTime - time_info.currentTime)) \
                if time_info is not None else 0.0
            if status.output_underflow:
                self.underflow_times[self.underflows % self.RING_UNDERFLOWS] = time.monotonic()
                self.underflows += 1
            # a backlog (after a stall) is worked off over several blocks, not in one
            for _ in range(min(len(self.inbox), MAX_MESSAGES_PER_BLOCK)):
                self._apply(self.inbox.popleft())
            self.fifo.read(outdata, frames)
        except Exception as error:  # silence, count, report; the stream must live on
            outdata.fill(0.0)
            self.errors += 1
            self.last_error = f"{type(error).__name__}: {error}"
        period = frames / self.config.sample_rate
        if self._previous_start and start - self._previous_start > 2.5 * period:
            self.late += 1
        self._previous_start = start
        self.last_callback = time.monotonic()
        self.loads[self.callbacks % self.RING] = (time.perf_counter() - start) / period
        self.callbacks += 1

    def warm_up(self, blocks: int = 64) -> None:
        """Run the synth through a busy passage before the stream starts, so the first
        callbacks do not pay for first-use costs (imports, caches, page faults)."""
        scratch = np.zeros((self.config.block, self.config.channels), np.float32)
        warm = Synth(self.config.sample_rate, self.config.channels, self.config.block, self.config.seed)
        for k in range(blocks):
            warm.on_event(Event(EVENT_KINDS[k % len(EVENT_KINDS)], strength=2.0), 0)
            warm.process(scratch)
        self.synth.process(scratch)

    def _apply(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "frame":
            _, summary, params = message
            if params:
                self.synth.set_params(params)
            self.synth.push_summary(summary, {})
        elif kind == "event":
            event: Event = message[1]
            self.synth.on_event(event, 0)
            # sent -> this callback, plus the time until this block reaches the output
            # (CLOCK_MONOTONIC is system-wide, so the sender's stamp compares with ours)
            self.event_latency[self.events % self.RING_EVENTS] = time.monotonic() - message[2] + self._dac_ahead
            self.events += 1
        elif kind == "params":
            self.synth.set_params(message[1])

    def receive(self, source: Any) -> None:
        """A receiver thread: move messages from a queue into the inbox until told to stop."""
        while not self.stopping.is_set():
            try:
                message = source.get(timeout=0.25)
            except queue.Empty:
                continue
            except (EOFError, OSError):  # the main process is gone
                self.stopping.set()
                return
            if message[0] == "stop":
                self.stopping.set()
                return
            self.inbox.append(message)

    def figures(self) -> dict[str, Any]:
        filled = self.loads[: min(self.callbacks, self.RING)]
        p50, p99 = (np.percentile(filled, [50, 99]) if len(filled) else (0.0, 0.0))
        latencies = self.event_latency[: min(self.events, self.RING_EVENTS)]
        e50, e99 = (np.percentile(latencies, [50, 99]) if len(latencies) else (0.0, 0.0))
        kept = min(self.underflows, self.RING_UNDERFLOWS)
        recent = [float(self.underflow_times[n % self.RING_UNDERFLOWS])
                  for n in range(self.underflows - kept, self.underflows)]
        return {"callbacks": self.callbacks, "underflows": self.underflows,
                "recent_underflows": recent, "late_callbacks": self.late,
                "callback_errors": self.errors, "last_error": self.last_error,
                "load_p50": round(float(p50), 4), "load_p99": round(float(p99), 4),
                "load_max": round(float(filled.max()) if len(filled) else 0.0, 4),
                "voices": self.synth.modes.voices, "callback_priority": self.thread_priority,
                "events": self.events, "event_latency_ms_p50": round(1000 * float(e50), 2),
                "event_latency_ms_p99": round(1000 * float(e99), 2)}


def _name_jack_client() -> None:
    """Call PortAudio's ``PaJack_SetClientName`` so our JACK ports read ``myco:out_N``; best effort."""
    import sounddevice as sd

    try:
        library = ctypes.CDLL(sd._libname)
        library.PaJack_SetClientName(ctypes.c_char_p(JACK_CLIENT_NAME))
    except (OSError, AttributeError):
        return
    sd._terminate()  # the name is read when PortAudio initialises, which importing sounddevice did
    sd._initialize()


def raise_priority(fifo_priority: int) -> str:
    """Ask for real-time scheduling at ``fifo_priority``, else a higher nice level; both need a
    privilege (root, CAP_SYS_NICE or an rtprio limit), so this is best effort and says what it
    got. It applies to the calling thread (Linux schedules threads) and to those it starts."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(fifo_priority))
        return f"fifo:{fifo_priority}"
    except (OSError, AttributeError):
        pass
    try:
        os.setpriority(os.PRIO_PROCESS, 0, -10)
        return "nice:-10"
    except (OSError, AttributeError):
        return "normal"


def run(config: AudioConfig, frames_q: Any, events_q: Any, status: Connection) -> None:
    """The audio process's main function."""
    import sounddevice as sd

    parent = os.getppid()
    # The receiver and status threads, one step below the callback thread: real-time, so that
    # the renderer cannot preempt one of them while it holds the GIL that the callback waits for
    # (priority inversion), and below, so that none of them keeps the callback off a CPU.
    priority = raise_priority(REALTIME_PRIORITY - 1) if config.realtime else "normal"
    # the callback shares the GIL only with this process's small helper threads; hand it over
    # quickly when they hold it (docs/pitfalls.md: 1 ms or less keeps blocks on time)
    sys.setswitchinterval(0.0005)
    _name_jack_client()
    player = Player(config)
    player.warm_up()
    # everything made so far lives as long as the process: keep the cyclic collector off it, so
    # a collection that lands in a callback has only the young messages to look at
    gc.collect()
    gc.freeze()
    for source in (frames_q, events_q):
        threading.Thread(target=player.receive, args=(source,), daemon=True, name="audio-inbox").start()
    state = {"state": "starting", "device": "", "hostapi": "", "sample_rate": config.sample_rate,
             "block": config.block, "channels": config.channels, "priority": priority}

    def report() -> None:
        try:
            status.send({**state, **player.figures(), "pid": os.getpid()})
        except (OSError, ValueError):
            player.stopping.set()

    def refresh() -> None:
        # re-scan: the device list is fixed when PortAudio initialises (safe: no stream is open)
        sd._terminate()
        sd._initialize()

    while not player.stopping.is_set():
        device = find_output(list_devices(sd), config.device, config.channels)
        if device is None:
            state.update(state="waiting_for_device", device="")
            report()
            player.stopping.wait(RETRY_S)
            refresh()
            continue
        try:
            stream = sd.OutputStream(device=device.index, samplerate=config.sample_rate, blocksize=config.block,
                                     channels=config.channels, dtype="float32", latency=config.latency,
                                     callback=player.callback)
            stream.start()
        except Exception as error:
            state.update(state="waiting_for_device", device=device.name)
            player.last_error = f"open {device.name}: {error}"
            report()
            player.stopping.wait(RETRY_S)
            refresh()
            continue
        player.last_callback = time.monotonic()
        state.update(state="running", device=device.name, hostapi=device.hostapi)
        stale_after = max(1.0, 20 * config.block / config.sample_rate)
        next_report = 0.0
        while not player.stopping.is_set():
            player.stopping.wait(0.05)
            now = time.monotonic()
            if os.getppid() != parent:
                player.stopping.set()
            if not stream.active or now - player.last_callback > stale_after:
                state.update(state="device_lost")
                report()
                os._exit(EXIT_DEVICE_LOST)  # no teardown: it hangs on a dead JACK server
            if now >= next_report:
                report()
                next_report = now + STATUS_EVERY_S
        stream.close()
    state.update(state="stopped")
    report()
