"""``myco check [PATH...]``: validate presets, seeds, shows, MIDI maps, venues and shaders.

With no paths it checks everything shipped, the user's presets and the user's venues. Each problem is printed
as ``file:line: key: reason``; the exit status is 1 if there was any.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from installation.core.errors import Problem
from installation.core.paths import UserDirs, resource_dir

SHADER_SUFFIXES = {".glsl", ".frag", ".vert", ".fs", ".vs"}


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("check", help="validate presets, seeds, shows, MIDI maps, venues and shaders",
                            description="Validate Myco's files; prints file:line: key: reason for each problem.")
    parser.add_argument("paths", nargs="*", type=Path, help="files or folders (default: everything shipped)")
    parser.add_argument("--no-shaders", action="store_true",
                        help="check shader headers without compiling the shaders (needs no GL)")
    parser.set_defaults(func=run)


def default_paths() -> list[Path]:
    user = UserDirs.default()
    folders = [resource_dir("seeds"), resource_dir("presets"), resource_dir("shaders"), user.presets,
               user.config / "venues"]
    return [folder for folder in folders if folder.is_dir()]


def expand(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """Split paths into TOML files and shader files, walking folders."""
    tomls: list[Path] = []
    shaders: list[Path] = []
    for path in paths:
        candidates = sorted(path.rglob("*")) if path.is_dir() else [path]
        for candidate in candidates:
            # Anything but a folder goes to the loaders, which say why a pipe or a device is no file.
            if candidate.name.startswith(".") or candidate.is_dir():
                continue
            if candidate.suffix == ".toml":
                tomls.append(candidate)
            elif candidate.suffix in SHADER_SUFFIXES:
                shaders.append(candidate)
            elif candidate == path:
                tomls.append(candidate)  # named explicitly: report what it is not
    return tomls, shaders


def collect_problems(paths: list[Path], compile_shaders: bool = True) -> tuple[int, list[Problem]]:
    from installation import checks

    tomls, shaders = expand(paths)
    problems: list[Problem] = []
    for path in tomls:
        problems.extend(checks.check_file(path))
    if shaders:
        problems.extend(checks.check_shaders(shaders) if compile_shaders else checks.check_shader_headers(shaders))
    return len(tomls) + len(shaders), problems


def run(args: argparse.Namespace) -> int:
    paths = list(args.paths) or default_paths()
    missing = [path for path in paths if not path.exists()]
    for path in missing:
        print(f"{path}:0: -: no such file or folder", file=sys.stdout)
    count, problems = collect_problems([p for p in paths if p.exists()], not args.no_shaders)
    for problem in problems:
        print(problem)
    total = len(problems) + len(missing)
    print(f"checked {count} files: {total} problem{'s' if total != 1 else ''}", file=sys.stderr)
    return 1 if total else 0
