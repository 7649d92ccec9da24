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


def test_a_new_header_input_appears_in_the_bank_and_the_parameter_panel(qt_session: object, tmp_path: Path) -> None:
    shaders = tmp_path / "shaders"
    shutil.copytree(resource_dir("shaders"), shaders)
    app = start_app(shader_dir=shaders)
    try:
        bank = app.runtime.engine.bank
        assert pump(60, lambda: app.runtime.clock.frames >= 3)
        assert "shader.festival.shimmer" not in bank
        bank.set("shader.festival.warmth", 0.9, "ui", immediate=True)
        composite = shaders / "festival.frag"
        composite.write_text(composite.read_text().replace('"INPUTS": [', '"INPUTS": [\n    {"NAME": "shimmer", '
                             '"TYPE": "float", "MIN": 0.0, "MAX": 2.0, "DEFAULT": 0.7, "LABEL": "Shimmer"},', 1))
        assert pump(10, lambda: "shader.festival.shimmer" in app.params.rows), "the new input is not in the panel"
        assert bank.get("shader.festival.shimmer") == 0.7
        assert bank.get("shader.festival.warmth") == 0.9, "the save reset the shader's other inputs"
        assert not app.control.banner.isVisible(), app.control.banner.text()
    finally:
        stop_app(app)
