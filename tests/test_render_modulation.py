"""A modulated render.* parameter moves the pixels: `myco render` (no display, Mesa) of a show whose
first preset routes a square LFO to render.exposure; the frames in the LFO's up half-cycles are
brighter than those in its down halves, and without the routing they are not."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image

from installation.core.paths import UserDirs, resource_dir
from tests.test_render_headless import TINY, myco

FPS, START, SECONDS = 10, 2.0, 4.0
ROUTING = """
[[modulation]]                # one cycle every 2 beats: 1 s at 120 BPM, up for its first half
source = "lfo"
shape = "square"
rate = 2
target = "render.exposure"
depth = 0.5
"""


def brightness_by_half(tmp_path: Path, name: str) -> tuple[float, float]:
    """Mean brightness of the frames well inside the up halves and the down halves of each second."""
    folder = tmp_path / name
    result = myco("render", "--show", "kai-festival", "--seconds", str(SECONDS), "--start", str(START), *TINY,
                  "--fps", str(FPS), "--png", str(folder), "--no-audio")
    assert result.returncode == 0, result.stderr
    frames = sorted(folder.glob("frame_*.png"))
    assert len(frames) == SECONDS * FPS
    up, down = [], []
    for index, path in enumerate(frames):
        phase = math.modf(START + (index + 1) / FPS)[0]  # the frame shows the world at the end of its step
        mean = float(np.asarray(Image.open(path), np.float32).mean())
        if 0.15 <= phase <= 0.35:
            up.append(mean)
        elif 0.65 <= phase <= 0.85:
            down.append(mean)
    return float(np.mean(up)), float(np.mean(down))


def test_a_square_lfo_on_the_exposure_makes_the_picture_pulse_with_the_beat(tmp_path: Path) -> None:
    preset = "kai-1-living-city"  # the first act of kai-festival
    user = UserDirs.default().ensure()
    text = (resource_dir("presets") / f"{preset}.toml").read_text()
    up_plain, down_plain = brightness_by_half(tmp_path, "plain")
    (user.presets / f"{preset}.toml").write_text(text + ROUTING)
    up, down = brightness_by_half(tmp_path, "pulsing")
    assert up > 1.3 * down, (up, down)
    assert abs(up_plain - down_plain) < 0.1 * down_plain, (up_plain, down_plain)
