"""Snapshots of the whole organism, so a crash or a power cut resumes the same picture.

One file per snapshot in the user's state folder, ``state/snapshots/<show>-<n>.npz``: a numpy
zip of plain arrays (never pickles: read with ``allow_pickle=False``) plus a JSON manifest
stored as bytes under ``manifest`` (format version, show, act, position, time, the canvas and
quality the GPU part was read at, and the small non-array state: node ids, parameter values,
the schedule's override). Arrays are named by where they come from: ``engine.<...>`` for the
simulation (kernel, node history) and ``gpu.<...>`` for the renderer's textures and
transients. Written atomically (temp file, fsync, rename); the last :data:`KEEP` stay; one that
would exceed :data:`MAX_BYTES` is not written. Loading goes newest first and falls back to
the previous one, then to the seed, with one log line for each file it passes over.

Pure: no GL. The renderer's part is read and uploaded by ``installation.render``.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from installation.core.paths import UserDirs, safe_name
from installation.core.tomlsource import atomic_write

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
KEEP = 3
MAX_BYTES = 64 * 1024 * 1024
SNAPSHOT_EVERY_S = 120.0
EVERY_ENV = "MYCO_SNAPSHOT_EVERY_S"  # tests (and the impatient) take them more often
MANIFEST = "manifest"
FOLDER = "snapshots"

Arrays = dict[str, NDArray[Any]]
T = TypeVar("T")


class SnapshotError(ValueError):
    """A snapshot that cannot be used: unreadable, truncated, another version, wrong shapes."""


@dataclass
class Snapshot:
    """The manifest (JSON-able) and the arrays of one snapshot."""

    manifest: dict[str, Any]
    arrays: Arrays = field(default_factory=dict)
    path: Path | None = None

    def part(self, prefix: str) -> Arrays:
        """The arrays under ``prefix.`` with the prefix taken off."""
        start = prefix + "."
        return {name[len(start):]: array for name, array in self.arrays.items() if name.startswith(start)}

    @property
    def name(self) -> str:
        return self.path.name if self.path is not None else "(in memory)"


def snapshot_every_s() -> float:
    """How often a snapshot is taken: :data:`SNAPSHOT_EVERY_S`, or ``MYCO_SNAPSHOT_EVERY_S``."""
    try:
        value = float(os.environ.get(EVERY_ENV, SNAPSHOT_EVERY_S))
    except ValueError:
        return SNAPSHOT_EVERY_S
    return value if value > 0 else SNAPSHOT_EVERY_S


def folder(user: UserDirs) -> Path:
    return user.state / FOLDER


# -- the file format ---------------------------------------------------------------------------
def encode(snapshot: Snapshot, compressed: bool = True) -> bytes:
    """The snapshot as the bytes of a compressed ``.npz`` (an uncompressed one, twice the size and
    twenty times quicker to write, for a cluster's members: app/cluster.py)."""
    manifest = {**snapshot.manifest, "version": FORMAT_VERSION}
    arrays: dict[str, NDArray[Any]] = {MANIFEST: np.frombuffer(json.dumps(manifest).encode(), np.uint8)}
    for name, array in snapshot.arrays.items():
        if name == MANIFEST or array.dtype.hasobject:
            raise ValueError(f"snapshot array {name!r} cannot be stored")
        arrays[name] = np.ascontiguousarray(array)
    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


def decode(data: bytes, path: Path | None = None) -> Snapshot:
    """Read the bytes of a snapshot file; raises :class:`SnapshotError` saying why it is unusable."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            if MANIFEST not in archive.files:
                raise SnapshotError("no manifest")
            manifest = json.loads(archive[MANIFEST].tobytes().decode())
            arrays = {name: archive[name] for name in archive.files if name != MANIFEST}
    except SnapshotError:
        raise
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as error:
        raise SnapshotError(f"not a readable snapshot: {error}") from None
    if not isinstance(manifest, dict):
        raise SnapshotError("the manifest is not an object")
    if manifest.get("version") != FORMAT_VERSION:
        raise SnapshotError(f"format version {manifest.get('version')!r}, this Myco reads {FORMAT_VERSION}")
    return Snapshot(manifest, arrays, path)


# -- the folder --------------------------------------------------------------------------------
def _pattern(show: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(safe_name(show))}-(\d{{1,9}})\.npz$")


def snapshot_files(where: Path, show: str) -> list[Path]:
    """``show``'s snapshots in ``where``, newest (highest number) first."""
    pattern = _pattern(show)
    try:
        names = [(int(match.group(1)), entry) for entry in where.iterdir()
                 if (match := pattern.match(entry.name)) is not None]
    except OSError:
        return []
    return [path for _, path in sorted(names, key=lambda item: item[0], reverse=True)]


def write(where: Path, snapshot: Snapshot, *, keep: int = KEEP, max_bytes: int = MAX_BYTES) -> Path | None:
    """Write ``snapshot`` as the next file of its show; keep the newest ``keep``. Returns the path,
    or None (logged) when it would exceed ``max_bytes``. Raises OSError when it cannot be written."""
    show = str(snapshot.manifest["show"])
    data = encode(snapshot)
    if len(data) > max_bytes:
        log.error("snapshot of %s not written: %.1f MiB is over the %.0f MiB limit", show, len(data) / 2**20,
                  max_bytes / 2**20)
        return None
    existing = snapshot_files(where, show)
    number = int(_pattern(show).match(existing[0].name).group(1)) + 1 if existing else 1  # type: ignore[union-attr]
    path = where / f"{safe_name(show)}-{number:06d}.npz"
    atomic_write(path, data, keep_backups=False)
    for old in [path, *existing][max(1, keep):]:
        try:
            old.unlink()
        except OSError as error:
            log.warning("cannot remove the old snapshot %s: %s", old.name, error)
    return path


def read(path: Path) -> Snapshot:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SnapshotError(f"cannot read it: {error.strerror or error}") from None
    return decode(data, path)


def first_usable(where: Path, show: str, use: Callable[[Snapshot], T]) -> T | None:
    """Try ``show``'s snapshots newest first: the first that reads and that ``use`` accepts (it
    raises :class:`SnapshotError`, ``ValueError``, ``KeyError``, ``TypeError`` or ``IndexError``
    for one it cannot use) gives the result. Each one passed over is logged with the reason
    and what comes next; None when none is usable (start from the seed)."""
    files = snapshot_files(where, show)
    if not files:
        log.info("no snapshot of %s to resume from: starting from the seed", show)
    for index, path in enumerate(files):
        try:
            return use(read(path))
        except (SnapshotError, ValueError, KeyError, TypeError, IndexError) as error:
            following = f"trying {files[index + 1].name}" if index + 1 < len(files) else "starting from the seed"
            log.warning("snapshot %s unreadable (%s); %s", path.name, error or type(error).__name__, following)
    return None


# -- state of plain objects ----------------------------------------------------------------------
Plain = (bool, int, float, str, type(None))


def _plain(value: object) -> bool:
    if isinstance(value, Plain):
        return True
    if isinstance(value, (list, tuple)):
        return all(isinstance(item, Plain) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and isinstance(v, Plain) for k, v in value.items())
    return False


def attributes(obj: object, prefix: str, arrays: Arrays, meta: dict[str, Any]) -> None:
    """Every numpy array of ``obj`` into ``arrays`` and every plain value (numbers, strings, flat
    lists and dicts of them) into ``meta``, named ``prefix.attribute``."""
    for name, value in vars(obj).items():
        key = f"{prefix}.{name}"
        if isinstance(value, np.ndarray):
            if not value.dtype.hasobject:
                arrays[key] = value.copy()
        elif _plain(value):
            meta[key] = list(value) if isinstance(value, tuple) else value


def restore_attributes(obj: object, prefix: str, arrays: Mapping[str, NDArray[Any]], meta: Mapping[str, Any]) -> None:
    """What :func:`attributes` took, put back; a missing array or one of another kind is an error
    (raised before anything changes)."""
    wanted: dict[str, Any] = {}
    for name, value in vars(obj).items():
        key = f"{prefix}.{name}"
        if isinstance(value, np.ndarray) and not value.dtype.hasobject:
            if key not in arrays:
                raise SnapshotError(f"{key} missing")
            saved = arrays[key]
            if saved.dtype.kind != value.dtype.kind or saved.ndim != value.ndim:
                raise SnapshotError(f"{key} is {saved.dtype}{saved.shape}, expected {value.dtype} of {value.ndim} dims")
            if saved.ndim > 1 and saved.shape[1:] != value.shape[1:]:
                raise SnapshotError(f"{key} has shape {saved.shape}, expected (*, {value.shape[1:]})")
            wanted[name] = saved.astype(value.dtype, copy=True)
        elif _plain(value) and key in meta:
            saved_value = meta[key]
            if isinstance(value, tuple):
                saved_value = tuple(saved_value)
            wanted[name] = saved_value
    for name, value in wanted.items():
        setattr(obj, name, value)


def rng_state(generator: np.random.Generator) -> dict[str, Any]:
    return dict(generator.bit_generator.state)


def set_rng_state(generator: np.random.Generator, state: Mapping[str, Any]) -> None:
    if state.get("bit_generator") != generator.bit_generator.state["bit_generator"]:
        raise SnapshotError(f"random generator {state.get('bit_generator')!r} is not this one's")
    generator.bit_generator.state = dict(state)

