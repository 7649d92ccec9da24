"""The engine's fixed step for each shipped show: step time, and the share of a 60 Hz frame it takes.

Runs the whole tick (inputs, show timeline, preset morphs, kernel, smoothing) through an act
change, so the morph's cost is in the figures.
"""

from __future__ import annotations

import time

import numpy as np

from installation.app.compose import build_engine
from installation.app.options import RunOptions

SHOWS = ("kai-festival", "elara-mural")


def run(quick: bool = False) -> dict[str, object]:
    figures: dict[str, object] = {}
    seconds = 5.0 if quick else 20.0
    for name in SHOWS:
        started = time.perf_counter()
        engine = build_engine(RunOptions(show=name, audio=False, status=None))
        build_ms = (time.perf_counter() - started) * 1000
        engine.player.jump(0, engine.player.act.duration_s - seconds / 2)  # cross into act 2 mid-run
        times = []
        for _ in range(round(seconds * engine.step_hz)):
            begin = time.perf_counter()
            engine.step()
            times.append((time.perf_counter() - begin) * 1000)
        steps = np.array(times)
        figures[name] = {
            "nodes": engine.latest.node_count,
            "grid": list(engine.latest.fields["waste"].shape),
            "build_ms": round(build_ms, 1),
            "step_ms_p50": round(float(np.percentile(steps, 50)), 3),
            "step_ms_p99": round(float(np.percentile(steps, 99)), 3),
            "share_of_60hz_frame_p50": round(float(np.percentile(steps, 50)) / (1000 / 60), 3),
        }
    return figures
