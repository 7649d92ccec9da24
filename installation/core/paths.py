"""Where Myco's files live: shipped resources and the user's own folders.

Shipped ``shaders/``, ``presets/`` and ``seeds/`` are found next to the package in a
checkout, or inside it (``installation/_data``) in an installed wheel. The user's config,
presets, logs and state live in platformdirs folders (overridable with ``MYCO_HOME`` for
tests and kiosks). Every name that comes from outside goes through :func:`safe_name`, and
every path written goes through :func:`inside`, so no name can write outside these folders.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import platformdirs

PACKAGE_DIR = Path(__file__).resolve().parent.parent
RESOURCE_NAMES = ("shaders", "presets", "seeds")
SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}\Z")  # \Z: "$" would also match before a final newline


class UnsafePathError(ValueError):
    """A name or path from outside would have left Myco's folders."""


def resource_dir(name: str) -> Path:
    """The shipped folder ``name`` (one of :data:`RESOURCE_NAMES`)."""
    if name not in RESOURCE_NAMES:
        raise ValueError(f"unknown resource folder {name!r}")
    bundled = PACKAGE_DIR / "_data" / name
    if bundled.is_dir():
        return bundled
    return PACKAGE_DIR.parent / name


def safe_name(name: str) -> str:
    """Return ``name`` if it is a plain preset/show/seed name, else raise UnsafePathError."""
    if not isinstance(name, str) or not SAFE_NAME.match(name):
        raise UnsafePathError(f"{name!r} is not a valid name (lower-case letters, digits, '-' and '_')")
    return name


def inside(base: Path, candidate: Path) -> Path:
    """Resolve ``candidate`` and make sure it lies inside ``base``."""
    base_resolved = base.resolve()
    resolved = candidate.resolve()
    if resolved != base_resolved and base_resolved not in resolved.parents:
        raise UnsafePathError(f"{candidate} is outside {base}")
    return resolved


@dataclass(frozen=True)
class UserDirs:
    """The user's writable folders."""

    config: Path
    presets: Path
    logs: Path
    state: Path

    @classmethod
    def default(cls) -> UserDirs:
        home = os.environ.get("MYCO_HOME")
        if home:
            root = Path(home)
            return cls(root / "config", root / "presets", root / "logs", root / "state")
        return cls(
            config=Path(platformdirs.user_config_dir("myco")),
            presets=Path(platformdirs.user_data_dir("myco")) / "presets",
            logs=Path(platformdirs.user_log_dir("myco")),
            state=Path(platformdirs.user_state_dir("myco")),
        )

    def ensure(self) -> UserDirs:
        for folder in (self.config, self.presets, self.logs, self.state):
            folder.mkdir(parents=True, exist_ok=True)
        return self

    @property
    def isf(self) -> Path:
        """The user's ISF files (effects and generators), beside their presets."""
        return self.presets.parent / "isf"

    def user_preset_path(self, name: str) -> Path:
        """Where a user preset called ``name`` is saved; refuses any unsafe name."""
        return inside(self.presets, self.presets / f"{safe_name(name)}.toml")


def preset_search_path(user: UserDirs | None = None) -> list[Path]:
    """Folders searched for presets, user first so a user preset overrides a shipped one."""
    folders = [resource_dir("presets")]
    if user is not None:
        folders.insert(0, user.presets)
    return folders
