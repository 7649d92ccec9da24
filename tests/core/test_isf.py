"""ISF headers: inputs, passes, imported images, ISF 1.0 conversion, parameters, size expressions."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from installation.core.errors import LoadError
from installation.core.isf import eval_size, isf_param_specs, load_isf, slug
from installation.core.params import Kind, ParamSpec
from tests.fuzzing import fuzz

BODY = "void main() { gl_FragColor = vec4(1.0); }\n"


def write(folder: Path, name: str, header: Mapping[str, object] | str, body: str = BODY) -> Path:
    path = folder / name
    text = header if isinstance(header, str) else json.dumps(header, indent=2)
    path.write_text(f"/*{text}*/\n{body}")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(LoadError) as caught:
        load_isf(path)
    return [str(problem) for problem in caught.value.problems]


def test_a_filter_with_every_input_type(tmp_path: Path) -> None:
    header = {
        "ISFVSN": "2", "DESCRIPTION": "all of them", "CREDIT": "me", "CATEGORIES": ["Blur", "Test"],
        "INPUTS": [
            {"NAME": "inputImage", "TYPE": "image"},
            {"NAME": "blurAmount", "TYPE": "float", "MIN": 0, "MAX": 10, "DEFAULT": 2.5, "LABEL": "Blur"},
            {"NAME": "mode", "TYPE": "long", "VALUES": [0, 4, 7], "LABELS": ["a", "b", "c"], "DEFAULT": 4},
            {"NAME": "count", "TYPE": "long", "MIN": 1, "MAX": 8, "DEFAULT": 3},
            {"NAME": "flip", "TYPE": "bool", "DEFAULT": 1},
            {"NAME": "tint", "TYPE": "color", "DEFAULT": [1, 0.5, 0, 0.25]},
            {"NAME": "centre", "TYPE": "point2D", "DEFAULT": [0.25, 0.75], "MIN": [0, 0], "MAX": [1, 1]},
            {"NAME": "cursor", "TYPE": "point2D", "DEFAULT": [960, 270]},
            {"NAME": "bang", "TYPE": "event"},
            {"NAME": "wave", "TYPE": "audio", "MAX": 256},
            {"NAME": "spectrum", "TYPE": "audioFFT"},
        ],
    }
    path = write(tmp_path, "My Blur-2.fs", header)
    shader = load_isf(path)
    assert (shader.name, shader.title, shader.kind, shader.version) == ("my_blur_2", "My Blur-2", "filter", 2)
    assert shader.categories == ("Blur", "Test") and shader.credit == "me"
    text = path.read_text()
    assert shader.fragment_body == "\n" + BODY and shader.fragment_line == text.count("\n", 0, text.index("*/")) + 1
    mode = shader.input("mode")
    assert mode is not None and mode.values == (0, 4, 7) and mode.default == 4 and mode.value_of("c") == 7
    assert shader.input("wave").max_samples == 256  # type: ignore[union-attr]
    specs = {spec.name: spec for spec in isf_param_specs("my_blur", shader)}
    assert set(specs) == {
        "isf.my_blur.blurAmount", "isf.my_blur.mode", "isf.my_blur.count", "isf.my_blur.flip", "isf.my_blur.tint",
        "isf.my_blur.tint_alpha", "isf.my_blur.centre_x", "isf.my_blur.centre_y", "isf.my_blur.cursor_x",
        "isf.my_blur.cursor_y", "isf.my_blur.bang"}
    assert (specs["isf.my_blur.blurAmount"].default, specs["isf.my_blur.blurAmount"].maximum) == (2.5, 10)
    assert specs["isf.my_blur.mode"].kind is Kind.ENUM and specs["isf.my_blur.mode"].choices == ("a", "b", "c")
    assert specs["isf.my_blur.mode"].default == "b"
    assert specs["isf.my_blur.count"].kind is Kind.INT and specs["isf.my_blur.count"].default == 3
    assert specs["isf.my_blur.flip"].default is True and specs["isf.my_blur.bang"].default is False
    assert specs["isf.my_blur.tint"].default == (1.0, 0.5, 0.0) and specs["isf.my_blur.tint_alpha"].default == 0.25
    assert specs["isf.my_blur.centre_y"].default == 0.75
    assert specs["isf.my_blur.cursor_x"].default == pytest.approx(0.5)  # pixels read against 1920x1080
    assert specs["isf.my_blur.cursor_y"].default == pytest.approx(0.25)


def test_the_kind_follows_the_inputs(tmp_path: Path) -> None:
    transition = {"INPUTS": [{"NAME": "startImage", "TYPE": "image"}, {"NAME": "endImage", "TYPE": "image"},
                             {"NAME": "progress", "TYPE": "float"}]}
    assert load_isf(write(tmp_path, "t.fs", transition)).kind == "transition"
    assert load_isf(write(tmp_path, "g.fs", {"INPUTS": []})).kind == "generator"


def test_passes_and_sizes(tmp_path: Path) -> None:
    header = {"ISFVSN": "2", "INPUTS": [{"NAME": "scale", "TYPE": "float", "DEFAULT": 2, "MAX": 4}],
              "PASSES": [{"TARGET": "small", "WIDTH": "$WIDTH/4", "HEIGHT": "floor($HEIGHT*0.5)"},
                         {"TARGET": "acc", "PERSISTENT": True, "FLOAT": True, "WIDTH": 16, "HEIGHT": "16"},
                         {}]}
    shader = load_isf(write(tmp_path, "p.fs", header))
    small, acc, last = shader.passes
    assert (small.target, small.width, small.height) == ("small", "$WIDTH/4", "floor($HEIGHT*0.5)")
    assert acc.persistent and acc.float and (acc.width, acc.height) == ("16", "16")
    assert last.target == "" and shader.targets == ("small", "acc")
    assert eval_size(small.width, 640, 480, {}) == 160
    assert eval_size(small.height, 640, 481, {}, key="HEIGHT") == 240
    assert eval_size("max($WIDTH, $HEIGHT) / $scale + -(2 - 3) * 2", 640, 480, {"scale": 2.0}) == 322
    assert eval_size("", 640, 480, {}, key="HEIGHT") == 480
    assert eval_size("pow(2, 3) + sqrt(16) + ceil(0.2) + round(1.6)", 1, 1, {}) == 15
    for bad, reason in (("$WIDTH/0", "division by zero"), ("$DEPTH", "unknown variable"), ("2 +", "ends too early"),
                        ("__import__('os')", "unexpected"), ("(1", "not closed")):
        with pytest.raises(LoadError, match=reason):
            eval_size(bad, 640, 480, {}, path="x.fs", line=3)


def test_isf_1_is_converted(tmp_path: Path) -> None:
    (tmp_path / "dots.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    header = {"PERSISTENT_BUFFERS": {"trail": {"FLOAT": True, "WIDTH": "$WIDTH/2"}},
              "IMAGES": [{"NAME": "dots", "PATH": "dots.png"}],
              "PASSES": [{"TARGET": "trail"}, {}]}
    path = write(tmp_path, "old.fs", header, "void main() { gl_FragColor = vec4(vv_FragNormCoord, 0.0, 1.0); }")
    (tmp_path / "old.vs").write_text("void main() { vv_vertShaderInit(); }\n")
    shader = load_isf(path)
    assert shader.version == 1
    assert shader.passes[0].persistent and shader.passes[0].float and shader.passes[0].width == "$WIDTH/2"
    assert not shader.passes[1].persistent
    assert shader.imported == {"dots": tmp_path / "dots.png"}
    assert "isf_FragNormCoord" in shader.fragment_body and "vv_" not in shader.fragment_body
    assert shader.vertex_path == tmp_path / "old.vs" and "isf_vertShaderInit();" in shader.vertex_body


def test_header_errors_name_their_line(tmp_path: Path) -> None:
    header = """{
  "INPUTS": [
    {"NAME": "a", "TYPE": "float"},
    {"NAME": "b", "TYPE": "vec9"},
    {"TYPE": "float"},
    {"NAME": "a", "TYPE": "bool"},
    {"NAME": "c", "TYPE": "long", "VALUES": [1, 2], "LABELS": "one"}
  ],
  "PASSES": [{"TARGET": "x", "WIDTH": "$WIDTH/"}],
  "IMPORTED": {"pic": {"PATH": "missing.png"}}
}"""
    found = problems(write(tmp_path, "bad.fs", header))
    path = tmp_path / "bad.fs"
    assert f"{path}:4: b.TYPE: unknown TYPE 'vec9': one of event, bool, long, float, point2D, color, image, " \
           "audio, audioFFT" in found
    assert f"{path}:5: INPUTS[2].NAME: missing: every input needs a NAME" in found
    assert f"{path}:6: a: the name is taken twice (by an input and an input)" in found
    assert f"{path}:7: c.LABELS: must be a list of 2 strings, one for each of VALUES" in found
    assert any(p.startswith(f"{path}:9: PASSES.WIDTH: '$WIDTH/'") for p in found)
    assert f"{path}:10: IMPORTED.pic.PATH: image 'missing.png' not found beside the shader" in found


def test_bad_json_and_no_header(tmp_path: Path) -> None:
    found = problems(write(tmp_path, "j.fs", '{\n  "INPUTS": [\n    {"NAME": "a" "TYPE": "float"}\n  ]\n}'))
    assert found == [f"{tmp_path / 'j.fs'}:3: header: invalid JSON: Expecting ',' delimiter"]
    (tmp_path / "n.fs").write_text("void main() {}\n")
    assert problems(tmp_path / "n.fs")[0].endswith(":1: header: no ISF header: the file must start with a /*{ ... "
                                                    "}*/ JSON comment (// comment lines may come before it)")


def test_the_hosts_names_are_taken(tmp_path: Path) -> None:
    header = {"INPUTS": [{"NAME": "TIME", "TYPE": "float"}], "PASSES": [{"TARGET": "_isf_texCoord"}]}
    assert problems(write(tmp_path, "t.fs", header)) == [
        f"{tmp_path / 't.fs'}:3: TIME.NAME: the host's own name (a built-in): choose another",
        f"{tmp_path / 't.fs'}:9: PASSES[0].TARGET: must be the name of a buffer (a GLSL identifier, not a built-in's)"]


def test_two_inputs_may_not_make_one_parameter(tmp_path: Path) -> None:
    header = {"INPUTS": [{"NAME": "tint", "TYPE": "color"}, {"NAME": "tint_alpha", "TYPE": "float"}]}
    assert problems(write(tmp_path, "p.fs", header)) == [
        f"{tmp_path / 'p.fs'}:7: tint_alpha: its parameter tint_alpha would be another input's too"]


def test_defaults_are_clamped_into_range(tmp_path: Path) -> None:
    header = {"INPUTS": [{"NAME": "f", "TYPE": "float", "MIN": 0, "MAX": 1, "DEFAULT": 3},
                         {"NAME": "free", "TYPE": "float", "DEFAULT": 5},
                         {"NAME": "m", "TYPE": "long", "VALUES": [2, 3], "DEFAULT": 9}]}
    shader = load_isf(write(tmp_path, "c.fs", header))
    assert shader.input("f").default == 1.0  # type: ignore[union-attr]
    assert (shader.input("free").default, shader.input("free").maximum) == (5.0, 5.0)  # type: ignore[union-attr]
    assert shader.input("m").default == 2  # type: ignore[union-attr]


def test_upper_case_parameter_names() -> None:
    assert ParamSpec("isf.blur.blurAmount", Kind.FLOAT, 0.5).name == "isf.blur.blurAmount"
    for bad in ("Isf.blur.x", "isf.blur.bad-name", "isf"):
        with pytest.raises(ValueError):
            ParamSpec(bad, Kind.FLOAT, 0.5)


def test_slug() -> None:
    assert slug("3d Rotate") == "3d_rotate" and slug("CMYK Halftone-Lookaround") == "cmyk_halftone_lookaround"
    assert slug("!!!") == "shader"


ISF_KEYS = ["ISFVSN", "INPUTS", "PASSES", "IMPORTED", "IMAGES", "PERSISTENT_BUFFERS", "NAME", "TYPE", "DEFAULT",
            "MIN", "MAX", "VALUES", "LABELS", "LABEL", "TARGET", "PERSISTENT", "FLOAT", "WIDTH", "HEIGHT", "PATH",
            "CATEGORIES", "DESCRIPTION", "CREDIT", "IDENTITY"]
ISF_WORDS = ["float", "long", "bool", "event", "color", "point2D", "image", "audio", "audioFFT", "cube", "inputImage",
             "a", "b", "$WIDTH/2", "floor($HEIGHT*0.5)", "$a", "2", "x.png", "true", ""]
isf_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True),
                        st.sampled_from(ISF_WORDS), st.text(max_size=8))
isf_values: st.SearchStrategy[object] = st.recursive(
    isf_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                         st.dictionaries(st.sampled_from(ISF_KEYS), inner, max_size=6)),
    max_leaves=30)


@fuzz(400, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=st.dictionaries(st.sampled_from(ISF_KEYS), isf_values, max_size=6))
def test_any_header_loads_or_gets_a_load_error(tmp_path: Path, header: dict[str, object]) -> None:
    """Whatever the header holds: an IsfShader whose parameters can be declared, or a LoadError."""
    try:
        path = write(tmp_path, "fuzz.fs", json.dumps(header, allow_nan=True))
    except ValueError:
        return
    try:
        shader = load_isf(path)
    except LoadError as error:
        assert all(problem.file == str(path) for problem in error.problems)
        return
    names = [spec.name for spec in isf_param_specs("fuzz", shader)]
    assert len(set(names)) == len(names) and all(name.startswith("isf.fuzz.") for name in names)
    for step in shader.passes:
        assert 1 <= eval_size(step.width, 640, 480, {i.name: 1.0 for i in shader.inputs}) <= 16384


def test_no_file_where_the_shader_should_be(tmp_path: Path) -> None:
    (tmp_path / "folder.fs").mkdir()
    assert problems(tmp_path / "folder.fs") == [f"{tmp_path / 'folder.fs'}:0: -: a folder, not a file"]
    deep = "[" * 5000 + "]" * 5000
    [found] = problems(write(tmp_path, "deep.fs", '{"INPUTS": ' + deep + "}"))
    assert found.endswith("nested more than 16 levels deep")


def test_a_vertex_shader_art_file_is_refused_by_name(tmp_path: Path) -> None:
    header = '{\n  "ISFVSN": "2",\n  "MODE": "VERTEX_SHADER_ART",\n  "POINT_COUNT": 3,\n  "INPUTS": []\n}'
    path = write(tmp_path, "points.fs", header, "void main() { gl_Position = vec4(vertexId); }\n")
    assert problems(path) == [f"{path}:3: MODE: 'VERTEX_SHADER_ART': vertex-shader-art files are not supported "
                              "by Myco (only fragment ISF)"]


def test_another_hosts_material_is_refused_by_name(tmp_path: Path) -> None:
    header = '{\n  "RESOURCE_TYPE": "Material For Some Mapper",\n  "INPUTS": [{"NAME": "n", "TYPE": "int"}]\n}'
    path = write(tmp_path, "material.fs", header, "vec4 materialColorForPixel(vec2 uv) { return vec4(uv, 0, 1); }\n")
    assert problems(path) == [f"{path}:2: RESOURCE_TYPE: 'Material For Some Mapper': written for that host's own "
                              "shader code, not an ISF file"]


def test_a_2_0_file_keeps_the_1_0_names_working(tmp_path: Path) -> None:
    path = write(tmp_path, "new.fs", {"ISFVSN": "2", "INPUTS": []},
                 "void main() { gl_FragColor = vec4(vv_FragNormCoord, 0.0, 1.0); }")
    (tmp_path / "new.vs").write_text("void main() { vv_vertShaderInit(); }\n")
    shader = load_isf(path)
    assert shader.version == 2
    assert "vv_" not in shader.fragment_body and "isf_vertShaderInit();" in shader.vertex_body


def test_header_quirks_the_reference_hosts_let_pass(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Commas before a closing bracket, numbers in strings, VALUES that are names, LABELS short of VALUES."""
    header = """{
  "INPUTS": [
    {"NAME": "gain", "TYPE": "float", "MIN": "0", "MAX": "2.5", "DEFAULT": "1.5",},
    {"NAME": "filter", "TYPE": "long", "VALUES": ["Pass", "Reject", "Keep"], "DEFAULT": "Reject"},
    {"NAME": "steps", "TYPE": "long", "VALUES": ["1", "2", 4], "LABELS": ["one"], "DEFAULT": 4},
  ],
}"""
    shader = load_isf(write(tmp_path, "q.fs", header))
    gain, choice, steps = shader.inputs
    assert (gain.default, gain.minimum, gain.maximum) == (1.5, 0.0, 2.5)
    assert (choice.values, choice.labels, choice.default) == ((0, 1, 2), ("Pass", "Reject", "Keep"), 1)
    assert (steps.values, steps.labels, steps.default) == ((1, 2, 4), ("one", "2", "4"), 4)
    assert "a comma before a closing bracket" in caplog.text and "1 labels for 3 VALUES" in caplog.text


def test_an_include_is_refused_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "inc.fs", {"INPUTS": []}, '\n#include "Common.glsl"\nvoid main() {}\n')
    assert problems(path) == [f"{path}:5: glsl: #include \"Common.glsl\": ISF files cannot include other files "
                              "(written for another host?)"]


def test_comment_lines_may_come_before_the_header(tmp_path: Path) -> None:
    path = tmp_path / "signed.fs"
    path.write_text('// My Shader, week 3\n// by someone\n\n/*{\n  "INPUTS": [\n'
                    '    {"NAME": "speed", "TYPE": "float"}\n  ]\n}*/\nvoid main() { gl_FragColor = vec4(speed); }\n')
    shader = load_isf(path)
    assert [item.name for item in shader.inputs] == ["speed"] and shader.inputs[0].line == 6
    assert shader.fragment_line == 8 and shader.fragment_body.startswith("\nvoid main()")
    (tmp_path / "code.fs").write_text('float x = 1.0;\n/*{"INPUTS": []}*/\nvoid main() {}\n')
    assert problems(tmp_path / "code.fs")[0].startswith(f"{tmp_path / 'code.fs'}:1: header: no ISF header")
