"""Waiting in tests for a fact (a line printed, a port open, a count reached), never for a time.

A fixed sleep is both too long on a quiet machine and too short on a loaded one; these poll
the condition itself and fail with what was awaited. Nothing here imports Qt, GL, audio or
MIDI libraries, so the services, the benchmarks and every test can use it.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections.abc import Callable
from typing import IO, TypeVar

T = TypeVar("T")


def wait_for(predicate: Callable[[], T | None], timeout: float, what: str, *,
             process: subprocess.Popen[bytes] | subprocess.Popen[str] | None = None,
             error: type[Exception] = AssertionError, every: float = 0.01) -> T:
    """Poll ``predicate`` every ``every`` seconds until it returns something truthy; return that.

    After ``timeout`` seconds raise ``error`` naming ``what``; with ``process``, raise as soon
    as that process has exited (it can no longer bring the fact about). Ask a server less often
    (``every``) where asking costs it work the test measures.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if process is not None and process.poll() is not None:
            raise error(f"{what}: the process exited with {process.returncode} first")
        if time.monotonic() >= deadline:
            raise error(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)


class Lines:
    """A process's text output, read line by line in a thread: to wait on, and to read back whole.

    A thread, because a pipe's ``readline`` cannot time out; the process must not also be
    read with ``communicate``.
    """

    def __init__(self, process: subprocess.Popen[str], stream: IO[str]) -> None:
        self.process = process
        self.stream = stream
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.stream:
            self.lines.append(line)

    def wait_for(self, pattern: str, timeout: float, what: str) -> str:
        """Wait until a line matching the regular expression ``pattern`` has come; return it."""
        regex = re.compile(pattern)

        def matching() -> str | None:
            ended = not self._reader.is_alive()  # before the search: then every line is in
            found = next((line for line in list(self.lines) if regex.search(line)), None)
            if found is None and ended:
                raise AssertionError(f"the output ended before {what}:\n{''.join(self.lines)}")
            return found

        return wait_for(matching, timeout, f"{what} (a line matching {pattern!r})")

    def finish(self, timeout: float) -> str:
        """Wait for the process to end and return everything it wrote."""
        self.process.wait(timeout)
        self._reader.join(timeout)
        self.stream.close()
        return "".join(self.lines)
