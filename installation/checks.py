"""The checks behind ``myco check``, gathered from every part that reads files.

The pure core checks presets, seeds, shows, venues and shader headers; the MIDI layer checks
controller profiles (and that their targets exist); the renderer validates looks and
compiles shaders in a hidden GL context. Each returns problems as ``file:line: key: reason``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from installation.core.effects import check_entries, isf_folders
from installation.core.errors import LoadError, Problem
from installation.core.isf import isf_file, load_isf
from installation.core.params import ParamSpec
from installation.core.paths import UserDirs
from installation.core.presets import PresetLibrary, load_preset
from installation.core.shaderheader import read_header
from installation.core.textfile import read_text
from installation.core.validate import check_toml_file
from installation.core.venue import load_venue
from installation.midi.profile import check_targets, load_profile, preset_overrides
from installation.registry import all_param_specs
from installation.render.glsl import load_program
from installation.render.looks import load_look, look_names
from installation.render.params import shader_folder, shader_specs


@cache
def _specs() -> dict[str, ParamSpec]:
    return {spec.name: spec for spec in all_param_specs()}


def check_profile(path: Path) -> list[Problem]:
    try:
        profile = load_profile(path)
    except LoadError as error:
        return error.problems
    return check_targets(profile, _specs())


def check_look(path: Path) -> list[Problem]:
    try:
        load_look(path.stem, path.parent.parent)
    except (LoadError, ValueError) as error:
        return error.problems if isinstance(error, LoadError) else [Problem(str(path), 0, "", str(error))]
    return []


def check_venue(path: Path) -> list[Problem]:
    """A venue file (``[venue]`` and its ``[[output]]`` tables): every problem at once."""
    try:
        load_venue(path)
    except LoadError as error:
        return sorted(error.problems, key=lambda problem: problem.line)  # the loader reads section by section
    return []


def check_preset_midi(path: Path) -> list[Problem]:
    """A preset's ``[[midi.binding]]`` overrides follow the controller profiles' schema."""
    _, problems = preset_overrides(path)
    return problems


def check_file(path: Path) -> list[Problem]:
    if path.parent.name == "looks":
        return check_look(path)
    library = PresetLibrary(UserDirs.default())
    problems = check_toml_file(path, _specs(), library.names(), look_names(),
                               extra={"controller": check_profile, "binding": check_profile,
                                      "venue": check_venue, "output": check_venue})
    if path.suffix == ".toml" and _mentions_midi(path):
        problems.extend(check_preset_midi(path))
    if path.suffix == ".toml" and not problems and _mentions(path, "[[effect"):
        problems.extend(check_entries(load_preset(path).effects, isf_folders(UserDirs.default()), path))
    return problems


def _mentions_midi(path: Path) -> bool:
    return _mentions(path, "[midi")


def _mentions(path: Path, text: str) -> bool:
    try:
        return text in read_text(path)
    except LoadError:
        return False  # check_toml_file has reported why it cannot be read


def check_shaders(paths: list[Path]) -> list[Problem]:
    from installation.render.check import check_shaders as compile_shaders

    return compile_shaders(paths)


def check_shader_headers(paths: list[Path]) -> list[Problem]:
    """What needs no GL (``myco check --no-shaders``): each program assembled with its vertex file
    and includes (so an input clashing with an include's is found), an ISF file's header read,
    any other shader file's header parsed, and the headers of each folder compared (one parameter declared unalike)."""
    problems: list[Problem] = []
    for path in paths:
        try:
            if (fragment := isf_file(path)) is not None:
                load_isf(fragment)
            elif path.suffix == ".frag":
                load_program(path, shader_folder(path))
            else:
                read_header(path)
        except LoadError as error:
            problems.extend(problem for problem in error.problems if problem not in problems)
    for folder in sorted({shader_folder(path) for path in paths}):
        problems.extend(problem for problem in shader_specs(folder)[1] if problem not in problems)
    return problems
