"""The GPU visual engine: physarum hyphae in float textures, composited by a look.

Per :meth:`Renderer.update` (one frame of simulation, in the simulation's own resolution):
node splats → link strands and travelling pulses → agent step (ping-pong state texture) →
agent deposit (additive line segments along each step) → trail diffuse/decay and drone scars. Everything a step reads
is drawn in it from the frame, except the agents, the trails and the transients (what a
snapshot holds), so a restored renderer goes on as the one it was read from. Per :meth:`draw`
(at output size): the look's composite shader → glow (bright pass, blurred at a quarter
size) → post (tone map, vignette, grain, blackout) into the bound framebuffer.

The renderer owns no model state: it consumes WorldFrames and a parameter snapshot; its own
state is only what a picture remembers (trails, agent positions, recent events).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from vispy import gloo

from installation.core.errors import LoadError, Problem
from installation.core.events import EventKind
from installation.core.frames import WorldFrame, empty_frame
from installation.core.params import ParamBank, Value
from installation.core.paths import resource_dir
from installation.core.seeds import Seed, resample
from installation.core.textfile import mtime
from installation.render import geometry
from installation.render.looks import PALETTE_KEYS, Look, load_look, look_names
from installation.render.params import QUALITIES
from installation.render.programs import ShaderProgram
from installation.render.transients import KIND_CODES, SLOTS, Transient, Transients, glsl_defines

log = logging.getLogger(__name__)

# quality -> (agents on a side of the square state texture, simulation height in pixels)
QUALITY = {"low": (256, 360), "medium": (512, 540), "high": (1024, 720), "ultra": (2048, 1080)}
PASSES = ("agents", "deposit", "diffuse", "nodes", "links", "blur", "post")
RELOAD_INTERVAL_S = 0.25
DEFAULT_LOOK = "festival"
MASK_MAX_SIDE = 1024
QUAD = np.array([[-1, -1], [1, -1], [-1, 1], [1, 1]], np.float32)
ADDITIVE = {"blend": True, "blend_func": ("one", "one"), "depth_test": False}
OPAQUE = {"blend": False, "depth_test": False}


def _float_texture(data: NDArray[np.float32], fmt: str = "rgba32f", linear: bool = True) -> gloo.Texture2D:
    return gloo.Texture2D(data, internalformat=fmt, interpolation="linear" if linear else "nearest",
                          wrapping="clamp_to_edge")


class _Target:
    """A float texture with its framebuffer."""

    def __init__(self, shape: tuple[int, int], fmt: str = "rgba16f", linear: bool = True,
                 data: NDArray[np.float32] | None = None) -> None:
        height, width = shape
        self.shape = shape
        image = data if data is not None else np.zeros((height, width, 4), np.float32)
        self.texture = _float_texture(image, fmt, linear)
        self.fbo = gloo.FrameBuffer(color=self.texture)

    def clear(self) -> None:
        with self.fbo:
            gloo.set_clear_color((0, 0, 0, 0))
            gloo.clear(color=True)


class Renderer:
    """Create inside a current GL context (a vispy canvas or :mod:`installation.render.offscreen`)."""

    #: Profiling hook: when set, :meth:`update` calls it with each pass's name right after
    #: issuing that pass (``benchmarks/bench_physarum.py`` finishes the GL work there and times it).
    pass_timer: Callable[[str], None] | None = None

    def __init__(self, size: tuple[int, int], quality: str = "medium", shader_dir: Path | None = None, *,
                 agents: int | None = None, sim_height: int | None = None, seed: int = 0) -> None:
        if quality not in QUALITIES:
            raise ValueError(f"quality must be one of {', '.join(QUALITIES)}, got {quality!r}")
        self.size = (max(1, int(size[0])), max(1, int(size[1])))
        self.aspect = self.size[0] / self.size[1]
        self.quality = quality
        self.shader_dir = shader_dir or resource_dir("shaders")
        side, height = QUALITY[quality]
        if agents is not None:
            side = max(1, int(np.ceil(np.sqrt(agents))))
        height = sim_height or height
        self.agent_count = side * side
        self.sim_shape = (height, max(1, round(height * self.aspect)))
        self.t = 0.0
        self._dt = 0.0
        self.frame_count = 0
        self.transients = Transients()
        self.look: Look | None = None
        self._fading_from: Look | None = None
        self._fade = 1.0
        self._look_stamp = 0
        self._look_errors: list[Problem] = []
        self._bank: ParamBank | None = None
        self._params: Mapping[str, Value] = {}
        self._last_poll = 0.0
        # shader files saved while running are taken up (by wall clock); a cluster member turns it
        # off: members would each reload at their own step and paint two organisms from then on
        self.hot_reload = True
        self._defines = glsl_defines()
        self.programs = {name: ShaderProgram(self.shader_dir / f"{name}.frag", self.shader_dir, self._defines)
                         for name in PASSES}
        # Programs built again from the same file with one more define: CALM (include/events.glsl
        # draws no event layer; used while no event is to be shown: on llvmpipe an event loop that
        # runs zero times still costs a pass through its body for every pixel) and GUIDE
        # (agents.frag paints what attracts the hyphae over the grid). Same file, same header:
        # the same parameters reach both builds.
        self._variants: dict[tuple[str, str], ShaderProgram] = {}
        self._quad = gloo.VertexBuffer(QUAD)
        self._init_state(side, seed)
        names = look_names(self.shader_dir)
        if not names:
            raise LoadError.single(self.shader_dir / "looks", 0, "", "no look to paint with (shaders/looks/*.toml)")
        self.set_look(DEFAULT_LOOK if DEFAULT_LOOK in names else names[0])

    # -- set-up ---------------------------------------------------------------------
    def _init_state(self, side: int, seed: int) -> None:
        rng = np.random.default_rng([seed, 4])
        agents = np.empty((side, side, 4), np.float32)
        agents[..., 0:2] = rng.uniform(0.02, 0.98, (side, side, 2))
        agents[..., 2] = rng.uniform(0, 2 * np.pi, (side, side))
        agents[..., 3] = rng.uniform(0, 1, (side, side))
        self._agents = [_Target((side, side), "rgba32f", False, agents), _Target((side, side), "rgba32f", False)]
        self._trail = [_Target(self.sim_shape), _Target(self.sim_shape)]
        self._nodes = _Target(self.sim_shape)
        height, width = self.sim_shape
        one_channel = np.zeros((height, width, 1), np.float32)
        # r: what draws the cord hyphae, g: what draws the exploring tips (agents.frag's GUIDE)
        self._guide = _Target(self.sim_shape)
        self._fresh = _Target(self.sim_shape, "r16f", data=one_channel)
        self._links = _Target(self.sim_shape)
        # the deposit's segments: each agent's texel centre twice, as the tail (0) and the head (1)
        centres = (np.stack(np.meshgrid(np.arange(side), np.arange(side)), -1).reshape(-1, 2) + 0.5) / side
        ends = np.zeros((side * side, 2), [("a_index", np.float32, 2), ("a_end", np.float32)])
        ends["a_index"] = centres[:, None, :]
        ends["a_end"][:, 1] = 1.0
        self._agent_ends = gloo.VertexBuffer(ends.reshape(-1))
        self._fields = _float_texture(np.zeros((1, 1, 4), np.float32))
        self._fields_shape: tuple[int, ...] = (1, 1, 4)
        self._mask = _float_texture(np.zeros((1, 1), np.float32), "r32f")
        self._node_list = _float_texture(np.zeros((1, geometry.MAX_NODES, 4), np.float32), linear=False)
        self._events = _float_texture(np.zeros((2, 32, 4), np.float32), linear=False)
        self._node_vbo = gloo.VertexBuffer(np.zeros((1, 4), np.float32))
        self._link_vbos: dict[str, gloo.VertexBuffer] = {}
        # Output-size targets, (re)allocated by the first draw at its viewport.
        self._scene = _Target((1, 1))
        self._scene_from = _Target((1, 1))
        self._bloom = [_Target((1, 1)), _Target((1, 1))]
        self._frame = empty_frame(aspect=self.aspect)
        self._frame_mask: NDArray[np.float32] | None = None
        self._seed: Seed | None = None

    def follow_headers(self, bank: ParamBank) -> None:
        """Keep ``bank`` (built by the composition root from the same shader folder): a header
        saved while running declares its program's inputs in it again."""
        self._bank = bank

    def _load_look(self, name: str) -> Look:
        look = load_look(name, self.shader_dir)
        if look.composite not in self.programs:
            self.programs[look.composite] = ShaderProgram(self.shader_dir / f"{look.composite}.frag",
                                                          self.shader_dir, self._defines)
        return look

    def set_look(self, name: str) -> None:
        """Switch look (palette + composite shader); raises LoadError for an unknown or broken look."""
        look = self._load_look(name)
        self._look_stamp = mtime(look.path)
        self.look = look
        self._fading_from = None

    def set_look_mix(self, from_name: str, to_name: str, factor: float) -> None:
        """Crossfade two looks (the engine's ``look_mix()``): ``factor`` 0 shows ``from_name``, 1 ``to_name``."""
        if self.look is None or self.look.name != to_name:
            self.set_look(to_name)
        if from_name == to_name or factor >= 1.0:
            self._fading_from = None
            return
        if self._fading_from is None or self._fading_from.name != from_name:
            self._fading_from = self._load_look(from_name)
        self._fade = max(0.0, float(factor))

    def set_seed(self, seed: Seed | None) -> None:
        """Take the mural mask from the seed the world grows from (cheap to call every frame)."""
        if seed is self._seed:
            return
        self._seed = seed
        if seed is None or seed.mask is None:
            self.set_mask(None)
            return
        rows = min(MASK_MAX_SIDE, max(self.sim_shape[0], 540))
        self.set_mask(seed.field("mask", (rows, max(1, round(rows * self.aspect)))))

    def set_mask(self, mask: NDArray[np.float32] | None) -> None:
        """The mural mask (the seed's ``mask`` grid, 0..1); None clears it."""
        if mask is None or mask.size == 0:
            data = np.zeros((1, 1), np.float32)
        else:
            rows, cols = mask.shape
            scale = min(1.0, MASK_MAX_SIDE / max(rows, cols))
            data = resample(mask.astype(np.float32), (max(1, int(rows * scale)), max(1, int(cols * scale))))
        self._mask = _float_texture(np.ascontiguousarray(np.clip(np.nan_to_num(data), 0, 1)), "r32f")

    # -- errors and hot reload ------------------------------------------------------
    @property
    def errors(self) -> list[Problem]:
        # a calm build fails where its program does: each problem once
        return self._look_errors + list(dict.fromkeys(p for program in self._all_programs() for p in program.errors))

    def _all_programs(self) -> list[ShaderProgram]:
        return [*self.programs.values(), *self._variants.values()]

    def _program(self, name: str, variant: str = "") -> ShaderProgram:
        """``name``'s program, or its build with ``variant`` defined (CALM, GUIDE)."""
        if not variant:
            return self.programs[name]
        program = self._variants.get((name, variant))
        if program is None:
            program = ShaderProgram(self.programs[name].path, self.shader_dir, {**self._defines, variant: "1"})
            self._variants[(name, variant)] = program
        return program

    def poll_reload(self, force: bool = False) -> list[Problem]:
        """Rebuild programs whose files changed (checked at most every 250 ms); return current errors."""
        now = time.monotonic()
        if not force and now - self._last_poll < RELOAD_INTERVAL_S:
            return self.errors
        self._last_poll = now
        if self.look is not None and mtime(self.look.path) != self._look_stamp:
            try:
                self.set_look(self.look.name)  # a palette saved in an editor
                self._look_errors = []
            except LoadError as error:  # keep the last good look
                self._look_stamp = mtime(self.look.path)
                self._look_errors = error.problems
        for program in self._all_programs():
            if program.changed():
                before = program.header.inputs if program.header else None
                if program.reload():
                    log.info("reloaded shader %s", program.path.name)
                    if self._bank is not None and program.header and program.header.inputs != before:
                        self._bank.declare(f"shader.{program.stem}", program.header.param_specs())
        return self.errors

    # -- the simulation -------------------------------------------------------------
    def _common(self, program: ShaderProgram, resolution: tuple[int, int], look: Look | None = None) -> None:
        envelopes = self.transients.envelopes(self.t)
        program.apply_inputs(self._params, envelopes)
        program.set_many({
            "u_time": self.t, "u_dt": self._dt, "u_frame": float(self.frame_count % 100000),
            "u_resolution": resolution, "u_aspect": self.aspect,
            "u_events": self._events, "u_event_count": float(len(self.transients.items)),
            "u_fields": self._fields, "u_mask": self._mask, "u_nodes": self._nodes.texture,
            "u_links": self._links.texture, "u_node_list": self._node_list,
            "u_node_count": float(min(self._frame.node_count, geometry.MAX_NODES)),
        })
        look = look or self.look
        if look is not None:
            program.set_many({f"pal_{key}": look.palette[key] for key in PALETTE_KEYS})

    def _draw_geometry(self, target: _Target, program: str, buffers: dict[str, gloo.VertexBuffer],
                       mode: str, sim_res: tuple[int, int]) -> None:
        """Draw the nodes' points or the links' triangles, added up, into a cleared target."""
        target.clear()
        drawn = self.programs[program]
        self._common(drawn, sim_res)
        for name, vbo in buffers.items():
            drawn.set(name, vbo)
        with target.fbo:
            gloo.set_viewport(0, 0, *sim_res)
            gloo.set_state(**ADDITIVE)
            drawn.draw(mode)

    def _fullscreen(self, name: str, target: _Target, extra: Mapping[str, object], look: Look | None = None,
                    variant: str = "") -> None:
        program = self._program(name, variant)
        height, width = target.shape
        self._common(program, (width, height), look)
        program.set("a_position", self._quad)
        program.set_many(extra)
        with target.fbo:
            gloo.set_viewport(0, 0, width, height)
            gloo.set_state(**OPAQUE)
            program.draw("triangle_strip")

    def follow(self, frame: WorldFrame, params: Mapping[str, Value], dt: float,
               look_mix: tuple[str, str, float], seed: Seed | None) -> list[Problem]:
        """A live output's step: the engine's looks and seed, shader files saved since the last
        look, then :meth:`update`. Returns the current shader and look problems."""
        self.set_look_mix(*look_mix)
        self.set_seed(seed)
        problems = self.poll_reload() if self.hot_reload else self.errors
        self.update(frame, params, dt)
        return problems

    def update(self, frame: WorldFrame, params: Mapping[str, Value], dt: float) -> None:
        """Advance the hyphae by ``dt`` seconds, steered by ``frame``; events start their layers."""
        self._dt = float(min(max(dt, 0.0), 0.1))
        self.t += self._dt
        self.frame_count += 1
        self._params = params
        self._frame = frame
        self.transients.add(frame.events, self.t, frame.node_ids, frame.positions)
        timer = self.pass_timer
        self._upload(frame)
        if timer:
            timer("upload")
        height, width = self.sim_shape
        sim_res = (width, height)

        self._draw_geometry(self._nodes, "nodes", {"a_node": self._node_vbo}, "points", sim_res)
        if timer:
            timer("nodes")
        # The link strands before the hyphae that follow them: drawn from this frame alone, so
        # the agents never read a strand left by the previous frame, which a renderer restored
        # from a snapshot would not have (it drifted from its source from the first step).
        self._draw_geometry(self._links, "links", self._link_vbos, "triangles", sim_res)
        if timer:
            timer("links")

        self._fullscreen("agents", self._guide, {"u_trail": self._trail[0].texture}, variant="GUIDE")
        if timer:
            timer("guide")
        self._fullscreen("agents", self._agents[1], {"u_agents": self._agents[0].texture,
                                                     "u_guide": self._guide.texture})
        self._agents.reverse()
        if timer:
            timer("agents")
        # The agents' deposit: one channel (llvmpipe blends four channels of half floats into a
        # trail for every primitive at a cost the bare step does not pay; measured), one line
        # segment per agent along its step, from the state before it (deposit.vert). What the
        # hyphae crossed (toxin, the mural) is added to the other channels by the diffusion,
        # reading the fields in order at every pixel instead of at every scattered agent.
        self._fresh.clear()
        deposit = self.programs["deposit"]
        self._common(deposit, sim_res)
        deposit.set_many({"a_index": self._agent_ends["a_index"], "a_end": self._agent_ends["a_end"],
                          "u_agents": self._agents[0].texture, "u_before": self._agents[1].texture,
                          "u_coverage": width * height / self.agent_count})
        with self._fresh.fbo:
            gloo.set_viewport(0, 0, width, height)
            gloo.set_state(**ADDITIVE)
            deposit.draw("lines")
        if timer:
            timer("deposit")
        # The diffusion shows only drones (scars) and shields: its event loop stops after the last
        # of those (on llvmpipe every event visited costs a pass over all its kinds' code), and
        # with none of them the calm build runs, with no loop at all.
        scarring = (EventKind.DISRUPTION, EventKind.SHIELD, EventKind.NODE_LOST)
        kinds = [item.kind for item in self.transients.items[:SLOTS]]
        scar_events = max((slot + 1 for slot, kind in enumerate(kinds) if kind in scarring), default=0)
        self._fullscreen("diffuse", self._trail[1], {"u_trail": self._trail[0].texture,
                                                     "u_fresh": self._fresh.texture,
                                                     "u_texel": (1.0 / width, 1.0 / height),
                                                     "u_event_count": float(scar_events)},
                         variant="" if scar_events else "CALM")
        self._trail.reverse()
        if timer:
            timer("diffuse")

    def _upload(self, frame: WorldFrame) -> None:
        mask = frame.fields.get("mask")
        if mask is not None and mask is not self._frame_mask:
            self._frame_mask = mask
            self.set_mask(mask)
        fields = geometry.fields_texture(frame)
        if fields.shape != self._fields_shape:
            self._fields = _float_texture(fields)
            self._fields_shape = fields.shape
        else:
            self._fields.set_data(fields)
        self._events.set_data(self.transients.texture(self.t))
        self._node_list.set_data(geometry.node_list(frame))
        self._node_vbo.set_data(geometry.node_points(frame, self.transients.since_joined(frame.node_ids, self.t)))
        quads = geometry.link_quads(frame, self.transients.since_spike(frame.node_ids, self.t), self.aspect)
        for name, data in quads.items():
            vbo = self._link_vbos.get(name)
            if vbo is None:
                self._link_vbos[name] = gloo.VertexBuffer(data)
            else:
                vbo.set_data(data)

    # -- the picture ----------------------------------------------------------------
    def _ensure_output(self, viewport: tuple[int, int]) -> None:
        width, height = viewport
        if self._scene.shape != (height, width):
            self._scene = _Target((height, width))
            self._scene_from = _Target((height, width))
            small = (max(1, height // 4), max(1, width // 4))
            self._bloom = [_Target(small), _Target(small)]

    def draw(self, viewport: tuple[int, int]) -> None:
        """Composite the whole canvas into the bound framebuffer (the world's picture)."""
        viewport = (max(1, int(viewport[0])), max(1, int(viewport[1])))
        self._ensure_output(viewport)
        assert self.look is not None
        height, width = self.sim_shape
        trail = {"u_trail": self._trail[0].texture, "u_trail_texel": (1.0 / width, 1.0 / height)}
        calm = "" if self.transients.items else "CALM"  # no event layer to draw
        self._fullscreen(self.look.composite, self._scene, trail, variant=calm)
        fading = self._fading_from
        if fading is not None:
            self._fullscreen(fading.composite, self._scene_from, trail, fading, variant=calm)
        bloom_h, bloom_w = self._bloom[0].shape
        source = self._scene
        for step in range(4):
            texel = (1.0 / bloom_w, 0.0) if step % 2 == 0 else (0.0, 1.0 / bloom_h)
            target = self._bloom[step % 2]
            self._fullscreen("blur", target, {"u_image": source.texture, "u_direction": texel,
                                              "u_bright_pass": 1.0 if step == 0 else 0.0})
            source = target
        post = self.programs["post"]
        self._common(post, viewport)
        post.set_many({
            "a_position": self._quad, "u_scene": self._scene.texture, "u_bloom": source.texture,
            "u_scene_from": (self._scene_from if fading else self._scene).texture,
            "u_look_mix": self._fade if fading else 1.0,
        })
        gloo.set_viewport(0, 0, *viewport)
        gloo.set_state(**OPAQUE)
        post.draw("triangle_strip")

    # -- snapshots (installation.core.snapshot) -------------------------------------------
    def save_state(self) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
        """What the picture remembers, read back from the GPU (call in this renderer's context):
        the agents, the trails, the transients in flight and the clock they age by."""
        def read(target: _Target) -> NDArray[np.float32]:
            height, width = target.shape
            with target.fbo:
                pixels = gloo.read_pixels((0, 0, width, height), alpha=True, out_type=np.float32)
            return np.ascontiguousarray(pixels[::-1])  # read_pixels gives the top row first

        items = self.transients.items
        meta: dict[str, Any] = {"quality": self.quality, "size": list(self.size), "sim_shape": list(self.sim_shape),
                "agent_count": self.agent_count, "t": self.t, "frame_count": self.frame_count,
                "spikes": dict(self.transients.spikes), "joined": dict(self.transients.joined),
                "count": self.transients._count}
        arrays: dict[str, NDArray[Any]] = {"agents": read(self._agents[0]),
                  "trail": read(self._trail[0]).astype(np.float16),  # stored as half floats on the GPU too
                  "transients": np.array([[KIND_CODES[i.kind], i.start, i.x, i.y, i.strength, i.duration, i.seed,
                                           i.turn] for i in items], np.float64).reshape(-1, 8)}
        return meta, arrays

    def restore_state(self, meta: Mapping[str, Any], arrays: Mapping[str, NDArray[Any]]) -> None:
        """Upload what :meth:`save_state` read (in this renderer's context, before its first update).
        Raises ValueError, saying why, for a state of another quality or canvas size."""
        side = self._agents[0].shape
        agents, trail = arrays["agents"], arrays["trail"]
        if agents.shape != (*side, 4) or trail.shape != (*self.sim_shape, 4):
            raise ValueError(f"it was taken at quality {meta.get('quality')} on a {meta.get('size')} canvas "
                             f"(agents {agents.shape[:2]}, trails {trail.shape[:2]}), this is {self.quality} "
                             f"on {list(self.size)} (agents {side}, trails {self.sim_shape})")
        kinds = list(KIND_CODES)
        items = [Transient(kinds[int(row[0])], *(float(v) for v in row[1:])) for row in arrays["transients"]]
        self._agents[0].texture.set_data(np.ascontiguousarray(agents, np.float32))
        self._trail[0].texture.set_data(np.ascontiguousarray(trail, np.float32))
        self.t, self.frame_count = float(meta["t"]), int(meta["frame_count"])
        self.transients.items = items
        self.transients.spikes = {str(k): float(v) for k, v in dict(meta["spikes"]).items()}
        self.transients.joined = {str(k): float(v) for k, v in dict(meta["joined"]).items()}
        self.transients._count = int(meta["count"])

    def close(self) -> None:
        for program in self._all_programs():
            program.delete()
