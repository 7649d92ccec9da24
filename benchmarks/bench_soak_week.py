"""Soak: a week of opening hours under an accelerated clock, and a real-time headless run.

The week (``scripts/soak_week.py``): the real headless runtime with the offscreen renderer and
the status server, the opening hours on a simulated clock (60 venue seconds per engine step, so
seven days are ~10 000 steps): every open and close, an exception day, an opening past midnight
and the night the clocks go back. Then ``myco run --headless`` as a process for
``REAL_MINUTES`` of real time, /status read every 10 s (the first 8 minutes, the show's first
loop, are its warm-up; ``make soak-week ARGS="--real-minutes 60"`` for longer). Both report memory growth after the
warm-up and the growth and maximum of every count (threads, kernel tasks, file descriptors,
sockets, GL objects, log handlers, the log folder's bytes), and the hyphae measured at each
opening of the week (the last and the weakest opening against the first). ``quick``: two accelerated days,
no real-time run.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REAL_MINUTES = 12.0  # the first 8 are the warm-up: the show's first loop


def soak_week() -> Any:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    spec = importlib.util.spec_from_file_location("soak_week", ROOT / "scripts" / "soak_week.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("soak_week", module)  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def run(quick: bool) -> dict[str, Any]:
    soak = soak_week()
    if quick:
        week = soak.accelerated(days=2.0, step_s=30.0, draw_every=32, sample_every=240,
                                start=soak.START.replace(day=24))
        real = None
    else:
        week = soak.accelerated(days=7.0, step_s=60.0, draw_every=8, sample_every=250)
        real = soak.real_time(REAL_MINUTES, every=10.0)
        # every reading, as make soak-week writes them
        (ROOT / "benchmarks" / "soak_week.json").write_text(json.dumps({"week": week, "real_time": real}, indent=2)
                                                             + "\n")
    figures: dict[str, Any] = {"headline": soak.headline(week, real),
                               "week": {key: value for key, value in week.items() if key != "readings"}}
    if real is not None:
        figures["real_time"] = {key: value for key, value in real.items() if key != "readings"}
    return figures
