"""Simulation kernel step time against node count and field grid size (one thread, pure numpy).

Each case grows the built-in demo world with N nodes on an R x R grid, warms up, then times
single fixed steps (1/60 s of show time) and reports percentiles in milliseconds. The goal:
256 nodes on 256 x 256 well under the 16.7 ms a 60 Hz engine allows.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from installation.sim.defaults import demo_seed
from installation.sim.kernel import Kernel

NODES = (16, 64, 256, 1024)
GRIDS = (128, 256, 512)


def time_case(nodes: int, side: int, steps: int) -> dict[str, float]:
    kernel = Kernel(demo_seed(1, nodes), grid=(side, side))
    for _ in range(20):
        kernel.step(1 / 60, (), {})
    samples = []
    for _ in range(steps):
        start = time.perf_counter()
        kernel.step(1 / 60, (), {})
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {"step_ms_p50": round(statistics.median(samples), 3),
            "step_ms_p95": round(samples[int(0.95 * (len(samples) - 1))], 3),
            "links": int(kernel.graph.linked.sum())}


def run(quick: bool = False) -> dict[str, Any]:
    steps = 30 if quick else 150
    table = {f"{n}_nodes_{g}x{g}": time_case(n, g, steps) for n in NODES for g in GRIDS}
    target = table["256_nodes_256x256"]
    keeps_60hz = target["step_ms_p95"] < 1000 / 60
    headline: dict[str, Any] = {f"{case}.step_ms_p50": figures["step_ms_p50"] for case, figures in table.items()}
    headline["keeps_60hz_at_256_nodes_256x256"] = keeps_60hz
    return {"steps_per_case": steps, "step_ms": table, "keeps_60hz_at_256_nodes_256x256": keeps_60hz,
            "headline": headline}


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick=True), indent=1))
