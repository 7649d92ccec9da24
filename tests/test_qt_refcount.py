"""Qt calls keep ``None`` alive after every entry point's own Qt set-up (the PySide6 pin in pyproject.toml).

PySide6 6.12.0 on CPython 3.11 drops a reference to ``None`` on every call of a method that returns
nothing; a few thousand calls later the process aborts with "Fatal Python error: none_dealloc".
pyproject.toml pins a PySide6 without the bug. Each entry point runs in a process of its own
(one QApplication per process, made by the entry point's code, not by the test's session), then
makes 100,000 such calls (tests/qt_refcount_probe.py): an abort shows here as the exit status and
the fatal error on stderr, a smaller leak as a fall in ``sys.getrefcount(None)``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.qt_refcount_probe import CALLS, ENTRIES

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("entry", sorted(ENTRIES))
def test_void_qt_calls_keep_none_alive(entry: str, x_display: str, tmp_path: Path) -> None:
    env = {**os.environ, "DISPLAY": x_display, "QT_QPA_PLATFORM": "xcb"}
    result = subprocess.run([sys.executable, "-m", "tests.qt_refcount_probe", entry, str(tmp_path)], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=240, check=False)
    assert result.returncode == 0, f"{entry} exited with {result.returncode}:\n{result.stderr[-3000:]}"
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["platform"] == "xcb" and report["calls"] == CALLS
    assert report["after"] >= report["before"], f"None lost references in {entry}: {report}"
    assert min(report["changes"].values()) >= 0, report
