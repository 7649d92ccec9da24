"""Soak: two outputs of one world for an hour, their seam read back from the windows every minute.

Usage: python scripts/soak_views.py [--minutes 60] [--every 60] [--out benchmarks/soak_views.json]

Runs the real app (built-in simulation, default show) with two output windows showing the two
halves of one canvas, under Xvfb unless DISPLAY is set. Every ``--every`` seconds it paints
both windows from the same world frame and measures how much the picture jumps across the
seam against how much it changes between neighbouring columns (``tests.appkit.seam_break``;
1 is no break). Exits 1 if the seam ever breaks (over 1.5) or an output goes black. The suite
runs the one-minute version of this check (tests/test_ui_views.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MAX_BREAK = 1.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--every", type=float, default=60.0, help="seconds between two seam readings")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "soak_views.json")
    args = parser.parse_args()
    from tests.services import x_server

    with x_server():
        from PySide6.QtWidgets import QApplication

        from installation.ui.gl_output import share_gl_contexts
        from tests.appkit import grab_all, pump, seam_break, start_app, stop_app

        share_gl_contexts()
        qt = QApplication([])
        app = start_app(output_screens=(0, 0), canvas=(1280, 360), quality="medium")
        readings = []
        started = time.monotonic()
        try:
            while time.monotonic() - started < args.minutes * 60:
                pump(args.every)
                left, right = grab_all(app)
                reading = {"minute": round((time.monotonic() - started) / 60, 2),
                           "seam_break": round(seam_break(left, right), 3),
                           "left_mean": round(float(left.mean()), 2), "right_mean": round(float(right.mean()), 2),
                           "world_frames": app.runtime.clock.frames, "world_fps": round(app.runtime.clock.fps(), 2)}
                readings.append(reading)
                print(json.dumps(reading), flush=True)
        finally:
            stop_app(app)
            qt.shutdown()  # type: ignore[attr-defined]
    broken = [r for r in readings if r["seam_break"] > MAX_BREAK or min(r["left_mean"], r["right_mean"]) < 10]
    args.out.write_text(json.dumps({"minutes": args.minutes, "max_break": MAX_BREAK, "readings": readings,
                                    "broken": len(broken)}, indent=2) + "\n")
    print(f"{len(readings)} readings, {len(broken)} broken; written to {args.out}")
    return 1 if broken or not readings else 0


if __name__ == "__main__":
    sys.exit(main())
