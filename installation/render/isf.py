"""Rendering an ISF shader: every pass in order, persistent and float buffers, imported images, audio.

An :class:`IsfRenderer` owns one compiled program (every pass runs it, with ``PASSINDEX``
telling them apart), a texture pair for each pass target, the imported images and the audio
textures. A target's pair is swapped after its pass, so a pass reads the target's contents
from before it (last frame's for a ``PERSISTENT`` one, which keeps them until a resize) while
it writes the other texture: reading and writing one texture at once is undefined in GL.
``FLOAT`` targets are 32-bit float; others 8-bit. A pass's size comes from its ``WIDTH`` and
``HEIGHT`` expressions (:func:`eval_size`), evaluated each frame with the inputs' values.

Textures are upright: row 0 is the picture's bottom row, as GL renders into framebuffers; the
images handed to :meth:`IsfRenderer.render` must be so too. Audio arrives as numpy arrays
(waveform ``(channels, n)`` in -1..1, spectrum ``(channels, m)`` in 0..1) and is packed as
the ISF specification says: a texture ``n`` wide (``MAX`` samples where the input names one)
and one row per channel, the waveform stored as ``0.5 + 0.5 * sample`` (silence is 0.5).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from vispy import gloo

from installation.core.errors import LoadError, Problem
from installation.core.isf import IsfShader, eval_size, load_isf
from installation.core.shaderheader import ShaderHeader
from installation.render.glsl import ProgramSource, map_errors
from installation.render.isf_glsl import (
    POSITION,
    IsfProgramSource,
    flip_uniform,
    image_names,
    program_sources,
    rect_uniform,
    size_uniform,
)
from installation.render.programs import compile_now, current_context

log = logging.getLogger(__name__)

OPAQUE = {"blend": False, "depth_test": False, "cull_face": False}
PICTURE = "inputImage"  # the image a filter reads, which the host always has
MAX_IMAGE_BYTES = 64 * 1024 * 1024
_QUAD = np.array([[-1, -1], [1, -1], [-1, 1], [1, 1]], np.float32)


def _problems(message: str, source: IsfProgramSource, shader: IsfShader) -> list[Problem]:
    program = ProgramSource(ShaderHeader(shader.path), source.vertex, source.fragment)
    return map_errors(message, program)


def compile_isf(shader: IsfShader) -> tuple[gloo.Program, str]:
    """The shader's program, compiled and linked now in the current context, and its GLSL version.

    Each version of :func:`program_sources` is tried in turn; if none compiles, the LoadError
    carries the attempt with the fewest problems (the others add ones of their own version).
    """
    failures: list[list[Problem]] = []
    for source in program_sources(shader):
        program = gloo.Program(source.vertex.code, source.fragment.code)
        try:
            compile_now(program)
        except RuntimeError as error:
            program.delete()
            current_context().flush_commands()
            failures.append(_problems(str(error), source, shader))
            continue
        return program, source.version
    raise LoadError(min(failures, key=len))


def _load_image(path: Any) -> NDArray[np.uint8]:
    """An imported image as upright RGBA bytes; LoadError for one PIL cannot read."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            if image.width * image.height * 4 > MAX_IMAGE_BYTES:
                raise LoadError.single(path, 0, "IMPORTED", f"image of {image.width}x{image.height} is too large")
            pixels = np.asarray(image.convert("RGBA"), np.uint8)
    except (OSError, ValueError, Image.DecompressionBombError) as error:  # UnidentifiedImageError is an OSError
        raise LoadError.single(path, 0, "IMPORTED", f"cannot read the image: {error}") from None
    return np.ascontiguousarray(pixels[::-1])


def pack_audio(samples: NDArray[np.float32], most: int, waveform: bool) -> NDArray[np.float32]:
    """Audio as an ISF texture's RGBA floats: one row per channel, ``most`` columns (0: all of them)."""
    rows = np.atleast_2d(np.asarray(samples, np.float32))
    if most and rows.shape[1] != most and rows.shape[1] > 1:
        positions = np.linspace(0.0, rows.shape[1] - 1, most)
        rows = np.stack([np.interp(positions, np.arange(rows.shape[1]), row) for row in rows]).astype(np.float32)
    values = np.clip(0.5 + 0.5 * rows, 0.0, 1.0) if waveform else np.clip(rows, 0.0, 1.0)
    packed = np.empty((*values.shape, 4), np.float32)
    packed[..., :3] = values[..., None]
    packed[..., 3] = 1.0
    return packed


class _Target:
    """A pass target: two textures and their framebuffers, ``front`` holding the last written."""

    def __init__(self, size: tuple[int, int], floating: bool) -> None:
        self.size = size
        self.floating = floating
        shape = (size[1], size[0], 4)
        self.textures = [gloo.Texture2D(np.zeros(shape, np.float32 if floating else np.uint8),
                                        internalformat="rgba32f" if floating else "rgba8",
                                        interpolation="linear", wrapping="clamp_to_edge") for _ in range(2)]
        self.buffers = [gloo.FrameBuffer(color=texture) for texture in self.textures]
        self.front = 0

    def swap(self) -> None:
        self.front = 1 - self.front

    def delete(self) -> None:
        for item in (*self.buffers, *self.textures):
            item.delete()


class IsfRenderer:
    """One ISF shader, compiled in the current GL context, rendering at ``size``."""

    def __init__(self, shader: IsfShader, size: tuple[int, int]) -> None:
        self.shader = shader
        self.size = (max(1, int(size[0])), max(1, int(size[1])))
        self.program, self.version = compile_isf(shader)
        self._quad = gloo.VertexBuffer(_QUAD)
        self.program[POSITION] = self._quad
        self._images = image_names(shader)
        # image inputs nothing else feeds (a filter's second image, a generator's own) are given the picture
        self._picture_inputs = {item.name for item in shader.inputs if item.type == "image"}
        self._targets: dict[str, _Target] = {}
        self._blank = gloo.Texture2D(np.zeros((1, 1, 4), np.uint8))
        self._imported: dict[str, gloo.Texture2D] = {}
        self._audio: dict[str, gloo.Texture2D] = {}
        self._events: dict[str, bool] = {}
        self._started: tuple[float, int] | None = None  # the host's time and frame at this renderer's first frame
        # silence until sound arrives: a waveform at 0.5, an empty spectrum
        self._set_audio({item.name: np.zeros((1, item.max_samples or 1), np.float32) for item in shader.inputs
                         if item.type in ("audio", "audioFFT")})
        try:
            for name, path in shader.imported.items():
                self._imported[name] = gloo.Texture2D(_load_image(path), interpolation="linear",
                                                      wrapping="clamp_to_edge")
        except LoadError:
            self.close()
            raise

    # -- frames -------------------------------------------------------------------------------

    def render(self, target: gloo.FrameBuffer | None, *, images: Mapping[str, gloo.Texture2D],
               values: Mapping[str, Any], time_s: float, dt: float, frame: int,
               date: tuple[float, float, float, float],
               audio: Mapping[str, NDArray[np.float32]] | None = None) -> None:
        """Run every pass; the last (and any without a TARGET) draws into ``target`` at :attr:`size`.

        ``time_s`` and ``frame`` are the host's clock: ``TIME`` and ``FRAMEINDEX`` count from this
        renderer's first frame (0 there), as ISF shaders that seed themselves at ``TIME < 0.1`` or
        ``FRAMEINDEX == 0`` expect of an effect added at any moment. ``values`` by input name:
        numbers, bools, (r, g, b, a), and for a point2D the parameter's
        (x, y) (0..1 of the render size for one without MIN/MAX). A missing one takes its default;
        an event is true only in the frame its value turns true. ``images`` by input name; an image
        input missing from them reads ``images["inputImage"]`` (the picture) where there is one, else
        transparent black.
        """
        gloo.set_state(**OPAQUE)
        program = self.program
        numbers = self._set_inputs(values)
        if self._started is None:
            self._started = (float(time_s), int(frame))
        program["TIME"] = float(time_s) - self._started[0]
        program["TIMEDELTA"] = float(dt)
        program["FRAMEINDEX"] = int(frame) - self._started[1]
        program["DATE"] = tuple(float(v) for v in date)
        self._set_audio(audio or {})
        sizes = [(eval_size(p.width, *self.size, numbers, path=self.shader.path, line=p.line, key="WIDTH"),
                  eval_size(p.height, *self.size, numbers, path=self.shader.path, line=p.line, key="HEIGHT"))
                 for p in self.shader.passes]
        for step, pass_size in zip(self.shader.passes, sizes, strict=True):
            if step.target:  # every target exists before the first pass, so IMG_SIZE of a later one is right
                self._allocate(step.target, pass_size, step.float)
        last = len(self.shader.passes) - 1
        for index, step in enumerate(self.shader.passes):
            program["PASSINDEX"] = index
            self._bind_images(images)
            if step.target:
                buffer = self._targets[step.target]
                self._draw(buffer.buffers[1 - buffer.front], buffer.size)
            if not step.target or index == last:
                self._draw(target, self.size)
            if step.target:
                self._targets[step.target].swap()

    def _draw(self, framebuffer: gloo.FrameBuffer | None, size: tuple[int, int]) -> None:
        self.program["RENDERSIZE"] = (float(size[0]), float(size[1]))
        if framebuffer is not None:
            framebuffer.activate()
        try:
            gloo.set_viewport(0, 0, *size)
            self.program.draw("triangle_strip")
        finally:
            if framebuffer is not None:
                framebuffer.deactivate()

    def _allocate(self, name: str, size: tuple[int, int], floating: bool) -> None:
        """A target of this size and kind, made anew (empty) when either changed."""
        current = self._targets.get(name)
        if current is None or current.size != size or current.floating != floating:
            if current is not None:
                current.delete()
            self._targets[name] = _Target(size, floating)

    def _set_inputs(self, values: Mapping[str, Any]) -> dict[str, float]:
        """Set every non-image input's uniform; return the numeric values ($name in sizes)."""
        numbers: dict[str, float] = {}
        for item in self.shader.inputs:
            if item.type in ("image", "audio", "audioFFT"):
                continue
            value = values.get(item.name, item.param_default)
            if item.type == "event":
                fired = bool(value) and not self._events.get(item.name, False)
                self._events[item.name] = bool(value)
                self.program[item.name] = fired
                numbers[item.name] = float(fired)
            elif item.type == "bool":
                self.program[item.name] = bool(value)
                numbers[item.name] = float(bool(value))
            elif item.type == "long":
                number = item.value_of(value) if isinstance(value, str) else int(value)
                self.program[item.name] = number
                numbers[item.name] = float(number)
            elif item.type == "float":
                self.program[item.name] = float(value)
                numbers[item.name] = float(value)
            elif item.type == "color":
                rgba = tuple(float(c) for c in value)
                self.program[item.name] = rgba if len(rgba) == 4 else (*rgba[:3], 1.0)
            else:
                x, y = (float(v) for v in value)
                self.program[item.name] = (x * self.size[0], y * self.size[1]) if item.in_pixels else (x, y)
        return numbers

    def _bind_images(self, images: Mapping[str, gloo.Texture2D]) -> None:
        for name in self._images:
            texture = next((found for found in (images.get(name), self._imported.get(name), self._audio.get(name))
                            if found is not None), None)
            if texture is None and name in self._targets:
                texture = self._targets[name].textures[self._targets[name].front]
            if texture is None and name in self._picture_inputs:
                texture = images.get(PICTURE)
            if texture is None:
                texture = self._blank
            self.program[name] = texture
            height, width = texture.shape[:2]
            self.program[size_uniform(name)] = (float(width), float(height))
            self.program[rect_uniform(name)] = (0.0, 0.0, float(width), float(height))
            self.program[flip_uniform(name)] = False

    def _set_audio(self, audio: Mapping[str, NDArray[np.float32]]) -> None:
        for item in self.shader.inputs:
            if item.type not in ("audio", "audioFFT") or item.name not in audio:
                continue
            packed = pack_audio(audio[item.name], item.max_samples, item.type == "audio")
            texture = self._audio.get(item.name)
            if texture is None or texture.shape[:2] != packed.shape[:2]:
                if texture is not None:
                    texture.delete()
                texture = self._audio[item.name] = gloo.Texture2D(
                    packed, internalformat="rgba32f", interpolation="linear", wrapping="clamp_to_edge")
            else:
                texture.set_data(packed)

    # -- life -------------------------------------------------------------------------------------

    def resize(self, size: tuple[int, int]) -> None:
        """Render at ``size`` from now on; targets are reallocated (persistent ones start empty)."""
        self.size = (max(1, int(size[0])), max(1, int(size[1])))

    def close(self) -> None:
        """Delete every GL object this renderer made."""
        for target in self._targets.values():
            target.delete()
        for texture in (*self._imported.values(), *self._audio.values(), self._blank):
            texture.delete()
        self._targets.clear()
        self._imported.clear()
        self._audio.clear()
        self._quad.delete()
        self.program.delete()


def check_isf(path: Path) -> list[Problem]:
    """``myco check`` of one ISF file, in the current GL context: the header, every pass compiled and
    linked, the imported images read, one frame rendered (a pass's size as its inputs give it)."""
    try:
        renderer = IsfRenderer(load_isf(path), (64, 64))
    except LoadError as error:
        return error.problems
    try:
        renderer.render(None, images={}, values={}, time_s=0.0, dt=0.0, frame=0, date=(2000.0, 1.0, 1.0, 0.0))
    except LoadError as error:
        return error.problems
    except (RuntimeError, ValueError) as error:  # the driver refused a draw: said, not a traceback
        return [Problem(str(path), 0, "gl", str(error).strip().splitlines()[0] if str(error).strip() else repr(error))]
    finally:
        renderer.close()
    return []

