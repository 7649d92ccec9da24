"""Assembling GLSL from shader files: headers, ``#include`` and a map back to file lines.

A program is a fragment file with an ISF-style header plus a vertex file (named by the
header's ``VERTEX``, ``quad.vert`` by default). The assembled text starts with
``#version 120``, then the uniforms every program gets and those its inputs declare (the
inputs of the headers of its fragment file, its vertex file and every file they include),
then the body with ``#include "x.glsl"`` expanded (looked up beside the file, then in
``shaders/include``). Each output line remembers its file and line, so the compiler's
``line 57`` becomes ``shaders/festival.frag:31``. No GL here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from installation.core.errors import LoadError, Problem
from installation.core.shaderheader import ShaderHeader, ShaderInput, parse_header, program_inputs
from installation.core.textfile import read_text
from installation.render.params import declared_in_code

VERSION = "#version 120"
MAX_INCLUDE_DEPTH = 8
_INCLUDE = re.compile(r'^\s*#\s*include\s+"([A-Za-z0-9_./-]+)"\s*$')
_VARIABLE = re.compile(
    r"^\s*(?:uniform|attribute)\s+(?:(?:lowp|mediump|highp)\s+)?(\w+)\s+(\w+)\s*(\[\s*\d+\s*\])?\s*;", re.M)
# The compiler's message formats: vispy's rewrite ("on line 5: ...") and Mesa/NVIDIA raw forms.
_ERROR_LINE = (
    re.compile(r"on line (\d+):\s*(.*)"),
    re.compile(r"^\s*\d+:(\d+)\(\d+\):\s*(.*)"),
    re.compile(r"^\s*\d+\((\d+)\)\s*:\s*(.*)"),
    re.compile(r"^\s*ERROR:\s*\d+:(\d+):\s*(.*)"),
)

# Uniforms every program gets (documented in docs/shaders.md).
STANDARD_UNIFORMS = (
    ("float", "u_time"),
    ("float", "u_dt"),
    ("float", "u_frame"),
    ("vec2", "u_resolution"),
    ("float", "u_aspect"),
)

Origin = tuple[str, int]


@dataclass(frozen=True)
class Source:
    """Assembled GLSL for one stage, with the origin of every line (None: generated)."""

    code: str
    origins: tuple[Origin | None, ...]
    files: tuple[Path, ...]

    def origin(self, line: int) -> Origin | None:
        if 1 <= line <= len(self.origins):
            return self.origins[line - 1]
        return None

    def variables(self) -> dict[str, str]:
        """Declared uniform and attribute names and their GLSL types."""
        return {m.group(2): m.group(1) for m in _VARIABLE.finditer(self.code)}


@dataclass(frozen=True)
class ProgramSource:
    """A program's two stages; ``header`` is its fragment file's, ``inputs`` all the program's."""

    header: ShaderHeader
    vertex: Source
    fragment: Source
    inputs: tuple[ShaderInput, ...] = ()

    @property
    def files(self) -> tuple[Path, ...]:
        return tuple(dict.fromkeys(self.vertex.files + self.fragment.files))


@dataclass
class _Body:
    """One stage's GLSL with its includes expanded, and the headers of the files it included."""

    lines: list[str] = field(default_factory=list)
    origins: list[Origin | None] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    headers: list[ShaderHeader] = field(default_factory=list)


def _expand(path: Path, text: str, first_line: int, roots: list[Path], stack: tuple[Path, ...], into: _Body) -> None:
    if len(stack) > MAX_INCLUDE_DEPTH:
        raise LoadError.single(path, first_line, "include", f"includes nested deeper than {MAX_INCLUDE_DEPTH}")
    for offset, line in enumerate(text.split("\n")):
        number = first_line + offset
        match = _INCLUDE.match(line)
        if not match:
            into.lines.append(line.removesuffix("\r"))  # a Windows editor's CRLF: still one line to the compiler
            into.origins.append((str(path), number))
            continue
        target = _find_include(match.group(1), path.parent, roots)
        if target is None:
            raise LoadError.single(path, number, "include", f"{match.group(1)!r} not found")
        if target in stack:
            raise LoadError.single(path, number, "include", f"{match.group(1)!r} includes itself")
        into.files.append(target)
        header = parse_header(read_text(target), target)
        if header.vertex:
            raise LoadError.single(target, 1, "VERTEX", "only a program's fragment file names its vertex shader")
        into.headers.append(header)
        _expand(target, header.body, header.body_line, roots, (*stack, target), into)


def _find_include(name: str, folder: Path, roots: list[Path]) -> Path | None:
    for base in (folder, *roots):
        candidate = (base / name).resolve()
        # Only files inside the shader folders may be included; one that is there but no file (a folder,
        # a pipe) is found, for read_text to say what it is.
        if any(candidate.is_relative_to(r.resolve()) for r in (folder, *roots)) and candidate.exists():
            return candidate
    return None


def _body(path: Path, header: ShaderHeader, shader_dir: Path) -> _Body:
    body = _Body(files=[path])
    _expand(path, header.body, header.body_line, [shader_dir / "include"], (path,), body)
    return body


def _compose(body: _Body, inputs: tuple[ShaderInput, ...], defines: dict[str, str] | None) -> Source:
    lines: list[str] = [VERSION]
    origins: list[Origin | None] = [None]
    for name, value in (defines or {}).items():
        lines.append(f"#define {name} {value}")
        origins.append(None)
    for glsl_type, name in STANDARD_UNIFORMS:
        lines.append(f"uniform {glsl_type} {name};")
        origins.append(None)
    for item in inputs:
        lines.append(f"uniform {item.glsl_type} {item.name};")
        origins.append((item.file, item.line))
    return Source("\n".join(lines + body.lines) + "\n", tuple(origins + body.origins), tuple(body.files))


def assemble(path: Path, header: ShaderHeader, shader_dir: Path, defines: dict[str, str] | None = None) -> Source:
    """One stage on its own: the file with ``header``, its includes, and the inputs of them all."""
    body = _body(path, header, shader_dir)
    return _compose(body, program_inputs([header, *body.headers]), defines)


def load_program(fragment_path: Path, shader_dir: Path, defines: dict[str, str] | None = None) -> ProgramSource:
    """Read, parse and assemble one program; raise LoadError naming file and line."""
    header = parse_header(read_text(fragment_path), fragment_path)
    vertex_path = fragment_path.parent / (header.vertex or "quad.vert")
    if not vertex_path.is_file():
        raise LoadError.single(fragment_path, 1, "VERTEX", f"vertex shader {vertex_path.name} not found")
    vertex_header = parse_header(read_text(vertex_path), vertex_path)
    fragment = _body(fragment_path, header, shader_dir)
    vertex = _body(vertex_path, vertex_header, shader_dir)
    inputs = program_inputs([header, vertex_header, *fragment.headers, *vertex.headers])
    if problems := declared_in_code(inputs):
        raise LoadError(problems)
    return ProgramSource(header, _compose(vertex, inputs, defines), _compose(fragment, inputs, defines), inputs)


def map_errors(message: str, program: ProgramSource) -> list[Problem]:
    """Turn a compile or link message into problems at file:line of the shader files."""
    stage = program.fragment
    fallback = str(program.header.path)
    if "GL_VERTEX_SHADER" in message:
        stage = program.vertex
        fallback = str(program.vertex.files[0])
    problems: list[Problem] = []
    unplaced: list[Problem] = []
    for raw in message.splitlines():
        text = raw.strip()
        if not text or text.startswith("Shader compilation error") or text.startswith("Error linking"):
            continue
        for pattern in _ERROR_LINE:
            match = pattern.search(text)
            if match:
                origin = stage.origin(int(match.group(1)))
                where = origin or (fallback, 0)
                problems.append(Problem(where[0], where[1], "glsl", match.group(2).strip()))
                break
        else:
            unplaced.append(Problem(fallback, 0, "glsl", text))
    # Lines without a line number are vispy's quotes of the code; keep them only if nothing else.
    return problems or unplaced or [Problem(fallback, 0, "glsl", message.strip() or "unknown GL error")]
