"""The desktop app: start-up to the first output frame, and the control window's cost in frame rate.

Both run in child processes on an X display (Xvfb is started if there is none):
- start-up: ``myco run`` from process spawn to its "first output frame" log line;
- UI overhead: one app measures output frames per second with the control window open and
  refreshing, and with it hidden and its refresh stopped (the output alone), interleaved.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
QUALITY = "low"
ORDER = (True, False, False, True, False, True, True, False)  # control window open in each phase


@contextlib.contextmanager
def display() -> Iterator[dict[str, str]]:
    if os.environ.get("DISPLAY"):
        yield dict(os.environ)
        return
    sys.path.insert(0, str(ROOT))
    from tests import services

    with services.xvfb() as server:
        yield {**os.environ, "DISPLAY": server.display, "QT_QPA_PLATFORM": "xcb"}


def startup_s(env: dict[str, str]) -> dict[str, float]:
    command = [sys.executable, "-m", "installation", "run", "--no-audio", "--no-status", "--seconds", "30",
               "--quality", QUALITY]
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        for line in process.stderr:
            if "first output frame" in line:
                wall = time.monotonic() - started
                inside = float(line.rsplit("first output frame", 1)[1].split()[0])
                return {"startup_to_first_frame_s": round(wall, 2), "engine_built_to_first_frame_s": inside}
        raise RuntimeError(f"myco run ended without a frame (status {process.wait()})")
    finally:
        process.terminate()
        process.wait(10)


def child(seconds: float) -> dict[str, Any]:
    """In the child: build the app, measure fps with and without the control window."""
    sys.path.insert(0, str(ROOT))
    from PySide6.QtWidgets import QApplication

    from installation.ui.gl_output import share_gl_contexts
    from tests.appkit import pump, start_app, stop_app

    share_gl_contexts()  # as run_gui does
    QApplication([])
    app = start_app(quality=QUALITY)
    pump(60, lambda: app.runtime.clock.frames >= 5)

    def fps() -> float:
        pump(1.0)  # settle
        before, started = app.runtime.clock.frames, time.monotonic()
        pump(seconds)
        return (app.runtime.clock.frames - before) / (time.monotonic() - started)

    # ABBA BAAB: a drift in frame rate over time (load elsewhere, the picture filling up) hits both alike.
    measured: dict[bool, list[float]] = {True: [], False: []}
    for control_open in ORDER:
        app.control.setVisible(control_open)
        if control_open:
            app.ui_timer.start()
        else:
            app.ui_timer.stop()
        measured[control_open].append(fps())
    stop_app(app)
    both, solo = (sum(measured[key]) / len(measured[key]) for key in (True, False))
    return {"quality": QUALITY, "fps_with_control_window": round(both, 2), "fps_output_alone": round(solo, 2),
            "ui_overhead_ratio": round(solo / both, 3) if both else None, "phases": len(ORDER),
            "seconds_per_phase": seconds}


def run(quick: bool = False) -> dict[str, Any]:
    seconds = 1.5 if quick else 3.0
    with display() as env:
        figures: dict[str, Any] = startup_s(env)
        result = subprocess.run([sys.executable, __file__, "--child", str(seconds)], env=env, cwd=ROOT,
                                capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            raise RuntimeError(result.stderr[-2000:])
        figures.update(json.loads(result.stdout.strip().splitlines()[-1]))
    return figures


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(child(float(sys.argv[2]))))
    else:
        print(json.dumps(run("--quick" in sys.argv), indent=2))
