"""python-rtmidi port helpers: API choice with fallback, port names, profiles, the JACK server watch.

Small functions the port wrapper (:mod:`installation.inputs.midi`) and ``myco midi`` share.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import rtmidi

from installation.core.errors import LoadError
from installation.midi.bindings import Binding
from installation.midi.profile import Profile, load_profile, preset_overrides, shipped_profile_paths

log = logging.getLogger(__name__)


def api_names() -> dict[str, int]:
    """The MIDI APIs compiled into python-rtmidi, by name ('alsa', 'jack', ...)."""
    return {rtmidi.get_api_name(api): api for api in rtmidi.get_compiled_api()}


def open_probe(api: str | None) -> tuple[Any, Any, str, str]:
    """(MidiIn, MidiOut, api name, notice) for ``api``, falling back to the next that works."""
    names = api_names()
    if api is not None and api not in names:
        raise ValueError(f"MIDI API {api!r} is not available (have: {', '.join(names)})")
    order = ([api] if api else []) + [name for name in names if name != api]
    failures = []
    for name in order:
        try:
            probe_in, probe_out = _open_probe_clients(name, names[name])
        except (rtmidi.SystemError, rtmidi.RtMidiError) as error:
            failures.append(f"{name}: {error}")
            continue
        notice = ""
        if failures:
            notice = f"MIDI API {order[0]} unavailable ({'; '.join(failures)}); using {name}"
            log.warning(notice)
        return probe_in, probe_out, name, notice
    raise RuntimeError("no MIDI API could open: " + "; ".join(failures))


# JACK answers a client open within deadlines of its own that no jackd option sets (2 s for the
# newcomer to acknowledge each client already there, 5 s for the next process cycle); a loaded
# machine can miss one, and the open then fails as if no server ran ("JACK server not running?").
JACK_OPEN_TRIES = 3


def _open_probe_clients(name: str, api: int) -> tuple[Any, Any]:
    """The probe's MidiIn and MidiOut on one API; JACK's again while its server's socket answers."""
    for _ in range(JACK_OPEN_TRIES - 1 if name == "jack" else 0):
        try:
            return _open_pair(api)
        except (rtmidi.SystemError, rtmidi.RtMidiError) as error:
            if not JackServerWatch().same_server():
                raise
            log.warning("a JACK client failed to open on a running server (%s); trying again", error)
    return _open_pair(api)


def _open_pair(api: int) -> tuple[Any, Any]:
    """A MidiIn and a MidiOut client on ``api``; when one fails, none is left open."""
    made: list[Any] = []
    try:
        made.append(rtmidi.MidiIn(api, name="myco-probe"))
        made.append(rtmidi.MidiOut(api, name="myco-probe"))
        made[0].get_ports()
    except (rtmidi.SystemError, rtmidi.RtMidiError):
        for handle in made:
            handle.delete()
        raise
    return made[0], made[1]


class JackServerWatch:
    """Tells whether the JACK server we opened our ports on still runs, without opening a client.

    JACK2 listens on a Unix socket, ``/dev/shm/jack_<server>_<uid>_0``; a restarted server makes
    a new one (another inode), and a dead one refuses connections. Opening a JACK client to
    look instead holds the GIL for as long as JACK takes to open it (python-rtmidi keeps it):
    measured, that delayed MIDI notes by up to 450 ms each time it ran. Where the socket is not
    found (JACK1, another build), :attr:`available` is False and the caller looks its own way.
    """

    def __init__(self) -> None:
        server = os.environ.get("JACK_DEFAULT_SERVER") or "default"
        self.path = Path("/dev/shm") / f"jack_{server}_{os.getuid()}_0" if hasattr(os, "getuid") else None
        self._identity = self._stat()

    @property
    def available(self) -> bool:
        return self._identity is not None

    def _stat(self) -> tuple[int, int] | None:
        try:
            info = self.path.stat() if self.path is not None else None
        except OSError:
            return None
        return (info.st_ino, info.st_mtime_ns) if info is not None and stat.S_ISSOCK(info.st_mode) else None

    def same_server(self) -> bool:
        if self.path is None or self._identity is None or self._stat() != self._identity:
            return False
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(1.0)
            try:
                probe.connect(str(self.path))
            except ConnectionRefusedError:  # no one listens: the socket file outlived a killed server
                return False
            except OSError:  # a busy server (its backlog full, a timeout) is still the same server:
                return True  # a false "restarted" would drop every open port (a loaded machine did)
        return True


def client_of(port_name: str) -> str:
    """The device part of a port name, to pair a controller's input and output ports.

    'nanoKONTROL2:out' -> 'nanoKONTROL2'; JACK numbers a second client of the same name
    ('nanoKONTROL2-01'), which is the same device.
    """
    return re.sub(r"-\d\d$", "", port_name.split(":", 1)[0].strip())


def load_profiles(paths: Sequence[Path] | None = None) -> list[Profile]:
    """The profiles in ``paths`` (default: the shipped ones); broken files are logged and skipped."""
    profiles = []
    for path in shipped_profile_paths() if paths is None else paths:
        try:
            profiles.append(load_profile(path))
        except LoadError as error:
            log.error("MIDI profile skipped:\n%s", error)
    return profiles


def preset_bindings(preset: Any) -> list[Binding]:
    """The ``[[midi.binding]]`` overrides of a preset; problems are logged as file:line: key: reason."""
    path = getattr(preset, "path", None)
    if path is None or not getattr(preset, "midi", None):
        return []
    bindings, problems = preset_overrides(path)
    if problems:
        log.error("MIDI overrides of preset %s:\n%s", path, "\n".join(str(p) for p in problems))
    return bindings
