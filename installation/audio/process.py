"""The audio process: owns the synth and the PortAudio stream, so no other Python thread's
work (the UI, the renderer) can hold the GIL when the audio callback is due.

Messages come in on two queues (world frames with parameter changes; events on their own,
the short path for MIDI notes) and are moved by two receiver threads into a deque. The synth
thread takes them from there, a few before each block, and renders ``ahead`` blocks ahead into
a ring; the callback only copies the next block out of the ring and wakes the synth thread.
The callback never logs, blocks or makes an array; a block that fails to render is silence (counted).

An analysis thread (:meth:`Player.analyse`) sends the GUI process, at most ``ANALYSIS_HZ`` times a
second, the scope of what was just played (the synth thread copies each block the callback has
taken into a history before it renders into that slot again, so the scope is of blocks on their
way to the speakers, not of the ones waiting in the ring) and, when a room input is open (a second
PortAudio stream whose callback only copies into a ring), the room's scope and features
(:mod:`installation.synth.analysis`). A full queue drops the message and counts it.

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

from installation.audio.devices import find_input, find_output, list_devices
from installation.core.events import Event, EventKind
from installation.core.speakers import AHEAD_BLOCKS
from installation.synth.analysis import BANDS, FFT_SIZE, Listener, scope_of
from installation.synth.spatial import SpeakerLayout
from installation.synth.synth import Synth

EXIT_DEVICE_LOST = 75
STATUS_EVERY_S = 0.5
RETRY_S = 1.0
JACK_CLIENT_NAME = b"myco"
EVENT_KINDS = tuple(EventKind)
MAX_MESSAGES_PER_BLOCK = 12
REALTIME_PRIORITY = 20  # below JACK's usual 70-95 for its own threads, above everything ordinary
ANALYSIS_HZ = 60  # scopes and room features sent to the GUI process at most this often
HISTORY_FRAMES = 8192  # played and heard samples kept for the analysis (170 ms at 48 kHz)


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
    input_device: str | None = None  # the room's sound: an input device (as find_input takes it); None: none
    input_channels: int = 1
    analysis: bool = True  # the scope of what is played (off: for measuring what it costs)


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


class SampleRing:
    """The latest samples of a stream, written by one thread (a callback, the synth thread) and
    read by another (the analysis thread); preallocated, no lock (as :class:`BlockRing`). A
    reader that falls more than the capacity behind has lost the oldest."""

    def __init__(self, capacity: int, channels: int) -> None:
        self.samples = np.zeros((capacity, channels), np.float32)
        self.capacity = capacity
        self.written = 0  # frames written so far

    def write(self, block: NDArray[np.float32]) -> None:
        frames = len(block)
        at = self.written % self.capacity
        first = min(frames, self.capacity - at)
        self.samples[at:at + first] = block[:first]
        self.samples[:frames - first] = block[first:]
        self.written += frames

    def between(self, start: int, end: int) -> NDArray[np.float32]:
        """Frames ``start`` to ``end`` (a copy), at most the capacity's latest."""
        start = max(start, end - self.capacity)
        index = np.arange(start, end) % self.capacity
        return self.samples[index]


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
        # what was played (the blocks the callback took, copied by the synth thread), and when heard
        self.played = SampleRing(HISTORY_FRAMES, config.channels) if config.analysis else None
        self.played_at = 0.0  # time.monotonic() of the callback that took the latest block
        self._recorded = 0  # blocks copied into ``played``
        self.heard_at = 0.0  # time.monotonic() when the last copied block's last sample is heard
        # the room's sound (written by the input callback)
        self.room = SampleRing(HISTORY_FRAMES, config.input_channels)
        self.room_at = 0.0  # time.monotonic() of the latest input callback
        self.input_overflows = 0
        self.input_errors = 0
        self.analysis_dropped = 0
        self.analysis_cpu_s = 0.0  # the analysis thread's CPU time
        self._analysis_started = 0.0

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
            self.played_at = time.monotonic()
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

    def input_callback(self, indata: NDArray[np.float32], frames: int, time_info: Any, status: Any) -> None:
        """The room input's callback: only a copy into ``room``; never raises (that would end the stream)."""
        try:
            if status.input_overflow:
                self.input_overflows += 1
            self.room.write(indata)
            self.room_at = time.monotonic()
        except Exception:
            self.input_errors += 1

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
            self._record_played()
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

    def _record_played(self) -> None:
        """Copy the blocks the callback has taken into ``played``, before their slots are rendered
        into again; their last sample is heard once PortAudio's output latency has passed."""
        played = self.played
        if played is None:
            return
        taken = self.ring.read_blocks
        while self._recorded < taken:
            played.write(self.ring.blocks[self._recorded % self.ring.slots])
            self._recorded += 1
        self.heard_at = self.played_at + self._dac_ahead + self.period_s

    def analyse(self, sink: Any, room: bool) -> None:
        """The analysis thread: at most ANALYSIS_HZ times a second, put on ``sink`` the scope of
        what was played since the last time, and (``room``: an input is open) the room's scope and
        features: ``("analysis", Scope | None, Scope | None, dict | None)``; never blocks."""
        rate = self.config.sample_rate
        listener = Listener(rate, self.config.block)
        sent_played, heard = 0, 0  # played blocks and room frames analysed so far
        self._analysis_started = time.monotonic()
        while not self.stopping.wait(1.0 / ANALYSIS_HZ):
            started = time.thread_time()
            played = None
            if self.played is not None and self._recorded != sent_played:
                sent_played, heard_at = self._recorded, self.heard_at
                written = self.played.written
                played = scope_of(self.played.between(written - FFT_SIZE, written), rate, heard_at)
            features, room_scope = None, None
            written, at = self.room.written, self.room_at
            if room and written > heard:
                listener.feed(self.room.between(heard, written))
                heard = written
                found = listener.features()
                room_scope = scope_of(self.room.between(written - FFT_SIZE, written), rate, at)
                # the listener's clock ends at the latest frame, which came in at ``at``
                onset_at = at - (listener.samples / rate - found.last_onset) if found.last_onset >= 0 else -1.0
                features = {"level": found.level,
                            **{name: level for (name, _, _), level in zip(BANDS, found.bands, strict=True)},
                            "onsets": found.onsets, "last_onset_at": onset_at, "bpm": found.bpm}
            if played is not None or features is not None:
                try:
                    sink.put_nowait(("analysis", played, room_scope, features))
                except (queue.Full, ValueError, OSError):
                    self.analysis_dropped += 1
            self.analysis_cpu_s += time.thread_time() - started

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
                "event_latency_ms_p99": round(1000 * float(e99), 2),
                "output_latency_ms": round(1000 * self._dac_ahead, 2),
                "input_overflows": self.input_overflows, "input_errors": self.input_errors,
                "analysis_dropped": self.analysis_dropped, "analysis_cpu_percent": self.analysis_cpu_percent()}

    def analysis_cpu_percent(self) -> float:
        """The analysis thread's CPU time, in percent of one CPU since it started."""
        if not self._analysis_started:
            return 0.0
        return round(100 * self.analysis_cpu_s / max(1e-9, time.monotonic() - self._analysis_started), 3)


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


def open_room(sd: Any, config: AudioConfig, player: Player) -> tuple[Any, dict[str, str]]:
    """The room input's stream, started, or None; and what the status says of it. An input that
    cannot be opened is reported and the sound goes on without it."""
    if config.input_device is None:
        return None, {"input_state": "off", "input_device": "", "input_error": ""}
    device = find_input(list_devices(sd), config.input_device, config.input_channels)
    if device is None:
        return None, {"input_state": "unavailable", "input_device": "",
                      "input_error": f"no input device {config.input_device!r} with {config.input_channels} "
                                     "channels (see myco devices)"}
    try:
        stream = sd.InputStream(device=device.index, samplerate=config.sample_rate, blocksize=config.block,
                                channels=config.input_channels, dtype="float32", latency=config.latency,
                                callback=player.input_callback)
        stream.start()
    except Exception as error:
        return None, {"input_state": "unavailable", "input_device": device.name,
                      "input_error": f"open {device.name}: {error}"}
    player.room_at = time.monotonic()  # the staleness watch starts now
    return stream, {"input_state": "listening", "input_device": device.name, "input_error": ""}


def run(config: AudioConfig, frames_q: Any, events_q: Any, status: Connection, analysis_q: Any = None) -> None:
    """The audio process's main function; ``analysis_q``: where the analysis thread puts scopes and
    the room's features (None: no analysis thread)."""
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
        room, room_state = open_room(sd, config, player)
        state.update(room_state)
        if analysis_q is not None and (config.analysis or room is not None):
            threading.Thread(target=player.analyse, args=(analysis_q, room is not None), daemon=True,
                             name="audio-analysis").start()
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
            if room is not None and (not room.active or now - player.room_at > stale_after):
                # the sound plays on without it; the input comes back with the next audio process
                state.update(input_state="lost")
                room = None
            if now >= next_report:
                report()
                next_report = now + STATUS_EVERY_S
        if room is not None:
            room.close()
        stream.close()
    state.update(state="stopped")
    report()
