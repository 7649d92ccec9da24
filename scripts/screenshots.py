"""Screenshots of the real windows for docs/user-guide.md, taken under Xvfb.

Usage: python scripts/screenshots.py [--out docs/images] [--seconds 20]

Starts an X server (Xvfb) unless DISPLAY is set, runs the real app (kai-festival, live
nodes arriving over OSC, preset thumbnails rendered), and saves each window and tab as PNG.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def send_nodes(port: int, step: int) -> None:
    """Three gallery nodes over real OSC, so the monitor shows live and simulated nodes."""
    from pythonosc.udp_client import SimpleUDPClient

    client = SimpleUDPClient("127.0.0.1", port)
    for index, node in enumerate(("gallery-north", "gallery-east", "gallery-south")):
        wave = math.sin(step / 7 + index)
        client.send_message(f"/myco/node/{node}", [0.3 * wave + 0.05 * index, 0.2 + 0.1 * index, 0.4, 0.6])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the show runs before the shots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    # A private home: the shots show the shipped presets only, and thumbnails are cached between runs.
    os.environ["MYCO_HOME"] = str(Path(tempfile.gettempdir()) / "myco-screenshots-home")
    from tests.services import x_server

    with x_server():
        from PySide6.QtWidgets import QApplication

        from installation.ui import theme
        from tests.appkit import pump, start_app, stop_app
        from tests.services import free_port

        qt = QApplication([])
        theme.apply(qt)
        osc_port = free_port()
        app = start_app(quality="medium", osc=f"127.0.0.1:{osc_port}", thumbnails=True)
        app.control.resize(1400, 860)
        try:
            deadline = time.monotonic() + args.seconds
            step = 0
            while time.monotonic() < deadline or app.browser._pending:
                send_nodes(osc_port, step)
                step += 1
                pump(0.1)
                if time.monotonic() > deadline + 240:
                    break
            app.monitor.select("gallery-east")
            app.refresh()
            pump(0.5)
            shots = {"output": app.views[0].grab()}
            for index, name in enumerate(("parameters", "presets", "nodes")):
                app.control.tabs.setCurrentIndex(index)
                pump(0.5)
                shots[f"control-{name}"] = app.control.grab().toImage()
            for name, image in shots.items():
                path = args.out / f"{name}.png"
                image.save(str(path))
                print(f"wrote {path} ({image.width()}x{image.height()})")
        finally:
            stop_app(app)
    return 0


if __name__ == "__main__":
    sys.exit(main())
