"""Validation of presets, seeds and shows as files, for ``myco check`` and the preset editor.

A file's kind is read from its top-level table (``[preset]``, ``[seed]``, ``[show]``), so a
broken copy anywhere on disk is checked as what it is. Every problem is returned, none
raised: the caller prints them as ``file:line: key: reason``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from installation.core.errors import LoadError, Problem
from installation.core.params import ParamSpec
from installation.core.presets import check_param_values, parse_preset
from installation.core.seeds import parse_seed, seed_path
from installation.core.shows import parse_show
from installation.core.tomlsource import TomlSource

Checker = Callable[[Path], list[Problem]]


def _problems(action: Callable[[], object]) -> list[Problem]:
    try:
        action()
    except LoadError as error:
        return error.problems
    return []


def check_toml_file(path: Path, specs: Mapping[str, ParamSpec], preset_names: Iterable[str],
                    look_names: Iterable[str] | None,
                    extra: Mapping[str, Checker] | None = None) -> list[Problem]:
    """Check one TOML file of any kind Myco reads; ``extra`` maps other top-level tables to checkers."""
    try:
        source = TomlSource.read(path)
    except LoadError as error:
        return error.problems
    if "seed" in source.data:
        return _problems(lambda: parse_seed(source))
    if "show" in source.data or "acts" in source.data:
        known = set(preset_names)
        return _problems(lambda: parse_show(source, preset_exists=known.__contains__))
    if "preset" in source.data:
        return _check_preset(source, specs, look_names)
    for table, checker in (extra or {}).items():
        if table in source.data:
            return checker(path)
    kinds = ", ".join(["[preset]", "[seed]", "[show]", *(f"[{t}]" for t in extra or {})])
    return [Problem(str(path), 1, "", f"not a Myco file: expected a top-level table ({kinds})")]


def _check_preset(source: TomlSource, specs: Mapping[str, ParamSpec],
                  look_names: Iterable[str] | None) -> list[Problem]:
    try:
        preset = parse_preset(source)
    except LoadError as error:
        return error.problems
    problems = check_param_values(source, source.path, preset.params, specs)
    if not seed_path(preset.seed).is_file():
        problems.append(source.problem("preset.seed", f"seed {preset.seed!r} not found in seeds/"))
    looks = sorted(look_names) if look_names is not None else None
    if looks is not None and preset.look not in looks:
        problems.append(source.problem("preset.look", f"look {preset.look!r} not found (looks: "
                                       f"{', '.join(looks) or 'none'})"))
    return sorted(problems, key=lambda problem: problem.line)
