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

Each input of type float, long, bool or color becomes the parameter
``shader.<file stem>.<NAME>`` and the uniform ``NAME`` in the program. An ``event`` input
is no parameter: its uniform carries the envelope (1 fading to 0) of the latest event of
that kind. Pure: no GL here, so ``myco check`` and the parameter bank can use it.
"""

from __future__ import annotations

import re
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
INPUT_KEYS = {"NAME", "TYPE", "MIN", "MAX", "DEFAULT", "LABEL", "UNIT", "SMOOTHING", "CURVE", "DESCRIPTION"}
HEADER_KEYS = {"DESCRIPTION", "CREDIT", "CATEGORIES", "VERTEX", "INPUTS", "ISFVSN", "VSN"}
# Names the renderer itself gives every program; an input may not shadow them.
RESERVED = {"main", "u_time", "u_dt", "u_frame", "u_resolution", "u_aspect", "u_region"}
_OPEN = re.compile(r"\A\s*/\*\s*(?=\{)")


@dataclass(frozen=True)
class ShaderInput:
    name: str
    type: str
    default: Any = None
    minimum: float = 0.0
    maximum: float = 1.0
    label: str = ""
    unit: str = ""
    smoothing_s: float = 0.0
    curve: Curve = Curve.LINEAR
    description: str = ""
    line: int = 0

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
        return [input_spec(self.stem, item) for item in self.param_inputs()]


def param_name(stem: str, input_name: str) -> str:
    return f"shader.{stem}.{input_name}"


def input_spec(stem: str, item: ShaderInput) -> ParamSpec:
    name = param_name(stem, item.name)
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


def _parse_input(problems: list[Problem], path: str, raw: Any, index: int, line: int) -> ShaderInput | None:
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
    if name in RESERVED:
        problems.append(Problem(path, line, f"{key}.NAME", "is reserved for a built-in uniform"))
        return None
    if kind not in INPUT_TYPES:
        problems.append(Problem(path, line, f"{key}.TYPE", f"must be one of {', '.join(INPUT_TYPES)}, got {kind!r}"))
        return None
    if kind == "event":
        if name not in {k.value for k in EventKind}:
            problems.append(Problem(path, line, f"{key}.NAME", "an event input must be named after an event kind "
                                    f"({', '.join(k.value for k in EventKind)})"))
            return None
        return ShaderInput(name, kind, line=line)
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
    item = ShaderInput(name, kind, default, minimum, maximum, texts["LABEL"], texts["UNIT"], smoothing,
                       Curve(curve_name), texts["DESCRIPTION"], line)
    try:
        input_spec("x", item)
    except (ValueError, TypeError) as error:
        problems.append(Problem(path, line, key, str(error).replace("shader.x.", "")))
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
    if not STEM_NAME.match(path.stem):
        problems.append(Problem(where, 1, "", f"file name {path.name!r} must be lower_case (it names parameters)"))
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
        item = _parse_input(problems, where, raw, index, line)
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
