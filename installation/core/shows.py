"""Shows: timelines of acts, each a preset with timed cues and a transition.

```toml
[show]
title = "Kai's festival"
loop = true

[[acts]]
title = "The living city"
preset = "kai-1-living-city"
duration = 90          # seconds
transition = 8         # crossfade from the previous act, seconds
transition_by = "morph"  # or "crossfader": load the act into the off-air deck and move the fader

[[acts.cues]]
at = 20                # seconds into the act
event = "toxin_cluster"
strength = 0.8
x = 0.3
y = 0.6
```

:class:`ShowPlayer` is the pure timeline: it advances by fixed steps, fires each cue once
as an :class:`Event`, reports act changes, and takes next / previous / jump / loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from installation.core.errors import LoadError
from installation.core.events import Event, EventKind
from installation.core.frames import NODE_ID_PATTERN
from installation.core.params import ParamSpec, bool_param, float_param
from installation.core.paths import SAFE_NAME, resource_dir, safe_name
from installation.core.tomlsource import Checker, TomlSource

MAX_ACTS = 64
MAX_CUES = 256
EVENT_NAMES = tuple(kind.value for kind in EventKind)
TRANSITIONS = ("morph", "crossfader")  # how an act is entered (installation.core.decks for the crossfader)


def param_specs() -> list[ParamSpec]:
    """The timeline's own parameters."""
    return [
        float_param("show.time_scale", 1.0, 0.0, 8.0, "x", "How fast the show timeline runs (1 = real time)"),
        float_param("show.recall_crossfade", 3.0, 0.0, 60.0, "s", "Crossfade time when a preset is recalled"),
        # The state of the loop and pause commands (live state: presets leave them alone).
        bool_param("show.loop", True, "Start the show again after its last act", label="Loop show"),
        bool_param("show.paused", False, "Hold the timeline; the organism lives on", label="Pause show"),
    ]


@dataclass(frozen=True)
class Cue:
    at_s: float
    event: EventKind
    strength: float = 1.0
    x: float | None = None
    y: float | None = None
    node: str | None = None
    label: str = ""

    def to_event(self, show_t: float) -> Event:
        return Event(self.event, show_t, self.strength, self.x, self.y, self.node, source="show")


@dataclass(frozen=True)
class Act:
    title: str
    preset: str
    duration_s: float
    transition_s: float
    cues: tuple[Cue, ...] = ()
    story: str = ""
    transition_by: str = "morph"


@dataclass(frozen=True)
class Show:
    name: str
    title: str
    acts: tuple[Act, ...]
    loop: bool = True
    path: Path | None = None

    @property
    def duration_s(self) -> float:
        return sum(act.duration_s for act in self.acts)

    def act_start(self, index: int) -> float:
        return sum(act.duration_s for act in self.acts[:index])


def _optional_unit(checker: Checker, table: dict[str, Any], name: str, key: str) -> float | None:
    if name not in table:
        return None
    return checker.number(table, name, key, minimum=0.0, maximum=1.0)


def _cues(checker: Checker, act: dict[str, Any], key: str, duration: float) -> tuple[Cue, ...]:
    cues = []
    entries = checker.tables(act, "cues", f"{key}.cues", limit=MAX_CUES)
    for index, entry in enumerate(entries):
        cue_key = f"{key}.cues[{index}]"
        checker.unknown_keys(entry, {"at", "event", "strength", "x", "y", "node", "label"}, cue_key)
        at = checker.number(entry, "at", f"{cue_key}.at", minimum=0.0, maximum=max(duration, 0.0))
        name = checker.string(entry, "event", f"{cue_key}.event")
        if name not in EVENT_NAMES:
            checker.fail(f"{cue_key}.event", f"unknown event {name!r} (one of {', '.join(EVENT_NAMES)})")
            continue
        node = entry.get("node")
        if node is not None and (not isinstance(node, str) or not NODE_ID_PATTERN.match(node)):
            checker.fail(f"{cue_key}.node", "must be a node id ([a-z0-9_-]{1,32})")
            node = None
        cues.append(Cue(
            at_s=at,
            event=EventKind(name),
            strength=checker.number(entry, "strength", f"{cue_key}.strength", 1.0, minimum=0.0, maximum=4.0),
            x=_optional_unit(checker, entry, "x", f"{cue_key}.x"),
            y=_optional_unit(checker, entry, "y", f"{cue_key}.y"),
            node=node,
            label=checker.string(entry, "label", f"{cue_key}.label", ""),
        ))
    return tuple(sorted(cues, key=lambda cue: cue.at_s))


def _transition_by(checker: Checker, act: dict[str, Any], key: str) -> str:
    name = checker.string(act, "transition_by", key, "morph")
    if name not in TRANSITIONS:
        checker.fail(key, f"unknown transition {name!r} (one of {', '.join(TRANSITIONS)})")
        return "morph"
    return name


def parse_show(source: TomlSource, preset_exists: Callable[[str], bool] | None = None) -> Show:
    """Build a show; with ``preset_exists``, also check that every act's preset can be found."""
    checker = Checker(source)
    data = source.data
    checker.unknown_keys(data, {"show", "acts"}, "")
    meta = checker.table(data, "show", "show")
    checker.unknown_keys(meta, {"title", "loop", "description"}, "show")
    acts = []
    entries = checker.tables(data, "acts", "acts", limit=MAX_ACTS)
    if not entries and not any(problem.key == "acts" for problem in checker.problems):
        checker.fail("acts", "a show needs at least one [[acts]]")
    for index, entry in enumerate(entries):
        key = f"acts[{index}]"
        checker.unknown_keys(entry, {"title", "preset", "duration", "transition", "transition_by", "cues", "story"},
                             key)
        duration = checker.number(entry, "duration", f"{key}.duration", minimum=1.0, maximum=86400.0)
        preset = checker.string(entry, "preset", f"{key}.preset", pattern=SAFE_NAME)
        if preset and preset_exists is not None and not preset_exists(preset):
            checker.fail(f"{key}.preset", f"preset {preset!r} not found")
        acts.append(Act(
            title=checker.string(entry, "title", f"{key}.title"),
            preset=preset,
            duration_s=duration,
            transition_s=checker.number(entry, "transition", f"{key}.transition", 4.0, minimum=0.0,
                                        maximum=max(duration, 0.0)),
            cues=_cues(checker, entry, key, duration),
            story=checker.string(entry, "story", f"{key}.story", ""),
            transition_by=_transition_by(checker, entry, f"{key}.transition_by"),
        ))
    show = Show(
        name=source.path.stem,
        title=checker.string(meta, "title", "show.title"),
        acts=tuple(acts),
        loop=checker.boolean(meta, "loop", "show.loop", True),
        path=source.path,
    )
    checker.raise_if_any()
    return show


def load_show(path: Path, preset_exists: Callable[[str], bool] | None = None) -> Show:
    return parse_show(TomlSource.read(path), preset_exists)


def show_folder() -> Path:
    return resource_dir("presets") / "shows"


def show_names() -> list[str]:
    return sorted(p.stem for p in show_folder().glob("*.toml") if SAFE_NAME.match(p.stem))


def find_show(name: str, preset_exists: Callable[[str], bool] | None = None) -> Show:
    path = show_folder() / f"{safe_name(name)}.toml"
    if not path.is_file():
        known = ", ".join(show_names()) or "none"
        raise LoadError.single(path, 0, "", f"show {name!r} not found (shows: {known})")
    return load_show(path, preset_exists)


@dataclass(frozen=True)
class ActChange:
    """The player moved from act ``previous`` (None at the start) to act ``index``."""

    previous: int | None
    index: int
    transition_s: float


class ShowPlayer:
    """The pure show timeline: where we are, which cues fire, when acts change."""

    def __init__(self, show: Show, loop: bool | None = None) -> None:
        self.show = show
        self.loop = show.loop if loop is None else loop
        self.act_index = 0
        self.position_s = 0.0
        self.show_t = 0.0
        self.paused = False
        self.transition_override_s: float | None = None
        self._next_cue = 0
        self._pending: list[ActChange] = [ActChange(None, 0, 0.0)]

    @property
    def act(self) -> Act:
        return self.show.acts[self.act_index]

    @property
    def time_left_s(self) -> float:
        return max(0.0, self.act.duration_s - self.position_s)

    @property
    def finished(self) -> bool:
        return not self.loop and self.act_index == len(self.show.acts) - 1 and self.time_left_s <= 0

    def advance(self, dt: float) -> tuple[list[Event], list[ActChange]]:
        """Move on by ``dt`` seconds; returns the cues fired and the act changes, in order."""
        events: list[Event] = []
        if not self.paused:
            self.show_t += dt
            self.position_s += dt
            self._fire_due(events)
            while self.position_s >= self.act.duration_s and not self.finished:
                overflow = self.position_s - self.act.duration_s
                self._go(self._following(), overflow, replay_cues=True)
                self._fire_due(events)
            if self.finished:
                self.position_s = self.act.duration_s
        changes, self._pending = self._pending, []
        return events, changes

    def next(self) -> None:
        self._go(self._following(), 0.0)

    def previous(self) -> None:
        self._go((self.act_index - 1) % len(self.show.acts), 0.0)

    def jump(self, index: int, position_s: float = 0.0) -> None:
        if not 0 <= index < len(self.show.acts):
            raise IndexError(f"act {index} is not in {self.show.name} (0..{len(self.show.acts) - 1})")
        self._go(index, position_s)

    def _following(self) -> int:
        return (self.act_index + 1) % len(self.show.acts)

    def _go(self, index: int, position_s: float, replay_cues: bool = False) -> None:
        previous = self.act_index
        self.act_index = index
        self.position_s = position_s
        self._next_cue = 0
        # A jump into the middle of an act lands quietly; cues before the entry point are skipped.
        while (not replay_cues and self._next_cue < len(self.act.cues)
               and self.act.cues[self._next_cue].at_s < position_s):
            self._next_cue += 1
        transition = self.act.transition_s if self.transition_override_s is None else self.transition_override_s
        self._pending.append(ActChange(previous, index, transition))

    def _fire_due(self, events: list[Event]) -> None:
        cues = self.act.cues
        while self._next_cue < len(cues) and cues[self._next_cue].at_s <= self.position_s:
            events.append(cues[self._next_cue].to_event(self.show_t))
            self._next_cue += 1
