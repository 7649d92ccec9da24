"""What ``myco run`` was asked to do, as a plain value the composition root builds from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_SHOW = "kai-festival"
DEFAULT_OSC = "127.0.0.1:9000"


@dataclass(frozen=True)
class RunOptions:
    show: str = DEFAULT_SHOW
    preset: str | None = None
    output_screens: tuple[int, ...] = ()
    osc: str | None = None  # HOST:PORT to listen on, None: no OSC
    mqtt: str | None = None  # broker URL, None: no MQTT
    midi: str | None = None  # port name pattern, None: no MIDI
    midi_api: str | None = None
    clock_out: bool = False  # send MIDI clock at the show's tempo (port myco-clock:clock out)
    link: bool = False  # join the Ableton Link session
    audio: bool = True
    audio_device: str | None = None
    audio_input: str | None = None  # the room's sound: an input device to listen to; None: the venue's, else none
    headless: bool = False
    headless_size: tuple[int, int] = (640, 360)  # the offscreen output's size when headless
    visuals: bool = True  # False: headless with no renderer at all (an audio- or sensor-only machine)
    status: str | None = "127.0.0.1:8765"  # None: --no-status
    status_token: str | None = None
    seconds: float | None = None  # run this long, then exit cleanly
    step_hz: float = 60.0
    quality: str | None = None  # render quality override (low, medium, high, ultra)
    thumbnails: bool = True  # render preset thumbnails in the background
    shader_dir: Path | None = None  # an artist's working copy of shaders/ (hot-reloaded)
    isf_dirs: tuple[Path, ...] = ()  # ISF effect folders searched before the user's and the shipped one
    resume: bool = False  # start in the act where the same show was before a crash or power cut
    replay: Path | None = None  # a node recording played as live nodes, looped
    canvas: tuple[int, int] | None = None  # the world's picture; None: the venue's, else the windows' pixels
    venue: str | None = None  # a venue file (path) or name: the outputs, their screens and mapping
    member: str | None = None  # the venue's [cluster] member this machine is (docs/cluster.md)
