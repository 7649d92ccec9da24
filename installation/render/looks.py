"""Looks: what a preset's ``look = "..."`` names (no GL imported).

A look is ``shaders/looks/<name>.toml``: a title, the composite shader that paints the
scene (a fragment file in ``shaders/``), and a palette of named colours that reach every
program as ``vec3 pal_<key>`` uniforms. Presets then tune the composite's own header
inputs (``shader.<composite>.*``) per act.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from installation.core.errors import LoadError
from installation.core.params import Color, parse_color
from installation.core.paths import resource_dir, safe_name
from installation.core.tomlsource import Checker, TomlSource

# Every look names all of these, so any composite shader may use any of them.
PALETTE_KEYS = ("ground", "ground_alt", "hyphae", "hyphae_hot", "toxin", "flora", "node", "pulse",
                "cold", "shield", "mural_a", "mural_b", "mural_c", "mural_d")


@dataclass(frozen=True)
class Look:
    name: str
    title: str
    composite: str
    palette: dict[str, Color]
    path: Path


def looks_dir(shader_dir: Path | None = None) -> Path:
    return (shader_dir or resource_dir("shaders")) / "looks"


def look_names(shader_dir: Path | None = None) -> list[str]:
    return sorted(p.stem for p in looks_dir(shader_dir).glob("*.toml"))


def load_look(name: str, shader_dir: Path | None = None) -> Look:
    """Read one look; raises LoadError (file:line: key: reason) for any mistake."""
    folder = looks_dir(shader_dir)
    path = folder / f"{safe_name(name)}.toml"
    if not path.is_file():
        raise LoadError.single(path, 0, "", f"look {name!r} not found (known: {', '.join(look_names(shader_dir))})")
    source = TomlSource.read(path)
    checker = Checker(source)
    data = source.data
    checker.unknown_keys(data, {"title", "composite", "palette"}, "")
    title = checker.string(data, "title", "title", name)
    composite = checker.string(data, "composite", "composite")
    if composite and not (folder.parent / f"{composite}.frag").is_file():
        checker.fail("composite", f"shader {composite}.frag not found in {folder.parent}")
    table = checker.table(data, "palette", "palette")
    checker.unknown_keys(table, set(PALETTE_KEYS), "palette")
    palette: dict[str, Color] = {}
    for key in PALETTE_KEYS:
        if key not in table:
            checker.fail(f"palette.{key}", "missing colour")
            continue
        try:
            palette[key] = parse_color(table[key])
        except ValueError as error:
            checker.fail(f"palette.{key}", str(error))
    checker.raise_if_any()
    return Look(name, title, composite, palette, path)
