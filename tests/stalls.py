"""A witness of the machine's own scheduling stalls, to tell them from Myco's.

On a shared virtual machine a vCPU is sometimes not run by its host for several
milliseconds, and a kernel busy in another process's system call can hold off a real-time
thread as long; no process, however real-time, meets a 5 ms audio period then. One small
process per CPU, pinned there at real-time priority 21 (above every thread of Myco's audio
process, so that nothing Myco does can delay it; below JACK's), wakes every millisecond and
records each wake-up that came late by more than ``threshold_ms``. An underflow that Myco
reports in the same moment as such a stall is the machine's; any other underflow is Myco's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

WITNESS = r"""
import os, sys, time
cpu, threshold = int(sys.argv[1]), float(sys.argv[2]) / 1000
os.sched_setaffinity(0, {cpu})
os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(21))
print("ready", flush=True)
tick = 0.001
due = time.monotonic() + tick
while True:
    pause = due - time.monotonic()
    if pause > 0:
        time.sleep(pause)
    now = time.monotonic()
    if now - due > threshold:
        print(f"{now:.4f} {1000 * (now - due):.2f}", flush=True)
    due = max(due + tick, now)
"""


@dataclass(frozen=True)
class Stall:
    cpu: int
    ended_at: float  # time.monotonic(), comparable across processes
    ms: float


class StallWitness:
    """Context manager: witness processes on every CPU while the block runs."""

    def __init__(self, threshold_ms: float = 2.5) -> None:
        self.threshold_ms = threshold_ms
        self.stalls: list[Stall] = []
        self._processes: list[tuple[int, subprocess.Popen[str]]] = []

    def __enter__(self) -> StallWitness:
        for cpu in sorted(os.sched_getaffinity(0)):
            process = subprocess.Popen([sys.executable, "-c", WITNESS, str(cpu), str(self.threshold_ms)],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            self._processes.append((cpu, process))
            assert process.stdout is not None
            first = process.stdout.readline().strip()
            assert first == "ready", f"stall witness on CPU {cpu} did not start: {first} {process.stderr.read()}"
        return self

    def __exit__(self, *_: object) -> None:
        for cpu, process in self._processes:
            process.terminate()
            output, _ = process.communicate(timeout=10)
            for line in output.splitlines():
                ended_at, ms = line.split()
                self.stalls.append(Stall(cpu, float(ended_at), float(ms)))
        self.stalls.sort(key=lambda stall: stall.ended_at)

    def explains(self, underflow_at: float) -> Stall | None:
        """The witnessed stall that caused an underflow flagged at ``underflow_at``, if any: one
        that ended at most 60 ms (a few periods) before it. A witness on another CPU may wake
        a little after Myco's flagged callback, hence the 20 ms after."""
        near = [stall for stall in self.stalls if -0.02 <= underflow_at - stall.ended_at <= 0.06]
        return min(near, key=lambda stall: abs(underflow_at - stall.ended_at), default=None)
