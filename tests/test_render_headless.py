"""Headless rendering end to end: ``myco render`` with no display, check_shaders, contact sheets, the canvas."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from installation.core.paths import resource_dir
from installation.core.shows import find_show

TINY = ["--size", "160x90", "--fps", "10", "--quality", "low", "--agents", "4096", "--no-progress"]


def myco(*args: str, display: bool = False) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if not display:
        env.pop("DISPLAY", None)  # prove it renders with no X server at all (EGL, surfaceless Mesa)
    return subprocess.run([sys.executable, "-m", "installation", *args], capture_output=True, text=True,
                          env=env, timeout=240, check=False)


def test_render_writes_video_with_sound_and_png_frames_with_no_display(tmp_path: Path) -> None:
    out = tmp_path / "festival.mp4"
    result = myco("render", "--show", "kai-festival", "--seconds", "1", "--start", "2", *TINY,
                  "--out", str(out), "--png", str(tmp_path / "frames"))
    assert result.returncode == 0, result.stderr
    frames = sorted((tmp_path / "frames").glob("frame_*.png"))
    assert len(frames) == 10
    last = np.asarray(Image.open(frames[-1]), np.float32)
    assert last.shape == (90, 160, 3) and last.std() > 5.0
    assert np.abs(last - np.asarray(Image.open(frames[0]), np.float32)).mean() > 0.5
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,nb_frames",
                            "-of", "csv=p=0", str(out)], capture_output=True, text=True, check=True)
    streams = dict(line.split(",")[:2] for line in probe.stdout.split())
    assert streams["video"] == "10" and "audio" in streams


def test_render_is_deterministic(tmp_path: Path) -> None:
    for name in ("a", "b"):
        result = myco("render", "--show", "elara-mural", "--seconds", "0.5", *TINY, "--png", str(tmp_path / name))
        assert result.returncode == 0, result.stderr
    for first in sorted((tmp_path / "a").glob("*.png")):
        a = np.asarray(Image.open(first), np.int16)
        b = np.asarray(Image.open(tmp_path / "b" / first.name), np.int16)
        assert np.abs(a - b).max() <= 1


def test_render_refuses_bad_arguments() -> None:
    assert myco("render", "--show", "kai-festival").returncode == 2  # nothing to write
    bad_size = myco("render", "--show", "kai-festival", "--size", "huge", "--png", "x")
    assert bad_size.returncode == 2 and "WIDTHxHEIGHT" in bad_size.stderr
    missing = myco("render", "--show", "no-such-show", "--png", "x", *TINY)
    assert missing.returncode == 1 and "no-such-show" in missing.stderr


@pytest.mark.usefixtures("qt_session")
def test_check_shaders_compiles_everything_and_names_the_broken_line(tmp_path: Path) -> None:
    from installation.render.check import check_shaders

    assert check_shaders() == []
    folder = tmp_path / "shaders"
    shutil.copytree(resource_dir("shaders"), folder)
    broken = folder / "blur.frag"
    lines = broken.read_text().split("\n")
    index = next(i for i, line in enumerate(lines) if "gl_FragColor" in line)
    lines[index] = "    gl_FragColor = vec4(sum, 1.0) + undefined_value;"
    broken.write_text("\n".join(lines))
    problems = check_shaders(shader_dir=folder)
    assert {(Path(p.file).name, p.line) for p in problems} == {("blur.frag", index + 1)}
    assert "undefined_value" in problems[0].reason
    # Naming an include stands for every program that may use it.
    assert check_shaders([folder / "include" / "common.glsl"], shader_dir=folder)[0].line == index + 1


@pytest.mark.usefixtures("qt_session")
def test_check_shaders_finds_one_parameter_declared_unalike_by_two_programs(tmp_path: Path) -> None:
    from installation.render.check import check_shaders

    quad = "attribute vec2 a_position;\nvoid main() { gl_Position = vec4(a_position, 0, 1); }\n"
    (tmp_path / "quad.vert").write_text(quad)
    for name, default in (("a", 1.0), ("b", 0.5)):
        (tmp_path / f"{name}.frag").write_text(
            f'/*{{ "INPUTS": [\n {{"NAME": "gain", "PARAM": "render.gain", "TYPE": "float", "DEFAULT": {default}}}\n'
            '] }*/\nvoid main() { gl_FragColor = vec4(gain); }\n')
    problems = check_shaders(shader_dir=tmp_path)  # each compiles on its own: only together do they clash
    assert [(Path(p.file).name, p.line, p.key) for p in problems] == [("b.frag", 2, "INPUTS.gain")]
    assert f"unlike {(tmp_path / 'a.frag').resolve()}:2" in problems[0].reason


def test_stills_cover_every_act_and_cue() -> None:
    from installation.render.headless import show_stills

    show = find_show("kai-festival")
    stills = show_stills(show)
    assert len(stills) == sum(len(act.cues) + 1 for act in show.acts)
    assert {s.act_index for s in stills} == set(range(len(show.acts)))
    assert all(0 <= s.at_s < show.acts[s.act_index].duration_s for s in stills)


def test_contact_sheet_is_a_labelled_grid() -> None:
    from installation.render.headless import Still, contact_sheet

    shot = np.zeros((54, 96, 3), np.uint8)
    shot[...] = (7, 201, 99)
    shots = [(Still(0, "One", 5.0, "bloom"), shot), (Still(0, "One", 60.0, "settled"), shot),
             (Still(1, "Two", 12.0, "surge"), shot)]
    sheet = np.asarray(contact_sheet("Show", shots))
    assert sheet.shape[1] == 8 + 2 * (96 + 8)  # two columns: the longest act
    pasted = (sheet == (7, 201, 99)).all(axis=2)
    assert pasted.sum() == 3 * 54 * 96  # three stills pasted whole
    assert (sheet[:30] > 150).any()  # the title is drawn
