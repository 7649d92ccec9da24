"""`myco check` on the shipped files (shaders compiled on real Mesa GL), on broken copies, on hostile files."""

from __future__ import annotations

import codecs
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from installation.core.paths import resource_dir
from installation.core.presets import load_preset
from installation.core.seeds import load_seed
from installation.core.shows import load_show
from installation.core.venue import SECTIONS
from installation.midi.profile import load_profile


def myco(*args: str | Path, env: dict[str, str] | None = None,
         timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "installation", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env or dict(os.environ))


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


# file name: (content, the line its problem names)
HOSTILE = {
    "deep-array.toml": (b"[preset]\na = " + b"[" * 5000 + b"]" * 5000 + b"\n", 2),
    "deep-tables.toml": (b"# deep\na = " + b"{a=" * 5000 + b"1" + b"}" * 5000 + b"\n", 2),
    "deep-key.toml": (b"[preset]\n" + b".".join([b"a"] * 5000) + b" = 1\n", 2),
    "huge-string.toml": (b'[preset]\ntitle = "' + b"x" * (3 << 20) + b'"\n', 0),
    "huge-key.toml": (b'"' + b"k" * (3 << 20) + b'" = 1\n', 0),
    "nul.toml": (b'[preset]\ntitle = "a\x00b"\n', 2),
    "not-utf8.toml": (b'[preset]\n\ntitle = "\xff"\n', 3),
    "truncated.toml": (b'[preset]\ntitle = "The liv', 2),
    "digits.toml": (b"[seed]\n\nrng = " + b"1" * 5000 + b"\n", 3),
    "line-break-key.toml": (b'[seed]\n"a\\nb\\u0085c" = 1\n', 1),
    "deep.frag": (b'/*{\n"CREDIT": ' + b"[" * 5000 + b"]" * 5000 + b"}*/\nvoid main() {}\n", 2),
    "surrogate.frag": (b'/*{"\\ud800": 1}*/\nvoid main() {}\n', 1),
    "nul.frag": (b"void main() {}\n\x00\n", 2),
}
REPORT_LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<key>[^ ]+): (?P<reason>.+)$")


def test_hostile_files_are_reported_as_file_line_key_reason_without_a_traceback(tmp_path: Path) -> None:
    folder = tmp_path / "hostile"
    folder.mkdir()
    for name, (content, _) in HOSTILE.items():
        (folder / name).write_bytes(content)
    os.mkfifo(folder / "pipe.toml")  # nobody writes to it: reading it as a file would wait forever
    os.mkfifo(folder / "pipe.frag")
    (folder / "folder.toml").mkdir()  # a folder among files is walked, not read
    start = time.monotonic()
    result = myco("check", "--no-shaders", folder, timeout=60)
    elapsed = time.monotonic() - start
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr, result.stderr
    lines = result.stdout.splitlines()
    assert lines and all(REPORT_LINE.match(line) for line in lines), result.stdout
    for name, (_, line) in HOSTILE.items():
        assert any(report.startswith(f"{folder / name}:{line}: ") for report in lines), (name, result.stdout)
    for name in ("pipe.toml", "pipe.frag"):
        assert f"{folder / name}:0: -: a named pipe, not a file" in lines
    assert elapsed < 30, "a second a file at most, and the interpreter's start"


def test_a_named_pipe_given_by_name_is_reported_at_once(tmp_path: Path) -> None:
    pipe = tmp_path / "preset.toml"
    os.mkfifo(pipe)
    start = time.monotonic()
    result = myco("check", "--no-shaders", pipe, timeout=60)
    assert result.stdout == f"{pipe}:0: -: a named pipe, not a file\n" and result.returncode == 1
    assert time.monotonic() - start < 30


def _windows(source: Path, target: Path) -> Path:
    """``source`` as a Windows editor saves it: a UTF-8 byte-order mark and CRLF line endings."""
    target.write_bytes(codecs.BOM_UTF8 + source.read_bytes().replace(b"\n", b"\r\n"))
    return target


def test_files_a_windows_editor_saved_pass_and_load_the_same(tmp_path: Path, x_display: str) -> None:
    presets, seeds, shows = resource_dir("presets"), resource_dir("seeds"), resource_dir("presets") / "shows"
    preset = _windows(presets / "kai-1-living-city.toml", tmp_path / "kai-1-living-city.toml")
    seed = _windows(seeds / "elara-wall.toml", tmp_path / "elara-wall.toml")
    shutil.copy(seeds / "elara-mural.png", tmp_path)  # the mural mask beside it
    show = _windows(shows / "kai-festival.toml", tmp_path / "kai-festival.toml")
    midi = _windows(presets / "midi" / "korg_nanokontrol2.toml", tmp_path / "korg_nanokontrol2.toml")
    shaders = tmp_path / "shaders"
    shutil.copytree(resource_dir("shaders"), shaders)
    shader = _windows(resource_dir("shaders") / "festival.frag", shaders / "festival.frag")
    result = myco("check", preset, seed, show, midi, shader)
    assert result.returncode == 0, result.stdout + result.stderr
    assert load_preset(preset) == load_preset(presets / "kai-1-living-city.toml")
    assert load_seed(seed) == load_seed(seeds / "elara-wall.toml")
    assert replace(load_show(show), path=None) == replace(load_show(shows / "kai-festival.toml"), path=None)
    assert load_profile(midi) == load_profile(presets / "midi" / "korg_nanokontrol2.toml")


def test_check_without_gl_finds_an_input_clashing_with_an_includes_and_headers_declared_unalike(
        tmp_path: Path) -> None:
    folder = tmp_path / "shaders"
    shutil.copytree(resource_dir("shaders"), folder)
    links = folder / "links.frag"  # it includes include/speed.glsl, which declares the uniform 'speed'
    links.write_text(links.read_text().replace('"INPUTS": [', '"INPUTS": [\n {"NAME": "speed", "TYPE": "float"},', 1))
    blur = folder / "blur.frag"  # a second declaration of render.exposure, unlike post.frag's
    blur.write_text(blur.read_text().replace('"INPUTS": [', '"INPUTS": [\n    {"NAME": "exposure", "PARAM": '
                                             '"render.exposure", "TYPE": "float", "MAX": 9.0},', 1))
    result = myco("check", "--no-shaders", folder, timeout=60)
    assert result.returncode == 1
    speed, post = folder / "include" / "speed.glsl", folder / "post.frag"
    assert f"{speed}:4: INPUTS.speed: the uniform 'speed' is declared already, at {links}:5" in result.stdout
    assert f"{post}:7: INPUTS.exposure: declares render.exposure unlike {blur}:4" in result.stdout


def test_venues_are_checked_with_file_line_and_key(tmp_path: Path) -> None:
    venues = resource_dir("presets") / "venues"
    shipped = sorted(venues.glob("*.toml"))
    assert len(shipped) >= 2
    result = myco("check", "--no-shaders", *shipped, timeout=60)
    assert result.returncode == 0 and result.stdout == "", result.stdout
    assert f"checked {len(shipped)} files: 0 problems" in result.stderr
    text = (venues / "two-projectors.toml").read_text()
    broken = tmp_path / "broken-venue.toml"
    broken.write_text(text.replace("screen = 2", "screen = true")
                      .replace("[1.0, 0.0], [1.0, 1.0], [0.0, 0.97]", "[1.0, 1.0], [1.0, 0.0], [0.0, 0.97]")
                      .replace("black_lift = 0.02", "black_lift = 0.9", 1) + "\n[speakers]\ncount = 2\n")
    lines = broken.read_text().splitlines()

    def line(fragment: str) -> int:
        return next(number for number, content in enumerate(lines, start=1) if fragment in content)

    result = myco("check", "--no-shaders", broken, timeout=60)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{broken}:{line('corners = [[0.01')}: output[0].pin.corners: the four corners must make a convex quad, "
        "in the order top-left, top-right, bottom-right, bottom-left",
        f"{broken}:{line('black_lift = 0.9')}: output[0].blend.black_lift: 0.9 is outside [0, 0.5]",
        f"{broken}:{line('screen = true')}: output[1].screen: must be a screen's name or its index (0 is the first)",
        f"{broken}:{line('[speakers]')}: speakers: unknown key (expected one of: {', '.join(sorted(SECTIONS))})",
    ], result.stdout
    assert "checked 1 files: 4 problems" in result.stderr


def test_the_users_venues_are_checked_too(tmp_path: Path) -> None:
    home = tmp_path / "home"
    folder = home / "config" / "venues"
    folder.mkdir(parents=True)
    (folder / "gallery.toml").write_text('[venue]\ntitle = "Gallery"\n\n[[output]]\nname = "a"\n'
                                         'region = [0, 0, 2, 1]\n')
    result = myco("check", "--no-shaders", env={**os.environ, "MYCO_HOME": str(home)}, timeout=120)
    assert result.returncode == 1
    assert result.stdout == f"{folder / 'gallery.toml'}:6: output[0].region: every number must be in [0, 1]\n"
