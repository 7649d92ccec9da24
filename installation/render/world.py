"""One world for every view: the organism and its finished picture, computed once per frame.

:meth:`World.step` advances the hyphae and composites the whole canvas (look, glow, post)
into one canvas-sized picture. A view (an output window, the control window's preview,
``/preview.png``, a video frame) is a resample of a region of that picture: adding an output
costs one textured grid (its projection mapping), never another simulation. The world is created inside one GL context
(the first output's, or a hidden one); views in other contexts of the same share group sample
its picture (docs/architecture.md, "One world, many views").
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from vispy import gloo

from installation.core.effects import Slot
from installation.core.errors import Problem
from installation.core.events import Event
from installation.core.frames import WorldFrame
from installation.core.mapping import EDGES, IDENTITY, WHOLE, Blend, Region
from installation.core.mapping import Mapping as OutputMapping
from installation.core.params import ParamBank, Value
from installation.core.paths import resource_dir
from installation.core.seeds import Seed
from installation.render.effects import EffectsPass
from installation.render.mapping import MappedGeometry
from installation.render.offscreen import RGB
from installation.render.patterns import numbered_grid, pattern_code
from installation.render.programs import ShaderProgram
from installation.render.renderer import OPAQUE, Renderer
from installation.render.sound import Audio


class World:
    """Create inside a current GL context; every view must share that context's GL objects."""

    def __init__(self, canvas_size: tuple[int, int], quality: str = "medium", shader_dir: Path | None = None,
                 bank: ParamBank | None = None, **renderer_options: Any) -> None:
        shader_dir = shader_dir or resource_dir("shaders")
        self.renderer = Renderer(canvas_size, quality, shader_dir, **renderer_options)
        if bank is not None:
            self.renderer.follow_headers(bank)
        self.size = self.renderer.size
        self.quality = quality
        self.steps = 0
        width, height = self.size
        self.picture = gloo.Texture2D((height, width, 4), format="rgba", interpolation="linear",
                                      wrapping="clamp_to_edge")
        self._picture_fbo = gloo.FrameBuffer(color=self.picture)
        # the whole mapping, and the PLAIN build for outputs with no pattern, blend or mask
        self._views = {plain: ShaderProgram(shader_dir / "map.frag", shader_dir, {"PLAIN": "1"} if plain else None)
                       for plain in (False, True)}
        for view in self._views.values():
            view.set_many({"u_picture": self.picture, "u_grid": self.picture})  # u_grid: until a grid is shown
        self._mapped = MappedGeometry()
        self._grid: gloo.Texture2D | None = None  # the numbered grid test pattern, drawn when first shown
        self._reads: dict[tuple[int, int], gloo.FrameBuffer] = {}
        # the ISF effect chain between the composite and the picture (docs/isf.md), made when first used
        self.effects: tuple[Slot, ...] = ()  # the engine's chain, handed over by the front-end each frame
        self.audio: Audio | None = None  # Myco's own sound for the effects' audio inputs
        self._effects_pass: EffectsPass | None = None
        self._composite: gloo.FrameBuffer | None = None
        self._since_start = 0.0
        self._dt = 0.0
        self._events: tuple[Event, ...] = ()
        self._params: Mapping[str, Value] = {}

    @property
    def errors(self) -> list[Problem]:
        return self.renderer.errors + self._view_errors()

    def _view_errors(self) -> list[Problem]:
        effects = self._effects_pass.errors if self._effects_pass is not None else []
        return [problem for view in self._views.values() for problem in view.errors] + effects

    def follow_effects(self, slots: tuple[Slot, ...], audio: Audio | None = None) -> None:
        """The engine's effect chain (``engine.effects.slots``) and the sound's scope, for the next picture."""
        self.effects = slots
        self.audio = audio

    def _note(self, frame: WorldFrame, params: Mapping[str, Value], dt: float) -> None:
        """What the effects see of a step: its time, events and parameter values."""
        self._since_start += dt
        self._dt = dt
        self._events += tuple(frame.events)  # until the next picture takes them
        self._params = params

    def step(self, frame: WorldFrame, params: Mapping[str, Value], dt: float,
             look_mix: tuple[str, str, float], seed: Seed | None) -> list[Problem]:
        """One frame of the world: the engine's looks and seed, shader files saved since, the
        simulation step, and the finished picture. Returns the current shader and look problems."""
        problems = self.renderer.follow(frame, params, dt, look_mix, seed)
        self._note(frame, params, dt)
        self.compose()
        self.steps += 1
        return problems + self._view_errors()

    def advance(self, frame: WorldFrame, params: Mapping[str, Value], dt: float) -> None:
        """The simulation alone, no picture (warm-up, or frames between stills)."""
        self.renderer.update(frame, params, dt)
        self._note(frame, params, dt)

    def compose(self) -> None:
        """Paint the whole canvas from the current simulation state into the picture, through
        the effect chain when there is one (once per frame, whatever the number of views)."""
        if not self.effects and self._effects_pass is None:
            with self._picture_fbo:
                self.renderer.draw(self.size)
            self._events = ()
            return
        if self._effects_pass is None or self._composite is None:
            width, height = self.size
            self._composite = gloo.FrameBuffer(color=gloo.Texture2D(
                (height, width, 4), format="rgba", interpolation="linear", wrapping="clamp_to_edge"))
            self._effects_pass = EffectsPass(self.size, resource_dir("shaders"))  # its mixing pass is Myco's own
        with self._composite:
            self.renderer.draw(self.size)
        self._effects_pass.run(self._composite.color_buffer, self._picture_fbo, self.effects, self._params,
                               events=self._events, time_s=self._since_start, dt=self._dt, frame=self.steps,
                               audio=self.audio)
        self._events = ()

    def show(self, viewport: tuple[int, int], region: Region = WHOLE, mapping: OutputMapping = IDENTITY,
             pattern: str | None = None) -> None:
        """Resample ``region`` of the picture (or a test ``pattern``) into the bound framebuffer,
        through the output's ``mapping``, filling ``viewport``; what no content covers is black."""
        viewport = (max(1, int(viewport[0])), max(1, int(viewport[1])))
        x0, y0, x1, y1 = region
        view = self._views[pattern is None and mapping.blend == Blend() and not mapping.masks]
        view.set("u_view_region", (x0, 1.0 - y1, x1, 1.0 - y0))  # the texture's rows run bottom-up
        view.set("u_region", region)
        view.set("u_pattern", pattern_code(pattern))
        if pattern == "grid":
            view.set("u_grid", self._grid_texture())
        color, blend = mapping.color, mapping.blend
        edges = [blend.edge(name) for name in EDGES]
        view.set_many({
            "u_brightness": color.brightness, "u_contrast": color.contrast, "u_gain": color.gain,
            "u_blend_width": tuple(edge.width for edge in edges), "u_blend_curve": tuple(edge.curve for edge in edges),
            "u_blend_gamma": tuple(edge.gamma for edge in edges), "u_black_lift": blend.black_lift,
            "u_blending": blend != Blend(), "u_masked": bool(mapping.masks),
            "u_mask": self._mapped.mask(mapping.masks, viewport), "u_viewport": viewport,
        })
        vertices, indices = self._mapped.grid(mapping)
        view.set("a_position", vertices["a_position"])
        view.set("a_content", vertices["a_content"])
        gloo.set_viewport(0, 0, *viewport)
        gloo.set_state(**OPAQUE)
        gloo.set_clear_color("black")
        gloo.clear(color=True)
        view.draw("triangles", indices)

    def _grid_texture(self) -> gloo.Texture2D:
        if self._grid is None:
            self._grid = gloo.Texture2D(numbered_grid(self.size), interpolation="linear", wrapping="clamp_to_edge")
        return self._grid

    def read(self, region: Region = WHOLE, size: tuple[int, int] | None = None, mapping: OutputMapping = IDENTITY,
             pattern: str | None = None) -> RGB:
        """``region`` of the picture as ``(height, width, 3)`` uint8, top row first, at ``size``
        (default: the region's own pixels), through ``mapping``: what an output of that size
        shows. A small size reads back only that many pixels."""
        if size is None:
            x0, y0, x1, y1 = region
            size = (round((x1 - x0) * self.size[0]), round((y1 - y0) * self.size[1]))
        width, height = max(1, int(size[0])), max(1, int(size[1]))
        target = self._reads.get((width, height))
        if target is None:
            target = gloo.FrameBuffer(color=gloo.Texture2D((height, width, 4), format="rgba"))
            self._reads[(width, height)] = target
        with target:
            self.show((width, height), region, mapping, pattern)
            pixels = gloo.read_pixels((0, 0, width, height), alpha=False)
        return np.ascontiguousarray(pixels)

    def preview_size(self, width: int) -> tuple[int, int]:
        """A preview ``width`` wide (at most the canvas) with the canvas's aspect."""
        width = max(1, min(int(width), self.size[0]))
        return width, max(1, round(width * self.size[1] / self.size[0]))

    def close(self) -> None:
        self.renderer.close()
        for view in self._views.values():
            view.delete()
        self._mapped.close()
        if self._grid is not None:
            self._grid.delete()
        if self._effects_pass is not None and self._composite is not None:
            self._effects_pass.close()
            self._composite.delete()
