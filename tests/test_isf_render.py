"""ISF shaders rendered on real OpenGL (Xvfb + Mesa): each feature's pixels against values computed here.

The shaders are ours, in ``tests/isf/``, each written from the ISF specification to show one
feature as numbers in the picture; most draw into a 32-bit float framebuffer, so the values
read back are exact.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image
from vispy import gloo

from installation.core.errors import LoadError
from installation.core.isf import load_isf
from installation.render.isf import IsfRenderer

pytestmark = pytest.mark.usefixtures("qt_session")

SHADERS = Path(__file__).parent / "isf"
DATE = (2026.0, 12.0, 1.0, 3600.0 * 13 + 17.5)


@pytest.fixture(scope="module")
def gl_context(qt_session: object) -> Iterator[Any]:
    from installation.render.offscreen import HiddenContext

    context = HiddenContext()
    yield context
    context.close()


class Target:
    """A framebuffer to render into and read back (top row first), float or 8-bit."""

    def __init__(self, size: tuple[int, int], floating: bool = True) -> None:
        dtype = np.float32 if floating else np.uint8
        self.texture = gloo.Texture2D(np.zeros((size[1], size[0], 4), dtype),
                                      internalformat="rgba32f" if floating else "rgba8")
        self.buffer = gloo.FrameBuffer(color=self.texture)
        self.size = size
        self.floating = floating

    def read(self) -> NDArray[Any]:
        with self.buffer:
            return gloo.read_pixels((0, 0, *self.size), alpha=True,
                                    out_type=np.float32 if self.floating else "unsigned_byte")

    def delete(self) -> None:
        self.buffer.delete()
        self.texture.delete()


def render(name: str | Path, size: tuple[int, int], frames: int = 1, floating: bool = True,
           values: Mapping[str, Any] | None = None, images: Mapping[str, gloo.Texture2D] | None = None,
           audio: Mapping[str, NDArray[np.float32]] | None = None) -> NDArray[Any]:
    """Render ``frames`` frames of a shader (``values`` for each) and read back the last."""
    path = name if isinstance(name, Path) else SHADERS / name
    renderer = IsfRenderer(load_isf(path), size)
    target = Target(size, floating)
    try:
        for frame in range(frames):
            renderer.render(target.buffer, images=images or {}, values=values or {}, time_s=2.5 + frame,
                            dt=0.25, frame=frame, date=DATE, audio=audio or {})
        return target.read()
    finally:
        target.delete()
        renderer.close()


def quarter(picture: NDArray[Any], index: int) -> NDArray[Any]:
    """The pixels of one of four vertical bands, left to right."""
    width = picture.shape[1] // 4
    return picture[:, index * width:(index + 1) * width]


def test_every_parameter_type(gl_context: Any) -> None:
    values = {"level": 0.8, "mode": 5, "flag": False, "tint": (0.2, 0.4, 0.6, 0.5), "spot": (0.3, 0.9),
              "cursor": (0.5, 0.25), "bang": True}
    picture = render("inputs.fs", (64, 16), values=values)
    np.testing.assert_allclose(quarter(picture, 0), np.broadcast_to([0.8, 0.5, 0.0, 1.0], (16, 16, 4)), atol=1e-6)
    np.testing.assert_allclose(quarter(picture, 1), np.broadcast_to([0.2, 0.4, 0.6, 0.5], (16, 16, 4)), atol=1e-6)
    # A point2D with MIN/MAX arrives as given; one without is 0..1 of the render size, in pixels in GLSL.
    np.testing.assert_allclose(quarter(picture, 2), np.broadcast_to([0.3, 0.9, 0.5, 0.25], (16, 16, 4)), atol=1e-6)
    np.testing.assert_allclose(quarter(picture, 3)[..., 0], 1.0)
    defaults = render("inputs.fs", (64, 16))
    np.testing.assert_allclose(quarter(defaults, 0)[0, 0], [0.25, 0.2, 1.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(quarter(defaults, 1)[0, 0], [1.0, 0.5, 0.0, 0.75], atol=1e-6)
    np.testing.assert_allclose(quarter(defaults, 2)[0, 0], [0.2, 0.6, 0.0, 0.0], atol=1e-6)


def test_an_event_is_true_for_one_frame(gl_context: Any) -> None:
    renderer = IsfRenderer(load_isf(SHADERS / "inputs.fs"), (8, 2))
    target = Target((8, 2))
    seen = []
    try:
        for frame, held in enumerate((True, True, False, True)):
            renderer.render(target.buffer, images={}, values={"bang": held}, time_s=0.0, dt=0.0, frame=frame,
                            date=DATE)
            seen.append(float(target.read()[0, 7, 0]))
    finally:
        target.delete()
        renderer.close()
    assert seen == [1.0, 0.0, 0.0, 1.0]


def test_builtins(gl_context: Any) -> None:
    picture = render("builtins.fs", (64, 8), frames=3)
    # TIME, TIMEDELTA, FRAMEINDEX: the host's clock ran 2.5, 3.5, 4.5 s; TIME counts from the renderer's first frame
    np.testing.assert_allclose(quarter(picture, 0)[3, 3], [2.0, 0.25, 2.0, 0.0])
    np.testing.assert_allclose(quarter(picture, 1)[3, 3], DATE)
    right = picture[:, 32:]
    np.testing.assert_allclose(right[..., 0], 64.0)
    np.testing.assert_allclose(right[..., 1], 8.0)
    # isf_FragNormCoord at each pixel's centre; the picture is read top row first
    np.testing.assert_allclose(right[..., 2], np.broadcast_to((np.arange(32, 64) + 0.5) / 64, (8, 32)), atol=1e-6)
    np.testing.assert_allclose(right[..., 3], np.broadcast_to(((np.arange(8) + 0.5) / 8)[::-1, None], (8, 32)),
                               atol=1e-6)


def test_passes_sizes_and_a_persistent_float_buffer(gl_context: Any) -> None:
    frames, amount = 7, 0.75
    picture = render("passes.fs", (64, 30), frames=frames, values={"amount": amount, "divider": 4})
    # the first pass ran at $WIDTH/4 x floor($HEIGHT/4) and wrote its RENDERSIZE / 100 (8 bits) and PASSINDEX
    np.testing.assert_allclose(quarter(picture, 0)[0, 0], [0.16, 0.07, 0.0, 1.0], atol=0.5 / 255)
    # the accumulator holds frames x amount (no 8-bit clamp at 1)
    np.testing.assert_allclose(quarter(picture, 1), np.broadcast_to([frames * amount, 2 * frames * amount, 0, 0],
                                                                    (30, 16, 4)), rtol=1e-6)
    np.testing.assert_allclose(quarter(picture, 2)[0, 0], [16.0, 7.0, 64.0, 30.0])
    np.testing.assert_allclose(quarter(picture, 3)[0, 0], [2.0, 0.0, 0.0, 1.0])
    halves = render("passes.fs", (64, 30), values={"divider": 2})
    np.testing.assert_allclose(quarter(halves, 2)[0, 0], [32.0, 15.0, 64.0, 30.0])


def upright(rgba: NDArray[np.uint8]) -> gloo.Texture2D:
    """A texture of a top-first picture, stored upright (row 0 at the bottom) as ISF textures are."""
    return gloo.Texture2D(np.ascontiguousarray(rgba[::-1]), interpolation="linear")


def test_image_functions(gl_context: Any) -> None:
    rng = np.random.default_rng(3)
    picture = rng.integers(0, 256, (6, 10, 4), dtype=np.uint8)
    texture = upright(picture)
    try:
        for mode in (0, 1, 2, 5, 6):
            shown = render("image.fs", (10, 6), floating=False, values={"mode": mode}, images={"inputImage": texture})
            np.testing.assert_array_equal(shown, picture, err_msg=f"mode {mode}")
        mirrored = render("image.fs", (10, 6), floating=False, values={"mode": 4}, images={"inputImage": texture})
        np.testing.assert_array_equal(mirrored, picture[:, ::-1])
        size = render("image.fs", (4, 4), values={"mode": 3}, images={"inputImage": texture})
        np.testing.assert_allclose(size[0, 0], [1.0, 0.6, 0.0, 1.0], atol=1e-6)
    finally:
        texture.delete()


def test_audio_inputs(gl_context: Any) -> None:
    ramp = np.linspace(-1.0, 1.0, 16, dtype=np.float32)
    wave = np.stack([ramp, -ramp])  # two channels, 16 samples: MAX 8 gives 8 columns
    spectrum = np.array([np.linspace(0.0, 1.0, 8), np.full(8, 0.25)], np.float32)
    picture = render("audio.fs", (8, 2), audio={"wave": wave, "spectrum": spectrum})
    bottom, top = picture[1], picture[0]  # row 0 of a texture (channel 0) is the picture's bottom row
    expected = 0.5 + 0.5 * np.linspace(-1.0, 1.0, 8)
    np.testing.assert_allclose(bottom[:, 0], expected, atol=1e-6)
    np.testing.assert_allclose(top[:, 0], 1.0 - expected, atol=1e-6)
    np.testing.assert_allclose(bottom[:, 1], spectrum[0], atol=1e-6)
    np.testing.assert_allclose(top[:, 1], 0.25, atol=1e-6)
    np.testing.assert_allclose(bottom[:, 2], 8.2, atol=1e-5)
    np.testing.assert_allclose(bottom[:, 3], 8.2, atol=1e-5)


def test_imported_image(gl_context: Any, tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 256, (5, 7, 4), dtype=np.uint8)
    Image.fromarray(pixels, "RGBA").save(tmp_path / "pic.png")
    shutil.copy(SHADERS / "imported.fs", tmp_path / "imported.fs")
    np.testing.assert_array_equal(render(tmp_path / "imported.fs", (7, 5), floating=False), pixels)


def test_companion_vertex_shader(gl_context: Any) -> None:
    picture = render("vertex.fs", (8, 4), values={"offset": 2.0})
    u = (np.arange(8) + 0.5) / 8
    v = ((np.arange(4) + 0.5) / 4)[::-1]
    np.testing.assert_allclose(picture[..., 0], 2.0 + np.broadcast_to(v[:, None], (4, 8)), atol=1e-6)
    np.testing.assert_allclose(picture[..., 1], 2.0 + np.broadcast_to(u, (4, 8)), atol=1e-6)


def test_isf_1_file(gl_context: Any) -> None:
    picture = render("version1.fs", (8, 4), frames=3, floating=False)
    # an 8-bit persistent buffer gaining 0.25 a frame: 0.75 after three
    np.testing.assert_allclose(picture[..., 2], round(0.75 * 255), atol=1)
    np.testing.assert_allclose(picture[0, :, 0], np.round((np.arange(8) + 0.5) / 8 * 255), atol=1)


def test_a_compile_error_names_its_line(gl_context: Any) -> None:
    with pytest.raises(LoadError) as caught:
        IsfRenderer(load_isf(SHADERS / "broken.fs"), (8, 8))
    assert {(problem.file, problem.line, problem.key) for problem in caught.value.problems} == {
        (str(SHADERS / "broken.fs"), 8, "glsl")}


def test_myco_check_compiles_isf_files(x_display: str) -> None:
    def check(*paths: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "installation", "check", *map(str, paths)], capture_output=True,
                              text=True, timeout=300)

    broken = check(SHADERS / "broken.fs")
    assert broken.returncode == 1
    [line] = broken.stdout.splitlines()
    assert line.startswith(f"{SHADERS / 'broken.fs'}:8: glsl: ") and "syntax error" in line
    good = check(SHADERS / "passes.fs", SHADERS / "inputs.fs", SHADERS / "vertex.vs", SHADERS / "audio.fs")
    assert (good.returncode, good.stdout) == (0, ""), good.stdout + good.stderr
    assert "checked 4 files: 0 problems" in good.stderr


def write_isf(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text('/*{"ISFVSN": "2", "INPUTS": [{"NAME": "inputImage", "TYPE": "image"}]}*/\n' + body)
    return path


@pytest.mark.parametrize(("body", "version"), [
    ("void main() { gl_FragColor = vec4(round(TIME) / 10.0); }\n", "130"),  # round() is GLSL 1.30's
    ("#version 330\nout vec4 color;\nvoid main() { color = vec4(round(TIME) / 10.0); }\n", "330 compatibility"),
    ("#version 300 es\nprecision mediump float;\nout vec4 color;\nvoid main() { color = vec4(round(TIME) / 10.0); }\n",
     "130"),
])
def test_glsl_versions(gl_context: Any, tmp_path: Path, body: str, version: str) -> None:
    renderer = IsfRenderer(load_isf(write_isf(tmp_path, "v.fs", body)), (4, 4))
    target = Target((4, 4))
    try:
        for frame, time_s in enumerate((0.0, 2.25)):  # TIME counts from the first frame
            renderer.render(target.buffer, images={}, values={}, time_s=time_s, dt=0.0, frame=frame, date=DATE)
        np.testing.assert_allclose(target.read(), 0.2, atol=1e-6)
        assert renderer.version == version
    finally:
        target.delete()
        renderer.close()


def test_errors_keep_their_lines_after_moved_extensions(gl_context: Any, tmp_path: Path) -> None:
    body = ("float f(float x) { return x; }\n"  # line 2 of the file
            "#extension GL_ARB_shader_texture_lod : enable\n"
            "#extension GL_EXT_gpu_shader4 : enable\n"
            "void main() {\n"
            "    gl_FragColor = vec4(f(1.0)) +;\n"  # line 6
            "}\n")
    path = write_isf(tmp_path, "e.fs", body)
    with pytest.raises(LoadError) as caught:
        IsfRenderer(load_isf(path), (4, 4))
    assert {(problem.file, problem.line) for problem in caught.value.problems} == {(str(path), 6)}


def test_an_unreadable_imported_image_is_an_error(gl_context: Any, tmp_path: Path) -> None:
    (tmp_path / "pic.png").write_bytes(b"not a picture at all")
    shutil.copy(SHADERS / "imported.fs", tmp_path / "imported.fs")
    with pytest.raises(LoadError) as caught:
        IsfRenderer(load_isf(tmp_path / "imported.fs"), (4, 4))
    [problem] = caught.value.problems
    assert (problem.file, problem.key) == (str(tmp_path / "pic.png"), "IMPORTED")
    assert problem.reason.startswith("cannot read the image")


def test_audio_inputs_are_silent_before_any_sound(gl_context: Any) -> None:
    picture = render("audio.fs", (8, 2))
    np.testing.assert_allclose(picture[..., 0], 0.5, atol=1e-6)  # a waveform's silence
    np.testing.assert_allclose(picture[..., 1], 0.0, atol=1e-6)  # an empty spectrum
    np.testing.assert_allclose(picture[..., 2], 8.1, atol=1e-5)  # MAX samples wide, one channel


def test_a_vertex_shader_error_names_the_vs_file(gl_context: Any, tmp_path: Path) -> None:
    fragment = write_isf(tmp_path, "w.fs", "void main() { gl_FragColor = vec4(1.0); }\n")
    (tmp_path / "w.vs").write_text("void main() {\n    isf_vertShaderInit();\n    gl_Position.x = ;\n}\n")
    with pytest.raises(LoadError) as caught:
        IsfRenderer(load_isf(fragment), (4, 4))
    assert {(problem.file, problem.line) for problem in caught.value.problems} == {(str(tmp_path / "w.vs"), 3)}


def test_a_2_0_file_may_spell_the_1_0_names(gl_context: Any) -> None:
    picture = render("old_names.fs", (8, 4))
    u = np.broadcast_to((np.arange(8) + 0.5) / 8, (4, 8))
    v = np.broadcast_to(((np.arange(4) + 0.5) / 4)[::-1, None], (4, 8))
    np.testing.assert_allclose(picture, np.stack([2 * u, 2 * v, u, v], axis=-1), atol=1e-6)


def test_the_hosts_image_uniforms_and_an_unfed_image_input(gl_context: Any) -> None:
    rng = np.random.default_rng(11)
    picture = rng.integers(0, 256, (6, 10, 4), dtype=np.uint8)
    texture = upright(picture)
    try:
        rect = render("host_uniforms.fs", (10, 6), values={"mode": 0}, images={"inputImage": texture})
        np.testing.assert_array_equal(rect, np.broadcast_to([0.0, 0.0, 10.0, 6.0], (6, 10, 4)))
        # the second image input, which nothing feeds, reads the picture
        second = render("host_uniforms.fs", (10, 6), floating=False, values={"mode": 1},
                        images={"inputImage": texture})
        np.testing.assert_array_equal(second, picture)
        flip = render("host_uniforms.fs", (10, 6), values={"mode": 2}, images={"inputImage": texture})
        np.testing.assert_array_equal(flip, np.full((6, 10, 4), 0.5, np.float32))
    finally:
        texture.delete()
    # with no picture at all it is transparent black
    np.testing.assert_array_equal(render("host_uniforms.fs", (10, 6), values={"mode": 1}), np.zeros((6, 10, 4)))


def test_an_effect_added_late_starts_its_own_clock_at_0(gl_context: Any) -> None:
    """A shader that seeds itself in its first frame (TIME < 0.1, FRAMEINDEX 0) does so whenever it is added."""
    renderer = IsfRenderer(load_isf(SHADERS / "builtins.fs"), (64, 8))
    target = Target((64, 8))
    try:
        for step in range(3):  # the host has run for an hour and 90000 frames when the effect arrives
            renderer.render(target.buffer, images={}, values={}, time_s=3600.0 + step / 30, dt=1 / 30,
                            frame=90000 + step, date=DATE)
            np.testing.assert_allclose(quarter(target.read(), 0)[3, 3], [step / 30, 1 / 30, step, 0.0], atol=1e-4)
    finally:
        target.delete()
        renderer.close()
