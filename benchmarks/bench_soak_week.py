"""Soak: a week of opening hours under an accelerated clock, and a real-time headless run.

The week (``scripts/soak_week.py``): the real headless runtime with the offscreen renderer and
the status server, the opening hours on a simulated clock (30 venue seconds per engine step, so
seven days are ~20 000 steps): every open and close, an exception day, an opening past midnight
and the night the clocks go back. Then ``myco run --headless`` as a process for
``REAL_MINUTES`` of real time, /status read every 10 s. Both report memory growth after the
warm-up and the growth and maximum of every count (threads, kernel tasks, file descriptors,
sockets, GL objects, log handlers, the log folder's bytes). ``quick``: two accelerated days,
no real-time run.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REAL_MINUTES = 5.0


def soak_week() -> Any:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    spec = importlib.util.spec_from_file_location("soak_week", ROOT / "scripts" / "soak_week.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(quick: bool) -> dict[str, Any]:
    soak = soak_week()
    if quick:
        week = soak.accelerated(days=2.0, step_s=60.0, draw_every=16, sample_every=200,
                                start=soak.START.replace(day=24))
        real = None
    else:
        week = soak.accelerated(days=7.0, step_s=30.0, draw_every=8, sample_every=500)
        real = soak.real_time(REAL_MINUTES, every=10.0)
    figures: dict[str, Any] = {"headline": soak.headline(week, real),
                               "week": {key: value for key, value in week.items() if key != "readings"}}
    if real is not None:
        figures["real_time"] = {key: value for key, value in real.items() if key != "readings"}
    return figures
