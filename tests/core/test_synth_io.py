"""WAV writing and reading, and speaker placement."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from installation.synth.offline import read_wav, write_wav
from installation.synth.spatial import speaker_gains

pytestmark = pytest.mark.core


@pytest.mark.parametrize("bits", [16, 24])
def test_wav_round_trip_keeps_the_samples(tmp_path: Path, bits: int) -> None:
    rng = np.random.default_rng(0)
    samples = (rng.random((4800, 3)) * 1.8 - 0.9).astype(np.float32)
    samples[0] = [1.0, -1.0, 0.0]
    path = tmp_path / "x.wav"
    write_wav(path, samples, 44100, bits)
    back, rate = read_wav(path)
    assert rate == 44100 and back.shape == samples.shape
    assert np.abs(back - samples).max() < 2.0 ** -(bits - 2)
    assert not path.with_name("x.wav.part").exists()


def test_wav_clips_and_cleans_out_of_range_values(tmp_path: Path) -> None:
    path = tmp_path / "y.wav"
    write_wav(path, np.array([[2.0], [np.nan], [-3.0]], np.float32), 48000, 16)
    back, _ = read_wav(path)
    assert back[:, 0] == pytest.approx([32767 / 32768, 0.0, -32767 / 32768])


@pytest.mark.parametrize("channels", [2, 3, 4, 6, 8])
@pytest.mark.parametrize("layout", ["line", "ring"])
def test_speaker_gains_keep_power_constant(channels: int, layout: str) -> None:
    for x in np.linspace(0, 1, 11):
        for y in np.linspace(0, 1, 5):
            gains = speaker_gains(float(x), float(y), channels, layout)
            assert float(np.sum(gains ** 2)) == pytest.approx(1.0, abs=1e-5)


def test_line_layout_follows_x() -> None:
    assert int(np.argmax(speaker_gains(0.0, 0.5, 4, "line"))) == 0
    assert int(np.argmax(speaker_gains(1.0, 0.5, 4, "line"))) == 3
    left, right = speaker_gains(0.5, 0.5, 2)
    assert left == pytest.approx(right)


def test_a_catch_up_tick_keeps_every_steps_events() -> None:
    from installation.core.events import Event, EventKind
    from installation.synth.summary import summarise_steps
    from tests.core.synth_frames import frame

    steps = [frame(k, events=(Event(EventKind.SPIKE, node=f"n{k}"),), toxin=0.1 * k) for k in range(3)]
    summary = summarise_steps(steps)
    assert [event.node for event in summary.events] == ["n0", "n1", "n2"]
    assert summary.t == steps[-1].t and summary.toxin_level == pytest.approx(0.2, abs=1e-6)
    with pytest.raises(ValueError):
        summarise_steps([])
