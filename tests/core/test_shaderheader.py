"""The ISF-style shader header parser: inputs become parameters; mistakes name file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from installation.core.errors import LoadError
from installation.core.params import Kind, ParamBank
from installation.core.shaderheader import declared_inputs, input_spec, parse_header, program_inputs, split_header

pytestmark = pytest.mark.core

GOOD = """/*{
  "DESCRIPTION": "test",
  "INPUTS": [
    {"NAME": "speed", "TYPE": "float", "MIN": 0.0, "MAX": 2.0, "DEFAULT": 0.5, "LABEL": "Speed",
     "UNIT": "x", "SMOOTHING": 0.25},
    {"NAME": "count", "TYPE": "long", "MIN": 1, "MAX": 8, "DEFAULT": 3},
    {"NAME": "enabled", "TYPE": "bool", "DEFAULT": true},
    {"NAME": "tint", "TYPE": "color", "DEFAULT": "#ff8000"},
    {"NAME": "surge", "TYPE": "event"}
  ]
}*/
void main() {
    gl_FragColor = vec4(speed);
}
"""


def test_inputs_become_parameters_named_after_the_file() -> None:
    header = parse_header(GOOD, Path("shaders/glow.frag"))
    specs = {spec.name: spec for spec in header.param_specs()}
    assert sorted(specs) == ["shader.glow.count", "shader.glow.enabled", "shader.glow.speed", "shader.glow.tint"]
    speed = specs["shader.glow.speed"]
    assert (speed.kind, speed.minimum, speed.maximum, speed.default) == (Kind.FLOAT, 0.0, 2.0, 0.5)
    assert (speed.label, speed.unit, speed.smoothing_s) == ("Speed", "x", 0.25)
    assert specs["shader.glow.count"].kind is Kind.INT and specs["shader.glow.count"].default == 3
    assert specs["shader.glow.enabled"].default is True
    assert specs["shader.glow.tint"].default == pytest.approx((1.0, 128 / 255, 0.0))
    bank = ParamBank()
    bank.register_all(header.param_specs())
    assert bank.get("shader.glow.speed") == 0.5


def test_event_inputs_are_uniforms_not_parameters() -> None:
    header = parse_header(GOOD, Path("glow.frag"))
    assert [i.name for i in header.inputs if i.type == "event"] == ["surge"]
    assert "shader.glow.surge" not in {s.name for s in header.param_specs()}


def test_body_starts_after_the_header_with_its_line_number() -> None:
    header = parse_header(GOOD, Path("glow.frag"))
    assert header.body_line == 11  # the body starts right after '}*/' on line 11
    assert header.body.split("\n")[1] == "void main() {"
    assert GOOD.split("\n")[11] == "void main() {"  # file line 12


def test_a_file_without_header_has_no_inputs() -> None:
    header = parse_header("void main() {}\n", Path("plain.frag"))
    assert header.inputs == () and header.body_line == 1


def test_invalid_json_is_reported_at_its_file_line() -> None:
    text = '/*{\n  "INPUTS": [\n    {"NAME": "a", "TYPE": "float",}\n  ]\n}*/\nvoid main() {}\n'
    with pytest.raises(LoadError) as caught:
        parse_header(text, Path("bad.frag"))
    problem = caught.value.problems[0]
    assert (problem.file, problem.line) == ("bad.frag", 3)
    assert "invalid JSON" in problem.reason


def test_every_bad_input_is_reported_at_once() -> None:
    text = """/*{
  "INPUTS": [
    {"NAME": "Bad Name", "TYPE": "float"},
    {"NAME": "kind", "TYPE": "vec9"},
    {"NAME": "range", "TYPE": "float", "MIN": 2, "MAX": 1, "DEFAULT": 1},
    {"NAME": "u_time", "TYPE": "float"},
    {"NAME": "not_an_event", "TYPE": "event"},
    {"NAME": "dup", "TYPE": "float"},
    {"NAME": "dup", "TYPE": "float"}
  ],
  "WHATEVER": 1
}*/
"""
    with pytest.raises(LoadError) as caught:
        parse_header(text, Path("many.frag"))
    found = {(p.key, p.line) for p in caught.value.problems}
    assert ("INPUTS[0].NAME", 3) in found
    assert ("INPUTS.kind.TYPE", 4) in found
    assert ("INPUTS.range", 5) in found
    assert ("INPUTS.u_time.NAME", 6) in found  # a uniform Myco sets
    assert ("INPUTS.not_an_event.NAME", 7) in found
    assert any(key == "INPUTS.dup" for key, _ in found)
    assert ("WHATEVER", 1) in found


def test_an_unclosed_header_is_an_error() -> None:
    with pytest.raises(LoadError, match="never closed"):
        parse_header('/*{ "INPUTS": []\nvoid main() {}\n', Path("open.frag"))


def test_split_header_leaves_ordinary_comments_alone() -> None:
    json_text, _, body, line = split_header("/* just a comment */\nvoid main() {}\n")
    assert json_text is None and line == 1 and body.startswith("/* just")


def _inputs(*lines: str) -> str:
    return '/*{\n  "INPUTS": [\n' + ",\n".join(f"    {line}" for line in lines) + "\n  ]\n}*/\n"


@pytest.mark.parametrize("name", ["u_speed", "u_trail", "pal_ground", "a_position", "v_uv", "gl_fragcolor", "main"])
def test_an_input_named_like_what_myco_sets_is_refused_at_its_line(name: str) -> None:
    text = _inputs('{"NAME": "fine", "TYPE": "float"}', f'{{"NAME": "{name}", "TYPE": "float"}}')
    with pytest.raises(LoadError) as caught:
        parse_header(text, Path("shaders/x.frag"))
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.key) == ("shaders/x.frag", 4, f"INPUTS.{name}.NAME")
    assert "u_, a_, v_, pal_, gl_" in problem.reason


def test_param_binds_an_input_to_a_renderer_parameter() -> None:
    text = _inputs('{"NAME": "gain", "PARAM": "render.gain", "TYPE": "float", "MAX": 2, "DEFAULT": 1, "LABEL": "Gain"}',
                   '{"NAME": "own", "PARAM": "shader.glow.own", "TYPE": "float"}', '{"NAME": "plain", "TYPE": "bool"}')
    header = parse_header(text, Path("glow.frag"))
    assert [(i.name, i.param) for i in header.inputs] == [
        ("gain", "render.gain"), ("own", "shader.glow.own"), ("plain", "shader.glow.plain")]
    assert [s.name for s in header.param_specs()] == ["shader.glow.own", "shader.glow.plain"]  # the file's own
    declared, problems = declared_inputs([header])
    bound = input_spec(declared[0])
    assert (bound.name, bound.default, bound.maximum, bound.label, problems) == ("render.gain", 1.0, 2.0, "Gain", [])


@pytest.mark.parametrize(("param", "why"), [
    ("shader.other.gain", "leave PARAM out for shader.glow.gain"),
    ("shader.glow.other", "leave PARAM out"),
    ("synth.volume", "render.<name>"),
    ("render.Gain", "render.<name>"),
    ("render", "render.<name>"),
    ("render.a.b", "render.<name>"),
    (3, "render.<name>"),
])
def test_a_bad_param_is_refused_at_its_line(param: object, why: str) -> None:
    shown = f'"{param}"' if isinstance(param, str) else str(param)
    text = _inputs('{"NAME": "fine", "TYPE": "float"}', f'{{"NAME": "gain", "PARAM": {shown}, "TYPE": "float"}}')
    with pytest.raises(LoadError) as caught:
        parse_header(text, Path("glow.frag"))
    [problem] = caught.value.problems
    assert (problem.line, problem.key) == (4, "INPUTS.gain.PARAM") and why in problem.reason


def test_an_event_input_reads_no_parameter() -> None:
    with pytest.raises(LoadError, match=r"INPUTS\.surge\.PARAM: an event input reads no parameter"):
        parse_header(_inputs('{"NAME": "surge", "PARAM": "render.surge", "TYPE": "event"}'), Path("glow.frag"))


SPEED = '{"NAME": "speed", "PARAM": "render.speed", "TYPE": "float", "MAX": 3, "DEFAULT": 1}'


def test_a_programs_inputs_join_its_includes_and_count_a_file_once() -> None:
    program = parse_header(_inputs('{"NAME": "gain", "TYPE": "float"}'), Path("shaders/a.frag"))
    include = parse_header(_inputs(SPEED, '{"NAME": "surge", "TYPE": "event"}'), Path("shaders/include/speed.glsl"))
    inputs = program_inputs([program, include, include])
    assert [(i.name, i.param, i.where) for i in inputs] == [
        ("gain", "shader.a.gain", "shaders/a.frag:3"), ("speed", "render.speed", "shaders/include/speed.glsl:3"),
        ("surge", "", "shaders/include/speed.glsl:4")]


def test_one_uniform_from_two_headers_is_an_error_naming_both_lines() -> None:
    program = parse_header(_inputs('{"NAME": "gain", "TYPE": "float"}', '{"NAME": "speed", "TYPE": "float"}'),
                           Path("shaders/a.frag"))
    include = parse_header(_inputs(SPEED), Path("shaders/include/speed.glsl"))
    with pytest.raises(LoadError) as caught:
        program_inputs([program, include])
    [problem] = caught.value.problems
    assert str(problem) == ("shaders/include/speed.glsl:3: INPUTS.speed: the uniform 'speed' is declared already, "
                            "at shaders/a.frag:4")


def test_one_parameter_declared_unalike_is_an_error_naming_both_lines() -> None:
    one = parse_header(_inputs(SPEED), Path("shaders/include/speed.glsl"))
    alike = parse_header(_inputs(SPEED.replace('"speed"', '"pace"')), Path("shaders/b.frag"))
    unalike = parse_header(_inputs('{"NAME": "fine", "TYPE": "float"}',
                                   SPEED.replace('"speed"', '"pace"').replace('"DEFAULT": 1', '"DEFAULT": 2')),
                           Path("shaders/c.frag"))
    assert [i.name for i in program_inputs([alike, one])] == ["pace", "speed"]  # one parameter, two uniforms
    with pytest.raises(LoadError) as caught:
        program_inputs([unalike, one])
    assert [str(p) for p in caught.value.problems] == [
        "shaders/include/speed.glsl:3: INPUTS.speed: declares render.speed unlike shaders/c.frag:4: "
        "one parameter, one declaration"]
    declared, problems = declared_inputs([one, alike, unalike])
    assert [(i.param, i.where) for i in declared] == [("render.speed", "shaders/include/speed.glsl:3"),
                                                       ("shader.c.fine", "shaders/c.frag:3")]
    assert [(p.file, p.line) for p in problems] == [("shaders/c.frag", 4)]
    assert "unlike shaders/include/speed.glsl:3" in problems[0].reason
