"""The thread every input that polls runs in: started and stopped with its owner, never left behind.

A subclass gives :meth:`_run` (a loop that returns once :attr:`_stop` is set: poll with
``self._stop.wait(seconds)`` or check ``self._stop.is_set()``) and :attr:`thread_name`;
it opens its resources before :meth:`_start_thread` and closes them after :meth:`_stop_thread`.
"""

from __future__ import annotations

import threading
from typing import Self

JOIN_S = 5.0  # a loop that does not notice the stop within this is left to die with the process (daemon)


class PollingThread:
    thread_name = "myco-input"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        raise NotImplementedError

    def _start_thread(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def _stop_thread(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=JOIN_S)
            self._thread = None

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
