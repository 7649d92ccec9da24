"""The venue's projectors (``[[projector]]``), and when each should be powered (pure).

```toml
[[projector]]
name = "left"
host = "192.168.1.50"
port = 4352           # default: PJLink's port
password = ""         # optional: PJLink class 1 authentication
input = "31"          # optional: PJLink input code (31 = digital 1), selected once it is on
lead = 120.0          # seconds powered on before opening (a lamp needs time to warm up)
off_after = 60.0      # seconds after closing before it is powered off
output = "left"       # optional: the [[output]] it lights
```

The adapter that talks PJLink (:mod:`installation.app.projectors`) reads these and asks
:func:`wanted_power` each time it polls; nothing here touches the network.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from installation.core.tomlsource import Checker

MAX_PROJECTORS = 32
DEFAULT_PORT = 4352
DEFAULT_LEAD_S = 120.0
DEFAULT_OFF_AFTER_S = 60.0
MAX_DELAY_S = 4 * 3600.0  # lead and off_after: more than hours is a typo
PROJECTOR_KEYS = {"name", "host", "port", "password", "input", "lead", "off_after", "output"}
PROJECTOR_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _-]{0,31}$")
# A host name or an IPv4/IPv6 address: letters, digits, dots, dashes and colons, nothing else.
HOST = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.:-]{0,252}$")
# PJLink input codes: a type 1-6 (RGB, video, digital, storage, network, internal) and a number
# 1-9 (class 1) or A-Z (class 2).
INPUT_CODE = re.compile(r"^[1-6][1-9A-Z]$")
MAX_PASSWORD = 32  # PJLink's limit, in ASCII characters


@dataclass(frozen=True)
class ProjectorSpec:
    """One projector: where it answers PJLink, and how it follows the opening hours."""

    name: str
    host: str
    port: int = DEFAULT_PORT
    password: str = ""  # "": the projector asks none
    input: str = ""  # "": leave the projector's input as it is
    lead_s: float = DEFAULT_LEAD_S
    off_after_s: float = DEFAULT_OFF_AFTER_S
    output: str | None = None


def _input(checker: Checker, table: Mapping[str, Any], key: str) -> str:
    value = table.get("input", "")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # input = 31 means what input = "31" means
    if not isinstance(value, str) or (value and not INPUT_CODE.match(value.upper())):
        checker.fail(key, "must be a PJLink input code: a type 1-6 and a number 1-9 or A-Z (e.g. \"31\")")
        return ""
    return value.upper()


def _password(checker: Checker, table: Mapping[str, Any], key: str) -> str:
    value = checker.string(table, "password", key, "")
    if len(value) > MAX_PASSWORD or not value.isascii() or not value.isprintable():
        checker.fail(key, f"PJLink passwords are at most {MAX_PASSWORD} printable ASCII characters")
        return ""
    return value


def _projector(checker: Checker, table: Mapping[str, Any], key: str, index: int,
               outputs: Collection[str] | None) -> ProjectorSpec:
    checker.unknown_keys(table, PROJECTOR_KEYS, key)
    name = checker.string(table, "name", f"{key}.name", f"projector {index + 1}", pattern=PROJECTOR_NAME)
    host = checker.string(table, "host", f"{key}.host", None)
    if host and not HOST.match(host):
        checker.fail(f"{key}.host", "must be a host name or an IP address")
    output = table.get("output")
    if output is not None:
        if not isinstance(output, str):
            checker.fail(f"{key}.output", "must be the name of an [[output]]")
            output = None
        elif outputs is not None and output not in outputs:
            checker.fail(f"{key}.output", f"no [[output]] is called {output!r} (outputs: "
                                          f"{', '.join(sorted(outputs)) or 'none'})")
    return ProjectorSpec(
        name=name,
        host=host,
        port=checker.integer(table, "port", f"{key}.port", DEFAULT_PORT, 1, 65535),
        password=_password(checker, table, f"{key}.password"),
        input=_input(checker, table, f"{key}.input"),
        lead_s=checker.number(table, "lead", f"{key}.lead", DEFAULT_LEAD_S, 0.0, MAX_DELAY_S),
        off_after_s=checker.number(table, "off_after", f"{key}.off_after", DEFAULT_OFF_AFTER_S, 0.0, MAX_DELAY_S),
        output=output,
    )


def parse_projectors(checker: Checker, data: Mapping[str, Any],
                     outputs: Collection[str] | None = None) -> tuple[ProjectorSpec, ...]:
    """The ``[[projector]]`` tables of a venue document; every problem is recorded at its key.
    With ``outputs`` (the venue's output names), an ``output`` naming none of them is a problem."""
    tables = checker.tables(data, "projector", "projector", MAX_PROJECTORS)
    projectors = tuple(_projector(checker, table, f"projector[{index}]", index, outputs)
                       for index, table in enumerate(tables))
    names: set[str] = set()
    addresses: dict[tuple[str, int], str] = {}
    for index, projector in enumerate(projectors):
        if projector.name in names:
            checker.fail(f"projector[{index}].name", f"another projector is already called {projector.name!r}")
        names.add(projector.name)
        address = (projector.host.lower(), projector.port)
        if projector.host and address in addresses:
            checker.fail(f"projector[{index}].host", f"projector {addresses[address]!r} already answers at "
                                                     f"{projector.host}:{projector.port}")
        addresses.setdefault(address, projector.name)
    return projectors


# -- when to power ----------------------------------------------------------------------------

class ScheduleLike(Protocol):
    """What :func:`wanted_power` reads of :class:`installation.core.schedule.ScheduleState`."""

    @property
    def open(self) -> bool: ...

    @property
    def since(self) -> datetime | None: ...

    @property
    def next_open(self) -> datetime | None: ...


def wanted_power(state: ScheduleLike | None, now: datetime, lead_s: float, off_after_s: float) -> bool:
    """Whether a projector should be on at ``now``: from ``lead_s`` before opening, while open,
    and for ``off_after_s`` after closing. Without a schedule (``state`` None) it is always on.

    ``state.since`` is when the current state began (for a closed venue: when it closed; None
    when it never opened), ``state.next_open`` the next opening strictly after ``now``.
    """
    if state is None or state.open:
        return True
    if state.next_open is not None and now >= state.next_open - timedelta(seconds=lead_s):
        return True
    return state.since is not None and now < state.since + timedelta(seconds=off_after_s)
