"""The leak check run around every test (tests/leaks.py) names what a test leaves behind."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from tests import leaks


def test_nothing_left_behind_is_nothing_found() -> None:
    assert leaks.left_behind(leaks.snapshot(), grace_s=0.1) == []


def test_an_open_file_is_named(tmp_path: Path) -> None:
    before = leaks.snapshot()
    path = tmp_path / "kept-open.txt"
    kept = path.open("w")
    try:
        found = leaks.left_behind(before, grace_s=0.1)
    finally:
        kept.close()
    assert any(line.startswith("open file descriptor") and line.endswith(f"-> {path}") for line in found), found


def test_a_file_reachable_only_by_the_garbage_collector_is_named_with_its_warning() -> None:
    before = leaks.snapshot()
    read, write = os.pipe()
    os.close(write)
    cycle: list[object] = [os.fdopen(read)]
    cycle.append(cycle)  # only the collector can close the file now
    del cycle
    found = leaks.left_behind(before, grace_s=0.1)
    assert any("ResourceWarning" in line or "unclosed file" in line for line in found), found


def test_a_running_child_process_is_named() -> None:
    before = leaks.snapshot()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        found = leaks.left_behind(before, grace_s=0.2)
    finally:
        child.kill()
        child.wait()
    assert any(f"child process {child.pid}" in line and "time.sleep(60)" in line for line in found), found


def test_a_child_that_ends_within_the_grace_time_is_not_a_leak() -> None:
    before = leaks.snapshot()
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    waiter = threading.Thread(target=child.wait, name="waiter")
    waiter.start()  # ends with the child, as a component's own reaper thread would
    assert leaks.left_behind(before, grace_s=10) == []
    assert child.returncode == 0


def test_a_thread_still_running_is_named() -> None:
    before = leaks.snapshot()
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, name="left-running", daemon=True)
    thread.start()
    try:
        found = leaks.left_behind(before, grace_s=0.1)
    finally:
        stop.set()
        thread.join()
    assert any("'left-running'" in line and "daemon" in line for line in found), found


def test_a_canvas_and_a_jack_client_are_named() -> None:
    before = leaks.snapshot(jack=False)
    quiet = leaks.Snapshot(before.fds, before.children, before.threads, frozenset(), frozenset({"system"}))
    busy = leaks.Snapshot(before.fds, before.children, before.threads, frozenset({1}), frozenset({"system", "myco"}))
    assert leaks.difference(quiet, busy) == ["1 vispy canvas(es) not closed (each holds a GL context)",
                                             "JACK client 'myco'"]


def test_the_eventfds_of_qt_pooled_threads_are_qt_s_and_any_other_is_named() -> None:
    """Qt's image-scaling pool starts a thread with an eventfd per core and ends it 30 s later: not
    the test's. One eventfd more than the pooled threads is named, with the threads started."""
    before = leaks.snapshot()
    pool = frozenset({(900001, leaks.QT_POOLED_THREAD), (900002, leaks.QT_POOLED_THREAD)})
    eventfds = frozenset({(9001, "anon_inode:[eventfd]"), (9002, "anon_inode:[eventfd]")})
    scaled = leaks.Snapshot(before.fds | eventfds, before.children, before.threads, before.canvases, None,
                            before.native_threads | pool)
    assert leaks.difference(before, scaled) == []
    ours = leaks.Snapshot(scaled.fds | {(9003, "anon_inode:[eventfd]")}, before.children, before.threads,
                          before.canvases, None, scaled.native_threads)
    assert leaks.difference(before, ours) == ["open file descriptor 9003 -> anon_inode:[eventfd]",
                                              "thread 900001 'Thread (pooled)' (native)",
                                              "thread 900002 'Thread (pooled)' (native)"]
