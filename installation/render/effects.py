"""The effect chain on the GPU: ISF filters and generators between the world's composite and its picture.

:class:`EffectsPass` runs once per frame in the world's context (never per view): for each slot
of the engine's :class:`~installation.core.effects.EffectChain` with a level above 0 it renders
the ISF shader (:class:`~installation.render.isf.IsfRenderer`, the picture so far as its
``inputImage``) and mixes its output in (``shaders/effect_mix.frag``): a filter crossfaded by
its level, a generator blended by mode and opacity, or used as a mask. Three textures rotate,
so the picture before the effect below stays readable for a ``below`` mask.

A slot whose file does not compile keeps the program that last did (a reload that fails is
reported with file and line, once); one that never compiled, or fails while drawing, is
skipped and reported, so the picture is never black for a shader's sake.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray
from vispy import gloo

from installation.core.effects import BLENDS, Slot
from installation.core.errors import LoadError, Problem
from installation.core.events import Event
from installation.core.isf import IMAGE_TYPES, IsfShader
from installation.core.params import Value
from installation.render.isf import IsfRenderer
from installation.render.programs import ShaderProgram
from installation.render.renderer import OPAQUE
from installation.render.sound import Audio

log = logging.getLogger(__name__)

FILTER, COPY = 0.0, 8.0
MASK_MODES = {"picture": 6.0, "below": 7.0}
_QUAD = np.array([[-1, -1], [1, -1], [-1, 1], [1, 1]], np.float32)


def input_values(slot: Slot, params: Mapping[str, Value], events: Iterable[Event]) -> dict[str, Any]:
    """The slot's ISF input values by input name from the parameter snapshot: a color with its
    alpha, a point2D as (x, y); an event is true while its parameter is, or in a frame where
    an event of the kind it is bound to fired."""
    fired = {event.kind for event in events}
    values: dict[str, Any] = {}
    for item in slot.shader.inputs:
        name = slot.param(item.name)
        if item.type in IMAGE_TYPES:
            continue
        if item.type == "color" and name in params:
            rgb = cast(tuple[float, float, float], params[name])
            values[item.name] = (*rgb, cast(float, params.get(f"{name}_alpha", 1.0)))
        elif item.type == "point2D" and f"{name}_x" in params:
            values[item.name] = (cast(float, params[f"{name}_x"]), cast(float, params[f"{name}_y"]))
        elif item.type == "event":
            values[item.name] = bool(params.get(name, False)) or slot.events.get(item.name) in fired
        elif name in params:
            values[item.name] = params[name]
    return values


def audio_values(shader: IsfShader, audio: Audio | None) -> dict[str, NDArray[np.float32]]:
    """Myco's own sound for the shader's ``audio`` (waveform) and ``audioFFT`` (spectrum) inputs."""
    if not audio:
        return {}
    wanted = {"audio": "waveform", "audioFFT": "spectrum"}
    return {item.name: audio[wanted[item.type]] for item in shader.inputs
            if item.type in wanted and wanted[item.type] in audio}


def today() -> tuple[float, float, float, float]:
    """ISF's DATE: year, month, day, seconds since midnight."""
    now = datetime.datetime.now()
    return (float(now.year), float(now.month), float(now.day),
            now.hour * 3600.0 + now.minute * 60.0 + now.second + now.microsecond / 1e6)


class _Built:
    """The renderer of one slot, the version of its file it was built from, and its problems."""

    def __init__(self, renderer: IsfRenderer | None, version: int, problems: list[Problem] | None = None) -> None:
        self.renderer = renderer
        self.version = version
        self.problems = problems or []


class EffectsPass:
    """Create inside the world's GL context; :meth:`run` between the composite and the picture."""

    def __init__(self, size: tuple[int, int], shader_dir: Path) -> None:
        self.size = size
        width, height = size
        self._textures = [gloo.Texture2D((height, width, 4), format="rgba", interpolation="linear",
                                         wrapping="clamp_to_edge") for _ in range(4)]
        self._fbos = [gloo.FrameBuffer(color=texture) for texture in self._textures]
        self._mix = ShaderProgram(shader_dir / "effect_mix.frag", shader_dir)
        self._quad = gloo.VertexBuffer(_QUAD)
        self._built: dict[int, _Built] = {}
        self.problems: list[Problem] = []

    @property
    def errors(self) -> list[Problem]:
        return self._mix.errors + self.problems

    def run(self, source: gloo.Texture2D, target: gloo.FrameBuffer, slots: tuple[Slot, ...],
            params: Mapping[str, Value], *, events: Iterable[Event] = (), time_s: float = 0.0, dt: float = 0.0,
            frame: int = 0, audio: Audio | None = None) -> None:
        """The picture ``source`` through ``slots`` into ``target``."""
        self._forget(slots)
        events = tuple(events)
        date = today()
        base, under = source, source
        free = [0, 1, 2]  # the three picture buffers; 3 holds each effect's own output
        problems: list[Problem] = []
        for slot in slots:
            if slot.level <= 0.0:
                continue
            built = self._build(slot)
            problems.extend(built.problems)
            if built.renderer is None:
                continue
            try:
                built.renderer.render(
                    self._fbos[3], images={"inputImage": base, "startImage": base, "endImage": base},
                    values=input_values(slot, params, events), time_s=time_s, dt=dt, frame=frame, date=date,
                    audio=audio_values(slot.shader, audio))
            except (LoadError, RuntimeError, ValueError) as error:  # the effect is skipped, the picture stays
                log.error("ISF effect %s skipped: %s", slot.name, error)
                built.problems = [Problem(str(slot.path), 0, f"isf.{slot.name}",
                                          f"skipped: {str(error).splitlines()[0] if str(error) else error!r}")]
                built.renderer.close()
                built.renderer = None
                continue
            out = next(i for i in free if self._textures[i] is not base and self._textures[i] is not under)
            if slot.filter:
                mode = FILTER
            else:
                mode = MASK_MODES.get(slot.mask, float(BLENDS.index(slot.blend) + 1))
            self._blend(self._fbos[out], base, self._textures[3], under, mode, slot)
            under, base = base, self._textures[out]
        self.problems = problems
        darken = float(params.get("render.blackout", 0.0))  # type: ignore[arg-type]
        self._draw(target, base, base, base, COPY, 0.0, 1.0, False, darken)

    def _blend(self, fbo: gloo.FrameBuffer, base: Any, effect: Any, under: Any, mode: float, slot: Slot) -> None:
        self._draw(fbo, base, effect, under, mode, slot.level, slot.opacity, slot.mask_from == "alpha", 0.0)

    def _draw(self, fbo: gloo.FrameBuffer, base: Any, effect: Any, under: Any, mode: float, level: float,
              opacity: float, mask_alpha: bool, darken: float) -> None:
        self._mix.set_many({"a_position": self._quad, "u_base": base, "u_effect": effect, "u_under": under,
                            "u_mode": mode, "u_level": float(level), "u_opacity": float(opacity),
                            "u_mask_alpha": 1.0 if mask_alpha else 0.0, "u_darken": min(1.0, max(0.0, darken))})
        with fbo:
            gloo.set_viewport(0, 0, *self.size)
            gloo.set_state(**OPAQUE)
            self._mix.draw("triangle_strip")

    def _build(self, slot: Slot) -> _Built:
        """The slot's renderer, rebuilt when its file was reloaded; the last good one on failure."""
        built = self._built.get(slot.key)
        if built is not None and built.version == slot.version:
            return built
        try:
            renderer = IsfRenderer(slot.shader, self.size)
        except LoadError as error:
            log.error("ISF effect %s: %s (%s)", slot.name, error,
                      "the last good program plays on" if built and built.renderer else "skipped")
            if built is None:
                built = self._built[slot.key] = _Built(None, slot.version)
            built.version, built.problems = slot.version, error.problems
            return built
        if built is not None and built.renderer is not None:
            built.renderer.close()
        built = self._built[slot.key] = _Built(renderer, slot.version)
        return built

    def _forget(self, slots: tuple[Slot, ...]) -> None:
        """Close the renderers of slots that have left the chain."""
        keys = {slot.key for slot in slots}
        for key in [key for key in self._built if key not in keys]:
            built = self._built.pop(key)
            if built.renderer is not None:
                built.renderer.close()

    def close(self) -> None:
        self._forget(())
        for fbo in self._fbos:
            fbo.delete()
        for texture in self._textures:
            texture.delete()
        self._quad.delete()
        self._mix.delete()
