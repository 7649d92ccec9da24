"""The renderer's parameters: ``render.quality``, and those declared by every shader header (no GL imported).

Every parameter a program reads as a uniform is declared in a header: a shader's own
(``shader.<file>.<input>``) and the renderer's that a header binds with ``PARAM``
(``render.exposure`` in post.frag, ``render.speed`` in include/speed.glsl, ...). Only
``render.quality``, which sizes textures and is no uniform, is declared here in code.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from installation.core.errors import LoadError, Problem
from installation.core.params import ParamSpec, enum_param
from installation.core.paths import resource_dir
from installation.core.shaderheader import ShaderHeader, ShaderInput, declared_inputs, input_spec, read_header

QUALITIES = ("low", "medium", "high", "ultra")


def renderer_specs() -> list[ParamSpec]:
    """The renderer's parameters that no shader reads (the others are in the headers)."""
    return [
        enum_param("render.quality", "medium", QUALITIES,
                   "agent count and simulation resolution; a change rebuilds the renderer (the hyphae weave again)",
                   label="Quality"),
    ]


IN_CODE = frozenset(spec.name for spec in renderer_specs())


def declared_in_code(inputs: Iterable[ShaderInput]) -> list[Problem]:
    """Inputs that bind one of :func:`renderer_specs`: those are no uniforms (``render.quality``)."""
    return [Problem(item.file, item.line, f"INPUTS.{item.name}.PARAM",
                    f"{item.param} is no uniform: the renderer declares it (render/params.py)")
            for item in inputs if item.param in IN_CODE]


def shader_files(shader_dir: Path | None = None) -> list[Path]:
    """Every program's fragment file (include files and vertex files are not programs)."""
    folder = shader_dir or resource_dir("shaders")
    return sorted(folder.glob("*.frag"))


def shader_folder(path: Path) -> Path:
    """The shader folder a shader file belongs to (an include file's is the folder above ``include``)."""
    return path.parent.parent if path.parent.name == "include" else path.parent


def header_files(shader_dir: Path | None = None) -> list[Path]:
    """Every file that may have a header: the programs, their vertex files and the include files."""
    folder = shader_dir or resource_dir("shaders")
    return sorted({*folder.glob("*.frag"), *folder.glob("*.vert"), *folder.glob("*.glsl"),
                   *folder.glob("include/*.glsl")})


def shader_specs(shader_dir: Path | None = None) -> tuple[list[ParamSpec], list[Problem]]:
    """Parameters of every shader header, each once, and the problems: headers that do not parse,
    one parameter declared unalike by two headers, a header declaring one of :func:`renderer_specs`."""
    headers: list[ShaderHeader] = []
    problems: list[Problem] = []
    for path in header_files(shader_dir):
        try:
            headers.append(read_header(path))
        except LoadError as error:
            problems.extend(error.problems)
    declared, clashes = declared_inputs(headers)
    specs = [input_spec(item) for item in declared if item.param not in IN_CODE]
    return specs, problems + clashes + declared_in_code(declared)


def param_specs(shader_dir: Path | None = None) -> list[ParamSpec]:
    """Renderer parameters plus every valid shader header's inputs."""
    return renderer_specs() + shader_specs(shader_dir)[0]
