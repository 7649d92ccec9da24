"""An artist edits a shader while the app runs (--shader-dir): the error shows, the output goes on."""

from __future__ import annotations

import shutil
from pathlib import Path

from installation.core.paths import resource_dir
from tests.appkit import pixels, pump, start_app, stop_app


def test_broken_shader_shows_its_error_and_the_output_keeps_drawing(qt_session: object, tmp_path: Path) -> None:
    shaders = tmp_path / "shaders"
    shutil.copytree(resource_dir("shaders"), shaders)
    app = start_app(shader_dir=shaders)
    try:
        assert pump(60, lambda: app.runtime.clock.frames >= 3)
        composite = shaders / "festival.frag"
        good = composite.read_text()
        composite.write_text(good.replace("void main() {", "void main() {\n    vec3 oops = undefined_thing;", 1))
        assert pump(10, lambda: app.control.banner.isVisible()), "no error shown"
        text = app.control.banner.text()
        assert "festival.frag:" in text and "last good shader" in text, text
        drawn = app.runtime.clock.frames
        assert pump(10, lambda: app.runtime.clock.frames >= drawn + 3), "the output stopped"
        assert pixels(app).std() > 10, "the output went blank"
        composite.write_text(good)
        assert pump(10, lambda: not app.control.banner.isVisible()), "the error stayed after the fix"
    finally:
        stop_app(app)
