"""The ISF-style shader header parser: inputs become parameters; mistakes name file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from installation.core.errors import LoadError
from installation.core.params import Kind, ParamBank
from installation.core.shaderheader import parse_header, split_header

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
    assert ("INPUTS.u_time.NAME", 6) in found
    assert ("INPUTS.not_an_event.NAME", 7) in found
    assert any(key == "INPUTS.dup" for key, _ in found)
    assert ("WHATEVER", 1) in found


def test_an_unclosed_header_is_an_error() -> None:
    with pytest.raises(LoadError, match="never closed"):
        parse_header('/*{ "INPUTS": []\nvoid main() {}\n', Path("open.frag"))


def test_split_header_leaves_ordinary_comments_alone() -> None:
    json_text, _, body, line = split_header("/* just a comment */\nvoid main() {}\n")
    assert json_text is None and line == 1 and body.startswith("/* just")
