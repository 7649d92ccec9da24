"""Taking snapshots of the running organism, and giving a resumed one its picture back.

:class:`SnapshotKeeper` is called from the thread that steps the engine and owns the world's GL
context (the GUI thread with windows, the loop with ``--headless``): every
:func:`~installation.core.snapshot.snapshot_every_s` seconds, at each act change and on a clean
exit it takes the engine's state and reads the renderer's textures back there (the part that
must be in the GL thread), then compresses and writes the file in a thread of its own, so the
show does not wait for the disk. Never two writes at once: a snapshot due while the last one is
still being written waits for the next frame. The format is :mod:`installation.core.snapshot`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from installation.core.paths import UserDirs
from installation.core.snapshot import Snapshot, folder, snapshot_every_s, write
from installation.engine import Engine
from installation.render.resume import restore_picture

__all__ = ["SnapshotKeeper", "restore_picture"]

log = logging.getLogger(__name__)

GpuState = Callable[[], tuple[dict[str, Any], dict[str, Any]]]


class SnapshotKeeper:
    def __init__(self, engine: Engine, where: Path | None = None, every_s: float | None = None) -> None:
        self.engine = engine
        self.where = where or folder(engine.user or UserDirs.default())
        self.every_s = every_s or snapshot_every_s()
        self.last_path: Path | None = None
        self.taken = 0
        self.timings: dict[str, float] = {}  # of the last snapshot: read_ms (GL thread), write_ms, bytes
        self._last = time.monotonic()
        self._act = self._act_key()
        self._thread: threading.Thread | None = None

    def _act_key(self) -> tuple[int, int]:
        return (self.engine.player.act_index, self.engine.act_changes)

    def due(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        return now - self._last >= self.every_s or self._act_key() != self._act

    @property
    def writing(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def maybe_take(self, gpu: GpuState | None, now: float | None = None) -> bool:
        """Take a snapshot if one is due and the last one is written. True when it took one."""
        if not self.due(now) or self.writing:
            return False
        return self.take(gpu, now)

    def take(self, gpu: GpuState | None, now: float | None = None, *, wait: bool = False) -> bool:
        """The engine's state and (with ``gpu``) the renderer's, now; written in the background
        (with ``wait``, before returning: the clean exit). False if the last write is still going."""
        if self.writing:
            if not wait:
                return False
            self.join()
        self._last = time.monotonic() if now is None else now
        self._act = self._act_key()
        started = time.perf_counter()
        try:
            snapshot = self.engine.save_snapshot()
        except TypeError as error:
            log.warning("no snapshot: %s", error)
            return False
        if gpu is not None:
            try:
                meta, arrays = gpu()
            except Exception as error:  # the engine's part is still worth keeping
                log.warning("snapshot without the picture: reading it back failed (%s)", error)
            else:
                snapshot.manifest["gpu"] = meta
                snapshot.arrays.update({f"gpu.{name}": array for name, array in arrays.items()})
        self.timings = {"read_ms": (time.perf_counter() - started) * 1000}
        self._thread = threading.Thread(target=self._write, args=(snapshot,), name="myco-snapshot", daemon=True)
        self._thread.start()
        if wait:
            self.join()
        return True

    def _write(self, snapshot: Snapshot) -> None:
        started = time.perf_counter()
        try:
            path = write(self.where, snapshot)
        except (OSError, ValueError) as error:
            log.error("snapshot not written: %s", error)
            return
        if path is None:
            return
        size = path.stat().st_size
        self.timings.update(write_ms=(time.perf_counter() - started) * 1000, bytes=float(size))
        self.last_path = path
        self.taken += 1
        log.info("snapshot %s: act %d at %.0f s, %.1f MiB (read %.0f ms in the show's thread, written in %.0f ms)",
                 path.name, snapshot.manifest["act_index"] + 1, snapshot.manifest["position_s"], size / 2**20,
                 self.timings["read_ms"], self.timings["write_ms"])

    def join(self, timeout: float | None = 30.0) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def close(self, gpu: GpuState | None) -> None:
        """The clean exit's snapshot, written before this returns."""
        self.take(gpu, wait=True)
