"""The effect chain over the organism, as pure data: which ISF files, in which order, how.

The world's composite passes through the chain once per frame, in order: a **filter** (an ISF
file with an ``inputImage``) replaces the picture with its output; a **generator** is a layer
blended into the picture (``blend``, ``opacity``) or, with ``mask``, masks it. Every change
(add, remove, reorder, bypass, a preset's ``[[effect]]`` entries) crossfades: each
:class:`Slot` has a ``level`` gliding to its target, and the GPU mixes by it, so a filter at
level 0.3 shows 30 % of its output over its input. A move is the effect leaving its old place
while a copy arrives at the new one.

The :class:`EffectChain` lives in the engine (the only writer of the parameter bank): it
declares each effect's inputs as ``isf.<effect>.<input>`` parameters, polls the files (a
saved header is live within a second; a broken one keeps the last good and is reported) and
publishes an immutable tuple of slots that the renderer reads each frame. Pure: no GL.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import tomlkit

from installation.core.commands import Command, switch
from installation.core.errors import LoadError, Problem
from installation.core.events import EventKind
from installation.core.isf import IMAGE_TYPES, IsfShader, isf_param_specs, load_isf, slug
from installation.core.params import ParamBank, ParamSpec, Value
from installation.core.paths import UserDirs, resource_dir
from installation.core.tomlsource import Checker

log = logging.getLogger(__name__)

EFFECT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
BLENDS = ("normal", "add", "screen", "multiply", "overlay")
MASKS = ("", "picture", "below")  # a layer; masks the picture so far; masks the effect below it
MASK_FROM = ("luma", "alpha")
EFFECT_KEYS = {"file", "name", "bypass", "blend", "opacity", "mask", "mask_from", "params", "events"}
FADE_S = 0.5
MAX_EFFECTS = 16
POLL_S = 0.25
EVENT_HOLD_S = 0.1  # an event input set on is let go after this (momentary), seen by every frame meanwhile
OWNER = "isf"


def isf_folders(user: UserDirs | None = None, extra: Iterable[Path] = ()) -> list[Path]:
    """Where ISF files are looked up by name: ``--isf-dir`` folders, the user's, the shipped."""
    folders = [Path(folder) for folder in extra]
    if user is not None:
        folders.append(user.isf)
    folders.append(resource_dir("shaders") / "isf")
    return folders


def available(folders: Iterable[Path]) -> dict[str, Path]:
    """Every ``.fs`` file by name, the first folder's winning (a user's copy overrides ours)."""
    found: dict[str, Path] = {}
    for folder in folders:
        if folder.is_dir():
            for path in sorted(folder.glob("*.fs")):
                found.setdefault(path.stem, path)
    return dict(sorted(found.items()))


def isf_thumbnail_file(folder: Path, path: Path) -> Path:
    """Where the thumbnail of ISF file ``path`` is cached; a new file whenever it is saved. OSError if it is gone."""
    return folder / f"isf-{slug(path.stem)}-{path.stat().st_mtime_ns}.png"


def find_isf(file: str, folders: Iterable[Path], base: Path | None = None) -> Path:
    """The file an entry names: a path (relative to ``base``, the preset's folder) when it has
    a slash or ends in ``.fs``, else a name in ``folders``. Raises ValueError."""
    if "/" in file or file.endswith(".fs"):
        path = Path(file).expanduser()
        if not path.is_absolute() and base is not None:
            path = base / path
        if not path.is_file():
            raise ValueError(f"no ISF file {str(path)!r}")
        return path
    folders = list(folders)
    found = available(folders).get(file)
    if found is None:
        raise ValueError(f"no ISF file {file!r} in {', '.join(map(str, folders))} (myco isf list shows them)")
    return found


def default_name(file: str) -> str:
    """The default instance name of a file: its slug (``Spore Haze.fs`` → ``spore_haze``)."""
    name = slug(Path(file).stem)
    return (name if name[0].isalpha() else f"fx_{name}")[:32].rstrip("_")


def param_name(effect: str, input_name: str) -> str:
    """The parameter of an input: ``isf.<effect>.<input as its author wrote it>``."""
    return f"{OWNER}.{effect}.{input_name}"


def input_values(effect: str, shader: IsfShader,
                 values: Mapping[str, object]) -> tuple[dict[str, object], list[tuple[str, str]]]:
    """Parameter values from values by input name (a point2D as ``[x, y]``, a color as
    ``"#rrggbb"`` or ``[r, g, b, a]``; ``pos_x`` or ``tint_alpha`` name one part); and the
    problems as (input, reason)."""
    params = {spec.name for spec in isf_param_specs(effect, shader)}
    found: dict[str, object] = {}
    problems = []
    for key, value in values.items():
        item = shader.input(key)
        name = param_name(effect, key)
        if item is not None and item.type == "point2D" and isinstance(value, list) and len(value) == 2:
            found.update({f"{name}_x": value[0], f"{name}_y": value[1]})
        elif item is not None and item.type == "color" and isinstance(value, list) and len(value) == 4:
            found.update({name: value[:3], f"{name}_alpha": value[3]})
        elif name in params:
            found[name] = value
        else:
            known = ", ".join(i.name for i in shader.inputs if i.type not in IMAGE_TYPES) or "none"
            problems.append((key, f"{shader.path.name} has no such input (its inputs: {known})"))
    return found, problems


@dataclass(frozen=True)
class EffectEntry:
    """One ``[[effect]]`` of a preset. ``params`` and ``events`` are keyed by the ISF input name."""

    file: str
    name: str
    bypass: bool = False
    blend: str = "normal"
    opacity: float = 1.0
    mask: str = ""
    mask_from: str = "luma"
    params: Mapping[str, object] = field(default_factory=dict)
    events: Mapping[str, EventKind] = field(default_factory=dict)
    line: int = field(default=0, compare=False)


def parse_effects(checker: Checker, data: Mapping[str, Any]) -> tuple[EffectEntry, ...]:
    """The ``[[effect]]`` entries of a preset document; problems go to ``checker``."""
    entries: list[EffectEntry] = []
    names: set[str] = set()
    for index, table in enumerate(checker.tables(data, "effect", "effect", limit=MAX_EFFECTS)):
        key = f"effect[{index}]"
        checker.unknown_keys(table, EFFECT_KEYS, key)
        file = checker.string(table, "file", f"{key}.file")
        name = checker.string(table, "name", f"{key}.name", default_name(file) if file else "effect",
                              pattern=EFFECT_NAME)
        if name in names:
            checker.fail(f"{key}.name", f"{name!r} is already an effect of this preset (give one a name)")
        names.add(name)
        blend = checker.string(table, "blend", f"{key}.blend", "normal")
        if blend not in BLENDS:
            checker.fail(f"{key}.blend", f"{blend!r} is not one of {', '.join(BLENDS)}")
        mask = checker.string(table, "mask", f"{key}.mask", "")
        if mask not in MASKS:
            checker.fail(f"{key}.mask", f"{mask!r} is not one of \"picture\", \"below\" (or \"\": a layer)")
        mask_from = checker.string(table, "mask_from", f"{key}.mask_from", "luma")
        if mask_from not in MASK_FROM:
            checker.fail(f"{key}.mask_from", f"{mask_from!r} is not one of {', '.join(MASK_FROM)}")
        events: dict[str, EventKind] = {}
        for input_name, kind in checker.table(table, "events", f"{key}.events", required=False).items():
            try:
                events[input_name] = EventKind(kind)
            except ValueError:
                checker.fail(f"{key}.events.{input_name}",
                             f"{kind!r} is not an event kind ({', '.join(k.value for k in EventKind)})")
        entries.append(EffectEntry(
            file=file, name=name, bypass=checker.boolean(table, "bypass", f"{key}.bypass", False), blend=blend,
            opacity=checker.number(table, "opacity", f"{key}.opacity", 1.0, 0.0, 1.0), mask=mask, mask_from=mask_from,
            params=MappingProxyType(dict(checker.table(table, "params", f"{key}.params", required=False))),
            events=MappingProxyType(events), line=checker.source.line_of(key)))
    return tuple(entries)


def entry_table(entry: EffectEntry) -> dict[str, Any]:
    """An entry as its ``[[effect]]`` table, with every key (defaults included), for comparing."""
    return {"file": entry.file, "name": entry.name, "bypass": entry.bypass, "blend": entry.blend,
            "opacity": entry.opacity, "mask": entry.mask, "mask_from": entry.mask_from,
            "params": dict(entry.params), "events": {key: kind.value for key, kind in entry.events.items()}}


def render_effects(document: tomlkit.TOMLDocument, entries: Iterable[EffectEntry]) -> None:
    """Write ``entries`` as the document's ``[[effect]]`` tables; when they are what the file
    says already, the artist's text (and comments) is left as it is."""
    entries = list(entries)
    wanted = [entry_table(entry) for entry in entries]
    existing = document.get("effect")
    if existing is not None and hasattr(existing, "unwrap"):
        defaults = entry_table(EffectEntry("", ""))
        tables = existing.unwrap() if isinstance(existing.unwrap(), list) else []
        written = [{**defaults, "name": default_name(str(table.get("file", ""))), **table} for table in tables]
        if written == wanted:
            return
    elif not wanted:
        return
    if "effect" in document:
        del document["effect"]
    if not wanted:
        return
    tables = tomlkit.aot()
    defaults = entry_table(EffectEntry("", ""))
    for table, entry in zip(wanted, entries, strict=True):
        item = tomlkit.table()
        for key, value in table.items():  # only what differs from the defaults (the name from the file's)
            if key == "file" or (value != defaults[key] and not (key == "name" and value == default_name(entry.file))):
                item[key] = value
        tables.append(item)
    document["effect"] = tables


def entry_values(entry: EffectEntry, index: int, shader: IsfShader,
                 origin: Path | None) -> tuple[dict[str, Value], list[Problem]]:
    """The parameter values of a preset's ``entry`` (``isf.<name>.<input>``), and its problems
    ``preset:line: effect[index].params.KEY: reason``."""
    found, reasons = input_values(entry.name, shader, entry.params)
    specs = {spec.name: spec for spec in isf_param_specs(entry.name, shader)}
    values: dict[str, Value] = {}
    for name, raw in found.items():
        try:
            values[name] = specs[name].coerce(raw)[0]
        except ValueError as error:
            reasons.append((name.rsplit(".", 1)[-1], str(error)))
    return values, [Problem(str(origin or "preset"), entry.line, f"effect[{index}].params.{key}", reason)
                    for key, reason in reasons]


def check_entries(entries: Iterable[EffectEntry], folders: Iterable[Path], origin: Path) -> list[Problem]:
    """What a preset's ``[[effect]]`` entries would report when it plays (for ``myco check``):
    files that cannot be found or read, inputs the files do not have, values that do not fit."""
    folders = list(folders)
    problems: list[Problem] = []
    for index, entry in enumerate(entries):
        try:
            shader = load_isf(find_isf(entry.file, folders, origin.parent))
        except ValueError as error:
            problems.append(Problem(str(origin), entry.line, f"effect[{index}].file", str(error)))
            continue
        except LoadError as error:
            problems.extend(error.problems)
            continue
        problems.extend(entry_values(entry, index, shader, origin)[1])
    return problems


@dataclass(frozen=True)
class Slot:
    """One effect in the chain as the renderer sees it. ``key`` is unique for the slot's life
    (a renderer per key); ``version`` counts reloads of its file."""

    key: int
    name: str
    path: Path
    shader: IsfShader
    version: int = 0
    bypass: bool = False
    blend: str = "normal"
    opacity: float = 1.0
    mask: str = ""
    mask_from: str = "luma"
    events: Mapping[str, EventKind] = field(default_factory=dict)
    level: float = 0.0
    fade_s: float = FADE_S
    leaving: bool = False
    from_preset: bool = False  # a preset's effects come and go with it; ones added live stay until removed

    @property
    def filter(self) -> bool:
        """A filter takes the picture as ``inputImage`` (a transition is played as one, its
        ``startImage`` the picture); a generator is a layer or a mask."""
        return self.shader.kind != "generator"

    @property
    def target(self) -> float:
        return 0.0 if self.leaving or self.bypass else 1.0

    def param(self, input_name: str) -> str:
        return param_name(self.name, input_name)


Report = Callable[[str], None]


class EffectChain:
    """The live chain; every method runs in the engine's step (the bank's one writer)."""

    def __init__(self, bank: ParamBank, folders: Iterable[Path], report: Report) -> None:
        self.bank = bank
        self.folders = list(folders)
        self.report = report
        self.slots: tuple[Slot, ...] = ()  # published whole: readers on other threads take the tuple
        self._keys = 0
        self._since_poll = 0.0
        self._mtimes: dict[Path, float] = {}
        self._broken: dict[Path, str] = {}  # the last problem reported per file (reported once)
        self._held: dict[str, float] = {}  # event inputs set on, and for how long (see _release_events)

    # -- what the operator does -------------------------------------------------------------
    def names(self) -> list[str]:
        return [slot.name for slot in self.slots if not slot.leaving]

    def add(self, file: str, name: str | None = None, index: int | None = None, fade_s: float = FADE_S,
            base: Path | None = None) -> str:
        """Add ``file`` (a name in the ISF folders, or a path) as ``name`` (default: its slug,
        made unique), at ``index`` (default: last), fading in. Raises ValueError."""
        path = find_isf(file, self.folders, base)
        shader = self._load(path)
        if len(self.names()) >= MAX_EFFECTS:
            raise ValueError(f"the chain holds at most {MAX_EFFECTS} effects")
        if name is None:
            name = self._unique(default_name(path.name))
        elif not EFFECT_NAME.match(name):
            raise ValueError(f"effect name {name!r} must be lower_case letters, digits and _ (up to 32)")
        elif name in self.names():
            raise ValueError(f"there is an effect called {name!r} already")
        self._declare(name, shader)
        slot = Slot(self._next_key(), name, path, shader, fade_s=fade_s)
        self._insert(slot, index)
        self._mtimes[path] = _mtime(path)
        return name

    def remove(self, name: str, fade_s: float = FADE_S) -> None:
        self._update(name, leaving=True, fade_s=fade_s)

    def bypass(self, name: str, on: bool | None = None, fade_s: float = FADE_S) -> None:
        """Bypass ``name`` (``None``: toggle); it fades out and in again, its settings kept."""
        slot = self._find(name)
        self._update(name, bypass=not slot.bypass if on is None else on, fade_s=fade_s)

    def move(self, name: str, index: int, fade_s: float = FADE_S) -> None:
        """Put ``name`` at ``index`` (counted among the effects that stay): it fades out where
        it was while a copy fades in at its new place."""
        slot = self._find(name)
        names = self.names()
        index = max(0, min(int(index), len(names) - 1))
        if names.index(name) == index:
            return
        self._replace(slot, replace(slot, leaving=True, fade_s=fade_s))
        arriving = replace(slot, key=self._next_key(), level=0.0, fade_s=fade_s, leaving=False)
        self._insert(arriving, index)

    def set(self, name: str, **settings: Any) -> None:
        """Change ``blend``, ``opacity``, ``mask`` or ``mask_from`` of ``name``. Raises ValueError."""
        if settings.get("mask") == "none":
            settings["mask"] = ""
        for key, value in settings.items():
            allowed = {"blend": BLENDS, "mask": MASKS, "mask_from": MASK_FROM}.get(key)
            if key == "opacity":
                settings[key] = min(1.0, max(0.0, float(value)))
            elif allowed is None or value not in allowed:
                raise ValueError(f"{key}={value!r}: expected blend, opacity, mask or mask_from with a known value")
        self._update(name, **settings)

    def command(self, command: Command, argument: str) -> None:
        """An effect command from OSC, MIDI or the UI; raises ValueError. Arguments:
        ``effect_add FILE`` or ``NAME=FILE``, ``effect_remove NAME``, ``effect_bypass NAME [on|off]``
        (none toggles), ``effect_move NAME PLACE`` (counted from 0), ``effect_set NAME key=value...``
        (``blend``, ``opacity``, ``mask``, ``mask_from``; ``mask=`` alone is no mask: write ``mask=none``)."""
        words = argument.split()
        if command is Command.EFFECT_ADD:
            name, _, file = argument.strip().rpartition("=")
            self.add(file.strip(), name.strip() or None)
        elif command is Command.EFFECT_REMOVE:
            self.remove(argument.strip())
        elif command is Command.EFFECT_BYPASS:
            self.bypass(words[0] if words else "", switch(" ".join(words[1:])))
        elif command is Command.EFFECT_MOVE:
            if len(words) != 2 or not words[1].lstrip("-").isdigit():
                raise ValueError(f"effect_move takes a name and a place counted from 0, got {argument!r}")
            self.move(words[0], int(words[1]))
        elif command is Command.EFFECT_SET:
            settings = dict(word.partition("=")[::2] for word in words[1:])
            if not words or not settings or "" in settings.values():
                raise ValueError(f"effect_set takes a name and key=value settings, got {argument!r}")
            self.set(words[0], **settings)

    # -- snapshots (installation.core.snapshot) ---------------------------------------------
    def save_state(self) -> list[dict[str, object]]:
        """The effects added live, for a snapshot (a preset's come back with its act)."""
        return [{"name": slot.name, "path": str(slot.path), "bypass": slot.bypass, "blend": slot.blend,
                 "opacity": slot.opacity, "mask": slot.mask, "mask_from": slot.mask_from}
                for slot in self.slots if not slot.from_preset and not slot.leaving]

    def restore_state(self, state: Iterable[Mapping[str, Any]]) -> None:
        """Add again the live effects of :meth:`save_state`, at once; one that cannot come back
        (its file gone) is reported and the others are restored."""
        for item in state:
            try:
                name = self.add(str(item["path"]), str(item["name"]), fade_s=0.0)
                self.set(name, blend=item["blend"], opacity=item["opacity"], mask=item["mask"],
                         mask_from=item["mask_from"])
                self.bypass(name, bool(item["bypass"]), fade_s=0.0)
            except (KeyError, ValueError, TypeError, LoadError) as error:
                self.report(f"snapshot: effect {str(item.get('name'))[:40]!r} not restored: {error}")
        self.step(0.0)

    # -- presets ----------------------------------------------------------------------------
    def apply(self, entries: Iterable[EffectEntry], fade_s: float, origin: Path | None = None) -> dict[str, Value]:
        """Make the preset's part of the chain ``entries`` over ``fade_s`` seconds: effects kept
        where the name, file and order agree, the others leave or arrive; effects added live stay
        (after the preset's). Returns the preset's parameter
        values (``isf.<effect>.<input>``), for the preset's morph. A file that cannot be used
        is reported ``preset:line: effect[i].file: reason`` and left out."""
        base = origin.parent if origin is not None else None
        values: dict[str, Value] = {}
        wanted: list[Slot] = []
        for index, entry in enumerate(entries):
            try:
                path = find_isf(entry.file, self.folders, base)
                shader = self._load(path)
            except (ValueError, LoadError) as error:
                where = Problem(str(origin or "preset"), entry.line, f"effect[{index}].file", str(error))
                self.report(str(where))
                continue
            if any(slot.name == entry.name and not slot.from_preset and not slot.leaving for slot in self.slots):
                self.report(str(Problem(str(origin or "preset"), entry.line, f"effect[{index}].name",
                                        f"an effect called {entry.name!r} was added live; this one is left out")))
                continue
            wanted.append(Slot(0, entry.name, path, shader, bypass=entry.bypass, blend=entry.blend,
                               opacity=entry.opacity, mask=entry.mask, mask_from=entry.mask_from,
                               events=entry.events, fade_s=fade_s, from_preset=True))
            found, problems = entry_values(entry, index, shader, origin)
            values.update(found)
            for problem in problems:
                self.report(str(problem))
        staying = [slot for slot in self.slots if not slot.leaving and slot.from_preset]
        live = [slot for slot in self.slots if not slot.leaving and not slot.from_preset]
        kept: dict[str, Slot] = {}
        position = 0
        for slot in wanted:  # keep the effects already there in the same order
            for offset, current in enumerate(staying[position:]):
                if current.name == slot.name and current.path == slot.path:
                    kept[slot.name] = current
                    position += offset + 1
                    break
        # the ones going fade out first in the chain, under the preset's own, in their order
        result = [slot if slot.leaving else replace(slot, leaving=True, fade_s=fade_s)
                  for slot in self.slots if slot.leaving or (slot.from_preset and kept.get(slot.name) is not slot)]
        for slot in wanted:
            self._declare(slot.name, slot.shader)
            self._mtimes.setdefault(slot.path, _mtime(slot.path))
            if (same := kept.get(slot.name)) is not None:
                result.append(replace(same, bypass=slot.bypass, blend=slot.blend, opacity=slot.opacity,
                                      mask=slot.mask, mask_from=slot.mask_from, events=slot.events, fade_s=fade_s))
            else:
                result.append(replace(slot, key=self._next_key(), level=1.0 if fade_s <= 0 else 0.0))
        self.slots = tuple(result + live)  # the live ones over the preset's
        if fade_s <= 0:
            self.step(0.0)
        return values

    # -- the tick ---------------------------------------------------------------------------
    def step(self, dt: float) -> None:
        """Glide each slot's level to its target; drop the slots that have left (and their
        parameters, when no slot of that name remains); let go of event inputs held for
        :data:`EVENT_HOLD_S`; every :data:`POLL_S`, reload saved files."""
        self._release_events(dt)
        slots = []
        for slot in self.slots:
            if slot.fade_s <= 0:
                level = slot.target
            else:
                rate = dt / slot.fade_s
                level = slot.level + max(-rate, min(rate, slot.target - slot.level))
                level = slot.target if abs(slot.target - level) < 1e-9 else level  # steps of 1/60 s do not sum exactly
            if slot.leaving and level <= 0.0:
                continue
            slots.append(slot if level == slot.level else replace(slot, level=level))
        if len(slots) != len(self.slots) or any(a is not b for a, b in zip(slots, self.slots, strict=False)):
            gone = {slot.name for slot in self.slots} - {slot.name for slot in slots}
            self.slots = tuple(slots)
            for name in gone:
                self.bank.declare(f"{OWNER}.{name}", [])
        self._since_poll += dt
        if self._since_poll >= POLL_S:
            self._since_poll = 0.0
            self._poll()

    def _release_events(self, dt: float) -> None:
        """An ``event`` input is momentary: set on (OSC, the UI, a MIDI button), it is let go after
        EVENT_HOLD_S, so the next "on" fires again. The hold lets every frame rendered meanwhile see
        it (the shader fires once, on the frame it turns on)."""
        held = {}
        for slot in self.slots:
            for item in slot.shader.inputs:
                name = slot.param(item.name)
                if item.type == "event" and name in self.bank and self.bank.target(name) is True:
                    held[name] = self._held.get(name, 0.0) + dt
        # (steps of 1/60 s do not sum exactly)
        self._held = {name: seconds for name, seconds in held.items() if seconds < EVENT_HOLD_S - 1e-9}
        released = {name: False for name in held if name not in self._held}
        if released:
            self.bank.set_many(released, "engine", immediate=True)

    def entries(self, preset: Iterable[EffectEntry], values: Mapping[str, Value]) -> tuple[EffectEntry, ...]:
        """The chain as it runs, as a preset's ``[[effect]]`` entries (what saving the preset keeps).
        An entry of the ``preset`` keeps its file's spelling, its inputs and its event bindings; an
        effect added live names its file as the folders find it (else by its path) and takes the
        inputs of ``values`` that differ from their defaults. Bypass, blend, opacity and masks are
        the running ones; effects removed live are left out."""
        own = {entry.name: entry for entry in preset}
        found = available(self.folders)
        entries = []
        for slot in self.slots:
            if slot.leaving:
                continue
            entry = own.get(slot.name) if slot.from_preset else None
            if entry is None:
                file = slot.path.stem if found.get(slot.path.stem) == slot.path else str(slot.path)
                prefix = len(param_name(slot.name, ""))
                inputs = {spec.name[prefix:]: list(value) if isinstance(value, tuple) else value
                          for spec in isf_param_specs(slot.name, slot.shader)
                          if (value := values.get(spec.name, spec.default)) != spec.default}
                entry = EffectEntry(file, slot.name, params=MappingProxyType(inputs), events=slot.events)
            entries.append(replace(entry, bypass=slot.bypass, blend=slot.blend, opacity=slot.opacity,
                                   mask=slot.mask, mask_from=slot.mask_from))
        return tuple(entries)

    def status(self) -> list[dict[str, object]]:
        """The chain for ``/status``: each effect in order, what it is and how far it is faded in."""
        return [{"name": slot.name, "file": slot.path.name, "kind": slot.shader.kind, "bypass": slot.bypass,
                 "blend": slot.blend, "opacity": slot.opacity, "mask": slot.mask, "level": round(slot.level, 3),
                 "live": not slot.from_preset} for slot in self.slots if not slot.leaving]

    def _poll(self) -> None:
        """Hot reload: a file saved since is parsed again; a broken one keeps the last good."""
        for path in {slot.path for slot in self.slots}:
            mtime = _mtime(path)
            if mtime == self._mtimes.get(path):
                continue
            self._mtimes[path] = mtime
            try:
                shader = self._load(path)
            except LoadError:
                continue  # reported by _load; the slots keep their shader
            log.info("ISF file %s reloaded", path)
            slots = []
            for slot in self.slots:
                if slot.path == path:
                    self._declare(slot.name, shader)
                    slot = replace(slot, shader=shader, version=slot.version + 1)
                slots.append(slot)
            self.slots = tuple(slots)

    # -- internals --------------------------------------------------------------------------
    def _load(self, path: Path) -> IsfShader:
        try:
            shader = load_isf(path)
        except LoadError as error:
            message = str(error)
            if self._broken.get(path) != message:
                self._broken[path] = message
                self.report(message)
            raise
        self._broken.pop(path, None)
        return shader

    def _declare(self, name: str, shader: IsfShader) -> None:
        specs: list[ParamSpec] = isf_param_specs(name, shader)
        self.bank.declare(f"{OWNER}.{name}", specs)

    def _find(self, name: str) -> Slot:
        for slot in self.slots:
            if slot.name == name and not slot.leaving:
                return slot
        known = ", ".join(self.names()) or "none"
        raise ValueError(f"no effect called {name!r} in the chain (there are: {known})")

    def _update(self, name: str, **changes: Any) -> None:
        slot = self._find(name)
        self._replace(slot, replace(slot, **changes))

    def _replace(self, old: Slot, new: Slot) -> None:
        self.slots = tuple(new if slot is old else slot for slot in self.slots)

    def _insert(self, slot: Slot, index: int | None) -> None:
        """Put ``slot`` before the ``index``-th staying effect (leaving ones keep their places)."""
        slots = list(self.slots)
        staying = [i for i, s in enumerate(slots) if not s.leaving]
        at = len(slots) if index is None or index >= len(staying) else staying[max(0, index)]
        slots.insert(at, slot)
        self.slots = tuple(slots)

    def _unique(self, name: str) -> str:
        taken = set(self.names())
        if name not in taken:
            return name
        number = 2
        while f"{name}_{number}" in taken:
            number += 1
        return f"{name}_{number}"

    def _next_key(self) -> int:
        self._keys += 1
        return self._keys


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
