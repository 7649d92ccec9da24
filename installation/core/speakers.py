"""The room's speakers: the venue file's ``[audio]`` table and its ``[[speaker]]``s.

```toml
[audio]
device = "system"        # optional: the sound device (as --audio-device, which wins over it)
channels = 8             # optional: default: the highest speaker channel, else 2
sample_rate = 48000      # optional
block = 256              # optional
rolloff_db = 6.0         # optional: DBAP's level drop per doubling of the distance
blur = 0.05              # optional: DBAP's spatial blur (canvas heights)
input = "system"         # optional: the room's sound, an input device (as --audio-input, which wins)
input_channels = 1       # optional: how many of its inputs are listened to (mixed to one)

[[speaker]]
name = "front left"
position = [0.0, 0.0]    # where it stands in 0..1 of the canvas (x right, y down), -0.5..1.5
channel = 1              # 1-based output channel (default: its order)
gain = 1.0               # optional trim, 0..2
```

Pure data and checks: the synth turns an :class:`AudioSetup` into gains
(:mod:`installation.synth.spatial`), the audio process opens its device and channels.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from installation.core.tomlsource import Checker

MAX_CHANNELS = 64
MAX_SPEAKERS = 64
POSITION_SLACK = 0.5  # speakers may stand this far outside the canvas (around the picture)
SPEAKER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _-]{0,31}$")
AUDIO_KEYS = {"device", "channels", "sample_rate", "block", "ahead", "rolloff_db", "blur", "input", "input_channels"}
SPEAKER_KEYS = {"name", "position", "channel", "gain"}
DEFAULT_ROLLOFF_DB = 6.0
DEFAULT_BLUR = 0.05
# Blocks the synth renders ahead of the one playing: its headroom for a late block, and latency.
# One block (5.3 ms at 256 frames) starved now and then on a busy 2-vCPU machine, where the
# machine's own stalls under the witness's 2.5 ms and a wait for the GIL add up past it.
AHEAD_BLOCKS = 2
MAX_AHEAD_BLOCKS = 8


@dataclass(frozen=True)
class Speaker:
    name: str
    position: tuple[float, float]  # 0..1 of the canvas (may lie up to half a canvas outside)
    channel: int  # 1-based output channel
    gain: float = 1.0  # linear trim, 0..2


@dataclass(frozen=True)
class AudioSetup:
    """The sound of one room: the device, its channels and where each speaker stands."""

    device: str | None = None
    channels: int = 2
    sample_rate: int = 48000
    block: int = 256
    ahead: int = AHEAD_BLOCKS
    speakers: tuple[Speaker, ...] = ()
    rolloff_db: float = DEFAULT_ROLLOFF_DB
    blur: float = DEFAULT_BLUR
    input: str | None = None  # the room's sound: an input device; None: not listened to
    input_channels: int = 1

    def speaker_names(self) -> list[str]:
        """Names by output channel (for /status)."""
        return [speaker.name for speaker in sorted(self.speakers, key=lambda s: s.channel)]


def _position(checker: Checker, value: object, key: str) -> tuple[float, float] | None:
    if value is None:
        checker.fail(key, "missing: where the speaker stands, [x, y] in 0..1 of the canvas")
        return None
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in value)):
        checker.fail(key, "must be a point [x, y]")
        return None
    x, y = float(value[0]), float(value[1])
    low, high = -POSITION_SLACK, 1 + POSITION_SLACK
    if not (low <= x <= high and low <= y <= high):
        checker.fail(key, f"[{x:g}, {y:g}] is outside [{low:g}, {high:g}]")
        return None
    return x, y


def _speakers(checker: Checker, tables: list[dict[str, Any]]) -> tuple[Speaker, ...]:
    speakers: list[Speaker] = []
    names: set[str] = set()
    channels: set[int] = set()
    for index, table in enumerate(tables):
        key = f"speaker[{index}]"
        checker.unknown_keys(table, SPEAKER_KEYS, key)
        name = checker.string(table, "name", f"{key}.name", f"speaker {index + 1}", pattern=SPEAKER_NAME)
        if name in names:
            checker.fail(f"{key}.name", f"another speaker is already called {name!r}")
        names.add(name)
        position = _position(checker, table.get("position"), f"{key}.position")
        channel = checker.integer(table, "channel", f"{key}.channel", index + 1, 1, MAX_CHANNELS)
        if channel in channels:
            checker.fail(f"{key}.channel", f"another speaker is already on channel {channel}")
        channels.add(channel)
        gain = checker.number(table, "gain", f"{key}.gain", 1.0, 0.0, 2.0)
        if position is not None:
            speakers.append(Speaker(name, position, channel, gain))
    return tuple(speakers)


def parse_audio(checker: Checker, data: Mapping[str, Any]) -> AudioSetup | None:
    """The ``[audio]`` table and the ``[[speaker]]`` array of a venue document; None when the file
    has neither. Every problem is recorded at its key."""
    if "audio" not in data and "speaker" not in data:
        return None
    audio = checker.table(data, "audio", "audio", required=False)
    checker.unknown_keys(audio, AUDIO_KEYS, "audio")
    device, room = _device(checker, audio, "device"), _device(checker, audio, "input")
    tables = checker.tables(data, "speaker", "speaker", MAX_SPEAKERS)
    speakers = _speakers(checker, tables)
    highest = max((speaker.channel for speaker in speakers), default=0)
    channels = checker.integer(audio, "channels", "audio.channels", max(highest, len(speakers)) or 2, 1,
                               MAX_CHANNELS)
    if "channels" in audio:
        for index, table in enumerate(tables):
            channel = table.get("channel", index + 1)
            if isinstance(channel, int) and not isinstance(channel, bool) and channels < channel <= MAX_CHANNELS:
                checker.fail(f"speaker[{index}].channel" if "channel" in table else f"speaker[{index}]",
                             f"channel {channel} is past the {channels} channels of [audio]")
    sample_rate = checker.integer(audio, "sample_rate", "audio.sample_rate", 48000, 8000, 192000)
    block = checker.integer(audio, "block", "audio.block", 256, 16, 8192)
    ahead = checker.integer(audio, "ahead", "audio.ahead", AHEAD_BLOCKS, 1, MAX_AHEAD_BLOCKS)
    rolloff = checker.number(audio, "rolloff_db", "audio.rolloff_db", DEFAULT_ROLLOFF_DB, 0.5, 24.0)
    blur = checker.number(audio, "blur", "audio.blur", DEFAULT_BLUR, 0.0, 1.0)
    input_channels = checker.integer(audio, "input_channels", "audio.input_channels", 1, 1, MAX_CHANNELS)
    return AudioSetup(device, channels, sample_rate, block, ahead, speakers, rolloff, blur, room, input_channels)


def _device(checker: Checker, audio: Mapping[str, Any], key: str) -> str | None:
    """``[audio]``'s ``key``: a device's name (or part of it) or its index; None when not given."""
    if key not in audio:
        return None
    value = audio[key]
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and value.strip():
        return value
    checker.fail(f"audio.{key}", "must be a device's name (or part of it) or its index, as in myco devices")
    return None
