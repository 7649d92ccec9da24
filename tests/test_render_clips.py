"""``myco render --clips``: a clip of each act's main moment, reached by playing the show, with its sound."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from installation.app.clips import STRIKING, act_clips
from installation.core.shows import find_show
from tests.test_render_headless import TINY, myco

RATE = 48000


@pytest.mark.parametrize("name", ["kai-festival", "elara-mural"])
def test_each_act_has_a_clip_at_its_main_cue_inside_the_act(name: str) -> None:
    show = find_show(name)
    clips = act_clips(show, 20.0)
    assert [clip.act_index for clip in clips] == list(range(len(show.acts)))
    assert len({clip.name for clip in clips}) == len(clips)
    for clip, act in zip(clips, show.acts, strict=True):
        start = show.act_start(clip.act_index)
        assert start <= clip.start_s and clip.start_s + 20.0 <= start + act.duration_s
        assert clip.cue_at_s is not None and start + clip.cue_at_s - clip.start_s == pytest.approx(3.0)
        ranks = [STRIKING.index(cue.event.value) for cue in act.cues]
        assert clip.why.startswith(STRIKING[min(ranks)].replace("_", " "))


def test_the_rule_picks_the_storys_turning_points() -> None:
    kai = act_clips(find_show("kai-festival"))
    elara = act_clips(find_show("elara-mural"))
    assert kai[2].why.startswith("surge at 45") and elara[2].why.startswith("shield at 34")


def _decode(path: Path, *args: str) -> bytes:
    return subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), *args, "-"], capture_output=True,
                          check=True).stdout


def test_clips_are_named_by_act_with_moving_pictures_and_the_acts_own_sound(tmp_path: Path) -> None:
    from installation.app.compose import render_show_audio

    folder = tmp_path / "clips"  # tmp_path also holds the test's MYCO_HOME
    result = myco("render", "--show", "kai-festival", "--clips", str(folder), "--acts", "1", "--seconds", "3",
                  "--warmup-hz", "5", *TINY)
    assert result.returncode == 0, result.stderr
    clip = folder / "kai-festival-act1-the-living-city.mp4"
    assert sorted(p.name for p in folder.iterdir()) == [clip.name, "kai-festival-clips.txt"]
    assert "9-12 s into the act\tbloom at 12 s" in (folder / "kai-festival-clips.txt").read_text()

    pixels = np.frombuffer(_decode(clip, "-f", "rawvideo", "-pix_fmt", "rgb24"), np.uint8).reshape(-1, 90, 160, 3)
    assert len(pixels) == 30  # 3 s at 10 fps
    assert pixels[-1].std() > 5.0
    assert np.abs(pixels[-1].astype(np.float32) - pixels[0]).mean() > 0.5  # the hyphae move

    heard = np.frombuffer(_decode(clip, "-vn", "-ac", "1", "-ar", str(RATE), "-f", "f32le"), np.float32)
    assert abs(len(heard) / RATE - 3.0) < 0.1
    show = render_show_audio("kai-festival", 12.0, sample_rate=RATE).mean(axis=1)

    def likeness(start_s: float) -> float:
        """The best normalised correlation of the clip's sound with the show's from ``start_s``,
        within 50 ms either way (the AAC encoder's delay)."""
        best = 0.0
        n = min(len(heard), 2 * RATE)
        for lag in range(-RATE // 20, RATE // 20 + 1, 24):
            begin = round(start_s * RATE) + lag
            if begin < 0:
                continue
            own = show[begin:begin + n]
            best = max(best, float(np.dot(heard[:n], own) / (np.linalg.norm(heard[:n]) * np.linalg.norm(own) + 1e-12)))
        return best

    assert np.sqrt(np.mean(heard ** 2)) > 0.005
    assert likeness(9.0) > 0.8 > likeness(5.0) + 0.2  # the act's sound at the clip's seconds, not any other
