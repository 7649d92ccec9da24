"""The audio process: owns the synth and the PortAudio stream, so no other Python thread's
work (the UI, the renderer) can hold the GIL when the audio callback is due.

Messages come in on two queues (world frames with parameter changes; events on their own,
the short path for MIDI notes) and are moved by two receiver threads into a deque. The synth
thread takes them from there, a few before each block, and renders ``ahead`` blocks ahead into
a ring; the callback only copies the next block out of the ring and wakes the synth thread.
The callback never logs, blocks or makes an array; a block that fails to render is silence (counted).

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
import select
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from installation.audio.devices import find_output, list_devices
from installation.core.events import Event, EventKind
from installation.synth.spatial import SpeakerLayout
from installation.synth.synth import Synth

EXIT_DEVICE_LOST = 75
STATUS_EVERY_S = 0.5
RETRY_S = 1.0
JACK_CLIENT_NAME = b"myco"
EVENT_KINDS = tuple(EventKind)
MAX_MESSAGES_PER_BLOCK = 12
REALTIME_PRIORITY = 20  # below JACK's usual 70-95 for its own threads, above everything ordinary
AHEAD_BLOCKS = 1  # one block (5.3 ms at 48 kHz / 256) of headroom for the synth, and of latency


@dataclass(frozen=True)
class AudioConfig:
    device: str | None = None
    sample_rate: int = 48000
    block: int = 256
    channels: int = 2
    latency: float | str = "low"
    seed: int = 0
    realtime: bool = True  # ask for real-time scheduling of the audio process
    ahead: int = AHEAD_BLOCKS  # blocks rendered ahead of the one playing (latency: ahead x block)
    speakers: SpeakerLayout | None = None  # the venue's speakers (DBAP); None: synth.speaker_layout
    speaker_names: tuple[str, ...] = ()  # by output channel, for the status


def read_only(data: dict[str, Any]) -> MappingProxyType[str, Any]:
    """Unpickles an event's data (see the reducer in :mod:`installation.audio.engine`)."""
    return MappingProxyType(data)


class BlockRing:
    """Rendered blocks between one writer (the synth thread) and one reader (the callback).

    Preallocated, so neither side allocates; each side moves only its own counter, and under
    the GIL an int assignment is atomic, so neither takes a lock. The reader serves callbacks of
    any length, carrying a partly played block over to the next callback."""

    def __init__(self, slots: int, block: int, channels: int) -> None:
        self.blocks = np.zeros((slots, block, channels), np.float32)
        self.slots, self.block = slots, block
        self.written = 0  # blocks committed by the writer
        self.read_blocks = 0  # blocks fully played by the reader
        self._offset = 0  # frames already played of block ``read_blocks``

    def ready(self) -> int:
        """Blocks rendered and not yet begun (the one being played does not count)."""
        return self.written - self.read_blocks - (1 if self._offset else 0)

    def free(self) -> int:
        return self.slots - (self.written - self.read_blocks)

    def next_slot(self) -> NDArray[np.float32]:
        """The block the writer fills next; :meth:`commit` hands it over (only when :meth:`free`)."""
        return self.blocks[self.written % self.slots]

    def commit(self) -> None:
        self.written += 1

    def read(self, out: NDArray[np.float32], frames: int) -> bool:
        """Copy the next ``frames`` into ``out``; False if the writer fell behind (the rest is silence)."""
        done = 0
        while done < frames:
            if self.read_blocks == self.written:
                out[done:frames] = 0.0
                return False
            count = min(self.block - self._offset, frames - done)
            source = self.blocks[self.read_blocks % self.slots]
            out[done:done + count] = source[self._offset:self._offset + count]
            done += count
            self._offset += count
            if self._offset == self.block:
                self._offset = 0
                self.read_blocks += 1
        return True


class Occurrences:
    """A count of something the callback saw, with the ``time.monotonic()`` of the latest ones
    (for setting them against the machine's stalls); recording allocates nothing."""

    def __init__(self, kept: int) -> None:
        self.count = 0
        self._times = np.zeros(kept)

    def record(self) -> None:
        self._times[self.count % len(self._times)] = time.monotonic()
        self.count += 1

    def recent(self) -> list[float]:
        """The kept times, oldest first."""
        kept = min(self.count, len(self._times))
        return [float(self._times[n % len(self._times)]) for n in range(self.count - kept, self.count)]


class Player:
    """The two halves of the audio process, and the counters the status reports.

    The synth thread applies the inbox's messages and renders blocks ahead into a ring; the
    callback only copies the next block out and wakes the synth thread. So the callback's own
    work is a copy, whatever the synth costs, and a synth block that runs long (a burst of
    voices, a GIL wait, a page fault) is absorbed by the blocks rendered ahead instead of
    reaching the speakers: the ring runs dry only when the synth falls behind for longer than
    ``config.ahead`` periods, and that is counted as ``starved`` (an underflow of Myco's making,
    told apart from the server's xruns that PortAudio reports as ``output_underflow``)."""

    RING = 4096
    RING_EVENTS = 1024
    RING_UNDERFLOWS = 64

    def __init__(self, config: AudioConfig) -> None:
        if config.ahead < 1:
            raise ValueError("the synth must render at least one block ahead")
        self.config = config
        self.period_s = config.block / config.sample_rate
        self.synth = Synth(config.sample_rate, config.channels, config.block, config.seed, config.speakers)
        self.ring = BlockRing(config.ahead + 1, config.block, config.channels)
        self.inbox: deque[tuple[Any, ...]] = deque()
        self.stopping = threading.Event()
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_write, False)
        self.callbacks = 0
        self.underflows = Occurrences(self.RING_UNDERFLOWS)  # callbacks PortAudio flagged (JACK's xruns)
        self.starved = Occurrences(self.RING_UNDERFLOWS)  # callbacks that found no block rendered
        self.late = 0
        self.errors = 0
        self.last_error = ""
        self.last_callback = time.monotonic()
        self.loads = np.zeros(self.RING)  # the callback's own time, in periods
        self.synth_loads = np.zeros(self.RING)  # the synth thread's CPU time per block, in periods
        self.blocks = 0
        self._previous_start = 0.0
        self.thread_priority = ""
        self.event_latency = np.zeros(self.RING_EVENTS)
        self.events = 0
        self._dac_ahead = 0.0

    # -- the callback: PortAudio's real-time thread ----------------------------------------
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
                self.underflows.record()
            if not self.ring.read(outdata, frames):
                self.starved.record()
            self._wake()
        except Exception as error:  # silence, count, report; the stream must live on
            outdata.fill(0.0)
            self.errors += 1
            self.last_error = f"{type(error).__name__}: {error}"
        if self._previous_start and start - self._previous_start > 2.5 * frames / self.config.sample_rate:
            self.late += 1
        self._previous_start = start
        self.last_callback = time.monotonic()
        self.loads[self.callbacks % self.RING] = (time.perf_counter() - start) * self.config.sample_rate / frames
        self.callbacks += 1

    def _wake(self) -> None:
        try:
            os.write(self._wake_write, b"\0")
        except BlockingIOError:  # the pipe is full of wake-ups the synth thread has not read: awake
            pass

    # -- the synth thread -------------------------------------------------------------------
    def render_ahead(self) -> None:
        """Fill the ring: for each free block, apply what came in, then render the block."""
        while self.ring.free() > 0 and not self.stopping.is_set():
            started = time.thread_time()
            block = self.ring.next_slot()
            try:
                # a backlog (after a stall) is worked off over several blocks, not in one
                for _ in range(min(len(self.inbox), MAX_MESSAGES_PER_BLOCK)):
                    self._apply(self.inbox.popleft())
                self.synth.process(block)
            except Exception as error:  # a silent block, counted; the synth plays on
                block.fill(0.0)
                self.errors += 1
                self.last_error = f"{type(error).__name__}: {error}"
            self.ring.commit()
            self.synth_loads[self.blocks % self.RING] = (time.thread_time() - started) / self.period_s
            self.blocks += 1

    def synth_thread(self) -> None:
        """Render ahead, then sleep until the callback has played a block (or the player stops)."""
        while not self.stopping.is_set():
            self.render_ahead()
            ready, _, _ = select.select([self._wake_read], [], [], 0.25)
            if ready:
                os.read(self._wake_read, 4096)

    def start_synth_thread(self) -> threading.Thread:
        self.render_ahead()  # the first callback finds its blocks ready
        thread = threading.Thread(target=self.synth_thread, daemon=True, name="audio-synth")
        thread.start()
        return thread

    def stop(self) -> None:
        self.stopping.set()
        self._wake()

    def close(self) -> None:
        for fd in (self._wake_read, self._wake_write):
            os.close(fd)

    def warm_up(self, blocks: int = 64) -> None:
        """Run the synth through a busy passage before the stream starts, so the first
        blocks do not pay for first-use costs (imports, caches, page faults)."""
        scratch = np.zeros((self.config.block, self.config.channels), np.float32)
        warm = Synth(self.config.sample_rate, self.config.channels, self.config.block, self.config.seed,
                     self.config.speakers)
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
            # sent -> rendered, plus the blocks ahead of this one and the time until the playing
            # one reaches the output (CLOCK_MONOTONIC is system-wide: the sender's stamp compares)
            queued_s = self.ring.ready() * self.period_s
            self.event_latency[self.events % self.RING_EVENTS] = \
                time.monotonic() - message[2] + queued_s + self.period_s + self._dac_ahead
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
                self.stop()
                return
            if message[0] == "stop":
                self.stop()
                return
            self.inbox.append(message)

    def figures(self) -> dict[str, Any]:
        def percentiles(ring: NDArray[np.float64], count: int) -> dict[str, float]:
            filled = ring[: min(count, len(ring))]
            if not len(filled):
                return {"p50": 0.0, "p99": 0.0, "max": 0.0}
            p50, p99 = np.percentile(filled, [50, 99])
            return {"p50": round(float(p50), 4), "p99": round(float(p99), 4), "max": round(float(filled.max()), 4)}

        load, synth_load = percentiles(self.loads, self.callbacks), percentiles(self.synth_loads, self.blocks)
        latencies = self.event_latency[: min(self.events, self.RING_EVENTS)]
        e50, e99 = (np.percentile(latencies, [50, 99]) if len(latencies) else (0.0, 0.0))
        return {"callbacks": self.callbacks, "underflows": self.underflows.count,
                "recent_underflows": self.underflows.recent(),
                "starved": self.starved.count, "recent_starved": self.starved.recent(),
                "late_callbacks": self.late,
                "callback_errors": self.errors, "last_error": self.last_error,
                "load_p50": load["p50"], "load_p99": load["p99"], "load_max": load["max"],
                "synth_load_p50": synth_load["p50"], "synth_load_p99": synth_load["p99"],
                "synth_load_max": synth_load["max"], "ahead_blocks": self.config.ahead,
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
    # The synth, receiver and status threads (all started from here, so they inherit it), one
    # step below the callback thread: real-time, so that the renderer cannot preempt one of
    # them while it holds the GIL that the callback waits for (priority inversion), and below,
    # so that none of them keeps the callback off a CPU.
    priority = raise_priority(REALTIME_PRIORITY - 1) if config.realtime else "normal"
    # the callback shares the GIL with this process's threads alone, the synth thread the
    # busiest; hand it over quickly when one of them holds it (docs/pitfalls.md: 1 ms or less)
    sys.setswitchinterval(0.0005)
    _name_jack_client()
    player = Player(config)
    player.warm_up()
    # everything made so far lives as long as the process: keep the cyclic collector off it, so
    # a collection that lands in a callback has only the young messages to look at
    gc.collect()
    gc.freeze()
    player.start_synth_thread()
    for source in (frames_q, events_q):
        threading.Thread(target=player.receive, args=(source,), daemon=True, name="audio-inbox").start()
    state = {"state": "starting", "device": "", "hostapi": "", "sample_rate": config.sample_rate,
             "block": config.block, "channels": config.channels, "speakers": list(config.speaker_names),
             "priority": priority}

    def report() -> None:
        try:
            status.send({**state, **player.figures(), "pid": os.getpid()})
        except (OSError, ValueError):
            player.stop()

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
                player.stop()
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
