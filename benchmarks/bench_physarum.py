"""Simulation benchmark: Myco's simulation update against a bare physarum step, pass by pass.

The bare step is the textbook physarum in vispy gloo and nothing else: agents in an rgba32f
ping-pong state texture (x, y, heading, seed); one pass senses the trail in three directions,
turns and moves; one draws every agent as an additive 1-pixel GL point into the trail (a
single-channel float target); one diffuses (3x3 box) and decays it. It runs at Myco's agent
count and Myco's simulation size, in the same GL context, each step finished with
``glFinish``. Myco's side is ``Renderer.update`` (finished the same way) on the frames of
Kai's festival, and each pass of its frame timed through ``Renderer.pass_timer`` (update)
and around ``Renderer._fullscreen`` (draw: composite, blur; post is the rest of the draw).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

SIZE = (1280, 720)
VERTEX_QUAD = """
#version 120
attribute vec2 a_position;
varying vec2 v_uv;
void main() {
    v_uv = a_position * 0.5 + 0.5;
    gl_Position = vec4(a_position, 0.0, 1.0);
}
"""
MOVE = """
#version 120
uniform sampler2D u_agents;
uniform sampler2D u_trail;
uniform float u_aspect;
uniform float u_angle;
uniform float u_distance;
uniform float u_turn;
uniform float u_step;
uniform float u_frame;
varying vec2 v_uv;

vec2 dir(float h) { return vec2(cos(h) / u_aspect, sin(h)); }
float sense(vec2 p, float h) { return texture2D(u_trail, p + dir(h) * u_distance).r; }

void main() {
    vec4 a = texture2D(u_agents, v_uv);
    float f = sense(a.xy, a.z);
    float l = sense(a.xy, a.z + u_angle);
    float r = sense(a.xy, a.z - u_angle);
    float h = a.z;
    float rnd = fract(sin(dot(v_uv, vec2(12.9898, 78.233)) + u_frame) * 43758.5453);
    if (f >= l && f >= r) {
    } else if (f < l && f < r) {
        h += (rnd < 0.5 ? -1.0 : 1.0) * u_turn;
    } else if (l > r) {
        h += u_turn;
    } else {
        h -= u_turn;
    }
    gl_FragColor = vec4(fract(a.xy + dir(h) * u_step), mod(h, 6.2831853), a.w);
}
"""
DEPOSIT_VERTEX = """
#version 120
attribute vec2 a_index;
uniform sampler2D u_agents;
void main() {
    vec2 p = texture2D(u_agents, a_index).xy;
    gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
    gl_PointSize = 1.0;
}
"""
DEPOSIT = """
#version 120
uniform float u_amount;
void main() {
    gl_FragColor = vec4(u_amount, 0.0, 0.0, 0.0);
}
"""
DIFFUSE = """
#version 120
uniform sampler2D u_trail;
uniform vec2 u_texel;
uniform float u_decay;
varying vec2 v_uv;
void main() {
    float sum = 0.0;
    for (int dy = -1; dy <= 1; dy++) {
        for (int dx = -1; dx <= 1; dx++) {
            sum += texture2D(u_trail, v_uv + vec2(float(dx), float(dy)) * u_texel).r;
        }
    }
    gl_FragColor = vec4(sum / 9.0 * u_decay, 0.0, 0.0, 0.0);
}
"""
BARE_PASSES = ("move", "deposit", "diffuse")
MYCO_UPDATE_PASSES = ("upload", "nodes", "guide", "agents", "diffuse", "deposit", "links")
MYCO_DRAW_PASSES = ("composite", "blur", "post")


def _finish() -> None:
    from vispy import gloo

    gloo.get_current_canvas().context.flush_commands()  # texture uploads and clears are queued
    gloo.gl.glFinish()


def _p50(samples: list[float]) -> float:
    return float(np.percentile(np.array(samples) * 1000.0, 50)) if samples else 0.0


def _p99(samples: list[float]) -> float:
    return float(np.percentile(np.array(samples) * 1000.0, 99)) if samples else 0.0


class BareStep:
    """The minimal physarum step at ``side * side`` agents on a ``shape`` (rows, columns) trail."""

    def __init__(self, side: int, shape: tuple[int, int], trail_format: str = "r32f") -> None:
        from vispy import gloo

        rng = np.random.default_rng(4)
        agents = np.empty((side, side, 4), np.float32)
        agents[..., 0:2] = rng.uniform(0.02, 0.98, (side, side, 2))
        agents[..., 2] = rng.uniform(0, 2 * np.pi, (side, side))
        agents[..., 3] = rng.uniform(0, 1, (side, side))
        self.side = side
        self.shape = shape
        rows, cols = shape
        channels = 1 if trail_format.startswith("r") and not trail_format.startswith("rgba") else 4
        trail = np.zeros((rows, cols, channels), np.float32) if channels > 1 else np.zeros((rows, cols), np.float32)

        def texture(data: Any, fmt: str) -> Any:
            return gloo.Texture2D(data, internalformat=fmt, interpolation="nearest", wrapping="clamp_to_edge")

        self.agents = [texture(agents, "rgba32f"), texture(np.zeros_like(agents), "rgba32f")]
        self.trail = [texture(trail, trail_format), texture(trail, trail_format)]
        self.agent_fbo = [gloo.FrameBuffer(color=t) for t in self.agents]
        self.trail_fbo = [gloo.FrameBuffer(color=t) for t in self.trail]
        quad = gloo.VertexBuffer(np.array([[-1, -1], [1, -1], [-1, 1], [1, 1]], np.float32))
        self.move = gloo.Program(VERTEX_QUAD, MOVE)
        self.move["a_position"] = quad
        self.move["u_aspect"] = cols / rows
        self.move["u_angle"] = 0.6
        self.move["u_distance"] = 9.0 / rows
        self.move["u_turn"] = 0.3
        self.move["u_step"] = 1.0 / rows
        self.diffuse = gloo.Program(VERTEX_QUAD, DIFFUSE)
        self.diffuse["a_position"] = quad
        self.diffuse["u_texel"] = (1.0 / cols, 1.0 / rows)
        self.diffuse["u_decay"] = 0.92
        centres = (np.stack(np.meshgrid(np.arange(side), np.arange(side)), -1).reshape(-1, 2) + 0.5) / side
        self.deposit = gloo.Program(DEPOSIT_VERTEX, DEPOSIT)
        self.deposit["a_index"] = gloo.VertexBuffer(centres.astype(np.float32))
        self.deposit["u_amount"] = 0.05
        self.frame = 0

    def step(self, mark: Callable[[str], None] | None = None) -> None:
        from vispy import gloo

        rows, cols = self.shape
        gloo.set_state(blend=False, depth_test=False)
        self.move["u_agents"] = self.agents[0]
        self.move["u_trail"] = self.trail[0]
        self.move["u_frame"] = float(self.frame % 1000)
        with self.agent_fbo[1]:
            gloo.set_viewport(0, 0, self.side, self.side)
            self.move.draw("triangle_strip")
        self.agents.reverse()
        self.agent_fbo.reverse()
        if mark:
            mark("move")
        self.deposit["u_agents"] = self.agents[0]
        with self.trail_fbo[0]:
            gloo.set_viewport(0, 0, cols, rows)
            gloo.set_state(blend=True, blend_func=("one", "one"), depth_test=False)
            self.deposit.draw("points")
        gloo.set_state(blend=False)
        if mark:
            mark("deposit")
        self.diffuse["u_trail"] = self.trail[0]
        with self.trail_fbo[1]:
            gloo.set_viewport(0, 0, cols, rows)
            self.diffuse.draw("triangle_strip")
        self.trail.reverse()
        self.trail_fbo.reverse()
        if mark:
            mark("diffuse")
        self.frame += 1


class PassClock:
    """A pass timer: each mark finishes the GL work and books the time since the last mark."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}
        self._last = 0.0
        self.recording = False

    def start(self) -> None:
        _finish()
        self._last = time.perf_counter()

    def __call__(self, name: str) -> None:
        _finish()
        now = time.perf_counter()
        if self.recording:
            self.times.setdefault(name, []).append(now - self._last)
        self._last = now


def _time_bare(bare: BareStep, steps: int, timed_passes: int, warm: int = 3,
               ) -> tuple[list[float], dict[str, list[float]]]:
    """``steps`` whole steps timed, then ``timed_passes`` steps timed pass by pass."""
    for _ in range(warm):
        bare.step()
    _finish()
    totals = []
    for _ in range(steps):
        started = time.perf_counter()
        bare.step()
        _finish()
        totals.append(time.perf_counter() - started)
    clock = PassClock()
    clock.recording = True
    for _ in range(timed_passes):
        clock.start()
        bare.step(clock)
    return totals, clock.times


def _bare_total_ms(side: int, shape: tuple[int, int], steps: int, fmt: str = "r32f") -> dict[str, float]:
    totals, passes = _time_bare(BareStep(side, shape, fmt), steps, steps)
    return {"step_ms_p50": _p50(totals), **{f"{name}_ms_p50": _p50(passes[name]) for name in BARE_PASSES}}


def _held_back(bare_passes: dict[str, float], by_agents: dict[str, dict[str, float]],
               by_size: dict[str, dict[str, float]]) -> str:
    def series(figures: dict[str, dict[str, float]], key: str) -> str:
        return ", ".join(f"{label}: {values[key]:.1f}" for label, values in figures.items())

    total = sum(bare_passes.values()) or 1.0
    shares = ", ".join(f"{name} {100 * bare_passes[name] / total:.0f}%" for name in BARE_PASSES)
    largest = max(by_agents, key=int)
    per_point_ns = by_agents[largest]["deposit_ms_p50"] / int(largest) * 1e6
    return (f"llvmpipe's cost per GL point: the deposit (vertex, set-up and binning work for each "
            f"1-pixel point) takes about {per_point_ns:.0f} ns an agent, linear in agents, flat in simulation "
            f"size and trail format. Per pass: {shares}. By agents, move {series(by_agents, 'move_ms_p50')} ms, "
            f"deposit {series(by_agents, 'deposit_ms_p50')} ms; by simulation size, diffuse "
            f"{series(by_size, 'diffuse_ms_p50')} ms, move {series(by_size, 'move_ms_p50')} ms.")


def run(quick: bool = False) -> dict[str, Any]:
    from vispy import gloo

    from installation.app.compose import build_engine
    from installation.app.options import RunOptions
    from installation.render.offscreen import HiddenContext
    from installation.render.renderer import Renderer

    quality = "low" if quick else "medium"
    frames = 10 if quick else 60
    warm = 5
    engine = build_engine(RunOptions(show="kai-festival", audio=False, status=None))
    engine.advance(20.0)
    world = [engine.advance(1 / 30)[-1] for _ in range(frames + warm)]
    params = engine.bank.snapshot()
    context = HiddenContext()
    renderer = Renderer(SIZE, quality, seed=engine.seed.rng_seed)
    device = str(gloo.gl.glGetParameter(gloo.gl.GL_RENDERER))
    target = gloo.FrameBuffer(color=gloo.Texture2D((SIZE[1], SIZE[0], 4), format="rgba"))
    side = round(renderer.agent_count ** 0.5)
    shape = renderer.sim_shape

    # Myco: update alone (as a front-end runs it, the picture drawn between), then again with
    # every pass of the frame timed: update through the hook, draw around its full-screen passes.
    # The bare step runs interleaved with Myco's, frame by frame, so both see the same machine.
    bare = BareStep(side, shape)
    update_s: list[float] = []
    bare_s: list[float] = []
    for index, frame in enumerate(world):
        _finish()
        started = time.perf_counter()
        renderer.update(frame, params, 1 / 30)
        _finish()
        updated = time.perf_counter()
        bare.step()
        _finish()
        if index >= warm:
            update_s.append(updated - started)
            bare_s.append(time.perf_counter() - updated)
        with target:
            renderer.draw(SIZE)
    clock = PassClock()
    plain_fullscreen = renderer._fullscreen

    def timed_fullscreen(name: str, *args: Any, **kwargs: Any) -> None:
        plain_fullscreen(name, *args, **kwargs)
        clock("blur" if name == "blur" else "composite")

    renderer.pass_timer = clock
    per_frame: dict[str, list[float]] = {name: [] for name in MYCO_UPDATE_PASSES + MYCO_DRAW_PASSES}
    for index, frame in enumerate(world[: warm + max(3, frames // 2)]):
        clock.times = {}
        clock.recording = index >= warm
        clock.start()
        renderer.update(frame, params, 1 / 30)
        renderer._fullscreen = timed_fullscreen  # type: ignore[method-assign]
        with target:
            clock.start()
            renderer.draw(SIZE)
            clock("post")
        del renderer._fullscreen  # back to the class's method
        for name, values in clock.times.items():
            per_frame[name].append(sum(values))  # blur runs four times a frame
    renderer.pass_timer = None
    agent_count = renderer.agent_count
    renderer.close()

    bare_passes = _time_bare(bare, 0, max(5, frames // 2))[1]
    bare_p50 = _p50(bare_s)
    update_p50 = _p50(update_s)
    scale_steps = 5 if quick else 12
    sides = (128, 256) if quick else (256, 512, 1024)
    rows = (360, 540) if quick else (360, 540, 1080)
    aspect = shape[1] / shape[0]
    by_agents = {f"{s * s}": _bare_total_ms(s, shape, scale_steps) for s in sides}
    by_size = {f"{round(r * aspect)}x{r}": _bare_total_ms(side, (r, round(r * aspect)), scale_steps) for r in rows}
    by_format = {fmt: _bare_total_ms(side, shape, scale_steps, fmt)["step_ms_p50"] for fmt in ("r16f", "rgba16f")}
    bare_pass_p50 = {name: _p50(bare_passes[name]) for name in BARE_PASSES}
    context.close()

    myco_passes = {name: _p50(values) for name, values in per_frame.items()}
    return {
        "gl_renderer": device,
        "quality": quality,
        "agents": agent_count,
        "sim_resolution": f"{shape[1]}x{shape[0]}",
        "output": f"{SIZE[0]}x{SIZE[1]}",
        "frames": len(update_s),
        "sim_update_ms_p50": update_p50,
        "sim_update_ms_p99": _p99(update_s),
        "bare_step_ms_p50": bare_p50,
        "bare_step_ms_p99": _p99(bare_s),
        "sim_update_to_bare_step_p50": update_p50 / bare_p50 if bare_p50 > 0 else float("inf"),
        "agent_steps_per_s": agent_count / (update_p50 / 1000.0),
        "bare_agent_steps_per_s": agent_count / (bare_p50 / 1000.0),
        "myco_pass_ms_p50": myco_passes,
        "bare_pass_ms_p50": bare_pass_p50,
        "bare_by_agents_ms_p50": by_agents,
        "bare_by_sim_size_ms_p50": by_size,
        "bare_by_trail_format_ms_p50": {"r32f": bare_p50, **by_format},
        "bare_held_back_by": _held_back(bare_pass_p50, by_agents, by_size),
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
