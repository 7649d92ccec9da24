"""ISF files (the Interactive Shader Format of VDMX, Resolume, MadMapper...): the header, read.

An ISF file is GLSL whose first comment holds a JSON header: its inputs (the uniforms a host
sets), its render passes, the images it imports. :func:`load_isf` reads a ``.fs`` file (and
the companion ``.vs`` of the same stem, if there is one) into an :class:`IsfShader`, checking
everything a host needs before it compiles anything; every problem is a LoadError
``file:line: key: reason``. ISF 1.0 files (no ``ISFVSN``) are converted as the specification
says: ``PERSISTENT_BUFFERS`` become persistent passes, ``IMAGES`` become ``IMPORTED``, and the
``vv_`` names become their ``isf_`` ones. :func:`isf_param_specs` turns the inputs into Myco
parameters ``isf.<effect>.<input>``; :func:`eval_size` computes a pass's ``WIDTH``/``HEIGHT``.
Pure: no GL here (the GLSL is assembled in ``render/isf_glsl.py``). See docs/isf.md.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from installation.core.errors import LoadError, Problem
from installation.core.params import ParamSpec, bool_param, color_param, enum_param, float_param, int_param
from installation.core.textfile import loads_json, read_text

log = logging.getLogger(__name__)

INPUT_TYPES = ("event", "bool", "long", "float", "point2D", "color", "image", "audio", "audioFFT")
IMAGE_TYPES = ("image", "audio", "audioFFT")
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# The uniforms every ISF shader reads (GLSL type, name), set by the host each pass.
BUILTIN_UNIFORMS = (("float", "TIME"), ("float", "TIMEDELTA"), ("int", "FRAMEINDEX"), ("vec2", "RENDERSIZE"),
                    ("vec4", "DATE"), ("int", "PASSINDEX"))
# The host's own names: those, its functions and varying; the generated code's start with _isf or end in _imgSize
# or _imgRect, or are _<image>_flip (an image's uniforms).
BUILTIN_NAMES = frozenset({name for _, name in BUILTIN_UNIFORMS} | {"isf_FragNormCoord", "isf_vertShaderInit", "main"})
# A point2D without MIN/MAX is in pixels; its parameter is normalised, its DEFAULT read against this picture.
REFERENCE_SIZE = (1920.0, 1080.0)
MAX_PASS_SIZE = 16384  # larger than any GL texture Myco meets; a WIDTH expression gone wild stops here
MAX_AUDIO_SAMPLES = 4096
_HEADER = re.compile(r"\A(?:\s*//[^\n]*\n)*\s*/\*")  # the first comment, after any // lines (as the hosts read it)
_INCLUDE = re.compile(r"^[ \t]*(#[ \t]*include\b.*)$", re.M)  # no ISF host resolves #include (vispy would)
_TRAILING_COMMA = re.compile(r'("(?:\\.|[^"\\])*")|,(\s*[}\]])')  # a JSON string (kept), or a comma before } or ]
# ISF 1.0 names and their 2.0 ones (the specification's conversion); the reference hosts take the old
# names in 2.0 files too (their own 2.0 files' vertex shaders use them), so every file is converted.
_RENAMED_V1 = (("vv_FragNormCoord", "isf_FragNormCoord"), ("vv_vertShaderInit", "isf_vertShaderInit"),
               ("vv_VertNorm", "isf_VertNorm"), ("vv_VertPos", "isf_VertPos"))


@dataclass(frozen=True)
class IsfInput:
    """One entry of ``INPUTS``. ``name`` is as the author wrote it (the uniform's name too).

    ``minimum``/``maximum`` are None where the header gives none (a point2D then is in pixels).
    """

    name: str
    type: str
    default: Any = None
    minimum: Any = None
    maximum: Any = None
    identity: Any = None
    values: tuple[int, ...] = ()
    labels: tuple[str, ...] = ()
    label: str = ""
    max_samples: int = 0
    line: int = 0

    @property
    def choices(self) -> tuple[str, ...]:
        """The enum's choices of a long with VALUES: its LABELS, made unique where two are alike."""
        if len(set(self.labels)) == len(self.labels):
            return self.labels
        return tuple(f"{label} ({value})" for label, value in zip(self.labels, self.values, strict=True))

    def value_of(self, choice: str) -> int:
        """The VALUES entry of one of :attr:`choices` (the first value for an unknown one)."""
        choices = self.choices
        return self.values[choices.index(choice)] if choice in choices else self.values[0]

    @property
    def param_default(self) -> Any:
        """The default as the parameter holds it: a pixel point2D's read against REFERENCE_SIZE, as 0..1."""
        if self.in_pixels:
            return tuple(min(1.0, max(0.0, v / r)) for v, r in zip(self.default, REFERENCE_SIZE, strict=True))
        return self.default

    @property
    def in_pixels(self) -> bool:
        """A point2D without MIN/MAX: its uniform is in pixels, its parameter 0..1 of the render size."""
        return self.type == "point2D" and self.minimum is None


@dataclass(frozen=True)
class IsfPass:
    """One entry of ``PASSES``; ``width``/``height`` are expressions ('' for the render size)."""

    target: str = ""
    persistent: bool = False
    float: bool = False
    width: str = ""
    height: str = ""
    line: int = 0


@dataclass(frozen=True)
class IsfShader:
    path: Path
    vertex_path: Path | None
    name: str
    title: str
    description: str
    credit: str
    categories: tuple[str, ...]
    kind: str
    version: int
    inputs: tuple[IsfInput, ...]
    passes: tuple[IsfPass, ...]
    imported: Mapping[str, Path]
    fragment_body: str
    fragment_line: int
    vertex_body: str

    def input(self, name: str) -> IsfInput | None:
        return next((item for item in self.inputs if item.name == name), None)

    @property
    def targets(self) -> tuple[str, ...]:
        """The named pass targets (each a sampler the passes after it, or next frame's, may read)."""
        return tuple(dict.fromkeys(p.target for p in self.passes if p.target))


def slug(stem: str) -> str:
    """A file stem as an effect name: lower case, runs of anything but [a-z0-9] as one ``_``."""
    return re.sub(r"[^a-z0-9]+", "_", stem.lower()).strip("_") or "shader"


class _Header:
    """Problems of one header, each placed at the line of the entry it belongs to."""

    def __init__(self, path: Path, text: str, first_line: int) -> None:
        self.path = path
        self.text = text
        self.first_line = first_line
        self.problems: list[Problem] = []

    def line_of(self, *needles: str) -> int:
        """The file line of the first needle found in the header (its first line if none is)."""
        for needle in needles:
            found = self.text.find(needle)
            if found >= 0:
                return self.first_line + self.text.count("\n", 0, found)
        return self.first_line

    def entry_line(self, name: str) -> int:
        return self.line_of(f'"{name}"')

    def item_lines(self, key: str) -> list[int]:
        """The file line of each item of the array under ``key`` (a scan of the JSON text, strings skipped)."""
        found = re.search(rf'"{key}"\s*:\s*\[', self.text)
        if not found:
            return []
        lines: list[int] = []
        depth, in_string, escaped, expecting = 1, False, False, True
        for offset in range(found.end(), len(self.text)):
            char = self.text[offset]
            if in_string:
                in_string, escaped = (in_string, False) if escaped else (char != '"', char == "\\")
                continue
            if char.isspace():
                continue
            if expecting and depth == 1 and char != "]":
                lines.append(self.first_line + self.text.count("\n", 0, offset))
            expecting = depth == 1 and char == ","
            if char == '"':
                in_string = True
            elif char in "[{":
                depth += 1
            elif char in "]}":
                depth -= 1
                if depth == 0:
                    break
        return lines

    def fail(self, line: int, key: str, reason: str) -> None:
        self.problems.append(Problem(str(self.path), line, key, reason))


def _split(text: str, path: Path) -> tuple[str, int, str, int]:
    """(header JSON, its first line, GLSL body, the body's first line) of an ISF file."""
    opening = _HEADER.match(text)
    end = text.find("*/", opening.end()) if opening else -1
    if not opening or end < 0:
        raise LoadError.single(path, 1, "header", "no ISF header: the file must start with a /*{ ... }*/ JSON comment "
                                                  "(// comment lines may come before it)")
    start = opening.end()
    header_line = text.count("\n", 0, start) + 1
    body_line = text.count("\n", 0, end) + 1
    return text[start:end], header_line, text[end + 2:], body_line


def _number(value: Any) -> float | None:
    """A finite JSON number, or a string holding one ("0.5": some exporters quote their numbers)."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _flag(value: Any) -> bool | None:
    """A JSON boolean as ISF files write it: true/false, 0/1, or the strings "true"/"false"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no", "1", "0"):
        return value.strip().lower() in ("true", "yes", "1")
    return None


def _vector(value: Any, size: int) -> tuple[float, ...] | None:
    if not isinstance(value, list) or len(value) < size:
        return None
    numbers = tuple(_number(item) for item in value[:size])
    return None if None in numbers else numbers  # type: ignore[return-value]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _scalar_input(entry: dict[str, Any], name: str, kind: str, header: _Header, line: int) -> IsfInput:
    """A float or long (without VALUES): its range (0..1 where none is given), default clamped into it."""
    minimum, maximum = _number(entry.get("MIN")), _number(entry.get("MAX"))
    default = _number(entry.get("DEFAULT"))
    if "DEFAULT" in entry and default is None:
        header.fail(line, f"{name}.DEFAULT", "not a number")
    for key, given in (("MIN", minimum), ("MAX", maximum)):
        if key in entry and given is None:
            header.fail(line, f"{name}.{key}", "not a number")
    value = default if default is not None else (minimum if minimum is not None else 0.0)
    low = minimum if minimum is not None else min(0.0, value)
    high = maximum if maximum is not None else max(1.0 if kind == "float" else 0.0, value)
    if low > high:
        header.fail(line, f"{name}.MIN", f"MIN {low:g} is above MAX {high:g}")
        low, high = high, low
    if kind == "long":
        low, high, value = float(math.ceil(low)), float(math.floor(high)), float(round(value))
    high = max(high, low + 1) if high <= low else high  # a parameter's range is never empty
    if not low <= value <= high:
        # The reference hosts clamp an out-of-range DEFAULT where they set it: so do we, and say so.
        log.warning("%s:%d: %s.DEFAULT: %g outside [%g, %g], clamped", header.path, line, name, value, low, high)
        value = min(high, max(low, value))
    cast: Callable[[float], Any] = int if kind == "long" else float
    return IsfInput(name, kind, cast(value), cast(low), cast(high), _number(entry.get("IDENTITY")),
                    label=_text(entry.get("LABEL")), line=line)


def _long_choices(entry: dict[str, Any], name: str, header: _Header, line: int) -> IsfInput:
    values = entry.get("VALUES")
    labels = entry.get("LABELS")
    if isinstance(values, list) and values and all(isinstance(v, str) for v in values) and any(
            _number(v) is None for v in values):
        # VALUES that are names (another host's dialect): they are the labels, their positions the values
        labels, values = values, list(range(len(values)))
    found = [_number(v) for v in values] if isinstance(values, list) else []
    if not found or any(v is None or v != int(v) for v in found):  # true/false are no numbers here
        header.fail(line, f"{name}.VALUES", "must be a list of whole numbers")
        return IsfInput(name, "long", 0, 0, 1, line=line)
    numbers = tuple(int(v) for v in found if v is not None)
    if labels is None:
        labels = [str(v) for v in numbers]
    if not isinstance(labels, list) or not all(isinstance(t, (str, int, float)) for t in labels):
        header.fail(line, f"{name}.LABELS", f"must be a list of {len(numbers)} strings, one for each of VALUES")
        labels = [str(v) for v in numbers]
    if len(labels) != len(numbers):
        # the reference hosts show what there is: missing labels are the values' numbers, extra ones unused
        log.warning("%s:%d: %s.LABELS: %d labels for %d VALUES", header.path, line, name, len(labels), len(numbers))
        labels = [*labels, *(str(v) for v in numbers[len(labels):])][:len(numbers)]
    labels = [str(t) for t in labels]
    given = entry.get("DEFAULT")
    default = float(labels.index(given)) if isinstance(given, str) and given in labels and _number(given) is None \
        else _number(given)
    if default is None or int(default) not in numbers:
        if "DEFAULT" in entry:
            log.warning("%s:%d: %s.DEFAULT: not one of VALUES, the first taken", header.path, line, name)
        default = float(numbers[0])
    return IsfInput(name, "long", int(default), min(numbers), max(numbers), _number(entry.get("IDENTITY")),
                    numbers, tuple(labels), label=_text(entry.get("LABEL")), line=line)


def _input(entry: Any, index: int, header: _Header, line: int) -> IsfInput | None:
    if not isinstance(entry, dict):
        header.fail(line, f"INPUTS[{index}]", "must be an object")
        return None
    name = entry.get("NAME")
    if not isinstance(name, str) or not name:
        header.fail(line, f"INPUTS[{index}].NAME", "missing: every input needs a NAME")
        return None
    if not IDENTIFIER.match(name) or name.startswith("gl_"):
        header.fail(line, f"{name}.NAME", "not a GLSL identifier (letters, digits and _, not starting with gl_)")
        return None
    if reserved(name):
        header.fail(line, f"{name}.NAME", "the host's own name (a built-in): choose another")
        return None
    kind = entry.get("TYPE")
    if kind == "cube":
        header.fail(line, f"{name}.TYPE", "cube-map inputs are not supported by Myco")
        return None
    if kind not in INPUT_TYPES:
        header.fail(line, f"{name}.TYPE", f"unknown TYPE {kind!r}: one of {', '.join(INPUT_TYPES)}")
        return None
    label = _text(entry.get("LABEL"))
    if kind in ("float", "long"):
        if kind == "long" and "VALUES" in entry:
            return _long_choices(entry, name, header, line)
        return _scalar_input(entry, name, kind, header, line)
    if kind in ("bool", "event"):
        default = _flag(entry.get("DEFAULT", False))
        if default is None:
            header.fail(line, f"{name}.DEFAULT", "not true or false")
        return IsfInput(name, kind, bool(default) and kind == "bool", label=label, line=line)
    if kind == "color":
        color = _vector(entry.get("DEFAULT", [0.0, 0.0, 0.0, 1.0]), 3)
        if color is None:
            header.fail(line, f"{name}.DEFAULT", "a color is a list [r, g, b, a] of numbers 0..1")
            color = (0.0, 0.0, 0.0)
        alpha = _vector(entry.get("DEFAULT"), 4)
        rgba = tuple(min(1.0, max(0.0, c)) for c in (*color, alpha[3] if alpha else 1.0))
        return IsfInput(name, kind, rgba, label=label, line=line)
    if kind == "point2D":
        bounds = [_vector(entry.get(key), 2) for key in ("MIN", "MAX")]
        for key, given in zip(("MIN", "MAX"), bounds, strict=True):
            if key in entry and given is None:
                header.fail(line, f"{name}.{key}", "a point2D's bound is a list [x, y] of numbers")
        point = _vector(entry.get("DEFAULT", [0.0, 0.0]), 2)
        if point is None:
            header.fail(line, f"{name}.DEFAULT", "a point2D is a list [x, y] of numbers")
            point = (0.0, 0.0)
        low, high = bounds
        if low is None or high is None:
            return IsfInput(name, kind, point, label=label, line=line)
        if any(lo >= hi for lo, hi in zip(low, high, strict=True)):
            header.fail(line, f"{name}.MIN", "each of MIN must be below MAX")
            return None
        point = tuple(min(hi, max(lo, p)) for p, lo, hi in zip(point, low, high, strict=True))
        return IsfInput(name, kind, point, low, high, label=label, line=line)
    most = entry.get("MAX", 0) if kind != "image" else 0
    if _number(most) is None or most < 0:
        header.fail(line, f"{name}.MAX", "the number of samples is a whole number, 0 for the host's choice")
        most = 0
    return IsfInput(name, kind, label=label, max_samples=min(int(most), MAX_AUDIO_SAMPLES), line=line)


def reserved(name: str) -> bool:
    return (name in BUILTIN_NAMES or name.startswith("_isf") or name.endswith(("_imgSize", "_imgRect"))
            or (name.startswith("_") and name.endswith("_flip")))


def _size_text(value: Any) -> str | None:
    if value is None:
        return ""
    if _number(value) is not None:
        return f"{value:g}" if isinstance(value, float) else str(value)
    return value if isinstance(value, str) else None


def _pass(entry: Any, index: int, header: _Header, buffers: Mapping[str, dict[str, Any]],
          line: int) -> IsfPass | None:
    where = f"PASSES[{index}]"
    if not isinstance(entry, dict):
        header.fail(line, where, "must be an object")
        return None
    target = entry.get("TARGET", "")
    if not isinstance(target, str) or (target and (not IDENTIFIER.match(target) or reserved(target))):
        header.fail(line, f"{where}.TARGET", "must be the name of a buffer (a GLSL identifier, not a built-in's)")
        return None
    merged = {**buffers.get(target, {}), **entry}  # an ISF 1.0 persistent buffer's own WIDTH/HEIGHT/FLOAT
    flags = []
    for key in ("PERSISTENT", "FLOAT"):
        flag = _flag(merged.get(key, False))
        if flag is None:
            header.fail(line, f"{where}.{key}", "not true or false")
        flags.append(bool(flag) or (key == "PERSISTENT" and target in buffers))
    sizes = []
    for key in ("WIDTH", "HEIGHT"):
        text = _size_text(merged.get(key))
        if text is None:
            header.fail(line, f"{where}.{key}", "must be a number or an expression such as \"$WIDTH/4\"")
            text = ""
        sizes.append(text)
    if flags[0] and not target:
        header.fail(line, f"{where}.PERSISTENT", "a persistent pass needs a TARGET")
    return IsfPass(target, flags[0], flags[1], sizes[0], sizes[1], line)


def _v1_buffers(data: dict[str, Any], header: _Header) -> dict[str, dict[str, Any]]:
    """ISF 1.0's PERSISTENT_BUFFERS (a list of names, or names to their WIDTH/HEIGHT/FLOAT)."""
    given = data.get("PERSISTENT_BUFFERS", [])
    if isinstance(given, list) and all(isinstance(name, str) for name in given):
        return {name: {} for name in given}
    if isinstance(given, dict) and all(isinstance(v, dict) for v in given.values()):
        return dict(given)
    header.fail(header.line_of('"PERSISTENT_BUFFERS"'), "PERSISTENT_BUFFERS", "must be a list of buffer names")
    return {}


def _imported(data: dict[str, Any], header: _Header) -> dict[str, Path]:
    """IMPORTED (2.0: names to {PATH}; also a list of {NAME, PATH}) or IMAGES (1.0), resolved beside the file."""
    key = "IMPORTED" if "IMPORTED" in data else "IMAGES"
    given = data.get(key, {})
    if isinstance(given, list):
        given = {e.get("NAME"): e for e in given if isinstance(e, dict)} if all(
            isinstance(e, dict) for e in given) else None
    if not isinstance(given, dict):
        header.fail(header.line_of(f'"{key}"'), key, "must map image names to {\"PATH\": file}")
        return {}
    found: dict[str, Path] = {}
    for name, entry in given.items():
        line = header.entry_line(str(name))
        if not isinstance(name, str) or not IDENTIFIER.match(name) or reserved(name):
            header.fail(line, f"{key}.{name}", "the image's name must be a GLSL identifier, not a built-in's")
            continue
        file = entry.get("PATH") if isinstance(entry, dict) else None
        if (isinstance(entry, dict) and entry.get("TYPE") == "cube") or isinstance(file, list):
            header.fail(line, f"{key}.{name}", "cube-map images are not supported by Myco")
            continue
        if not isinstance(file, str) or not file:
            header.fail(line, f"{key}.{name}.PATH", "missing: the image file, relative to the shader")
            continue
        path = (header.path.parent / file).resolve()
        if not path.is_file():
            header.fail(line, f"{key}.{name}.PATH", f"image {file!r} not found beside the shader")
            continue
        found[name] = path
    return found


def _kind(inputs: tuple[IsfInput, ...]) -> str:
    types = {item.name: item.type for item in inputs}
    if types.get("startImage") == "image" and types.get("endImage") == "image" and types.get("progress") == "float":
        return "transition"
    return "filter" if types.get("inputImage") == "image" else "generator"


def _categories(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(item for item in value if isinstance(item, str)) if isinstance(value, list) else ()


def _padded(lines: list[int], count: int, fallback: int) -> list[int]:
    return (lines + [fallback] * count)[:count]


def _convert_v1(glsl: str) -> str:
    for old, new in _RENAMED_V1:
        glsl = re.sub(rf"\b{old}\b", new, glsl)
    return glsl


def _header_json(source: str, path: Path, line: int) -> Any:
    """The header's JSON; one whose only fault is a comma before a closing bracket (which hand-edited
    headers often have) is read as if the comma were not there, with a warning."""
    try:
        return loads_json(source, path, line, "header")
    except LoadError as error:
        relaxed = _TRAILING_COMMA.sub(lambda found: found.group(1) or found.group(2), source)
        if relaxed == source:
            raise
        try:
            data = loads_json(relaxed, path, line, "header")
        except LoadError:
            raise error from None
        log.warning("%s:%d: header: a comma before a closing bracket, read as if absent", path, line)
        return data


def load_isf(path: Path) -> IsfShader:
    """Read and check an ISF ``.fs`` file and its ``.vs`` if there is one; LoadError with every problem."""
    text = read_text(path)
    source, header_line, body, body_line = _split(text, path)
    data = _header_json(source, path, header_line)
    if not isinstance(data, dict):
        raise LoadError.single(path, header_line, "header", "the ISF header must be a JSON object")
    header = _Header(path, source, header_line)
    mode = data.get("MODE")
    if isinstance(mode, str) and "VERTEX" in mode.upper():  # a vertex shader drawing POINT_COUNT points, no fragment
        raise LoadError.single(path, header.line_of('"MODE"'), "MODE",
                               f"{mode!r}: vertex-shader-art files are not supported by Myco (only fragment ISF)")
    resource = data.get("RESOURCE_TYPE")
    if isinstance(resource, str):  # MadMapper's materials and surfaces: a function its own host code calls, no main()
        raise LoadError.single(path, header.line_of('"RESOURCE_TYPE"'), "RESOURCE_TYPE",
                               f"{resource!r}: written for that host's own shader code, not an ISF file")
    version_text = str(data.get("ISFVSN", "1"))
    version = 2 if re.match(r"\s*[2-9]", version_text) else 1
    raw_inputs = data.get("INPUTS", [])
    if not isinstance(raw_inputs, list):
        header.fail(header.line_of('"INPUTS"'), "INPUTS", "must be a list of inputs")
        raw_inputs = []
    lines = _padded(header.item_lines("INPUTS"), len(raw_inputs), header.line_of('"INPUTS"'))
    inputs = [item for index, entry in enumerate(raw_inputs) if (item := _input(entry, index, header, lines[index]))]
    buffers = _v1_buffers(data, header) if "PERSISTENT_BUFFERS" in data else {}
    raw_passes = data.get("PASSES", [{}])
    if not isinstance(raw_passes, list):
        header.fail(header.line_of('"PASSES"'), "PASSES", "must be a list of passes")
        raw_passes = [{}]
    raw_passes = raw_passes or [{}]
    lines = _padded(header.item_lines("PASSES"), len(raw_passes), header.line_of('"PASSES"'))
    passes = [step for index, entry in enumerate(raw_passes)
              if (step := _pass(entry, index, header, buffers, lines[index]))]
    imported = _imported(data, header) if ("IMPORTED" in data or "IMAGES" in data) else {}
    seen: dict[str, str] = {}
    for name, what, line in ([(i.name, "an input", i.line) for i in inputs]
                             + [(n, "an imported image", header.entry_line(n)) for n in imported]
                             + [(p.target, "a pass target", p.line) for p in passes if p.target]):
        if name in seen and not (what == seen[name] == "a pass target"):
            header.fail(line, name, f"the name is taken twice (by {seen[name]} and {what})")
        seen.setdefault(name, what)
    for item, name in _clashing_parameters(inputs):
        header.fail(item.line, item.name, f"its parameter {name} would be another input's too")
    known = {i.name for i in inputs if i.type in ("float", "long", "bool")}
    for step in passes:
        for key, expression in (("WIDTH", step.width), ("HEIGHT", step.height)):
            try:
                if expression:
                    eval_size(expression, 640, 480, {name: 1.0 for name in known}, path=path, line=step.line,
                              key=f"PASSES.{key}")
            except LoadError as error:
                header.problems.extend(error.problems)
    if header.problems:
        raise LoadError(header.problems)
    vertex_path = path.with_suffix(".vs")
    has_vertex = vertex_path.is_file()
    vertex_body = read_text(vertex_path) if has_vertex else ""
    body, vertex_body = _convert_v1(body), _convert_v1(vertex_body)
    included = [Problem(str(where), first + text.count("\n", 0, found.start()), "glsl",
                        f"{found.group(1).strip()}: ISF files cannot include other files (written for another host?)")
                for where, text, first in ((path, body, body_line), (vertex_path, vertex_body, 1))
                for found in _INCLUDE.finditer(text)]
    if included:
        raise LoadError(included)
    frozen = tuple(inputs)
    return IsfShader(path, vertex_path if has_vertex else None, slug(path.stem), path.stem,
                     _text(data.get("DESCRIPTION")), _text(data.get("CREDIT")), _categories(data.get("CATEGORIES")),
                     _kind(frozen), version, frozen, tuple(passes), MappingProxyType(imported), body, body_line,
                     vertex_body)


def isf_file(path: Path) -> Path | None:
    """The ISF fragment file that ``path`` (a ``.fs``, or the ``.vs`` beside one) stands for, if any."""
    fragment = path.with_suffix(".fs")
    return fragment if path.suffix == ".fs" or (path.suffix == ".vs" and fragment.is_file()) else None


def _parameter_suffixes(item: IsfInput) -> tuple[str, ...]:
    """The last parts of the parameters an input makes (none for images and audio)."""
    if item.type == "color":
        return (item.name, f"{item.name}_alpha")
    if item.type == "point2D":
        return (f"{item.name}_x", f"{item.name}_y")
    return () if item.type in IMAGE_TYPES else (item.name,)


def _clashing_parameters(inputs: list[IsfInput]) -> list[tuple[IsfInput, str]]:
    """Inputs whose parameter another input's has taken (a color "tint" and a float "tint_alpha")."""
    taken: set[str] = set()
    clashes: list[tuple[IsfInput, str]] = []
    for item in inputs:
        for suffix in _parameter_suffixes(item):
            if suffix in taken:
                clashes.append((item, suffix))
            taken.add(suffix)
    return clashes


def isf_param_specs(effect: str, shader: IsfShader) -> list[ParamSpec]:
    """The parameters of an effect's inputs, ``isf.<effect>.<input as written>``.

    float → FLOAT; long → ENUM of its LABELS with VALUES, else INT; bool → BOOL; event → BOOL
    that is a momentary trigger (the renderer passes true for the one frame it turns true); color
    → COLOR (rgb) plus FLOAT ``<name>_alpha``; point2D → FLOATs ``<name>_x`` and ``<name>_y``, in
    MIN..MAX, or without them 0..1 of the render size (the renderer scales to pixels). Images and
    audio are no parameters; :func:`load_isf` has refused a file where two would share a name.
    """
    prefix = f"isf.{effect}."
    specs: list[ParamSpec] = []
    for item in shader.inputs:
        name, label, about = prefix + item.name, item.label or item.name, shader.description
        if item.type == "float":
            specs.append(float_param(name, item.default, item.minimum, item.maximum, description=about, label=label))
        elif item.type == "long" and item.values:
            default = item.choices[item.values.index(item.default)]
            specs.append(enum_param(name, default, item.choices, about, label))
        elif item.type == "long":
            specs.append(int_param(name, item.default, item.minimum, item.maximum, description=about, label=label))
        elif item.type in ("bool", "event"):
            specs.append(bool_param(name, bool(item.default), about, label))
        elif item.type == "color":
            specs.append(color_param(name, item.default[:3], about, label=label))
            specs.append(float_param(f"{name}_alpha", item.default[3], 0.0, 1.0, description=about,
                                     label=f"{label} alpha"))
        elif item.type == "point2D":
            for axis, index in (("x", 0), ("y", 1)):
                low, high = (0.0, 1.0) if item.in_pixels else (item.minimum[index], item.maximum[index])
                default = item.param_default[index]
                specs.append(float_param(f"{name}_{axis}", default, low, high, description=about,
                                         label=f"{label} {axis}"))
    return specs


# --- WIDTH/HEIGHT expressions -------------------------------------------------------------------------

_FUNCTIONS: dict[str, Callable[..., float]] = {
    "floor": math.floor, "ceil": math.ceil, "round": round, "abs": abs, "sqrt": math.sqrt, "pow": math.pow,
    "min": min, "max": max, "exp": math.exp, "log": math.log, "log2": math.log2, "log10": math.log10,
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "trunc": math.trunc, "clamp": lambda x, a, b: min(b, max(a, x)),
}
_TOKEN = re.compile(r"\s*(?:(\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)|(\$?[A-Za-z_][A-Za-z0-9_]*)|(.))")
MAX_EXPRESSION = 400


class _Expression:
    """Recursive descent over + - * / %, unary signs, parentheses, numbers, $names and functions."""

    def __init__(self, text: str, names: Mapping[str, float]) -> None:
        self.tokens: list[tuple[str, str]] = []
        for number, name, other in _TOKEN.findall(text):
            if number:
                self.tokens.append(("number", number))
            elif name:
                self.tokens.append(("name", name))
            elif other.strip():
                self.tokens.append(("op", other))
        self.names = names
        self.at = 0
        self.depth = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.at] if self.at < len(self.tokens) else ("end", "")

    def take(self, op: str) -> bool:
        if self.peek() == ("op", op):
            self.at += 1
            return True
        return False

    def parse(self) -> float:
        value = self.sum()
        if self.peek()[0] != "end":
            raise ValueError(f"unexpected {self.peek()[1]!r}")
        return value

    def sum(self) -> float:
        value = self.product()
        while self.peek() in (("op", "+"), ("op", "-")):
            op = self.peek()[1]
            self.at += 1
            right = self.product()
            value = value + right if op == "+" else value - right
        return value

    def product(self) -> float:
        value = self.unary()
        while self.peek() in (("op", "*"), ("op", "/"), ("op", "%")):
            op = self.peek()[1]
            self.at += 1
            right = self.unary()
            if op == "*":
                value *= right
            elif right == 0:
                raise ValueError("division by zero")
            else:
                value = value / right if op == "/" else math.fmod(value, right)
        return value

    def unary(self) -> float:
        if self.take("-"):
            return -self.unary()
        if self.take("+"):
            return self.unary()
        return self.atom()

    def atom(self) -> float:
        self.depth += 1
        if self.depth > 32:
            raise ValueError("nested too deeply")
        kind, text = self.peek()
        self.at += 1
        if kind == "number":
            value = float(text)
        elif kind == "op" and text == "(":
            value = self.sum()
            if not self.take(")"):
                raise ValueError("a ( is not closed")
        elif kind == "name" and text.startswith("$"):
            key = text[1:]
            if key not in self.names:
                raise ValueError(f"unknown variable {text} (only $WIDTH, $HEIGHT and number inputs)")
            value = self.names[key]
        elif kind == "name" and text in _FUNCTIONS:
            if not self.take("("):
                raise ValueError(f"{text} needs (arguments)")
            arguments = [self.sum()]
            while self.take(","):
                arguments.append(self.sum())
            if not self.take(")"):
                raise ValueError(f"{text}( is not closed")
            value = float(_FUNCTIONS[text](*arguments))
        else:
            raise ValueError(f"unexpected {text!r}" if text else "the expression ends too early")
        self.depth -= 1
        return value


def eval_size(expression: str, width: int, height: int, values: Mapping[str, float], *,
              path: Path | str = "", line: int = 0, key: str = "WIDTH") -> int:
    """A pass's size in pixels from its WIDTH or HEIGHT expression ('' is the render size's ``key``).

    ``$WIDTH``/``$HEIGHT`` are the render size, ``$name`` an input's current value. The result is
    floored and kept within 1..MAX_PASS_SIZE. No ``eval``: a small parser of arithmetic and the
    math functions ISF files use. LoadError at ``key`` for an expression it cannot read.
    """
    if not expression.strip():
        return max(1, int(height if key.endswith("HEIGHT") else width))
    names = {**{k: float(v) for k, v in values.items()}, "WIDTH": float(width), "HEIGHT": float(height)}
    try:
        if len(expression) > MAX_EXPRESSION:
            raise ValueError("expression too long")
        value = _Expression(expression, names).parse()
    except (ValueError, TypeError, OverflowError, ZeroDivisionError) as error:
        raise LoadError.single(path, line, key, f"{expression!r}: {error}") from None
    if not math.isfinite(value):
        raise LoadError.single(path, line, key, f"{expression!r} is not a finite number")
    return int(min(MAX_PASS_SIZE, max(1.0, math.floor(value))))
