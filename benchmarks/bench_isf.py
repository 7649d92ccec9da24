"""ISF benchmark: frame time of IsfRenderer against a bare program doing the same job.

Beside each other in one process, one GL context and one output size, each frame finished with
``glFinish`` so the time is the GPU's (or llvmpipe's): a one-pass ISF filter that passes its
``inputImage`` through (``tests/isf/copy.fs``) against a bare gloo program that samples the
same texture, so the figure is the ISF layer's own cost (uniforms, bindings,
pass bookkeeping); and a three-pass ISF file with a persistent float buffer
(``tests/isf/passes.fs``). Also the time to read, assemble and link each (GLSL 1.20 compiles both).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

SIZE = (1280, 720)
SHADERS = Path(__file__).resolve().parent.parent / "tests" / "isf"
COPY_VERTEX = """
#version 120
attribute vec2 a_position;
varying vec2 v_uv;
void main() {
    v_uv = a_position * 0.5 + 0.5;
    gl_Position = vec4(a_position, 0.0, 1.0);
}
"""
COPY_FRAGMENT = """
#version 120
varying vec2 v_uv;
uniform sampler2D u_image;
void main() {
    gl_FragColor = texture2D(u_image, v_uv);
}
"""
DATE = (2026.0, 1.0, 1.0, 0.0)


def _ms(samples: list[float]) -> dict[str, float]:
    values = np.array(samples) * 1000.0
    return {"p50_ms": float(np.percentile(values, 50)), "p99_ms": float(np.percentile(values, 99))}


def _timed(frames: int, draw: Any) -> list[float]:
    from vispy import gloo

    times = []
    for index in range(frames):
        started = time.perf_counter()
        draw(index)
        gloo.gl.glFinish()
        times.append(time.perf_counter() - started)
    return times


def run(quick: bool = False) -> dict[str, Any]:
    from vispy import gloo

    from installation.core.isf import load_isf
    from installation.render.isf import IsfRenderer
    from installation.render.offscreen import HiddenContext

    frames = 20 if quick else 200
    context = HiddenContext()
    rng = np.random.default_rng(1)
    image = gloo.Texture2D(rng.integers(0, 256, (SIZE[1], SIZE[0], 4), dtype=np.uint8), interpolation="linear")
    target = gloo.FrameBuffer(color=gloo.Texture2D((SIZE[1], SIZE[0], 4), format="rgba"))
    copy = gloo.Program(COPY_VERTEX, COPY_FRAGMENT)
    copy["a_position"] = np.array([[-1, -1], [1, -1], [-1, 1], [1, 1]], np.float32)
    copy["u_image"] = image

    def bare(index: int) -> None:
        with target:
            gloo.set_viewport(0, 0, *SIZE)
            copy.draw("triangle_strip")

    results: dict[str, Any] = {"size": list(SIZE), "frames": frames,
                               "device": str(gloo.gl.glGetParameter(gloo.gl.GL_RENDERER))}
    try:
        results["bare_copy"] = _ms(_timed(frames, bare))
        for name, file in (("isf_filter_one_pass", "copy.fs"), ("isf_three_passes_persistent_float", "passes.fs")):
            started = time.perf_counter()
            renderer = IsfRenderer(load_isf(SHADERS / file), SIZE)
            gloo.gl.glFinish()
            build_ms = (time.perf_counter() - started) * 1000.0

            def isf(index: int, renderer: IsfRenderer = renderer) -> None:
                renderer.render(target, images={"inputImage": image}, values={}, time_s=index / 60.0,
                                dt=1 / 60.0, frame=index, date=DATE)

            try:
                results[name] = {**_ms(_timed(frames, isf)), "load_and_link_ms": build_ms}
            finally:
                renderer.close()
        results["headline"] = {
            "bare_copy_p50_ms": results["bare_copy"]["p50_ms"],
            "isf_filter_p50_ms": results["isf_filter_one_pass"]["p50_ms"],
            "isf_filter_over_bare": results["isf_filter_one_pass"]["p50_ms"] / results["bare_copy"]["p50_ms"],
            "isf_three_passes_p50_ms": results["isf_three_passes_persistent_float"]["p50_ms"],
            "isf_link_ms": results["isf_filter_one_pass"]["load_and_link_ms"],
        }
    finally:
        copy.delete()
        target.delete()
        image.delete()
        context.close()
    return results


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run("--quick" in sys.argv), indent=2))
