"""The app's handle on realtime sound: :class:`AudioEngine` runs the synth in its own process.

The main process only reduces each WorldFrame to a small summary and puts it on a bounded
queue with the parameter changes since the last one (never blocking: when the audio process
is not keeping up, the message is dropped and counted, and unsent parameter changes go out
with the next). Events for immediate sound (MIDI notes) take a second queue. A watchdog
thread collects the audio process's status and, if the process ends (the device was lost),
starts a new one with the latest parameters, so sound comes back by itself.

Back from the audio process, besides the status, come scopes and the room's features on a third
bounded queue (:meth:`AudioEngine.scope`, :meth:`AudioEngine.room_scope`,
:meth:`AudioEngine.features`); a reader takes the latest, and a full queue drops the newest.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import queue
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from types import MappingProxyType
from typing import Any

from installation.audio.process import AHEAD_BLOCKS, EXIT_DEVICE_LOST, AudioConfig, read_only, run
from installation.core.events import Event
from installation.core.frames import WorldFrame
from installation.core.params import Value
from installation.synth.analysis import BANDS, Scope, silence
from installation.synth.spatial import SpeakerLayout
from installation.synth.summary import FrameSummary, summarise_steps

log = logging.getLogger(__name__)
QUEUE_SIZE = 240  # four seconds of frames at 60 Hz
RESTART_DELAY_S = 0.5
SILENT_LIMIT_S = 15.0  # the audio process reports every 0.5-1 s; start-up takes a few seconds
ANALYSIS_QUEUE_SIZE = 16  # a quarter of a second of scopes at 60 Hz (the watchdog drains it ten times a second)
ONSET_DECAY_S = 0.15  # room.onset: 1 at an onset, falling by 1/e every this many seconds
ROOM_STALE_S = 0.5  # room features older than this (the input was lost) read as silence
ROOM_FEATURES = ("room.level", *(f"room.{name}" for name, _, _ in BANDS), "room.onset", "room.beat_bpm")


def _reduce_mappingproxy(proxy: MappingProxyType[Any, Any]) -> tuple[Any, ...]:
    return (read_only, (dict(proxy),))


# Events carry their data as a read-only mappingproxy, which plain pickle refuses; teach the
# pickler that multiprocessing queues use (and only it) to send a copy.
ForkingPickler.register(MappingProxyType, _reduce_mappingproxy)


class AudioEngine:
    def __init__(self) -> None:
        self._context = multiprocessing.get_context("spawn")
        self._config = AudioConfig()
        self._process: Any = None
        self._frames: Any = None
        self._events: Any = None
        self._status_in: Connection | None = None
        self._status: dict[str, Any] = {}
        self._heard_at = time.monotonic()
        self._sent: dict[str, Value] = {}
        self._latest: FrameSummary | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._watchdog: threading.Thread | None = None
        self._analysis: Any = None
        self._analysis_lock = threading.Lock()
        self._scope = silence(self._config.channels, self._config.sample_rate)
        self._room_scope = silence(self._config.input_channels, self._config.sample_rate)
        self._room: dict[str, float] = {}
        self.dropped = 0
        self.restarts = 0

    # -- life cycle -----------------------------------------------------------------------
    def start(self, device: str | None = None, sample_rate: int = 48000, block: int = 256, channels: int = 2,
              latency: float | str = "low", ahead: int = AHEAD_BLOCKS, speakers: SpeakerLayout | None = None,
              speaker_names: Sequence[str] = (), input_device: str | None = None, input_channels: int = 1,
              analysis: bool = True) -> None:
        """Start the audio process; returns at once (the status says when it plays). ``ahead``:
        blocks the synth renders ahead of the one playing (headroom for a long block, and latency).
        ``speakers``: the venue's speakers, where the synth places each sound (DBAP), with their
        names by channel for the status; None: ``synth.speaker_layout`` over ``channels``.
        ``input_device``: the room's sound (a device as ``myco devices`` lists it; ``""``: the first
        JACK one), analysed into :meth:`features`; None: no input. ``analysis``: False leaves the
        scope of what is played out (it then stays silent)."""
        if self._watchdog is not None:
            raise RuntimeError("audio engine already started")
        if channels < 1 or block < 16 or sample_rate < 8000 or ahead < 1:
            raise ValueError("need at least 1 channel, 16-frame blocks, 8 kHz and one block ahead")
        if speakers is not None and max(speakers.outputs, default=0) >= channels:
            raise ValueError(f"a speaker is on an output past the {channels} channels")
        if input_channels < 1:
            raise ValueError("the room input needs at least 1 channel")
        self._config = AudioConfig(device, sample_rate, block, channels, latency, ahead=ahead, speakers=speakers,
                                   speaker_names=tuple(speaker_names), input_device=input_device,
                                   input_channels=input_channels, analysis=analysis)
        self._scope = silence(channels, sample_rate)
        self._room_scope = silence(input_channels, sample_rate)
        self._stopping.clear()
        self._spawn()
        self._watchdog = threading.Thread(target=self._watch, daemon=True, name="audio-watchdog")
        self._watchdog.start()

    def stop(self, timeout: float = 3.0) -> None:
        """Stop the audio process and wait for it; never leaves a process behind."""
        self._stopping.set()
        if self._watchdog is not None:
            self._watchdog.join(timeout)
            self._watchdog = None
        self._end_process(timeout)

    def _spawn(self) -> None:
        frames, events = self._context.Queue(QUEUE_SIZE), self._context.Queue(QUEUE_SIZE)
        analysis = self._context.Queue(ANALYSIS_QUEUE_SIZE)
        status_in, status_out = self._context.Pipe(duplex=False)
        process = self._context.Process(target=run, args=(self._config, frames, events, status_out, analysis),
                                        name="myco-audio", daemon=True)
        process.start()
        status_out.close()
        with self._lock:
            self._frames, self._events, self._status_in, self._process = frames, events, status_in, process
            self._analysis = analysis
            self._status = {"state": "starting"}
            self._heard_at = time.monotonic()
            # a fresh process starts from the latest world and every parameter
            self._put(self._frames, ("params", dict(self._sent)))
            if self._latest is not None:
                self._put(self._frames, ("frame", self._latest, None))

    def _end_process(self, timeout: float) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        for channel in (self._frames, self._events):
            try:
                channel.put_nowait(("stop",))
            except (queue.Full, ValueError, OSError):
                pass
        process.join(timeout)
        if process.is_alive():
            process.terminate()
            process.join(2.0)
        if process.is_alive():
            process.kill()
            process.join(2.0)
        for channel in (self._frames, self._events):
            channel.cancel_join_thread()
            channel.close()
        with self._analysis_lock:
            self._analysis.close()
            self._analysis = None
        if self._status_in is not None:
            self._drain_status()
            self._status_in.close()
            self._status_in = None

    def _watch(self) -> None:
        while not self._stopping.is_set():
            self._drain_status()
            self._drain_analysis()
            process = self._process
            silent_s = time.monotonic() - self._heard_at
            if process is not None and process.is_alive() and silent_s > SILENT_LIMIT_S:
                # alive but saying nothing: hung (in PortAudio, most likely); end it
                log.warning("audio process silent for %.0f s; ending it", silent_s)
                process.kill()
                process.join(2.0)
            if process is not None and not process.is_alive() and not self._stopping.is_set():
                code = process.exitcode
                log.warning("audio process ended (%s); starting a new one",
                            "device lost" if code == EXIT_DEVICE_LOST else f"exit {code}")
                self._end_process(0.5)
                self.restarts += 1
                if self._stopping.wait(RESTART_DELAY_S):
                    break
                self._spawn()
            self._stopping.wait(0.1)

    def _drain_status(self) -> None:
        pipe = self._status_in
        try:
            while pipe is not None and pipe.poll():
                message = pipe.recv()
                with self._lock:
                    self._status = message
                    self._heard_at = time.monotonic()
        except (EOFError, OSError):
            pass

    def _drain_analysis(self) -> None:
        """Keep the latest scopes and room features that came back; never waits."""
        with self._analysis_lock:
            source = self._analysis
            try:
                while source is not None:
                    _, played, room_scope, room = source.get_nowait()
                    if played is not None:
                        self._scope = played
                    if room_scope is not None:
                        self._room_scope = room_scope
                    if room is not None:
                        self._room = room
            except (queue.Empty, EOFError, OSError, ValueError):
                pass

    # -- what was heard -------------------------------------------------------------------
    def scope(self) -> Scope:
        """The waveform and spectrum of the latest blocks played (``heard_at``: when their last
        sample reaches the output, by ``time.monotonic()``); silence before the first."""
        self._drain_analysis()
        return self._scope

    def room_scope(self) -> Scope:
        """The waveform and spectrum of the room input's latest samples; silence without one."""
        self._drain_analysis()
        return self._room_scope

    def features(self) -> Mapping[str, float]:
        """The room's sound: ``room.level`` and ``room.low``/``mid``/``high`` (RMS amplitudes, a
        full-scale sine 0.707), ``room.onset`` (1 at an onset, decaying over ONSET_DECAY_S) and
        ``room.beat_bpm`` (0 until a few onsets tell a tempo); all 0 without an input."""
        self._drain_analysis()
        room, now = self._room, time.monotonic()
        if not room or now - self._room_scope.heard_at > ROOM_STALE_S:
            return dict.fromkeys(ROOM_FEATURES, 0.0)
        onset_at = room["last_onset_at"]
        onset = math.exp(-max(0.0, now - onset_at) / ONSET_DECAY_S) if onset_at >= 0 else 0.0
        return {"room.level": room["level"], **{f"room.{name}": room[name] for name, _, _ in BANDS},
                "room.onset": onset, "room.beat_bpm": room["bpm"]}

    def room_onsets(self) -> tuple[int, float]:
        """How many onsets the room input has had, and the ``time.monotonic()`` of the latest (-1: none)."""
        self._drain_analysis()
        return int(self._room.get("onsets", 0)), float(self._room.get("last_onset_at", -1.0))

    # -- feeding --------------------------------------------------------------------------
    def push(self, frame: WorldFrame, params: Mapping[str, Value]) -> None:
        """Send one tick of the world and any changed ``synth.*`` parameters; never blocks."""
        self.push_steps((frame,), params)

    def push_steps(self, frames: Sequence[WorldFrame], params: Mapping[str, Value], beat: float | None = None,
                   bpm: float = 0.0) -> None:
        """Send the steps of one tick that caught up: the last state and every step's events
        (pushing only the last frame would lose the others' spikes and cues), with the tempo's
        ``beat`` and ``bpm`` then (``synth.quantize`` follows them)."""
        if not frames:
            return
        summary = replace(summarise_steps(frames), beat=beat, bpm=bpm)
        with self._lock:
            changed = {name: value for name, value in params.items()
                       if name.startswith("synth.") and self._sent.get(name) != value}
            self._latest = summary
            if self._put(self._frames, ("frame", summary, changed or None)):
                self._sent.update(changed)

    def push_event(self, event: Event) -> None:
        """Sound one event now, by the short path (for MIDI notes and the like)."""
        with self._lock:
            self._put(self._events, ("event", event, time.monotonic()))

    def _put(self, channel: Any, message: tuple[Any, ...]) -> bool:
        if channel is None:
            return False
        try:
            channel.put_nowait(message)
            return True
        except (queue.Full, ValueError, OSError):
            self.dropped += 1
            return False

    def status(self) -> dict[str, Any]:
        """For /status: state, device, load (fractions of the block period), underflows, restarts."""
        with self._lock:
            report = dict(self._status)
        process = self._process
        report.update(running=report.get("state") == "running" and process is not None and process.is_alive(),
                      restarts=self.restarts, dropped_messages=self.dropped,
                      process_alive=bool(process is not None and process.is_alive()), updated=time.time())
        report.setdefault("load", report.get("load_p50", 0.0))
        report.setdefault("channels", self._config.channels)  # before the process first reports
        report.setdefault("speakers", list(self._config.speaker_names))
        return report
