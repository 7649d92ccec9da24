"""`myco check` on the shipped files (shaders compiled on real Mesa GL) and on broken copies."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from installation.core.paths import resource_dir


def myco(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "installation", *map(str, args)], capture_output=True, text=True,
                          timeout=300, env=env or dict(os.environ))


def test_everything_shipped_passes_with_shaders_compiled(x_display: str) -> None:
    result = myco("check")
    assert result.returncode == 0, result.stdout + result.stderr
    count = int(re.search(r"checked (\d+) files: 0 problems", result.stderr).group(1))  # type: ignore[union-attr]
    shaders = len(list(resource_dir("shaders").rglob("*.frag")))
    assert count >= 30 + shaders


def test_broken_copies_are_reported_with_file_line_and_key(tmp_path: Path, x_display: str) -> None:
    preset = tmp_path / "kai-broken.toml"
    text = (resource_dir("presets") / "kai-1-living-city.toml").read_text()
    preset.write_text(text.replace('look = "festival"', 'look = "disco"') + '"sim.growth_rate" = "fast"\n')
    show = tmp_path / "show.toml"
    show.write_text((resource_dir("presets") / "shows" / "kai-festival.toml").read_text()
                    .replace('preset = "kai-3-surge"', 'preset = "kai-3-nope"'))
    seed = tmp_path / "seed.toml"
    seed.write_text((resource_dir("seeds") / "kai-city.toml").read_text().replace("x = 0.50", "x = 5.0", 1))
    midi = tmp_path / "pad.toml"
    midi.write_text((resource_dir("presets") / "midi" / "korg_nanokontrol2.toml").read_text()
                    .replace('type = "cc"', 'type = "ccc"', 1))
    shaders = tmp_path / "shaders"
    shutil.copytree(resource_dir("shaders"), shaders)
    shader = next(iter(sorted(shaders.glob("*.frag"))))
    broken_line = len(shader.read_text().splitlines()) + 1
    shader.write_text(shader.read_text() + "this is not glsl;\n")
    result = myco("check", preset, show, seed, midi, shader)
    assert result.returncode == 1
    out = result.stdout
    look_line = text.splitlines().index('look = "festival"') + 1
    assert f"{preset}:{look_line}: preset.look: look 'disco' not found" in out
    assert re.search(rf"^{re.escape(str(preset))}:\d+: params.sim.growth_rate: expected a number", out, re.M)
    assert re.search(rf"^{re.escape(str(show))}:\d+: acts\[2\].preset: preset 'kai-3-nope' not found", out, re.M)
    assert re.search(rf"^{re.escape(str(seed))}:\d+: nodes\[0\].x: 5.0 is outside", out, re.M)
    assert re.search(rf"^{re.escape(str(midi))}:\d+: binding\[0\].type", out, re.M)
    assert re.search(rf"^{re.escape(str(shader))}:{broken_line}: ", out, re.M), out


def test_check_refuses_a_missing_path(tmp_path: Path) -> None:
    result = myco("check", tmp_path / "nothing.toml", "--no-shaders")
    assert result.returncode == 1 and "no such file" in result.stdout


def test_copies_of_shipped_folders_pass(tmp_path: Path) -> None:
    copy = tmp_path / "seeds"
    shutil.copytree(resource_dir("seeds"), copy)
    result = myco("check", "--no-shaders", copy)
    assert result.returncode == 0, result.stdout
