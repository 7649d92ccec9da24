"""``myco run`` with windows, as a real process on the test X server: start, serve, stop cleanly."""

from __future__ import annotations

import signal
import subprocess

from tests.services import free_port
from tests.test_app_headless import MYCO, myco_run, wait_for_status


def test_gui_process_runs_and_stops_cleanly_on_sigterm(x_display: str) -> None:
    port = free_port()
    with myco_run("--no-audio", "--quality", "low", "--status", f"127.0.0.1:{port}") as process:
        report = wait_for_status(port, lambda r: r["fps"] > 0, "output frames drawn", timeout=60, process=process)
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
