"""The GLSL of an ISF shader as a desktop GL driver compiles it: declarations, built-ins, macros.

ISF files are GLSL without the declarations: the host declares a uniform for every input
(``float``, ``int`` for long, ``bool`` for bool and event, ``vec4`` color, ``vec2`` point2D,
``sampler2D`` for image, audio and audioFFT) and for every pass target and imported image, the
built-ins (``TIME``, ``TIMEDELTA``, ``FRAMEINDEX``, ``RENDERSIZE``, ``DATE``, ``PASSINDEX``,
the varying ``isf_FragNormCoord``), and expands the image functions. Here each
``IMG_NORM_PIXEL(image, coord)`` becomes ``texture2D(image, coord)``, ``IMG_PIXEL`` divides its
pixel coordinate by the image's size (the uniform ``_<image>_imgSize``, which ``IMG_SIZE``
reads; ``_<image>_imgRect`` and ``_<image>_flip`` are declared too, as files read them by name),
and ``IMG_THIS_PIXEL``/``IMG_THIS_NORM_PIXEL`` sample at this fragment's unaltered
normalised coordinate. Textures are whole (no sub-rectangles) and upright (row 0 at the bottom),
so no flip or rectangle enters the lookups.

GLSL versions: a file's own ``#version`` is honoured (150 and later as the compatibility
profile, so ``gl_FragColor`` and ``texture2D`` stay); a file without one, or with a GLSL ES one
(written for WebGL hosts), is tried as 1.20, then 1.30, then 3.30: the reference hosts compile
such files as 1.10/1.20 (a GL 2 context) or 3.30/4.10 (a GL 3+ one), so a file either of them
accepts compiles here. Each line of the assembled text remembers its file line, for errors
``file:line``. No GL here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from installation.core.isf import BUILTIN_UNIFORMS, IsfShader
from installation.render.glsl import Origin, Source

FALLBACK_VERSIONS = ("120", "130", "330 compatibility")
POSITION = "_isf_position"  # the quad's attribute
TEXCOORD = "_isf_texCoord"  # isf_FragNormCoord as isf_vertShaderInit set it: IMG_THIS_PIXEL's coordinate
UNIFORM_TYPES = {"float": "float", "long": "int", "bool": "bool", "event": "bool", "color": "vec4",
                 "point2D": "vec2", "image": "sampler2D", "audio": "sampler2D", "audioFFT": "sampler2D"}
_VERSION = re.compile(r"^[ \t]*#[ \t]*version[ \t]+(\d+)[ \t]*(\w*)", re.M)
_EXTENSION = re.compile(r"^[ \t]*#[ \t]*extension\b.*$", re.M)
_MACRO = re.compile(r"\b(IMG_THIS_NORM_PIXEL|IMG_THIS_PIXEL|IMG_NORM_PIXEL|IMG_PIXEL|IMG_SIZE|texture2DRect)\s*\(")
_DECLARATION = re.compile(
    r"^[ \t]*(?:uniform|varying|in|out)[ \t]+(?:(?:lowp|mediump|highp)[ \t]+)?\w+[ \t]+(\w+)[ \t]*;[ \t]*$", re.M)
_ARITY = {"IMG_THIS_NORM_PIXEL": 1, "IMG_THIS_PIXEL": 1, "IMG_NORM_PIXEL": 2, "IMG_PIXEL": 2, "IMG_SIZE": 1,
          "texture2DRect": 2}


@dataclass(frozen=True)
class IsfProgramSource:
    """One way to compile an ISF shader: both stages at one GLSL version."""

    version: str
    vertex: Source
    fragment: Source


def image_names(shader: IsfShader) -> tuple[str, ...]:
    """Every sampler the shader may read: image-like inputs, imported images, pass targets."""
    inputs = [item.name for item in shader.inputs if UNIFORM_TYPES[item.type] == "sampler2D"]
    return tuple(dict.fromkeys([*inputs, *shader.imported, *shader.targets]))


def size_uniform(image: str) -> str:
    return f"_{image}_imgSize"


def rect_uniform(image: str) -> str:
    """The image's rectangle (x, y, width, height) in pixels, as the reference hosts declare it: files written for
    them read it by name (``_inputImage_imgRect.zw``); here always (0, 0, width, height)."""
    return f"_{image}_imgRect"


def flip_uniform(image: str) -> str:
    """Whether the image is stored upside down, as the reference hosts declare it; here always false."""
    return f"_{image}_flip"


def _arguments(code: str, start: int) -> tuple[list[str], int] | None:
    """The top-level comma-separated arguments of a call whose ``(`` is just before ``start``, and
    the offset after its ``)``; None if it is not closed."""
    depth, begin, found = 0, start, []
    for offset in range(start, len(code)):
        char = code[offset]
        if char in "([":
            depth += 1
        elif char in ")]":
            if depth == 0:
                found.append(code[begin:offset])
                return found, offset + 1
            depth -= 1
        elif char == "," and depth == 0:
            found.append(code[begin:offset])
            begin = offset + 1
    return None


def expand_image_functions(code: str, images: tuple[str, ...]) -> str:
    """``IMG_*`` calls as texture lookups. Line breaks inside a call are kept, so lines still map.

    ``texture2DRect(image, pixel)`` on one of the shader's images (files written for hosts whose
    images were rectangle textures, read in pixels) is read as ``IMG_PIXEL``.

    A sampler that is no image of the shader (a function's parameter) has no size uniform: its
    size comes from ``textureSize``, which GLSL 1.30 has.
    """
    at = 0
    while found := _MACRO.search(code, at):
        name = found.group(1)
        parsed = _arguments(code, found.end())
        if parsed is None or len(parsed[0]) != _ARITY[name]:
            at = found.end()  # left as written: the compiler names the mistake at its line
            continue
        arguments, end = parsed
        image = arguments[0].strip()
        if name == "texture2DRect" and image not in images:
            at = found.end()  # the file's own rectangle sampler: GLSL's function, left as written
            continue
        size = size_uniform(image) if image in images else f"vec2(textureSize({image}, 0))"
        if name == "IMG_SIZE":
            replacement = size
        elif name == "IMG_NORM_PIXEL":
            replacement = f"texture2D({arguments[0]},{arguments[1]})"
        elif name in ("IMG_PIXEL", "texture2DRect"):  # the latter from hosts whose images were rectangle textures
            replacement = f"texture2D({arguments[0]}, ({arguments[1]}) / {size})"
        else:
            replacement = f"texture2D({arguments[0]}, {TEXCOORD})"
        code = code[: found.start()] + replacement + code[end:]
        at = found.start()  # calls nested in the arguments are expanded next
    return code


def _declarations(shader: IsfShader, images: tuple[str, ...]) -> list[str]:
    lines = [f"uniform {glsl} {name};" for glsl, name in BUILTIN_UNIFORMS]
    lines += [f"uniform {UNIFORM_TYPES[item.type]} {item.name};" for item in shader.inputs
              if UNIFORM_TYPES[item.type] != "sampler2D"]
    lines += [f"uniform sampler2D {name};" for name in images]
    lines += [f"uniform vec2 {size_uniform(name)};" for name in images]
    lines += [f"uniform vec4 {rect_uniform(name)};" for name in images]
    lines += [f"uniform bool {flip_uniform(name)};" for name in images]
    lines += ["varying vec2 isf_FragNormCoord;", f"varying vec2 {TEXCOORD};"]
    return lines


def _without_redeclarations(body: str, declared: set[str]) -> str:
    """The body without its own declarations of what the prelude declares (files written for hosts
    that wanted ``uniform float TIME;`` spelled out): GLSL refuses a second declaration."""
    return _DECLARATION.sub(lambda found: "" if found.group(1) in declared else found.group(0), body)


def _stated_version(body: str) -> tuple[str | None, str]:
    """The body's own ``#version`` (as ``"330 compatibility"``...) and the body with that line blanked."""
    found = _VERSION.search(body)
    if not found:
        return None, body
    number, profile = found.group(1), found.group(2)
    body = body[: found.start()] + body[found.end():]
    if profile == "es" or number in ("100", "300", "310", "320"):
        return None, body  # GLSL ES (WebGL hosts): the desktop versions are tried, the latest takes its syntax
    return (f"{number} {profile or 'compatibility'}" if int(number) >= 150 else number), body


def _stage(version: str, prelude: list[str], body: str, path: Path, first_line: int) -> Source:
    """One stage: ``#version``, the #extension lines (which must come first), the prelude, the body.

    vispy moves every ``#extension`` line up to just after ``#version`` itself, adding lines: so
    they are taken out of the body here and put there (their own lines left blank), and the
    origins count the lines vispy adds.
    """
    extensions = _EXTENSION.findall(body)
    body = _EXTENSION.sub("", body)
    lines = [f"#version {version}", *(line.strip() for line in extensions), *prelude]
    # vispy blanks these and inserts them again after #version: the driver sees each twice the lines
    origins: list[Origin | None] = [None] * (len(lines) + len(extensions))
    for offset, line in enumerate(body.split("\n")):
        lines.append(line.removesuffix("\r"))
        origins.append((str(path), first_line + offset))
    return Source("\n".join(lines) + "\n", tuple(origins), (path,))


def _vertex_prelude(declarations: list[str], own_main: bool) -> list[str]:
    """The vertex stage before the ``.vs`` file: isf_vertShaderInit(), and main() where there is no file."""
    lines = [f"attribute vec2 {POSITION};", *declarations,
             "void isf_vertShaderInit() {", f"    gl_Position = vec4({POSITION}, 0.0, 1.0);",
             f"    isf_FragNormCoord = {POSITION} * 0.5 + 0.5;", f"    {TEXCOORD} = isf_FragNormCoord;", "}"]
    return lines if own_main else [*lines, "void main() { isf_vertShaderInit(); }"]


def program_sources(shader: IsfShader) -> list[IsfProgramSource]:
    """The versions to try, in order, each with both stages assembled."""
    images = image_names(shader)
    declarations = _declarations(shader, images)
    declared = {line.rstrip(";").split()[-1] for line in declarations}
    stated, fragment_body = _stated_version(shader.fragment_body)
    fragment_body = expand_image_functions(_without_redeclarations(fragment_body, declared), images)
    stated_vertex, vertex_body = _stated_version(shader.vertex_body)
    vertex_body = expand_image_functions(_without_redeclarations(vertex_body, declared), images)
    stated = stated or stated_vertex
    own_main = shader.vertex_path is not None
    vertex_prelude = _vertex_prelude(declarations, own_main)
    vertex_path = shader.vertex_path or shader.path
    versions = (stated,) if stated else FALLBACK_VERSIONS
    return [IsfProgramSource(version, _stage(version, vertex_prelude, vertex_body if own_main else "", vertex_path, 1),
                             _stage(version, declarations, fragment_body, shader.path, shader.fragment_line))
            for version in versions]
