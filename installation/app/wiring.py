"""Starting the adapters the runtime needs: sound and the input listeners.

Each adapter is optional for the show: when one cannot start (no sound card, a port in
use, a broker down), the reason is logged for the operator's error list and the rest of
the app goes on. That is the reliability rule: no black projector because one part failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from installation.app.options import DEFAULT_OSC, RunOptions
from installation.app.status import parse_address
from installation.core.commands import LIVE_PARAMS
from installation.core.venue import Venue
from installation.engine import Engine

log = logging.getLogger(__name__)


@dataclass
class Started:
    """A running input: how to stop it, and its own figures for /status (beyond the mux's counts)."""

    name: str
    stop: Callable[[], None]
    figures: Callable[[], Mapping[str, Any]] = field(default=lambda: {})
    handle: Any = None
    input: bool = True  # False: a part of the room (projectors), not counted among /status's inputs


def start_audio(options: RunOptions, venue: Venue | None = None) -> tuple[Any, str]:
    """The audio engine (its own process), or None and a notice saying why there is no sound.

    The venue's ``[audio]`` and ``[[speaker]]``s choose the device, channels, rate, block and
    where the synth places each sound, and the room input it listens to; ``--audio-device`` and
    ``--audio-input`` win over the file's."""
    try:
        from installation.audio.engine import AudioEngine
    except ImportError as error:  # a machine without PortAudio: the show goes on without sound
        notice = f"no audio engine available ({error}); visuals only"
        log.warning("%s", notice)
        return None, notice
    from installation.synth.spatial import SpeakerLayout

    setup = venue.audio if venue is not None else None
    device = options.audio_device or (setup.device if setup is not None else None)
    room = options.audio_input or (setup.input if setup is not None else None)
    try:
        audio = AudioEngine()
        if setup is None:
            audio.start(device=device, sample_rate=48000, block=256, channels=2, input_device=room)
        else:
            audio.start(device=device, sample_rate=setup.sample_rate, block=setup.block, channels=setup.channels,
                        ahead=setup.ahead,
                        speakers=SpeakerLayout.of(setup, venue.canvas if venue is not None else None),
                        speaker_names=setup.speaker_names(), input_device=room, input_channels=setup.input_channels)
    except Exception as error:
        notice = f"sound could not start on {device or 'the default device'}: {error}; visuals only"
        log.error("%s", notice)
        return None, notice
    channels = f" ({setup.channels} channels, {len(setup.speakers)} speakers)" if setup is not None else ""
    return audio, f"playing on {device or 'the default device'}{channels}"


def midi_figures(status: Mapping[str, Any]) -> dict[str, Any]:
    """The MIDI layer's per-port counts folded into the per-source shape of /status."""
    ports = status.get("ports", {})
    return {
        "received": sum(p.get("received", 0) for p in ports.values()),
        "dropped": {"malformed": sum(p.get("dropped", 0) for p in ports.values()),
                    "unmapped": sum(p.get("unmapped", 0) for p in ports.values()),
                    "queue_full": status.get("queue_dropped", 0)},
        "ports": sorted(name for name, p in ports.items() if p.get("open")),
        "learning": status.get("learning", ""),
        "api": status.get("api", ""),
        "notice": status.get("notice", ""),
    }


def start_inputs(options: RunOptions, engine: Engine, audio: Any = None,
                 mapping_sink: Callable[[str, list[Any]], bool] | None = None) -> list[Started]:
    """Start the listeners asked for; one that fails is reported and the others still start.
    ``mapping_sink`` takes OSC's projection-mapping messages (``/myco/output/...``)."""
    started: list[Started] = []
    mux = engine.world
    if options.osc is not None:
        try:
            from installation.inputs.osc import OscListener

            host, port = parse_address(options.osc, "OSC", DEFAULT_OSC)
            osc = OscListener(mux, engine.inputs, host, port,  # type: ignore[arg-type]
                              state_of=lambda: {"preset": engine.preset.name, "act": engine.player.act_index},
                              mapping_sink=mapping_sink)
            osc.start()
            unsubscribe = engine.bank.subscribe(lambda change: osc.feedback(change)
                                                if change.name in LIVE_PARAMS else None)

            def stop_osc() -> None:
                unsubscribe()
                osc.stop()

            started.append(Started("osc", stop_osc,
                                   lambda: {"listening": f"{host}:{osc.port}", "feedback_sent": osc.sent,
                                           "socket_dropped": osc.socket_dropped()}, osc))
        except Exception as error:
            log.error("OSC input on %s could not start: %s", options.osc, error)
    if options.mqtt is not None:
        try:
            from installation.inputs.mqtt import MqttListener

            mqtt = MqttListener(mux, options.mqtt)  # type: ignore[arg-type]
            mqtt.start()
            started.append(Started("mqtt", mqtt.stop, mqtt.status, mqtt))
        except Exception as error:
            log.error("MQTT input from %s could not start: %s", options.mqtt, error)
    if options.midi is not None:
        try:
            from installation.inputs import midi as midi_input

            midi = midi_input.start(options.midi, queue=engine.inputs, bank=engine.bank, api=options.midi_api,
                                    preset_of=lambda: engine.preset, tempo=engine.tempo,
                                    on_event=audio.push_event if audio is not None else None)  # the short path
            started.append(Started("midi", midi.stop, lambda: midi_figures(midi.status()), midi))
        except Exception as error:
            log.error("MIDI input %s could not start: %s", options.midi, error)
    started.extend(start_tempo_sync(options, engine))
    return started


def start_tempo_sync(options: RunOptions, engine: Engine) -> list[Started]:
    """MIDI clock out and Ableton Link, as asked: both follow or lead ``engine.tempo``."""
    started: list[Started] = []
    if options.clock_out:
        try:
            from installation.inputs.clock_out import ClockOut

            clock_out = ClockOut(engine.tempo, options.midi_api or "jack")
            clock_out.start()
            started.append(Started("clock_out", clock_out.stop, clock_out.status, clock_out))
        except Exception as error:
            log.error("MIDI clock out could not start: %s", error)
    if options.link:
        try:
            from installation.inputs.link import LinkSession

            session = LinkSession(engine.tempo)
            session.start()
            started.append(Started("link", session.stop, session.status, session))
        except Exception as error:
            log.error("Ableton Link could not start: %s", error)
    return started
