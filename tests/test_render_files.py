"""Shader files without GL: includes, the line map back to files, looks and parameters."""

from __future__ import annotations

import codecs
import os
import shutil
from pathlib import Path

import pytest

from installation.core.errors import LoadError
from installation.core.params import ParamBank
from installation.core.paths import resource_dir
from installation.render.glsl import assemble, load_program, map_errors
from installation.render.looks import PALETTE_KEYS, load_look, look_names
from installation.render.params import param_specs, shader_specs

HEADER = '/*{\n "INPUTS": [{"NAME": "gain", "TYPE": "float", "DEFAULT": 1, "MIN": 0, "MAX": 2}]\n}*/\n'


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_includes_expand_and_every_line_knows_its_file(tmp_path: Path) -> None:
    _write(tmp_path, "include/lib.glsl", "float helper() {\n    return 1.0;\n}\n")
    body = '#include "lib.glsl"\nvoid main() {\n    gl_FragColor = vec4(gain);\n}\n'
    frag = _write(tmp_path, "a.frag", HEADER + body)
    _write(tmp_path, "quad.vert", "attribute vec2 a_position;\nvoid main() { gl_Position = vec4(a_position, 0, 1); }\n")
    program = load_program(frag, tmp_path)
    code_lines = program.fragment.code.split("\n")
    assert code_lines[0] == "#version 120"
    assert "uniform float gain;" in code_lines
    helper = code_lines.index("    return 1.0;") + 1
    assert program.fragment.origin(helper) == (str(tmp_path / "include/lib.glsl"), 2)
    main = code_lines.index("    gl_FragColor = vec4(gain);") + 1
    assert program.fragment.origin(main) == (str(frag), 6)
    assert program.fragment.variables()["gain"] == "float"
    assert set(program.files) == {frag, (tmp_path / "include/lib.glsl").resolve(), tmp_path / "quad.vert"}


def test_compiler_messages_map_back_to_file_and_line(tmp_path: Path) -> None:
    _write(tmp_path, "quad.vert", "void main() {}\n")
    frag = _write(tmp_path, "a.frag", HEADER + "void main() {\n    gl_FragColor = vec4(gain)\n}\n")
    program = load_program(frag, tmp_path)
    broken = program.fragment.code.split("\n").index("    gl_FragColor = vec4(gain)") + 1
    vispy_style = f"Shader compilation error in GL_FRAGMENT_SHADER:\n    on line {broken}: error: syntax error\n  code"
    mesa_style = f"0:{broken}(1): error: syntax error"
    for message in (vispy_style, mesa_style):
        problems = map_errors(message, program)
        assert [(p.file, p.line) for p in problems] == [(str(frag), 5)]
        assert "syntax error" in problems[0].reason
        assert str(problems[0]).startswith(f"{frag}:5: glsl: ")


def test_include_problems_are_errors_with_a_line(tmp_path: Path) -> None:
    _write(tmp_path, "include/loop.glsl", '#include "loop.glsl"\n')
    missing = _write(tmp_path, "m.frag", 'void main() {}\n#include "nope.glsl"\n')
    with pytest.raises(LoadError) as caught:
        assemble(missing, load_header_of(missing), tmp_path)
    assert (caught.value.problems[0].line, "not found" in caught.value.problems[0].reason) == (2, True)
    looping = _write(tmp_path, "l.frag", '#include "loop.glsl"\n')
    with pytest.raises(LoadError, match="includes itself"):
        assemble(looping, load_header_of(looping), tmp_path)
    escaping = _write(tmp_path, "e.frag", '#include "../../etc/passwd"\n')
    with pytest.raises(LoadError, match="not found"):
        assemble(escaping, load_header_of(escaping), tmp_path)


QUAD = "attribute vec2 a_position;\nvoid main() { gl_Position = vec4(a_position, 0, 1); }\n"
FADE = ('/*{\n "INPUTS": [\n  {"NAME": "fade", "PARAM": "render.fade", "TYPE": "float", "DEFAULT": 1},\n'
        '  {"NAME": "surge", "TYPE": "event"}\n ]\n}*/\nfloat faded(float x) { return x * fade; }\n')

QUALITY = '/*{ "INPUTS": [\n {"NAME": "q", "PARAM": "render.quality", "TYPE": "long"}\n] }*/\n'


def test_an_include_headers_inputs_join_the_program_that_includes_it(tmp_path: Path) -> None:
    include = _write(tmp_path, "include/fade.glsl", FADE)
    body = '#include "fade.glsl"\nvoid main() { gl_FragColor = vec4(faded(gain)); }\n'
    frag = _write(tmp_path, "a.frag", HEADER + body)
    _write(tmp_path, "quad.vert", QUAD)
    program = load_program(frag, tmp_path)
    assert [(i.name, i.param, i.line) for i in program.inputs] == [
        ("gain", "shader.a.gain", 2), ("fade", "render.fade", 3), ("surge", "", 4)]
    for stage in (program.fragment, program.vertex):
        declared = stage.code.split("\n").index("uniform float fade;") + 1
        assert stage.origin(declared) == (str(include.resolve()), 3)
    faded = program.fragment.code.split("\n").index("float faded(float x) { return x * fade; }") + 1
    assert program.fragment.origin(faded) == (str(include.resolve()), 7)  # the header is no GLSL


def test_a_header_input_that_collides_is_an_error_at_its_line(tmp_path: Path) -> None:
    _write(tmp_path, "quad.vert", QUAD)
    _write(tmp_path, "include/fade.glsl", FADE)
    _write(tmp_path, "include/palette.glsl", '/*{ "INPUTS": [\n {"NAME": "pal_ground", "TYPE": "color"}\n] }*/\n')
    clash = _write(tmp_path, "clash.frag", HEADER.replace('"gain"', '"fade"') + '#include "fade.glsl"\n')
    with pytest.raises(LoadError) as caught:
        load_program(clash, tmp_path)
    assert [str(p) for p in caught.value.problems] == [
        f"{(tmp_path / 'include/fade.glsl').resolve()}:3: INPUTS.fade: the uniform 'fade' is declared already, "
        f"at {clash}:2"]
    palette = _write(tmp_path, "p.frag", '#include "palette.glsl"\nvoid main() {}\n')
    with pytest.raises(LoadError) as caught:
        load_program(palette, tmp_path)
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.key) == (
        str((tmp_path / "include/palette.glsl").resolve()), 2, "INPUTS.pal_ground.NAME")
    quality = _write(tmp_path, "q.frag", QUALITY)
    with pytest.raises(LoadError) as caught:
        load_program(quality, tmp_path)
    assert [(p.line, p.key) for p in caught.value.problems] == [(2, "INPUTS.q.PARAM")]  # it sizes textures


def load_header_of(path: Path):  # type: ignore[no-untyped-def]
    from installation.core.shaderheader import read_header

    return read_header(path)


def test_shipped_looks_are_complete() -> None:
    names = look_names()
    assert {"festival", "mural"} <= set(names)
    for name in names:
        look = load_look(name)
        assert set(look.palette) == set(PALETTE_KEYS)
        assert (Path(look.path).parent.parent / f"{look.composite}.frag").is_file()


def test_a_broken_look_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "looks").mkdir()
    (tmp_path / "festival.frag").write_text("void main() {}\n")
    (tmp_path / "looks/bad.toml").write_text('title = "x"\ncomposite = "festival"\n[palette]\nground = "#12"\n')
    with pytest.raises(LoadError) as caught:
        load_look("bad", tmp_path)
    lines = {p.key: p.line for p in caught.value.problems}
    assert lines["palette.ground"] == 4
    assert "palette.hyphae" in lines  # missing colours are named too
    with pytest.raises(LoadError, match="not found"):
        load_look("nothing", tmp_path)



def test_a_shader_saved_by_a_windows_editor_compiles_from_the_same_lines(tmp_path: Path) -> None:
    shipped = resource_dir("shaders")
    copy = tmp_path / "shaders"
    shutil.copytree(shipped, copy)
    for path in (copy / "festival.frag", copy / "include" / "scene.glsl"):  # a BOM and CRLF line endings
        path.write_bytes(codecs.BOM_UTF8 + path.read_bytes().replace(b"\n", b"\r\n"))
    plain, windows = load_program(shipped / "festival.frag", shipped), load_program(copy / "festival.frag", copy)
    assert windows.fragment.code == plain.fragment.code and windows.header.inputs == plain.header.inputs
    assert [origin and origin[1] for origin in windows.fragment.origins] == \
        [origin and origin[1] for origin in plain.fragment.origins]


def test_a_hostile_include_or_look_is_the_loaders_error(tmp_path: Path) -> None:
    copy = tmp_path / "shaders"
    shutil.copytree(resource_dir("shaders"), copy)
    (copy / "include" / "scene.glsl").unlink()
    os.mkfifo(copy / "include" / "scene.glsl")  # an include that would block a plain read forever
    with pytest.raises(LoadError) as caught:
        load_program(copy / "festival.frag", copy)
    assert str(caught.value) == f"{(copy / 'include' / 'scene.glsl').resolve()}:0: -: a named pipe, not a file"
    look = copy / "looks" / "festival.toml"
    look.write_text(look.read_text() + "deep = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(LoadError, match="nested more than"):
        load_look("festival", copy)

def test_every_shipped_shader_parameter_registers() -> None:
    specs, problems = shader_specs()
    assert problems == []
    names = {spec.name for spec in specs}
    assert {"shader.agents.sensor_angle", "shader.festival.warmth", "shader.mural.cold_grip",
            "shader.post.vignette"} <= names
    bank = ParamBank()
    bank.register_all(param_specs())
    assert bank.get("render.quality") == "medium"
    assert all(name.startswith(("render.", "shader.")) for name in bank.names())


# What render/params.renderer_specs() declared in code before the headers took over: name ->
# (default, minimum, maximum, smoothing, label, unit). Presets, MIDI maps and OSC use these names.
RENDER_PARAMS = {
    "render.exposure": (1.0, 0.1, 4.0, 0.5, "Exposure", "x"),
    "render.blackout": (0.0, 0.0, 1.0, 1.5, "Blackout", ""),
    "render.hue_shift": (0.0, -0.5, 0.5, 1.0, "Hue shift", "turn"),
    "render.saturation": (1.0, 0.0, 2.0, 1.0, "Saturation", "x"),
    "render.speed": (1.0, 0.0, 3.0, 0.5, "Speed", "x"),
    "render.events": (1.0, 0.0, 2.0, 0.3, "Event intensity", "x"),
}


def test_every_render_parameter_is_declared_as_before() -> None:
    specs = {spec.name: spec for spec in param_specs()}
    assert sorted(name for name in specs if name.startswith("render.")) == sorted([*RENDER_PARAMS, "render.quality"])
    for name, expected in RENDER_PARAMS.items():
        spec = specs[name]
        assert (spec.default, spec.minimum, spec.maximum, spec.smoothing_s, spec.label, spec.unit) == expected, name
    assert (specs["render.quality"].default, specs["render.quality"].choices) == (
        "medium", ("low", "medium", "high", "ultra"))
    assert len(specs) == len(param_specs())  # each once, however many programs read it


def test_headers_that_declare_one_parameter_unalike_are_reported(tmp_path: Path) -> None:
    _write(tmp_path, "include/fade.glsl", FADE)
    other = _write(tmp_path, "b.frag", FADE.replace('"DEFAULT": 1', '"DEFAULT": 0.5'))
    quality = _write(tmp_path, "c.frag", QUALITY)
    specs, problems = shader_specs(tmp_path)
    assert [spec.name for spec in specs] == ["render.fade"]
    assert [(p.file, p.line, p.key) for p in problems] == [
        (str(tmp_path / "include/fade.glsl"), 3, "INPUTS.fade"), (str(quality), 2, "INPUTS.q.PARAM")]
    assert f"unlike {other}:3" in problems[0].reason and "the renderer declares it" in problems[1].reason


def test_a_broken_header_drops_only_its_own_parameters(tmp_path: Path) -> None:
    (tmp_path / "good.frag").write_text(HEADER + "void main() {}\n")
    (tmp_path / "bad.frag").write_text('/*{ "INPUTS": 3 }*/\n')
    specs, problems = shader_specs(tmp_path)
    assert [s.name for s in specs] == ["shader.good.gain"]
    assert problems[0].file.endswith("bad.frag") and problems[0].key == "INPUTS"


def test_transients_age_expire_and_turn_the_drones_back() -> None:
    import numpy as np

    from installation.core.events import Event, EventKind
    from installation.render.transients import KIND_CODES, NEVER, Transients

    ids = ("a", "b")
    positions = np.array([[0.2, 0.2], [0.9, 0.9]], np.float32)
    memory = Transients()
    memory.add([Event(EventKind.DISRUPTION, strength=1.0), Event(EventKind.SPIKE_BURST, x=0.2, y=0.25),
                Event(EventKind.SURGE, node="b")], now=1.0, node_ids=ids, positions=positions)
    assert memory.since_spike(ids, 1.5).tolist() == [0.5, 1.5 + NEVER]  # only the node near the burst
    memory.add([Event(EventKind.SHIELD, x=0.5, y=0.5)], now=4.0, node_ids=ids, positions=positions)
    drone = next(item for item in memory.items if item.kind is EventKind.DISRUPTION)
    assert drone.turn == 3.0  # the drones were 3 s in when the shield rose
    texture = memory.texture(5.0)
    surge = next(slot for slot in range(4) if texture[0, slot, 0] == KIND_CODES[EventKind.SURGE])
    assert texture[0, surge, 1:].tolist() == pytest.approx([0.9, 0.9, 4.0])  # placed at its node, 4 s old
    assert memory.envelopes(5.0)["shield"] == pytest.approx(0.9)
    memory.add([], now=100.0, node_ids=ids, positions=positions)
    assert memory.items == [] and memory.envelopes(100.0) == {}
