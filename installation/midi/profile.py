"""Controller profiles: TOML files that bind a controller's controls to Myco.

```toml
[controller]
name = "Korg nanoKONTROL2"
port = "nanoKONTROL2"        # matched case-insensitively against MIDI port names
channel = 1                  # default channel (1..16) of the bindings; omit for any

[[binding]]
type = "cc"                  # cc, cc14, nrpn, note, pitchbend, aftertouch, poly_aftertouch, program
number = 0
param = "render.glow"        # or: event = "surge"   or: command = "preset", argument = "dawn"
range = [0.0, 2.0]           # in the parameter's units (events: strength); default its whole range
curve = "linear"             # linear, log, exp
invert = false
relative = "twos_complement" # endless encoders: twos_complement, binary_offset, sign_magnitude
step = 0.01                  # relative: change of the normalised value per click
smoothing = 0.05             # seconds
takeover = "pickup"          # jump, pickup, scale
button = "toggle"            # momentary, toggle, value
feedback = true              # send the value back (LEDs, motor faders)
led_on = 127
led_off = 0
```

Every mistake is reported as ``file:line: key: reason``. A preset's ``[midi]`` table uses
the same ``[[midi.binding]]`` entries (read with :func:`read_bindings`). Learned bindings
are saved to the user's profile with tomlkit, so comments an artist wrote there survive.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT, Table

from installation.core.commands import COMMAND_NAMES, Quantum
from installation.core.errors import LoadError, Problem
from installation.core.events import EventKind
from installation.core.params import NAME_PATTERN
from installation.core.paths import UserDirs, resource_dir
from installation.core.textfile import read_text
from installation.core.tomlsource import Checker, TomlSource, atomic_write, parse_document
from installation.midi.bindings import (
    Binding,
    ButtonMode,
    Control,
    ControlType,
    Curve,
    Relative,
    Takeover,
    Target,
    TargetKind,
)

BINDING_KEYS = {
    "type", "channel", "number", "param", "event", "command", "argument", "range", "curve", "invert",
    "relative", "step", "smoothing", "takeover", "button", "feedback", "led_on", "led_off", "x", "y", "port", "at",
}
CONTROLLER_KEYS = {"name", "port", "channel", "description", "manual"}
LEARNED_FILE = "learned.toml"


@dataclass(frozen=True)
class Profile:
    """One controller's bindings, and the port names it applies to."""

    name: str
    port: str
    bindings: tuple[Binding, ...]
    description: str = ""
    path: Path | None = field(default=None, compare=False)

    def matches_port(self, port_name: str) -> bool:
        return bool(self.port) and self.port.lower() in port_name.lower()


def _choice(checker: Checker, table: Mapping[str, Any], name: str, key: str, enum: Any, default: Any) -> Any:
    if default is None and name not in table:
        return None
    text = checker.string(table, name, key, default=default.value if default is not None else None)
    try:
        return enum(text)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        checker.fail(key, f"{text!r} is not one of: {allowed}")
        return default


def _target(checker: Checker, table: Mapping[str, Any], key: str) -> Target | None:
    given = [kind for kind in TargetKind if kind.value in table]
    if len(given) != 1:
        checker.fail(key, "needs exactly one of param, event, command")
        return None
    kind = given[0]
    where = f"{key}.{kind.value}"
    name = checker.string(table, kind.value, where)
    if kind is TargetKind.PARAM and not NAME_PATTERN.match(name):
        checker.fail(where, f"{name!r} is not a parameter name like 'render.glow'")
        return None
    if kind is TargetKind.EVENT and name not in {k.value for k in EventKind}:
        checker.fail(where, f"unknown event {name!r} (expected one of: {', '.join(k.value for k in EventKind)})")
        return None
    if kind is TargetKind.COMMAND and name not in COMMAND_NAMES:
        checker.fail(where, f"unknown command {name!r} (expected one of: {', '.join(COMMAND_NAMES)})")
        return None
    argument = checker.string(table, "argument", f"{key}.argument", default="")
    at = _choice(checker, table, "at", f"{key}.at", Quantum, None)
    try:
        Target(kind, name, argument)
    except ValueError as error:
        checker.fail(f"{key}.argument", str(error))
        return None
    try:
        return Target(kind, name, argument, at.value if at else "")
    except ValueError as error:
        checker.fail(f"{key}.at", str(error))
        return None


def _range(checker: Checker, table: Mapping[str, Any], key: str) -> tuple[float, float] | None:
    value = table.get("range")
    if value is None:
        return None
    numbers = [v for v in value if isinstance(v, (int, float)) and not isinstance(v, bool)] \
        if isinstance(value, list) else []
    if len(numbers) != 2 or len(value) != 2:
        checker.fail(f"{key}.range", "must be two numbers, [low, high]")
        return None
    if numbers[0] == numbers[1]:
        checker.fail(f"{key}.range", "low and high must differ")
        return None
    return float(numbers[0]), float(numbers[1])


def read_binding(checker: Checker, table: Mapping[str, Any], key: str, default_channel: int | None) -> Binding | None:
    """Read one binding table; problems go to ``checker`` and give ``None``."""
    before = len(checker.problems)
    checker.unknown_keys(table, BINDING_KEYS, key)
    control_type = _choice(checker, table, "type", f"{key}.type", ControlType, ControlType.CC)
    channel = default_channel
    if "channel" in table:
        channel = checker.integer(table, "channel", f"{key}.channel", minimum=1, maximum=16) - 1
    number = 0
    if control_type.has_number:
        limit = 16383 if control_type is ControlType.NRPN else (31 if control_type is ControlType.CC14 else 127)
        number = checker.integer(table, "number", f"{key}.number", minimum=0, maximum=limit)
    elif "number" in table:
        checker.fail(f"{key}.number", f"a {control_type.value} control has no number")
    target = _target(checker, table, key)
    relative = _choice(checker, table, "relative", f"{key}.relative", Relative, None)
    if relative is not None and control_type is not ControlType.CC:
        checker.fail(f"{key}.relative", "only cc controls can be relative encoders")
    binding = Binding(
        control=Control(control_type, channel, number),
        target=target or Target.param("midi.unbound"),
        range=_range(checker, table, key),
        curve=_choice(checker, table, "curve", f"{key}.curve", Curve, Curve.LINEAR),
        invert=checker.boolean(table, "invert", f"{key}.invert", False),
        relative=relative,
        step=checker.number(table, "step", f"{key}.step", default=1.0 / 127.0, minimum=1e-6, maximum=1.0),
        smoothing_s=checker.number(table, "smoothing", f"{key}.smoothing", default=0.0, minimum=0.0, maximum=10.0),
        takeover=_choice(checker, table, "takeover", f"{key}.takeover", Takeover, Takeover.PICKUP),
        button=_choice(checker, table, "button", f"{key}.button", ButtonMode, ButtonMode.VALUE),
        feedback=checker.boolean(table, "feedback", f"{key}.feedback", False),
        led_on=checker.integer(table, "led_on", f"{key}.led_on", default=127, minimum=0, maximum=127),
        led_off=checker.integer(table, "led_off", f"{key}.led_off", default=0, minimum=0, maximum=127),
        x=checker.number(table, "x", f"{key}.x", minimum=0.0, maximum=1.0) if "x" in table else None,
        y=checker.number(table, "y", f"{key}.y", minimum=0.0, maximum=1.0) if "y" in table else None,
        port=checker.string(table, "port", f"{key}.port", default=""),
    )
    return binding if len(checker.problems) == before else None


def read_bindings(checker: Checker, parent: Mapping[str, Any], key: str,
                  default_channel: int | None = None) -> list[Binding]:
    """Read the ``[[<key>.binding]]`` array of ``parent`` (a profile, or a preset's ``[midi]``)."""
    prefix = f"{key}.binding" if key else "binding"
    bindings = []
    for index, table in enumerate(checker.tables(parent, "binding", prefix)):
        binding = read_binding(checker, table, f"{prefix}[{index}]", default_channel)
        if binding is not None:
            bindings.append(binding)
    return bindings


def parse_profile(source: TomlSource) -> Profile:
    checker = Checker(source)
    checker.unknown_keys(source.data, {"controller", "binding"}, "")
    controller = checker.table(source.data, "controller", "controller")
    checker.unknown_keys(controller, CONTROLLER_KEYS, "controller")
    name = checker.string(controller, "name", "controller.name", default=source.path.stem)
    port = checker.string(controller, "port", "controller.port", default="")
    channel = None
    if "channel" in controller:
        channel = checker.integer(controller, "channel", "controller.channel", minimum=1, maximum=16) - 1
    description = checker.string(controller, "description", "controller.description", default="")
    bindings = read_bindings(checker, source.data, "", channel)
    checker.raise_if_any()
    return Profile(name, port, tuple(bindings), description, source.path)


def load_profile(path: Path) -> Profile:
    """Load one profile; raises :class:`LoadError` listing every problem as ``file:line: key: reason``."""
    return parse_profile(TomlSource.read(path))


def preset_overrides(path: Path) -> tuple[list[Binding], list[Problem]]:
    """The ``[[midi.binding]]`` entries of the preset at ``path``, and the problems found."""
    try:
        source = TomlSource.read(path)
    except LoadError as error:
        return [], error.problems
    checker = Checker(source)
    bindings = read_bindings(checker, checker.table(source.data, "midi", "midi", required=False), "midi")
    return bindings, checker.problems


def check_targets(profile: Profile, parameters: Iterable[str]) -> list[Problem]:
    """Problems for bindings that name parameters nobody registered (for ``myco check``)."""
    known = set(parameters)
    source = TomlSource.read(profile.path) if profile.path else None
    problems = []
    for index, binding in enumerate(profile.bindings):
        if binding.target.kind is TargetKind.PARAM and binding.target.name not in known:
            key = f"binding[{index}].param"
            line = source.line_of(key) if source else 0
            problems.append(Problem(str(profile.path), line, key, f"unknown parameter {binding.target.name!r}"))
    return problems


def shipped_profile_paths() -> list[Path]:
    return sorted((resource_dir("presets") / "midi").glob("*.toml"))


def learned_path(user: UserDirs | None = None) -> Path:
    return (user or UserDirs.default()).config / "midi" / LEARNED_FILE


def load_learned(path: Path) -> Profile:
    """The user's learned bindings (an empty profile when none were learned yet)."""
    if not path.exists():
        return Profile("learned", "", (), "bindings made with MIDI learn", path)
    return load_profile(path)


# -- writing learned bindings --------------------------------------------------------------
def binding_table(binding: Binding) -> Table:
    """A binding as a TOML table, writing only what differs from the defaults."""
    table = tomlkit.table()
    control = binding.control
    table.add("type", control.type.value)
    if control.channel is not None:
        table.add("channel", control.channel + 1)
    if control.type.has_number:
        table.add("number", control.number)
    table.add(binding.target.kind.value, binding.target.name)
    if binding.target.argument:
        table.add("argument", binding.target.argument)
    if binding.target.at:
        table.add("at", binding.target.at)
    defaults = Binding(control, binding.target)
    for attribute, key in (("range", "range"), ("curve", "curve"), ("invert", "invert"), ("relative", "relative"),
                           ("step", "step"), ("smoothing_s", "smoothing"), ("takeover", "takeover"),
                           ("button", "button"), ("feedback", "feedback"), ("led_on", "led_on"),
                           ("led_off", "led_off"), ("x", "x"), ("y", "y"), ("port", "port")):
        value = getattr(binding, attribute)
        if value != getattr(defaults, attribute):
            table.add(key, list(value) if isinstance(value, tuple) else getattr(value, "value", value))
    return table


def save_learned(path: Path, bindings: Iterable[Binding]) -> None:
    """Write the learned bindings atomically, keeping the file's comments and header.

    Raises LoadError if the file there cannot be edited (it does not load), and leaves it as it is.
    """
    if path.exists():
        document = parse_document(read_text(path), path)
    else:
        document = tomlkit.document()
        document.add(tomlkit.comment("Bindings made with MIDI learn. Edit freely: comments are kept."))
        controller = tomlkit.table()
        controller.add("name", "learned")
        document.add("controller", controller)
    wanted = [binding_table(b) for b in bindings]
    existing = document.get("binding")
    if isinstance(existing, AoT):
        # Keep the tables (and their comments) of bindings that survive, in their order.
        kept = [table for table in existing.body if _same_binding(table, wanted)]
        kept_keys = [_table_key(t) for t in kept]
        existing.body[:] = kept
        for table in wanted:
            if _table_key(table) not in kept_keys:
                existing.append(table)
    elif wanted:
        array = tomlkit.aot()
        for table in wanted:
            array.append(table)
        document.add("binding", array)
    if not wanted and "binding" in document:
        del document["binding"]
    atomic_write(path, tomlkit.dumps(document).encode("utf-8"))


def _table_key(table: Mapping[str, Any]) -> str:
    return repr(sorted((k, str(v)) for k, v in table.items()))


def _same_binding(table: Mapping[str, Any], wanted: list[Table]) -> bool:
    return _table_key(table) in {_table_key(w) for w in wanted}
