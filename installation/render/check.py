"""``myco check`` for shaders: compile every program headless and validate every look."""

from __future__ import annotations

import gc
from pathlib import Path

from installation.core.errors import LoadError, Problem
from installation.core.isf import isf_file
from installation.core.paths import resource_dir
from installation.render.looks import load_look, look_names
from installation.render.params import shader_files, shader_folder, shader_specs


def check_shaders(paths: list[Path] | None = None, shader_dir: Path | None = None) -> list[Problem]:
    """Compile and link each program (all of ``shaders/*.frag`` by default) in a hidden GL context.

    A ``.frag`` path is compiled as a program; an ISF ``.fs`` (or the ``.vs`` beside one) is
    compiled and rendered once (:func:`installation.render.isf.check_isf`); any other shader file
    (a vertex or include file) stands for every program beside it, since they may use it. The headers of each folder
    checked are checked together too (one parameter declared unalike by two of them). Returns
    every problem as ``file:line: key: reason``; an empty list means all compiled.
    Needs an X display or Qt's offscreen platform with Mesa (see docs/shaders.md).
    """
    from installation.render.isf import check_isf
    from installation.render.offscreen import HiddenContext
    from installation.render.programs import ShaderProgram
    from installation.render.transients import glsl_defines

    folder = shader_dir or resource_dir("shaders")
    problems: list[Problem] = []
    if paths is None:
        paths = shader_files(folder)
        for name in look_names(folder):
            try:
                load_look(name, folder)
            except LoadError as error:
                problems.extend(error.problems)
    try:
        context = HiddenContext()
    except Exception as error:  # any failure to get GL is one reported problem
        return [*problems, Problem(str(folder), 0, "gl", f"no OpenGL context: {error}")]
    programs: dict[Path, Path] = {}
    isf: dict[Path, None] = {}
    for path in map(Path, paths):
        if (fragment := isf_file(path)) is not None:
            isf[fragment] = None
        elif path.suffix == ".frag":
            programs[path.resolve()] = path.parent
        else:
            base = shader_folder(path)
            programs.update({p.resolve(): base for p in shader_files(base)})
    try:
        for path, base in programs.items():
            program = ShaderProgram(path, base, glsl_defines())
            problems.extend(program.errors)
            program.delete()
        for fragment in isf:
            problems.extend(check_isf(fragment))
        for base in sorted(set(programs.values())):
            problems.extend(problem for problem in shader_specs(base.resolve())[1] if problem not in problems)
    finally:
        context.close()
        gc.collect()  # destroy the hidden canvas now, not in the middle of someone else's frame
    return problems
