"""The venue's [audio] and [[speaker]]s: parsing, and the DBAP gains the synth places sounds with."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from installation.core.errors import LoadError
from installation.core.speakers import AudioSetup, Speaker
from installation.core.tomlsource import TomlSource
from installation.core.venue import parse_venue
from installation.synth.spatial import Panner, SpeakerLayout, dbap_gains
from installation.synth.synth import Synth

HEAD = '[venue]\ntitle = "room"\n\n[[output]]\nname = "wall"\n'
QUAD = """
[audio]
device = "system"
channels = 4
sample_rate = 44100
block = 128
ahead = 1

[[speaker]]
name = "front left"
position = [0.0, 0.0]
channel = 1

[[speaker]]
name = "front right"
position = [1.0, 0.0]
channel = 2

[[speaker]]
name = "back right"
position = [1.0, 1.0]
channel = 3
gain = 0.5

[[speaker]]
name = "back left"
position = [0.0, 1.0]
channel = 4
"""


def parse(text: str) -> AudioSetup | None:
    # a bare top-level key must come before the first table
    whole = text + "\n" + HEAD if text.strip() and not text.lstrip().startswith("[") else HEAD + text
    return parse_venue(TomlSource.parse(whole, Path("room.toml"))).audio


def problems(text: str) -> list[tuple[int, str, str]]:
    with pytest.raises(LoadError) as caught:
        parse(text)
    return [(p.line, p.key, p.reason) for p in caught.value.problems]


def line_of(text: str, needle: str, occurrence: int = 0) -> int:
    lines = (HEAD + text).split("\n")
    found = [number for number, line in enumerate(lines, start=1) if needle in line]
    return found[occurrence]


def test_a_quad_reads_whole() -> None:
    setup = parse(QUAD)
    assert setup == AudioSetup("system", 4, 44100, 128, 1, (
        Speaker("front left", (0.0, 0.0), 1), Speaker("front right", (1.0, 0.0), 2),
        Speaker("back right", (1.0, 1.0), 3, 0.5), Speaker("back left", (0.0, 1.0), 4)))
    assert setup.speaker_names() == ["front left", "front right", "back right", "back left"]


def test_no_audio_and_no_speakers_is_none() -> None:
    assert parse("") is None


def test_defaults_channels_from_speakers_and_channel_from_order() -> None:
    setup = parse('[[speaker]]\nname = "a"\nposition = [0, 0.5]\n\n[[speaker]]\nname = "b"\nposition = [1, 0.5]\n')
    assert setup is not None
    assert setup.channels == 2 and [s.channel for s in setup.speakers] == [1, 2]
    assert setup.device is None and setup.sample_rate == 48000 and setup.block == 256 and setup.ahead == 2
    assert parse("[audio]\n") == AudioSetup()  # no speakers: two channels, today's stereo
    assert parse("[audio]\nchannels = 6\n") == AudioSetup(channels=6)  # channels without speakers are fine
    gap = parse('[[speaker]]\nname = "sub"\nposition = [0.5, 0.5]\nchannel = 6\n')
    assert gap is not None and gap.channels == 6  # up to the highest speaker channel


def test_device_may_be_an_index() -> None:
    setup = parse("[audio]\ndevice = 3\n")
    assert setup is not None and setup.device == "3"


def test_the_room_input_and_its_channels() -> None:
    setup = parse('[audio]\ninput = "system"\ninput_channels = 2\n')
    assert setup == AudioSetup(input="system", input_channels=2)
    assert parse('[audio]\ninput = 0\n') == AudioSetup(input="0")
    assert parse("[audio]\n") == AudioSetup(input=None, input_channels=1)  # not listened to


def test_every_problem_at_its_line() -> None:
    text = """
[audio]
channels = 3
sample_rate = 1000
block = "big"
ahead = 0
rolloff_db = 0
colour = "red"

[[speaker]]
name = "a"
position = [0.0, 2.0]

[[speaker]]
name = "a"
position = [1.0, 0.0]
channel = 1

[[speaker]]
name = "c"
position = [0.5]
channel = 7
gain = 3
"""
    found = problems(text)
    expected = {
        (line_of(text, "channel = 7"), "speaker[2].channel", "channel 7 is past the 3 channels of [audio]"),
        (line_of(text, "sample_rate"), "audio.sample_rate", "1000 is outside [8000, 192000]"),
        (line_of(text, "block ="), "audio.block", "must be an integer, got str"),
        (line_of(text, "ahead ="), "audio.ahead", "0 is outside [1, 8]"),
        (line_of(text, "rolloff_db"), "audio.rolloff_db", "0 is outside [0.5, 24]"),
        (line_of(text, "position = [0.0, 2.0]"), "speaker[0].position", "[0, 2] is outside [-0.5, 1.5]"),
        (line_of(text, 'name = "a"', 1), "speaker[1].name", "another speaker is already called 'a'"),
        (line_of(text, "channel = 1"), "speaker[1].channel", "another speaker is already on channel 1"),
        (line_of(text, "position = [0.5]"), "speaker[2].position", "must be a point [x, y]"),
        (line_of(text, "gain = 3"), "speaker[2].gain", "3 is outside [0, 2]"),
    }
    assert expected <= set(found), found
    assert any(key == "audio.colour" and line == line_of(text, "colour") for line, key, _ in found)


@pytest.mark.parametrize(("text", "key", "reason"), [
    ("[audio]\nchannels = 0\n", "audio.channels", "0 is outside [1, 64]"),
    ("[audio]\nchannels = 65\n", "audio.channels", "65 is outside [1, 64]"),
    ("[audio]\ndevice = \"\"\n", "audio.device", "must be a device's name"),
    ("[audio]\ninput = true\n", "audio.input", "must be a device's name"),
    ("[audio]\ninput_channels = 0\n", "audio.input_channels", "0 is outside [1, 64]"),
    ("[[speaker]]\nname = \"x\"\n", "speaker[0].position", "missing"),
    ("[[speaker]]\nposition = [0, 0]\nchannel = 0\n", "speaker[0].channel", "0 is outside [1, 64]"),
    ("[[speaker]]\nposition = [-0.6, 0]\n", "speaker[0].position", "outside [-0.5, 1.5]"),
    ("[[speaker]]\nname = \"!\"\nposition = [0, 0]\n", "speaker[0].name", "does not match"),
    ("speaker = 3\n", "speaker", "must be an array of tables"),
    ("audio = 3\n", "audio", "must be a table"),
])
def test_one_problem(text: str, key: str, reason: str) -> None:
    found = problems(text)
    assert any(k == key and reason in r for _, k, r in found), found


# -- DBAP ------------------------------------------------------------------------------------

CORNERS = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])


def ring(count: int, radius: float = 0.5) -> np.ndarray:
    angles = 2 * np.pi * np.arange(count) / count
    return np.stack([0.5 + radius * np.sin(angles), 0.5 - radius * np.cos(angles)], axis=1)


@pytest.mark.parametrize("positions", [CORNERS, ring(8), ring(5, 0.7), np.array([[0.2, 0.3]])])
def test_dbap_keeps_power_constant(positions: np.ndarray) -> None:
    rng = np.random.default_rng(3)
    for x, y in rng.random((200, 2)):
        gains = dbap_gains(float(x), float(y), positions)
        assert math.isclose(float(np.sum(gains ** 2)), 1.0, rel_tol=1e-9)
        assert (gains > 0).all()


@pytest.mark.parametrize("positions", [CORNERS, ring(8)])
def test_a_node_at_a_speaker_sounds_mostly_there(positions: np.ndarray) -> None:
    for index, (x, y) in enumerate(positions):
        gains = dbap_gains(float(x), float(y), positions)
        assert int(np.argmax(gains)) == index
        assert gains[index] ** 2 > 0.9  # over 90 % of the energy (blur 0.05, rolloff 6 dB)


def test_dbap_is_symmetric() -> None:
    centre = dbap_gains(0.5, 0.5, CORNERS)
    assert np.allclose(centre, 0.5)  # equal to all four
    left = dbap_gains(0.2, 0.4, CORNERS)
    mirrored = dbap_gains(0.8, 0.4, CORNERS)  # mirrored in x: front-left <-> front-right, back too
    assert np.allclose(left, mirrored[[1, 0, 3, 2]])
    eight = ring(8)
    for k in range(8):  # rotating the point with the ring rotates the gains
        angle = 2 * np.pi * k / 8
        x, y = 0.5 + 0.2 * np.sin(angle), 0.5 - 0.2 * np.cos(angle)
        assert np.allclose(dbap_gains(x, y, eight), np.roll(dbap_gains(0.5, 0.3, eight), k))


def test_rolloff_sets_the_level_drop_per_doubling() -> None:
    # two speakers, the point at distance 1 from one and 2 from the other (blur negligible)
    positions = np.array([[0.0, 0.0], [3.0, 0.0]])
    for rolloff in (3.0, 6.0, 12.0):
        near, far = dbap_gains(1.0, 0.0, positions, rolloff, blur=0.0)
        assert math.isclose(20 * math.log10(near / far), rolloff, abs_tol=0.01)


def test_the_canvas_aspect_stretches_x_distances() -> None:
    positions = np.array([[0.25, 0.75], [0.75, 0.25]])  # half a canvas below, half a canvas right
    square = dbap_gains(0.25, 0.25, positions)
    wide = dbap_gains(0.25, 0.25, positions, aspect=3.0)
    assert np.allclose(square[0], square[1])
    assert wide[0] > 2 * wide[1]  # the speaker across x is now three times farther away


def layout_of(text: str, canvas: tuple[int, int] | None = None) -> SpeakerLayout:
    setup = parse(text)
    assert setup is not None
    layout = SpeakerLayout.of(setup, canvas)
    assert layout is not None
    return layout


def test_the_panner_puts_each_speaker_on_its_channel() -> None:
    # channels out of order: the back-left speaker is output 1
    text = QUAD.replace("channel = 4", "channel = 9").replace("channel = 1", "channel = 4").replace(
        "channel = 9", "channel = 1")
    layout = layout_of(text)
    assert layout.outputs == (3, 1, 2, 0)
    panner = Panner(4, layout)
    assert int(np.argmax(panner.gains(0.0, 1.0))) == 0  # back left: output 1
    assert int(np.argmax(panner.gains(0.0, 0.0))) == 3  # front left: output 4
    assert np.allclose(panner.gains(0.3, 0.6)[[3, 1, 2, 0]], dbap_gains(0.3, 0.6, CORNERS))
    assert np.allclose(layout.channel_trims(5), [1.0, 1.0, 0.5, 1.0, 0.0])


def test_without_speakers_the_panner_is_todays_line() -> None:
    from installation.synth.spatial import speaker_gains, spread_gains

    panner = Panner(2)
    assert np.array_equal(panner.gains(0.3, 0.2), speaker_gains(0.3, 0.2, 2))
    assert np.array_equal(panner.spread(5), spread_gains(5, 2))
    assert list(panner.outputs()) == [0, 1]


def test_the_synth_places_a_note_by_dbap_and_spreads_the_drone_over_every_speaker() -> None:
    layout = SpeakerLayout(tuple(map(tuple, ring(8).tolist())), tuple(range(8)))  # type: ignore[arg-type]
    synth = Synth(48000, 8, 256, speakers=layout)
    synth.set_params({"synth.drone_level": -60.0, "synth.reverb_mix": 0.0, "synth.texture_level": -60.0,
                      "synth.density": 1.0})
    x, y = ring(8)[2]
    synth.note("n", float(x), float(y), 1.0, 0.0, 0, timbre="pluck")
    out = np.zeros((256, 8), np.float32)
    energy = np.zeros(8)
    for _ in range(40):
        synth.process(out)
        energy += np.sum(out.astype(np.float64) ** 2, axis=0)
    share = energy / energy.sum()
    expected = dbap_gains(float(x), float(y), ring(8)) ** 2
    assert int(np.argmax(share)) == 2
    assert np.allclose(share, expected, atol=0.01), (share, expected)
    # the drone's partials are placed across the canvas: every speaker gets some
    assert (np.sum(synth.drone.pan ** 2, axis=0) > 0.01).all()


def test_outputs_without_a_speaker_stay_silent() -> None:
    layout = SpeakerLayout(((0.0, 0.5), (1.0, 0.5)), (0, 2))  # output 2 (index 1) has none
    synth = Synth(48000, 3, 256, speakers=layout)
    synth.set_params({"synth.density": 1.0})
    synth.note("n", 0.5, 0.5, 1.0, 0.0, 0)
    out = np.zeros((256, 3), np.float32)
    level = np.zeros(3)
    for _ in range(40):
        synth.process(out)
        level += np.abs(out).sum(axis=0)
    assert level[1] == 0.0 and level[0] > 0 and level[2] > 0
