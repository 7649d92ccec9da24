"""Drafts: unsaved edits of a preset, kept on disk until they are saved or discarded.

An act change, a recall, a crash or a quit would otherwise lose what the artist changed
live. The app writes the edited parameter values beside the preset's name in the user's
state folder (``state/drafts/<preset>.toml``, never next to the shipped files) and offers
them back when that preset is current again:

```toml
# Unsaved edits to the preset kai-1-living-city, kept by Myco until they are saved or discarded.
[draft]
preset = "kai-1-living-city"
saved_at = 2025-05-06T21:14:03.512000+00:00

[params]
"render.exposure" = 0.2
"render.tint" = [0.9, 0.4, 0.2]
```

Written atomically; read through :class:`~installation.core.tomlsource.TomlSource` like
every other file, so a broken draft is a :class:`LoadError` that the app reports, and
:func:`set_aside` moves it out of the way (kept for a look, never offered again).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import tomlkit

from installation.core.commands import LIVE_PARAMS
from installation.core.errors import LoadError
from installation.core.params import NAME_PATTERN, ParamSpec, Value
from installation.core.paths import SAFE_NAME, UserDirs, inside, safe_name
from installation.core.presets import flatten_params
from installation.core.tomlsource import Checker, TomlSource, atomic_write

DRAFTS_FOLDER = "drafts"
BROKEN_SUFFIX = ".broken"


@dataclass(frozen=True)
class Draft:
    """The edited values of preset ``preset`` (only those that differ from its file), and when."""

    preset: str
    values: Mapping[str, Value]
    saved_at: float  # seconds since the epoch
    path: Path | None = field(default=None, compare=False)


def drafts_folder(user: UserDirs) -> Path:
    return user.state / DRAFTS_FOLDER


def draft_path(user: UserDirs, preset: str) -> Path:
    """Where the draft of ``preset`` lives; refuses any unsafe name."""
    folder = drafts_folder(user)
    return inside(folder, folder / f"{safe_name(preset)}.toml")


def changed_values(preset_values: Mapping[str, Value], edits: Mapping[str, Value],
                   specs: Mapping[str, ParamSpec] | None = None) -> dict[str, Value]:
    """The ``edits`` that differ from ``preset_values`` (the preset's resolved values); live
    state (blackout, pause) is the show's, not the preset's, and never part of a draft."""
    changed: dict[str, Value] = {}
    for name, value in edits.items():
        if name in LIVE_PARAMS:
            continue
        spec = specs.get(name) if specs is not None else None
        if spec is not None:
            try:
                value = spec.coerce(value)[0]
            except ValueError:
                continue
        if preset_values.get(name) != value:
            changed[name] = value
    return changed


def _toml_value(value: Value) -> object:
    if isinstance(value, tuple):
        return list(value)
    return value


def render_draft(draft: Draft) -> str:
    document = tomlkit.document()
    document.add(tomlkit.comment(f"Unsaved edits to the preset {draft.preset}, kept by Myco until they are "
                                 "saved or discarded."))
    meta = tomlkit.table()
    meta["preset"] = draft.preset
    meta["saved_at"] = datetime.fromtimestamp(draft.saved_at, UTC)
    document["draft"] = meta
    params = tomlkit.table()
    for name in sorted(draft.values):
        params[name] = _toml_value(draft.values[name])
    document["params"] = params
    return tomlkit.dumps(document)


def write_draft(user: UserDirs, preset: str, values: Mapping[str, Value], now: float | None = None) -> Path:
    """Keep ``values`` as the draft of ``preset`` (atomic: a crash leaves the old or the new draft)."""
    path = draft_path(user, preset)
    draft = Draft(preset, dict(values), time.time() if now is None else now)
    text = render_draft(draft)
    parse_draft(TomlSource.parse(text, path))  # never write what could not be read back
    atomic_write(path, text.encode("utf-8"), keep_backups=False)
    return path


def parse_draft(source: TomlSource, specs: Mapping[str, ParamSpec] | None = None) -> Draft:
    """A draft from parsed TOML; with ``specs``, every value is checked and coerced."""
    checker = Checker(source)
    data = source.data
    checker.unknown_keys(data, {"draft", "params"}, "")
    meta = checker.table(data, "draft", "draft")
    checker.unknown_keys(meta, {"preset", "saved_at"}, "draft")
    preset = checker.string(meta, "preset", "draft.preset", pattern=SAFE_NAME)
    stamp = meta.get("saved_at")
    saved_at = 0.0
    if isinstance(stamp, datetime) and stamp.tzinfo is not None:
        saved_at = stamp.timestamp()
    else:
        checker.fail("draft.saved_at", "must be a date and time with its offset (2025-05-06T21:14:03+00:00)")
    if preset and preset != source.path.stem:
        checker.fail("draft.preset", f"names {preset!r}, but the file is the draft of {source.path.stem!r}")
    raw = checker.table(data, "params", "params", required=False)
    values: dict[str, Value] = {}
    for name, value in flatten_params(raw).items():
        key = f"params.{name}"
        if not NAME_PATTERN.match(name) or name in LIVE_PARAMS:
            checker.fail(key, "not an editable parameter")
            continue
        spec = specs.get(name) if specs is not None else None
        if specs is not None and spec is None:
            checker.fail(key, "unknown parameter")
            continue
        try:
            values[name] = spec.coerce(value)[0] if spec is not None else _plain(value)
        except (ValueError, TypeError) as error:
            checker.fail(key, str(error))
    checker.raise_if_any()
    return Draft(preset, values, saved_at, source.path)


def _plain(value: object) -> Value:
    """A value as the bank takes it, unchecked (no specs to check it against)."""
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, list) and len(value) == 3 and all(
            isinstance(part, int | float) and not isinstance(part, bool) and math.isfinite(part) for part in value):
        return float(value[0]), float(value[1]), float(value[2])  # a colour
    raise ValueError(f"{value!r} is not a parameter value")


def read_draft(user: UserDirs, preset: str, specs: Mapping[str, ParamSpec] | None = None) -> Draft | None:
    """The draft of ``preset``, None if there is none; LoadError (file, line, key) if it is broken."""
    path = draft_path(user, preset)
    if not path.exists():
        return None
    return parse_draft(TomlSource.read(path), specs)


def delete_draft(user: UserDirs, preset: str) -> bool:
    """Forget the draft of ``preset`` (saved or discarded); True if there was one."""
    path = draft_path(user, preset)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def set_aside(user: UserDirs, preset: str, now: float | None = None) -> Path | None:
    """Move a broken draft out of the way (``<preset>.toml.broken-<when>``): kept to look at,
    never offered again. Returns where it went, None if it was already gone."""
    path = draft_path(user, preset)
    when = time.strftime("%Y%m%d-%H%M%S", time.localtime(time.time() if now is None else now))
    target = path.with_name(f"{path.name}{BROKEN_SUFFIX}-{when}")
    try:
        path.replace(target)
    except FileNotFoundError:
        return None
    except OSError as error:  # a folder in its place, a read-only disk: nothing more to do than say so
        raise LoadError.single(path, 0, "", f"cannot set the broken draft aside: {error}") from None
    return target


def when_text(saved_at: float, now: float | None = None) -> str:
    """When a draft was written, as an operator reads it: ``21:14`` today, else ``6 May 21:14``."""
    stamp = time.localtime(saved_at)
    today = time.localtime(time.time() if now is None else now)
    if stamp[:3] == today[:3]:
        return time.strftime("%H:%M", stamp)
    return f"{stamp.tm_mday} {time.strftime('%b %H:%M', stamp)}"
