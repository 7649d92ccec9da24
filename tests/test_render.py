"""The renderer on real GL (Xvfb + Mesa llvmpipe): pixels must respond to the world and the params."""

from __future__ import annotations

import colorsys
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from installation.core.events import Event, EventKind
from installation.core.frames import WorldFrame
from installation.core.paths import resource_dir
from installation.registry import build_bank
from installation.render.offscreen import Offscreen, OutputShot

pytestmark = pytest.mark.usefixtures("qt_session")
SIZE = (192, 108)
AGENTS = 4096
DT = 1 / 30
GOLDEN = Path(__file__).parent / "golden"


def blob(rows: int, cols: int, x: float, y: float, radius: float) -> np.ndarray:
    yy, xx = np.mgrid[0:rows, 0:cols]
    d2 = ((xx + 0.5) / cols - x) ** 2 * (16 / 9) ** 2 + ((yy + 0.5) / rows - y) ** 2
    return np.exp(-d2 / (radius * radius)).astype(np.float32)


def world(events: tuple[Event, ...] = (), toxin: float = 0.0) -> WorldFrame:
    count = 10
    angles = np.linspace(0, 2 * np.pi, count, endpoint=False)
    positions = np.stack([0.5 + 0.3 * np.cos(angles), 0.5 + 0.32 * np.sin(angles)], 1).astype(np.float32)
    links = np.array([(i, (i + 1) % count) for i in range(count)] + [(0, 5), (2, 7)], np.int32)
    zeros = np.zeros(count, np.float32)
    rows, cols = 36, 64
    return WorldFrame(
        step=0, t=0.0, node_ids=tuple(f"n{i}" for i in range(count)), positions=positions,
        potential_mv=zeros, toxin=zeros, waste=zeros, moisture=zeros,
        activity=np.full(count, 0.6, np.float32), live=np.zeros(count, bool), links=links,
        flow=np.full(len(links), 0.7, np.float32), thickness=np.full(len(links), 0.5, np.float32),
        fields={"waste": blob(rows, cols, 0.3, 0.4, 0.12), "toxin": toxin * blob(rows, cols, 0.75, 0.5, 0.1),
                "density": np.zeros((rows, cols), np.float32), "flora": blob(rows, cols, 0.25, 0.75, 0.1)},
        events=events)


def make(shader_dir: Path | None = None, look: str = "festival") -> Offscreen:
    offscreen = Offscreen(SIZE, shader_dir=shader_dir, agents=AGENTS, sim_height=108, seed=7)
    offscreen.renderer.set_look(look)
    return offscreen


def run(offscreen: Offscreen, frames: int, params: dict | None = None, first_events: tuple = (),
        toxin: float = 0.0) -> np.ndarray:
    image = None
    for index in range(frames):
        image = offscreen.render(world(first_events if index == 0 else (), toxin), params or {}, DT)
    assert image is not None
    return image.astype(np.float32)


def luma(image: np.ndarray) -> np.ndarray:
    return image @ np.array([0.2126, 0.7152, 0.0722], np.float32)


@pytest.fixture
def warm() -> Iterator[Offscreen]:
    offscreen = make()
    run(offscreen, 45)
    yield offscreen
    offscreen.close()


def test_frames_are_not_blank_and_change_over_time(warm: Offscreen) -> None:
    first = run(warm, 1)
    later = run(warm, 15)
    assert first.shape == (SIZE[1], SIZE[0], 3)
    assert luma(first).std() > 8.0  # structure, not a flat fill
    assert 5.0 < luma(first).mean() < 200.0
    assert np.abs(later - first).mean() > 1.0
    assert warm.renderer.errors == []


def test_a_surge_raises_brightness() -> None:
    calm, surged = make(), make()
    run(calm, 40)
    run(surged, 40)
    before = luma(run(calm, 1)).mean()
    run(surged, 1)
    without = luma(run(calm, 15)).mean()
    with_surge = luma(run(surged, 15, first_events=(Event(EventKind.SURGE, strength=2.0),))).mean()
    assert with_surge > without * 1.15, (before, without, with_surge)
    calm.close()
    surged.close()


def test_a_toxin_cluster_darkens_and_violets_its_region() -> None:
    clean, poisoned = make(), make()
    run(clean, 40)
    run(poisoned, 40)
    event = Event(EventKind.TOXIN_CLUSTER, strength=3.0, x=0.75, y=0.5)
    a = run(clean, 60)
    b = run(poisoned, 60, first_events=(event,))
    region = (slice(int(0.4 * SIZE[1]), int(0.6 * SIZE[1])), slice(int(0.7 * SIZE[0]), int(0.8 * SIZE[0])))
    assert luma(b[region]).mean() < luma(a[region]).mean() * 0.8
    red, green, blue = b[region].reshape(-1, 3).mean(axis=0)
    assert blue > green and red > green * 0.6  # violet: blue with red, little green
    far = (slice(0, 20), slice(0, 40))
    assert abs(luma(b[far]).mean() - luma(a[far]).mean()) < 6.0  # only its region
    clean.close()
    poisoned.close()


def hue_histogram(image: np.ndarray) -> np.ndarray:
    pixels = image.reshape(-1, 3) / 255.0
    bright = pixels[pixels.max(axis=1) > 0.15]
    hues = np.array([colorsys.rgb_to_hsv(*p)[0] for p in bright[::3]])
    histogram, _ = np.histogram(hues, bins=12, range=(0, 1))
    return histogram / max(1, histogram.sum())


def test_a_palette_change_moves_the_hue_histogram(warm: Offscreen) -> None:
    festival = hue_histogram(run(warm, 2))
    shifted = hue_histogram(run(warm, 40, {"render.hue_shift": 0.3}))
    warm.renderer.set_look("mural")
    mural = hue_histogram(run(warm, 2))
    assert np.abs(shifted - festival).sum() > 0.5
    assert np.abs(mural - festival).sum() > 0.5
    assert np.argmax(festival) in (6, 7)  # teal-blue hyphae (hue 180-240 degrees)


def test_blackout_fades_to_black(warm: Offscreen) -> None:
    assert luma(run(warm, 1, {"render.blackout": 1.0})).max() == 0.0
    assert luma(run(warm, 1, {"render.blackout": 0.0})).max() > 50.0


def test_exposure_reaches_post_through_its_header(warm: Offscreen) -> None:
    normal = luma(run(warm, 1)).mean()
    assert luma(run(warm, 1, {"render.exposure": 0.4})).mean() < 0.7 * normal
    assert luma(run(warm, 1, {"render.exposure": 2.5})).mean() > 1.3 * normal


def test_the_renderers_parameters_reach_the_programs_that_read_them(warm: Offscreen) -> None:
    bound = {name: {(i.name, i.param) for i in program.source.inputs if i.param.startswith("render.")}
             for name, program in warm.renderer.programs.items() if program.source}
    assert bound["post"] == {("exposure", "render.exposure"), ("blackout", "render.blackout"),
                             ("hue_shift", "render.hue_shift"), ("saturation", "render.saturation")}
    assert bound["agents"] == bound["links"] == {("speed", "render.speed")}  # include/speed.glsl
    assert bound["festival"] == bound["diffuse"] == {("event_gain", "render.events")}  # include/events.glsl


@pytest.fixture
def shader_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "shaders"
    shutil.copytree(resource_dir("shaders"), folder)
    return folder


def _save(path: Path, text: str) -> None:
    """Write and move the mtime on, as an editor's save does (coarse clocks would hide it)."""
    path.write_text(text)
    stamp = time.time() + 1
    os.utime(path, (stamp, stamp))


def test_a_shader_broken_mid_run_keeps_the_last_good_picture(shader_copy: Path) -> None:
    offscreen = make(shader_copy)
    good = run(offscreen, 30)
    source = shader_copy / "festival.frag"
    original = source.read_text()
    lines = original.split("\n")
    target = next(i for i, line in enumerate(lines) if "col += pal_node * fx.flare" in line)
    lines[target] = lines[target].rstrip(";")  # a missing semicolon
    _save(source, "\n".join(lines))
    problems = offscreen.renderer.poll_reload(force=True)
    assert problems, "the broken shader was not reported"
    assert problems[0].file == str(source) and problems[0].line in (target + 1, target + 2), problems
    after = run(offscreen, 2)
    assert luma(after).mean() > 0.7 * luma(good).mean()  # still the picture, not black
    _save(source, original)
    assert offscreen.renderer.poll_reload(force=True) == []
    offscreen.close()


def test_a_broken_include_is_reported_in_the_include(shader_copy: Path) -> None:
    offscreen = make(shader_copy)
    include = shader_copy / "include" / "common.glsl"
    text = include.read_text().replace("float luma(vec3 c) {", "float luma(vec3 c) {\n    undefined_thing;")
    _save(include, text)
    problems = offscreen.renderer.poll_reload(force=True)
    where = {(Path(p.file).name, p.line) for p in problems}
    expected = text.split("\n").index("    undefined_thing;") + 1
    assert ("common.glsl", expected) in where, problems
    offscreen.close()


def test_hot_reload_picks_up_a_saved_change_within_a_second(shader_copy: Path) -> None:
    offscreen = make(shader_copy)
    before = run(offscreen, 10)
    post = shader_copy / "post.frag"
    _save(post, post.read_text().replace("gl_FragColor = vec4(clamp(col, 0.0, 1.0), 1.0);",
                                         "gl_FragColor = vec4(clamp(col, 0.0, 1.0) * vec3(1.0, 0.0, 0.0), 1.0);"))
    saved = time.monotonic()
    image = before
    while time.monotonic() - saved < 1.0:
        offscreen.renderer.poll_reload()
        image = run(offscreen, 1)
        if image[..., 1].max() == 0:
            break
    assert time.monotonic() - saved < 1.0
    assert image[..., 1].max() == 0 and image[..., 0].max() > 50
    offscreen.close()


def test_a_new_header_input_becomes_a_parameter_on_reload(shader_copy: Path) -> None:
    offscreen = make(shader_copy)
    bank = build_bank(shader_copy)
    offscreen.renderer.follow_headers(bank)
    assert "shader.post.tint" not in bank
    post = shader_copy / "post.frag"
    text = post.read_text().replace('"INPUTS": [', '"INPUTS": [\n    {"NAME": "tint", "TYPE": "color", '
                                    '"DEFAULT": "#ff0000"},', 1)
    _save(post, text.replace("col *= 1.0 - blackout;", "col *= tint * (1.0 - blackout);"))
    assert offscreen.renderer.poll_reload(force=True) == []
    assert bank.get("shader.post.tint") == (1.0, 0.0, 0.0)
    image = run(offscreen, 3, bank.snapshot())
    assert image[..., 1].max() == 0 and image[..., 0].max() > 0
    assert "shader.post.vignette" in bank
    offscreen.close()


def test_an_include_headers_input_sets_the_uniform_of_a_program_including_it(shader_copy: Path) -> None:
    (shader_copy / "include" / "fade.glsl").write_text(
        '/*{ "INPUTS": [{"NAME": "fade", "PARAM": "render.fade", "TYPE": "float", "DEFAULT": 1}] }*/\n')
    post = shader_copy / "post.frag"
    text = post.read_text().replace('#include "common.glsl"', '#include "common.glsl"\n#include "fade.glsl"')
    post.write_text(text.replace("col *= 1.0 - blackout;", "col *= fade * (1.0 - blackout);"))
    offscreen = make(shader_copy)
    bank = build_bank(shader_copy)
    assert bank.get("render.fade") == 1.0 and bank.get("render.blackout") == 0.0
    assert luma(run(offscreen, 20, bank.snapshot())).max() > 50.0
    assert luma(run(offscreen, 1, {"render.fade": 0.0})).max() == 0.0
    assert offscreen.renderer.errors == []
    offscreen.close()


def test_rendering_is_deterministic() -> None:
    first, second = make(), make()
    a = run(first, 20, first_events=(Event(EventKind.BLOOM, x=0.3, y=0.3),))
    b = run(second, 20, first_events=(Event(EventKind.BLOOM, x=0.3, y=0.3),))
    assert np.abs(a - b).max() <= 1.0
    first.close()
    second.close()


def test_two_offscreens_in_one_process_each_draw_their_own_world() -> None:
    """A second Offscreen made (and closed) between two frames of the first leaves the first
    drawing its own hyphae: a never-shown PySide6 canvas has no GL context, and both used to draw
    into the one made last (the first drew the second's fresh mural)."""
    first = make()
    before = run(first, 30, first_events=(Event(EventKind.BLOOM, x=0.3, y=0.3),))
    second = make(look="mural")
    other = run(second, 2)
    beside = run(first, 1)
    second.close()
    after = run(first, 1)
    for image in (beside, after):
        own, foreign = np.abs(image - before).mean(), np.abs(image - other).mean()
        assert own < foreign / 3, (own, foreign)
    assert first.renderer.errors == []
    first.close()


@pytest.mark.parametrize("look", ["festival", "mural"])
def test_golden_image(look: str) -> None:
    """A fixed scene at 192x108 against a stored PNG; MYCO_UPDATE_GOLDEN=1 rewrites it."""
    offscreen = make(look=look)
    if look == "mural":
        yy, xx = np.mgrid[0:108, 0:192]
        offscreen.renderer.set_mask(((np.hypot((xx - 96) / 108, (yy - 54) / 108) < 0.3)).astype(np.float32))
    events = (Event(EventKind.SHIELD, x=0.5, y=0.5), Event(EventKind.TOXIN_CLUSTER, x=0.8, y=0.3))
    image = run(offscreen, 40, first_events=events, toxin=0.8).astype(np.uint8)
    offscreen.close()
    path = GOLDEN / f"{look}_192x108.png"
    if os.environ.get("MYCO_UPDATE_GOLDEN"):
        Image.fromarray(image).save(path)
    expected = np.asarray(Image.open(path).convert("RGB"), np.float32)
    difference = np.abs(image.astype(np.float32) - expected)
    # Tolerances for another CPU's llvmpipe rounding: small on average, a few pixels may differ more.
    assert difference.mean() < 4.0, difference.mean()
    assert np.percentile(difference, 99) < 60.0


def test_a_saved_palette_is_live_and_a_broken_one_keeps_the_last(shader_copy: Path) -> None:
    offscreen = make(shader_copy)
    teal = run(offscreen, 20)
    look = shader_copy / "looks" / "festival.toml"
    original = look.read_text()
    _save(look, original.replace('hyphae = "#19d3c5"', 'hyphae = "#ff2000"'))
    assert offscreen.renderer.poll_reload(force=True) == []
    red = run(offscreen, 2)
    assert red[..., 0].mean() > teal[..., 0].mean() + 5  # the threads turned red
    _save(look, original.replace('hyphae = "#19d3c5"', 'hyphae = "teal"'))
    problems = offscreen.renderer.poll_reload(force=True)
    assert [(p.key, p.line) for p in problems] == [("palette.hyphae", 8)]
    assert offscreen.renderer.look is not None and offscreen.renderer.look.palette["hyphae"] == (1.0, 32 / 255, 0.0)
    offscreen.close()


def test_a_region_shows_that_part_of_the_canvas(warm: Offscreen) -> None:
    full = run(warm, 1)
    warm.output = OutputShot((0.0, 0.0, 0.5, 1.0))
    try:
        left = warm.snapshot().astype(np.float32)
    finally:
        warm.output = OutputShot()
    # The left half, stretched to the whole output, matches the left half of the full picture.
    expected = np.asarray(Image.fromarray(full[:, : SIZE[0] // 2].astype(np.uint8)).resize(SIZE), np.float32)
    other = np.asarray(Image.fromarray(full[:, SIZE[0] // 2:].astype(np.uint8)).resize(SIZE), np.float32)
    assert np.abs(luma(left) - luma(expected)).mean() < 0.5 * np.abs(luma(left) - luma(other)).mean()


def test_malformed_frames_draw_without_crashing(warm: Offscreen) -> None:
    import dataclasses

    good = world()
    broken = dataclasses.replace(
        good,
        positions=np.full_like(good.positions, np.nan),
        activity=np.full_like(good.activity, np.inf),
        links=np.array([[0, 99], [-1, 2], [1, 2]], np.int32),
        flow=np.zeros(1, np.float32),  # wrong length
        fields={"waste": np.full((3, 3), np.nan, np.float32), "toxin": np.ones((5, 7), np.float32)},
    )
    image = warm.render(broken, {}, DT).astype(np.float32)
    assert np.isfinite(image).all() and luma(image).mean() > 3.0
    empty = dataclasses.replace(good, node_ids=(), positions=np.zeros((0, 2), np.float32),
                                activity=np.zeros(0, np.float32), links=np.zeros((0, 2), np.int32),
                                flow=np.zeros(0, np.float32), thickness=np.zeros(0, np.float32))
    assert luma(warm.render(empty, {}, DT).astype(np.float32)).mean() > 3.0
    assert warm.renderer.errors == []


def test_looks_crossfade(warm: Offscreen) -> None:
    renderer = warm.renderer
    festival = run(warm, 1)
    renderer.set_look_mix("festival", "mural", 0.0)
    assert renderer.look is not None and renderer.look.name == "mural"
    start = warm.snapshot().astype(np.float32)
    renderer.set_look_mix("festival", "mural", 0.5)
    half = warm.snapshot().astype(np.float32)
    renderer.set_look_mix("festival", "mural", 1.0)
    mural = warm.snapshot().astype(np.float32)
    assert np.abs(start - festival).mean() < 3.0  # factor 0 still shows the festival
    assert np.abs(mural - festival).mean() > 10.0
    between = np.abs(half - festival).mean()
    assert 0.2 * np.abs(mural - festival).mean() < between < 0.8 * np.abs(mural - festival).mean()
