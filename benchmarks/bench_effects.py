"""Effect chain benchmark: the world's picture with and without ISF effects, side by side.

One world in one hidden context at one canvas size, each frame finished with ``glFinish`` so the
time is the GPU's (or llvmpipe's): the composite alone (the control, what a world without
effects does), the chain with a filter that only inverts (``tests/isf_effects/invert.fs``: the
chain's own cost, one extra texture, the ISF pass, the mix and the final copy), and the shipped
Kai act 5 pair (``spore-haze`` and ``drifting-spores`` screened over it). The frames alternate
between the three, so a busy machine slows all alike.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

SIZE = (1280, 720)
TESTS = Path(__file__).resolve().parent.parent / "tests" / "isf_effects"


def run(quick: bool = False) -> dict[str, Any]:
    from vispy import gloo

    from installation.core.effects import EffectChain, isf_folders
    from installation.core.frames import empty_frame
    from installation.core.params import ParamBank
    from installation.render.offscreen import Offscreen

    frames = 10 if quick else 60
    offscreen = Offscreen(SIZE, "medium")
    world = offscreen.world
    bank = ParamBank()
    chains: dict[str, tuple[Any, ...]] = {"composite_only": ()}
    wanted = {"invert_filter": [str(TESTS / "invert.fs")], "spores_pair": ["spore-haze", "drifting-spores"]}
    for name, files in wanted.items():
        chain = EffectChain(bank, isf_folders(None), print)
        for file in files:
            chain.add(file, fade_s=0.0)
        if name == "spores_pair":
            chain.set("drifting_spores", blend="screen", opacity=0.75)
        chain.step(0.0)
        chains[name] = chain.slots
    frame = empty_frame()
    times: dict[str, list[float]] = {name: [] for name in chains}
    try:
        world.advance(frame, {}, 1 / 60)
        for index in range(frames + 3):
            for name, slots in chains.items():
                world.follow_effects(slots)
                started = time.perf_counter()
                world.compose()
                gloo.gl.glFinish()
                if index >= 3:  # the first frames build the programs
                    times[name].append(time.perf_counter() - started)
        device = str(gloo.gl.glGetParameter(gloo.gl.GL_RENDERER))
    finally:
        offscreen.close()
    result: dict[str, Any] = {"size": list(SIZE), "frames": frames, "device": device}
    for name, samples in times.items():
        values = np.array(samples) * 1000.0
        result[f"{name}_ms_p50"] = round(float(np.percentile(values, 50)), 3)
        result[f"{name}_ms_p99"] = round(float(np.percentile(values, 99)), 3)
    control = result["composite_only_ms_p50"]
    result["chain_overhead_ms_p50"] = round(result["invert_filter_ms_p50"] - control, 3)
    result["spores_pair_ratio"] = round(result["spores_pair_ms_p50"] / control, 3)
    result["headline"] = ["composite_only_ms_p50", "invert_filter_ms_p50", "spores_pair_ms_p50",
                          "chain_overhead_ms_p50"]
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick=True), indent=2))
