"""``myco run`` with windows, as a real process on the test X server: start, serve, stop cleanly."""

from __future__ import annotations

import signal
import subprocess
import time

from tests.services import free_port
from tests.test_app_headless import MYCO, myco_run, status


def test_gui_process_runs_and_stops_cleanly_on_sigterm(x_display: str) -> None:
    port = free_port()
    with myco_run("--no-audio", "--quality", "low", "--status", f"127.0.0.1:{port}") as process:
        deadline = time.monotonic() + 60
        report = None
        while time.monotonic() < deadline:
            report = status(port)
            if report and report.get("fps", 0) > 0:
                break
            time.sleep(0.2)
        assert report is not None and report["fps"] > 0, "no output frames reported"
        assert report["show"] == "kai-festival" and report["act"] == "The living city"
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    assert "first output frame" in output and "Traceback" not in output


def test_missing_output_screen_is_a_clear_error(x_display: str) -> None:
    result = subprocess.run([*MYCO, "run", "--no-audio", "--no-status", "--seconds", "2", "--output-screen", "7"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "--output-screen 7: no such screen (screens: 0: " in result.stderr
    assert "Traceback" not in result.stderr
