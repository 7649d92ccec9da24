"""Renderer benchmark: frame time of the full pipeline against a bare full-screen shader.

Both run in the same process, the same GL context and the same output size, each frame
finished with ``glFinish`` so the time is the GPU's (or llvmpipe's) and not just queueing.
The world comes from the engine playing Kai's festival (computed before timing starts).
The views part measures what an extra output window and the preview cost beside one output
(one world, resampled per view; the issue's bound: at most 0.25x of one output's frame).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from installation.core.mapping import IDENTITY, Blend, Edge, Mapping, Mask, Mesh

SIZE = (1280, 720)
BARE_FRAGMENT = """
#version 120
varying vec2 v_uv;
uniform float u_time;
void main() {
    gl_FragColor = vec4(v_uv, 0.5 + 0.5 * sin(u_time), 1.0);
}
"""
BARE_VERTEX = """
#version 120
attribute vec2 a_position;
varying vec2 v_uv;
void main() {
    v_uv = a_position * 0.5 + 0.5;
    gl_Position = vec4(a_position, 0.0, 1.0);
}
"""


def _percentiles(samples: list[float]) -> tuple[float, float]:
    values = np.array(samples) * 1000.0
    return float(np.percentile(values, 50)), float(np.percentile(values, 99))


def _bare(frames: int, target: Any) -> list[float]:
    from vispy import gloo

    program = gloo.Program(BARE_VERTEX, BARE_FRAGMENT)
    program["a_position"] = np.array([[-1, -1], [1, -1], [-1, 1], [1, 1]], np.float32)
    times = []
    for index in range(frames):
        started = time.perf_counter()
        with target:
            gloo.set_viewport(0, 0, *SIZE)
            program["u_time"] = index / 60.0
            program.draw("triangle_strip")
            gloo.gl.glFinish()
        times.append(time.perf_counter() - started)
    return times


def run(quick: bool = False) -> dict[str, Any]:
    from vispy import gloo

    from installation.app.compose import build_engine
    from installation.app.options import RunOptions
    from installation.render.offscreen import Offscreen

    quality = "low" if quick else "medium"
    frames = 20 if quick else 120
    engine = build_engine(RunOptions(show="kai-festival", audio=False, status=None))
    engine.advance(20.0)
    world = [engine.advance(1 / 30)[-1] for _ in range(frames + 10)]
    params = engine.bank.snapshot()
    offscreen = Offscreen(SIZE, quality, seed=engine.seed.rng_seed)
    renderer = offscreen.renderer
    device = str(gloo.gl.glGetParameter(gloo.gl.GL_RENDERER))
    target = gloo.FrameBuffer(color=gloo.Texture2D((SIZE[1], SIZE[0], 4), format="rgba"))

    update_s: list[float] = []
    frame_s: list[float] = []
    for index, frame in enumerate(world):
        started = time.perf_counter()
        renderer.update(frame, params, 1 / 30)
        gloo.gl.glFinish()
        updated = time.perf_counter()
        with target:
            renderer.draw(SIZE)
            gloo.gl.glFinish()
        if index >= 10:  # the first frames build programs and textures
            update_s.append(updated - started)
            frame_s.append(time.perf_counter() - started)
    bare_s = _bare(frames, target)[5:]
    offscreen.close()
    views = _views(world, params, quality, engine.seed.rng_seed)

    frame_p50, frame_p99 = _percentiles(frame_s)
    bare_p50, bare_p99 = _percentiles(bare_s)
    update_p50, _ = _percentiles(update_s)
    figures = {
        "gl_renderer": device,
        "size": f"{SIZE[0]}x{SIZE[1]}",
        "quality": quality,
        "agents": renderer.agent_count,
        "sim_resolution": f"{renderer.sim_shape[1]}x{renderer.sim_shape[0]}",
        "frames": len(frame_s),
        "fps": 1000.0 / frame_p50,
        "frame_ms_p50": frame_p50,
        "frame_ms_p99": frame_p99,
        "sim_update_ms_p50": update_p50,
        "bare_shader_ms_p50": bare_p50,
        "bare_shader_ms_p99": bare_p99,
        "ratio_to_bare_p50": frame_p50 / bare_p50 if bare_p50 > 0 else float("inf"),
        "agent_steps_per_s": renderer.agent_count / (update_p50 / 1000.0),
        **views,
    }
    headline = ("quality", "agents", "fps", "frame_ms_p50", "ratio_to_bare_p50", "views_canvas",
                "views_1_output_ms_p50", "views_2_outputs_ms_p50", "views_2_outputs_preview_ms_p50",
                "views_extra_output_ratio", "views_extra_output_and_preview_ratio", "views_readback_upload_ms_p50",
                "views_two_plain_ms_p50", "views_two_mapped_ms_p50", "views_mapped_to_plain_ratio")
    return {**figures, "headline": {key: figures[key] for key in headline}}


# Two projectors overlapping by a quarter, each corner-pinned, meshed, blended and masked.
MAPPED = tuple(
    Mapping(corners=((0.02, 0.03), (0.98, 0.0), (1.0, 0.97), (0.0, 1.0)),
            mesh=Mesh.identity(5, 4).moved(7, (0.52, 0.3)),
            blend=Blend(**{edge: Edge(0.25)}, black_lift=0.02),  # type: ignore[arg-type]
            masks=(Mask(((0.05, 0.05), (0.95, 0.05), (0.95, 0.95), (0.05, 0.95)), 0.02),))
    for edge in ("right", "left"))

VIEW_SETTINGS = {  # name -> the canvas regions shown by output windows, and whether a preview is read
    "1_output": ([(0.0, 0.0, 1.0, 1.0)], False),
    "2_outputs": ([(0.0, 0.0, 0.5, 1.0), (0.5, 0.0, 1.0, 1.0)], False),
    "2_outputs_preview": ([(0.0, 0.0, 0.5, 1.0), (0.5, 0.0, 1.0, 1.0)], True),
}


def _views(world_frames: list[Any], params: Any, quality: str, seed: int) -> dict[str, Any]:
    """Frame cost of one world with 1 output, 2 outputs, and 2 outputs plus the preview, the
    three settings taking turns frame by frame (side by side in time). Every output window is
    an output-sized framebuffer the world's picture is resampled into; the canvas is the same
    for all three (two outputs wide), so what differs is only the views."""
    from vispy import gloo

    from installation.app.status import PREVIEW_WIDTH
    from installation.render.offscreen import Offscreen

    canvas = (SIZE[0] * 2, SIZE[1])
    offscreen = Offscreen(canvas, quality, seed=seed)
    world = offscreen.world
    windows = [gloo.FrameBuffer(color=gloo.Texture2D((SIZE[1], SIZE[0], 4), format="rgba")) for _ in range(2)]
    times: dict[str, list[float]] = {name: [] for name in VIEW_SETTINGS}
    regions_of_two = VIEW_SETTINGS["2_outputs"][0]
    upload = gloo.Texture2D((SIZE[1], SIZE[0], 3), format="rgb")
    readback_s: list[float] = []
    mapping_s: dict[str, list[float]] = {"plain": [], "mapped": []}
    for index, frame in enumerate(world_frames):
        for name, (regions, preview) in VIEW_SETTINGS.items():
            started = time.perf_counter()
            world.advance(frame, params, 1 / 30)
            world.compose()
            for window, region in zip(windows, regions, strict=False):
                with window:
                    world.show(SIZE, region)
            if preview:
                world.read(size=world.preview_size(PREVIEW_WIDTH))
            gloo.gl.glFinish()
            if index >= 10:
                times[name].append(time.perf_counter() - started)
        # Projection mapping: the two views again, plain and then mapped (pin, mesh, blend, mask),
        # timed alone after the picture is finished, taking turns frame by frame.
        for name, mappings in (("plain", (IDENTITY, IDENTITY)), ("mapped", MAPPED)):
            gloo.gl.glFinish()
            started = time.perf_counter()
            for window, region, mapping in zip(windows, regions_of_two, mappings, strict=True):
                with window:
                    world.show(SIZE, region, mapping)
            gloo.gl.glFinish()
            if index >= 10:
                mapping_s[name].append(time.perf_counter() - started)
        # The alternative not taken: a second window fed through the CPU (its region read back
        # at full size and uploaded into that window's own texture) instead of sampling the picture.
        started = time.perf_counter()
        upload.set_data(world.read(regions_of_two[1], SIZE))
        gloo.gl.glFinish()
        if index >= 10:
            readback_s.append(time.perf_counter() - started)
    offscreen.close()
    p50 = {name: _percentiles(samples)[0] for name, samples in times.items()}
    one = p50["1_output"]
    return {
        "views_canvas": f"{canvas[0]}x{canvas[1]}",
        **{f"views_{name}_ms_p50": value for name, value in p50.items()},
        "views_extra_output_ratio": (p50["2_outputs"] - one) / one,
        "views_extra_output_and_preview_ratio": (p50["2_outputs_preview"] - one) / one,
        "views_view_ms_p50": p50["2_outputs"] - one,
        "views_readback_upload_ms_p50": _percentiles(readback_s)[0],
        "views_two_plain_ms_p50": _percentiles(mapping_s["plain"])[0],
        "views_two_mapped_ms_p50": _percentiles(mapping_s["mapped"])[0],
        "views_mapped_to_plain_ratio": _percentiles(mapping_s["mapped"])[0] / _percentiles(mapping_s["plain"])[0],
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
