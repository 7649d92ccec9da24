"""ISF-style JSON headers of shader files, and the parameters they declare.

A shader file in ``shaders/`` may start with a ``/*{ ... }*/`` comment holding JSON::

    /*{
      "DESCRIPTION": "physarum agent update",
      "INPUTS": [
        {"NAME": "sensor_angle", "TYPE": "float", "MIN": 0.1, "MAX": 1.4, "DEFAULT": 0.5,
         "LABEL": "Sensor angle", "UNIT": "rad", "SMOOTHING": 0.5},
        {"NAME": "surge", "TYPE": "event"}
      ]
    }*/

Each input of type float, long, bool or color becomes the uniform ``NAME`` in the program and
the parameter ``shader.<file stem>.<NAME>``, or the renderer's parameter named by ``"PARAM"``
(``"render.exposure"``). An ``event`` input is no parameter: its uniform carries the envelope
(1 fading to 0) of the latest event of that kind. An include file may have a header too: its
inputs join those of every program that includes it (:func:`program_inputs`). A ``NAME`` may
not take a name Myco gives a uniform, attribute or varying of its own (:func:`reserved`).
Pure: no GL here, so ``myco check`` and the parameter bank can use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from installation.core.errors import LoadError, Problem
from installation.core.events import EventKind
from installation.core.params import (
    Curve,
    ParamSpec,
    bool_param,
    color_param,
    float_param,
    int_param,
)
from installation.core.textfile import loads_json, read_text

INPUT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
STEM_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
INPUT_TYPES = ("float", "long", "bool", "color", "event")
# A header may bind an input to one of the renderer's own parameters (the ``render.`` part); any
# other part's parameter is declared by that part, and a shader's own is named after its file.
BOUND_PARAM = re.compile(r"^render\.[a-z][a-z0-9_]{0,31}$")
INPUT_KEYS = {"NAME", "PARAM", "TYPE", "MIN", "MAX", "DEFAULT", "LABEL", "UNIT", "SMOOTHING", "CURVE",
              "DESCRIPTION"}
HEADER_KEYS = {"DESCRIPTION", "CREDIT", "CATEGORIES", "VERTEX", "INPUTS", "ISFVSN", "VSN"}
# Names Myco gives things itself: its uniforms (u_time, u_trail, u_events...), attributes
# (a_position...), varyings (v_uv...), the look's palette (pal_ground...); GLSL's built-ins; main.
RESERVED_PREFIXES = ("u_", "a_", "v_", "pal_", "gl_")
RESERVED_NAMES = frozenset({"main"})
_OPEN = re.compile(r"\A\s*/\*\s*(?=\{)")


def reserved(name: str) -> bool:
    """Whether a header input may not be called ``name`` (the uniform would be one Myco sets)."""
    return name in RESERVED_NAMES or name.startswith(RESERVED_PREFIXES)


@dataclass(frozen=True)
class ShaderInput:
    """One header input. ``param`` is the parameter it reads ('' for an event input); ``file``
    and ``line`` say where it is declared."""

    name: str
    type: str
    param: str = ""
    default: Any = None
    minimum: float = 0.0
    maximum: float = 1.0
    label: str = ""
    unit: str = ""
    smoothing_s: float = 0.0
    curve: Curve = Curve.LINEAR
    description: str = ""
    line: int = 0
    file: str = field(default="", compare=False)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def glsl_type(self) -> str:
        return {"float": "float", "long": "int", "bool": "bool", "color": "vec3", "event": "float"}[self.type]


@dataclass(frozen=True)
class ShaderHeader:
    """A parsed shader file: its header and its GLSL body.

    ``body_line`` is the file line on which ``body`` starts, so compiler messages about the
    body map back to the file.
    """

    path: Path
    description: str = ""
    vertex: str = ""
    inputs: tuple[ShaderInput, ...] = ()
    body: str = ""
    body_line: int = 1
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def stem(self) -> str:
        return self.path.stem

    def param_inputs(self) -> tuple[ShaderInput, ...]:
        return tuple(i for i in self.inputs if i.type != "event")

    def param_specs(self) -> list[ParamSpec]:
        """The parameters named after this file (``shader.<stem>.<NAME>``), what a save of it declares
        again; not the renderer's that its inputs bind with ``PARAM`` (see :func:`declared_inputs`)."""
        own = f"shader.{self.stem}."
        return [input_spec(item) for item in self.param_inputs() if item.param.startswith(own)]


def param_name(stem: str, input_name: str) -> str:
    return f"shader.{stem}.{input_name}"


def input_spec(item: ShaderInput) -> ParamSpec:
    name = item.param
    if item.type == "float":
        return float_param(name, float(item.default), item.minimum, item.maximum, item.unit, item.description,
                           item.smoothing_s, item.curve, item.label)
    if item.type == "long":
        return int_param(name, int(item.default), int(item.minimum), int(item.maximum), item.unit,
                         item.description, item.label)
    if item.type == "bool":
        return bool_param(name, bool(item.default), item.description, item.label)
    return color_param(name, item.default, item.description, item.smoothing_s, item.label)


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def split_header(text: str) -> tuple[str | None, int, str, int]:
    """Return (json text or None, line of the JSON's first char, body, body's first line)."""
    match = _OPEN.match(text)
    if not match:
        return None, 0, text, 1
    end = text.find("*/", match.end())
    if end < 0:
        return text[match.end():], _line_of(text, match.end()), "", 0
    body_start = end + 2
    return text[match.end():end], _line_of(text, match.end()), text[body_start:], _line_of(text, body_start)


def _number(problems: list[Problem], path: str, line: int, key: str, value: Any, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        problems.append(Problem(path, line, key, f"must be a number, got {value!r}"))
        return default
    return float(value)


def _input_line(text: str, json_line: int, name: Any, fallback: int) -> int:
    """The file line where the input called ``name`` is declared (for error messages)."""
    if isinstance(name, str):
        match = re.search(r'"NAME"\s*:\s*"' + re.escape(name) + '"', text)
        if match:
            return json_line + _line_of(text, match.start()) - 1
    return fallback


def _bound_param(problems: list[Problem], path: str, line: int, key: str, value: Any, default: str) -> str:
    """The parameter an input reads: its ``PARAM`` if that is valid, else its default name."""
    if value is None or value == default:
        return default
    if isinstance(value, str) and BOUND_PARAM.match(value):
        return value
    if isinstance(value, str) and value.startswith("shader."):
        reason = f"a shader's own parameter is named after its file and input: leave PARAM out for {default}"
    else:
        reason = "must name one of the renderer's parameters, render.<name> (lower_case)"
    problems.append(Problem(path, line, f"{key}.PARAM", f"{reason}, got {value!r}"))
    return default


def _parse_input(problems: list[Problem], path: str, stem: str, raw: Any, index: int,
                 line: int) -> ShaderInput | None:
    key = f"INPUTS[{index}]"
    if not isinstance(raw, dict):
        problems.append(Problem(path, line, key, "must be an object with NAME and TYPE"))
        return None
    for unknown in sorted(set(raw) - INPUT_KEYS):
        known = ", ".join(sorted(INPUT_KEYS))
        problems.append(Problem(path, line, f"{key}.{unknown}", f"unknown key (known: {known})"))
    name = raw.get("NAME")
    kind = raw.get("TYPE")
    if not isinstance(name, str) or not INPUT_NAME.match(name):
        problems.append(Problem(path, line, f"{key}.NAME", "must be lower_case letters, digits and '_' (max 32)"))
        return None
    key = f"INPUTS.{name}"
    if reserved(name):
        problems.append(Problem(path, line, f"{key}.NAME", f"{name!r} is Myco's or GLSL's own: an input may not be "
                                f"'main' nor start with {', '.join(RESERVED_PREFIXES)}"))
        return None
    if kind not in INPUT_TYPES:
        problems.append(Problem(path, line, f"{key}.TYPE", f"must be one of {', '.join(INPUT_TYPES)}, got {kind!r}"))
        return None
    if kind == "event":
        if name not in {k.value for k in EventKind}:
            problems.append(Problem(path, line, f"{key}.NAME", "an event input must be named after an event kind "
                                    f"({', '.join(k.value for k in EventKind)})"))
            return None
        if "PARAM" in raw:
            problems.append(Problem(path, line, f"{key}.PARAM", "an event input reads no parameter"))
            return None
        return ShaderInput(name, kind, line=line, file=path)
    param = _bound_param(problems, path, line, key, raw.get("PARAM"), param_name(stem, name))
    before = len(problems)
    minimum = _number(problems, path, line, f"{key}.MIN", raw.get("MIN"), 0.0)
    maximum = _number(problems, path, line, f"{key}.MAX", raw.get("MAX"), 1.0)
    smoothing = _number(problems, path, line, f"{key}.SMOOTHING", raw.get("SMOOTHING"), 0.0)
    fallback: Any = {"float": minimum, "long": minimum, "bool": False, "color": [1.0, 1.0, 1.0]}[kind]
    default = raw.get("DEFAULT", fallback)
    curve_name = raw.get("CURVE", "linear")
    if curve_name not in {c.value for c in Curve}:
        problems.append(Problem(path, line, f"{key}.CURVE", f"must be one of {', '.join(c.value for c in Curve)}"))
        curve_name = "linear"
    texts = {k: raw.get(k, "") for k in ("LABEL", "UNIT", "DESCRIPTION")}
    for text_key, value in texts.items():
        if not isinstance(value, str):
            problems.append(Problem(path, line, f"{key}.{text_key}", "must be a string"))
            texts[text_key] = ""
    if len(problems) > before:
        return None
    item = ShaderInput(name, kind, param, default, minimum, maximum, texts["LABEL"], texts["UNIT"], smoothing,
                       Curve(curve_name), texts["DESCRIPTION"], line, path)
    try:
        input_spec(item)
    except (ValueError, TypeError) as error:
        problems.append(Problem(path, line, key, str(error).removeprefix(f"{param}: ")))
        return None
    return item


def parse_header(text: str, path: Path) -> ShaderHeader:
    """Parse one shader file's text; raise LoadError with every problem found."""
    where = str(path)
    json_text, json_line, body, body_line = split_header(text)
    if json_text is None:
        return ShaderHeader(path=path, body=body, body_line=body_line)
    if body_line == 0:
        raise LoadError.single(where, json_line, "header", "header comment '/*{' is never closed with '}*/'")
    data = loads_json(json_text, path, json_line, key="header")
    if not isinstance(data, dict):
        raise LoadError.single(where, json_line, "header", "must be a JSON object")
    problems: list[Problem] = []
    stem = path.stem
    if not STEM_NAME.match(stem):
        problems.append(Problem(where, 1, "", f"file name {path.name!r} must be lower_case (it names parameters)"))
        stem = "x"  # reported once, here, not again for every input
    for unknown in sorted(set(data) - HEADER_KEYS):
        known = ", ".join(sorted(HEADER_KEYS))
        problems.append(Problem(where, json_line, unknown, f"unknown header key (known: {known})"))
    raw_inputs = data.get("INPUTS", [])
    if not isinstance(raw_inputs, list):
        problems.append(Problem(where, json_line, "INPUTS", "must be a list"))
        raw_inputs = []
    inputs: list[ShaderInput] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_inputs):
        line = _input_line(json_text, json_line, raw.get("NAME") if isinstance(raw, dict) else None, json_line)
        item = _parse_input(problems, where, stem, raw, index, line)
        if item is None:
            continue
        if item.name in seen:
            problems.append(Problem(where, line, f"INPUTS.{item.name}", "declared twice"))
            continue
        seen.add(item.name)
        inputs.append(item)
    description = data.get("DESCRIPTION", "")
    vertex = data.get("VERTEX", "")
    for key, value in (("DESCRIPTION", description), ("VERTEX", vertex)):
        if not isinstance(value, str):
            problems.append(Problem(where, json_line, key, "must be a string"))
    if problems:
        raise LoadError(problems)
    return ShaderHeader(path, str(description), str(vertex), tuple(inputs), body, body_line,
                        {k: v for k, v in data.items() if k not in ("INPUTS", "DESCRIPTION", "VERTEX")})


def read_header(path: Path) -> ShaderHeader:
    return parse_header(read_text(path), path)


def _unalike(first_of: dict[str, ShaderInput], item: ShaderInput) -> Problem | None:
    """Note the parameter ``item`` reads; a problem naming both lines if an earlier input declared
    that parameter otherwise (another range, default, label...)."""
    first = first_of.setdefault(item.param, item)
    if first is item or input_spec(first) == input_spec(item):
        return None
    return Problem(item.file, item.line, f"INPUTS.{item.name}",
                   f"declares {item.param} unlike {first.where}: one parameter, one declaration")


def program_inputs(headers: Iterable[ShaderHeader]) -> tuple[ShaderInput, ...]:
    """The inputs of a program made of the files with these ``headers`` (its fragment file first,
    then its vertex file and its includes; a file met twice counts once), one uniform each.

    Raise LoadError, naming both lines, where two inputs would be one uniform, or where two
    declare one parameter unalike.
    """
    files: dict[Path, ShaderHeader] = {}
    for header in headers:
        files.setdefault(header.path, header)
    inputs: list[ShaderInput] = []
    problems: list[Problem] = []
    by_uniform: dict[str, ShaderInput] = {}
    by_param: dict[str, ShaderInput] = {}
    for item in (item for header in files.values() for item in header.inputs):
        first = by_uniform.setdefault(item.name, item)
        problem = (Problem(item.file, item.line, f"INPUTS.{item.name}",
                           f"the uniform {item.name!r} is declared already, at {first.where}")
                   if first is not item else _unalike(by_param, item) if item.param else None)
        if problem is not None:
            problems.append(problem)
        else:
            inputs.append(item)
    if problems:
        raise LoadError(problems)
    return tuple(inputs)


def declared_inputs(headers: Iterable[ShaderHeader]) -> tuple[list[ShaderInput], list[Problem]]:
    """The input that first declares each parameter of the ``headers`` (its spec: :func:`input_spec`),
    and a problem naming both lines wherever two declare one parameter unalike."""
    declared: list[ShaderInput] = []
    problems: list[Problem] = []
    by_param: dict[str, ShaderInput] = {}
    for item in (item for header in headers for item in header.param_inputs()):
        problem = _unalike(by_param, item)
        if problem is not None:
            problems.append(problem)
        elif by_param[item.param] is item:
            declared.append(item)
    return declared, problems
