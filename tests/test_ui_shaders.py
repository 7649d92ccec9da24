"""An artist edits a shader while the app runs (--shader-dir): the error shows, the output goes on."""

from __future__ import annotations

import shutil
from pathlib import Path

from installation.core.paths import UserDirs, resource_dir
from installation.midi.router import Router
from tests.appkit import pixels, pump, start_app, stop_app
from tests.test_osc_listener import oscsend


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


def test_a_new_header_input_is_a_parameter_the_panel_osc_midi_learn_and_presets_reach(qt_session: object,
                                                                                         tmp_path: Path) -> None:
    shaders = tmp_path / "shaders"
    shutil.copytree(resource_dir("shaders"), shaders)
    app = start_app(shader_dir=shaders, osc="127.0.0.1:0")
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

        oscsend(app.runtime.part("osc").port, "/myco/param/shader.festival.shimmer", "f", 1.5)  # OSC (liblo)
        assert pump(10, lambda: bank.target("shader.festival.shimmer") == 1.5), "OSC does not reach it"

        # MIDI learn, through the MIDI layer the port wrapper drives (the JACK ports are tested in test_midi_*)
        router = Router([], [], lambda name: bank.spec(name) if name in bank else None, bank.get)
        router.open_port("test-controller")
        router.arm("param:shader.festival.shimmer")
        router.handle("test-controller", [0xB0, 70, 64], 0.0)  # the control moved while learning
        router.tick(0.5)  # no 14-bit partner followed: a plain CC
        assert [str(binding.target) for binding in router.learned] == ["param:shader.festival.shimmer"]

        app.edit("shader.festival.shimmer", 1.25)  # an edit in the panel, saved into the user's preset
        app.act("save")
        saved = UserDirs.default().user_preset_path(app.runtime.engine.preset.name)
        assert '"shader.festival.shimmer" = 1.25' in saved.read_text()
        bank.set("shader.festival.shimmer", 0.1, "ui", immediate=True)
        app.runtime.engine.recall(saved.stem, crossfade_s=0.0)
        assert bank.get("shader.festival.shimmer") == 1.25, "the preset does not bring it back"
    finally:
        stop_app(app)
