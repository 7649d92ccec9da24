"""Shader programs built from files, rebuilt when a file changes, never left broken.

A :class:`ShaderProgram` is a small description (the fragment file, the defines) plus the
last program that compiled. :meth:`ShaderProgram.reload` builds a new program from the files
and forces the compile and link right there (vispy compiles lazily, so errors would
otherwise surface inside a later draw); only a program that built replaces the running one,
and the problems of one that did not are kept, mapped back to ``file:line``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from vispy import gloo

from installation.core.errors import LoadError, Problem
from installation.core.params import Value
from installation.core.shaderheader import ShaderHeader, input_spec
from installation.core.textfile import mtime
from installation.render.glsl import ProgramSource, load_program, map_errors

log = logging.getLogger(__name__)


def current_context() -> Any:
    canvas = gloo.get_current_canvas()
    if canvas is None:
        raise RuntimeError("no current OpenGL context: create the Renderer inside a canvas or offscreen context")
    return canvas.context


def compile_now(program: gloo.Program) -> None:
    """Run the program's queued GL commands now, so a compile or link error raises here."""
    context = current_context()
    context.glir.associate(program.glir)
    context.flush_commands()


def _mtimes(paths: tuple[Path, ...]) -> dict[Path, int]:
    return {path: mtime(path) for path in paths}


class ShaderProgram:
    """One program from ``shaders/<stem>.frag`` (and its vertex file and includes)."""

    def __init__(self, path: Path, shader_dir: Path, defines: dict[str, str] | None = None) -> None:
        self.path = path
        self.shader_dir = shader_dir
        self.defines = dict(defines or {})
        self.program: gloo.Program | None = None
        self.source: ProgramSource | None = None
        self.errors: list[Problem] = []
        self._stamps: dict[Path, int] = {}
        self._variables: dict[str, str] = {}
        self._defaults: dict[str, Value] = {}
        self.reload()

    @property
    def stem(self) -> str:
        return self.path.stem

    @property
    def header(self) -> ShaderHeader | None:
        return self.source.header if self.source else None

    def changed(self) -> bool:
        files = self.source.files if self.source else (self.path,)
        watched = tuple(self._stamps) or files
        return _mtimes(watched) != self._stamps

    def reload(self) -> bool:
        """Build from the files; on success swap it in and return True, else keep the old one."""
        candidate: gloo.Program | None = None
        try:
            source = load_program(self.path, self.shader_dir, self.defines)
        except LoadError as error:
            self._fail(error.problems, (self.path,))
            return False
        try:
            candidate = gloo.Program(source.vertex.code, source.fragment.code)
            compile_now(candidate)
        except RuntimeError as error:
            if candidate is not None:
                candidate.delete()
                current_context().flush_commands()
            self._fail(map_errors(str(error), source), source.files)
            return False
        if self.program is not None:
            self.program.delete()
        self.program = candidate
        self.source = source
        self.errors = []
        self._variables = {**source.vertex.variables(), **source.fragment.variables()}
        self._defaults = {item.param: input_spec(item).default for item in source.inputs if item.param}
        self._stamps = _mtimes(source.files)
        return True

    def _fail(self, problems: list[Problem], files: tuple[Path, ...]) -> None:
        self.errors = problems
        # Watch the files of the failed attempt too, so fixing any of them triggers a rebuild.
        known = self.source.files if self.source else ()
        self._stamps = _mtimes(tuple(dict.fromkeys(known + files)))
        for problem in problems:
            log.warning("shader error: %s", problem)

    def has(self, name: str) -> bool:
        return name in self._variables

    def set(self, name: str, value: Any) -> None:
        """Set a uniform, texture or attribute if this program declares it (others are ignored)."""
        if self.program is not None and name in self._variables:
            self.program[name] = value

    def set_many(self, values: Mapping[str, Any]) -> None:
        for name, value in values.items():
            self.set(name, value)

    def apply_inputs(self, params: Mapping[str, Value], envelopes: Mapping[str, float]) -> None:
        """Set every input of the program's headers (its own, its vertex file's, its includes'):
        parameters from the snapshot (or the header's default), events from envelopes."""
        if self.source is None:
            return
        for item in self.source.inputs:
            if item.type == "event":
                self.set(item.name, float(envelopes.get(item.name, 0.0)))
                continue
            value = params.get(item.param, self._defaults[item.param])
            if item.type == "color":
                self.set(item.name, np.asarray(value, np.float32)[:3])
            elif item.type == "bool":
                self.set(item.name, bool(value))
            elif item.type == "long":
                self.set(item.name, int(value))  # type: ignore[arg-type]
            else:
                self.set(item.name, float(value))  # type: ignore[arg-type]

    def draw(self, mode: str = "triangle_strip", indices: Any = None) -> None:
        if self.program is not None:
            self.program.draw(mode, indices)

    def delete(self) -> None:
        if self.program is not None:
            self.program.delete()
            self.program = None
