"""Screenshots of the mapping editor for docs/exhibition.md, taken under Xvfb.

Usage: python scripts/editor_screenshots.py [--out docs/images] [--seconds 8]

Starts an X server (Xvfb) unless DISPLAY is set, runs the real app on the shipped venue
``two-projectors`` (both outputs windowed on the one screen), opens the Mapping tab and saves
the control window in each mode, and the left output showing the numbered grid, as PNGs
(``mapping-*.png``), each scaled down until it is under 300 KB. Nothing is saved to the venue.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MAX_BYTES = 300_000


def save_small(image: object, path: Path) -> None:
    """Save ``image`` (a QImage) as PNG, 10% smaller each time until it fits in MAX_BYTES."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage

    assert isinstance(image, QImage)
    while True:
        image.save(str(path))
        if path.stat().st_size <= MAX_BYTES:
            break
        image = image.scaledToWidth(round(image.width() * 0.9), Qt.TransformationMode.SmoothTransformation)
    print(f"wrote {path} ({image.width()}x{image.height()}, {path.stat().st_size // 1000} KB)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--seconds", type=float, default=8.0, help="how long the show grows before the shots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ["MYCO_HOME"] = tempfile.mkdtemp(prefix="myco-editor-shots-")  # nothing of the user's is shown
    from tests.services import x_server

    with x_server():
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest
        from PySide6.QtWidgets import QApplication

        from installation.ui import theme
        from installation.ui.gl_output import share_gl_contexts
        from tests.appkit import pump, start_app, stop_app

        share_gl_contexts()  # as run_gui does: the outputs' views sample the one world's picture
        qt = QApplication([])
        theme.apply(qt)
        # the venue's canvas at half size: the same picture, drawn faster on a software renderer
        app = start_app(venue="two-projectors", canvas=(1200, 360), quality="medium")
        app.control.resize(1280, 860)
        editor = app.mapping_editor
        shots = {}
        try:
            pump(args.seconds)
            app.act("mapping")
            editor.picker.setCurrentIndex(0)  # the left projector
            QTest.keyClick(editor.canvas, Qt.Key.Key_1)  # the numbered grid
            editor.model.select(1)  # its top-right corner, ready to drag or nudge
            editor.refresh_preview()
            pump(1.0)
            shots["mapping-corners"] = app.control.grab().toImage()
            shots["mapping-output"] = app.views[0].grab()
            editor.picker.setCurrentIndex(1)  # the right one: a 5 x 4 mesh over its pin
            editor.set_mode("mesh")
            editor.columns.setValue(5)
            editor.rows.setValue(4)
            editor.model.select(7)
            pump(1.0)
            shots["mapping-mesh"] = app.control.grab().toImage()
            QTest.keyClick(editor.canvas, Qt.Key.Key_3)  # the blend check over the overlap
            editor.set_mode("pin")
            pump(1.0)
            shots["mapping-blend"] = app.control.grab().toImage()
            QTest.keyClick(editor.canvas, Qt.Key.Key_0)  # the show, with a feathered mask round a doorway
            editor.set_mode("mask")
            for point in ((0.62, 0.45), (0.8, 0.45), (0.8, 1.02), (0.62, 1.02)):
                editor.model.add_mask_point(point)
            editor.model.close_mask()
            editor.model.toggle_invert()
            editor.feather.setValue(0.02)
            editor.refresh_preview()
            pump(1.0)
            shots["mapping-masks"] = app.control.grab().toImage()
            for name, image in shots.items():
                save_small(image, args.out / f"{name}.png")
        finally:
            stop_app(app)
            qt.shutdown()  # type: ignore[attr-defined]
    return 0


if __name__ == "__main__":
    sys.exit(main())
