"""Run one Myco entry point in this process, then make 100,000 void Qt calls and report ``None``'s count.

    python -m tests.qt_refcount_probe ENTRY FOLDER

ENTRY is one of :data:`ENTRIES`; FOLDER is a scratch folder for what the entry point writes. The
entry point runs as it does for a user (through ``installation.cli.main`` or the thumbnail
process's ``main``), so Qt and vispy are set up by its own code, not by this probe. Afterwards the
probe calls Qt methods that return nothing and prints one JSON line with ``sys.getrefcount(None)``
before and after. PySide6 6.12.0 on CPython 3.11 drops a reference to ``None`` on every such call;
there the process aborts with "Fatal Python error: none_dealloc" (see tests/test_qt_refcount.py).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

from installation import cli

CALLS = 100_000
TINY_RUN = ["--no-audio", "--no-status", "--quality", "low", "--seconds", "2"]


def _thumbnails(folder: str) -> int:
    from installation.app import thumbnails

    return thumbnails.main([folder, "kai-1-living-city"])


ENTRIES: dict[str, Callable[[str], int]] = {
    "run": lambda folder: cli.main(["run", *TINY_RUN]),
    "headless": lambda folder: cli.main(["run", "--headless", "--size", "160x90", *TINY_RUN]),
    "render": lambda folder: cli.main(["render", "--show", "kai-festival", "--seconds", "0.5", "--size", "160x90",
                                       "--fps", "10", "--quality", "low", "--agents", "4096", "--no-progress",
                                       "--no-audio", "--png", folder]),
    "check": lambda folder: cli.main(["check"]),
    "thumbnails": _thumbnails,
}


def void_calls(count: int) -> dict[str, int]:
    """``count`` calls of Qt methods returning nothing; the change in ``None``'s count per method."""
    from PySide6.QtGui import QColor, QImage, QPainter, QPen
    from PySide6.QtWidgets import QApplication, QLabel

    app = QApplication.instance()
    if not isinstance(app, QApplication):  # the probe must not make Qt's application itself
        raise SystemExit(f"the entry point left no QApplication (found {app!r})")
    label = QLabel()
    image = QImage(16, 16, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    pen = QPen(QColor(10, 20, 30))
    calls: dict[str, Callable[[], None]] = {
        "QLabel.setText": lambda: label.setText("x"),
        "QWidget.update": label.update,
        "QWidget.setVisible": lambda: label.setVisible(False),
        "QPainter.setPen": lambda: painter.setPen(pen),
    }
    changes: dict[str, int] = {}
    try:
        for name, call in calls.items():
            before = sys.getrefcount(None)
            for _ in range(count // len(calls)):
                call()
            changes[name] = sys.getrefcount(None) - before
    finally:
        painter.end()
    return changes


def main(argv: list[str]) -> int:
    entry, folder = argv
    code = ENTRIES[entry](folder)
    if code != 0:
        print(f"{entry} exited with {code}", file=sys.stderr)
        return code
    from PySide6 import __version__ as pyside_version
    from PySide6.QtWidgets import QApplication

    before = sys.getrefcount(None)
    changes = void_calls(CALLS)
    after = sys.getrefcount(None)
    print(json.dumps({"entry": entry, "pyside6": pyside_version, "python": sys.version.split()[0],
                      "platform": QApplication.platformName(), "calls": CALLS,
                      "before": before, "after": after, "changes": changes}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
