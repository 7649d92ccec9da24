"""What a test leaves behind in the pytest process: open files, child processes, threads, GL canvases, JACK clients.

:func:`snapshot` records them; :func:`left_behind` waits a little for the test's things to end
(threads, processes and other programs' JACK clients stop asynchronously) and then names each
one that was not there before. ``tests/conftest.py`` runs it around every test. Only the
standard library is imported here, so the pure-core tests (``tests/core``, in an environment
without Qt, GL, audio or MIDI libraries) are checked too; vispy is looked at only where a test
already imported it, and JACK only where the test used the session's server.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import subprocess
import sys
import threading
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Snapshot:
    fds: frozenset[tuple[int, str]]  # (number, what it points at): a reused number is another file
    children: frozenset[int]
    threads: frozenset[int]  # idents of live Python threads
    canvases: frozenset[int]  # ids of open vispy canvases (each holds a GL context)
    jack_clients: frozenset[str] | None  # clients with ports on the session's JACK server, when asked
    native_threads: frozenset[tuple[int, str]] = frozenset()  # (thread id, name) as the kernel knows them


def _open_fds() -> frozenset[tuple[int, str]]:
    listing = f"/proc/{os.getpid()}/fd"
    fds = set()
    for name in os.listdir(listing):
        try:
            target = os.readlink(f"{listing}/{name}")
        except FileNotFoundError:  # the listing's own descriptor, closed once listed
            continue
        fds.add((int(name), target))
    return frozenset(fds)


def _children() -> frozenset[int]:
    """This process's child processes (of every thread; zombies too: a child never waited for is a leak)."""
    pids: set[int] = set()
    tasks = f"/proc/{os.getpid()}/task"
    for tid in os.listdir(tasks):
        try:
            with open(f"{tasks}/{tid}/children") as listing:
                pids.update(int(pid) for pid in listing.read().split())
        except FileNotFoundError:  # the thread ended while we looked
            continue
    return frozenset(pids)


def _open_canvases() -> frozenset[int]:
    context = sys.modules.get("vispy.gloo.context")
    if context is None:  # vispy not imported: no canvas can exist
        return frozenset()
    # vispy keeps weak references to the canvases made current and forgets each on close
    live = (ref() for ref in context.canvasses)  # type: ignore[attr-defined]
    return frozenset(id(canvas) for canvas in live if canvas is not None and not canvas._closed)


def jack_clients() -> frozenset[str]:
    """The clients with ports on the JACK server named in the environment (as the tests set it)."""
    listed = subprocess.run(["jack_lsp"], capture_output=True, text=True, timeout=10)
    return frozenset(port.split(":", 1)[0] for port in listed.stdout.split("\n") if ":" in port)


def _native_threads() -> frozenset[tuple[int, str]]:
    """Every thread of this process, Qt's and Mesa's too, by id and name."""
    found = set()
    tasks = f"/proc/{os.getpid()}/task"
    for tid in os.listdir(tasks):
        try:
            with open(f"{tasks}/{tid}/comm") as name:
                found.add((int(tid), name.read().strip()))
        except FileNotFoundError:  # the thread ended while we looked
            continue
    return frozenset(found)


def idle_native_threads() -> list[str]:
    """Names of this process's threads, Qt's and Mesa's too, that are waiting (state S), as the kernel knows them."""
    names = []
    tasks = f"/proc/{os.getpid()}/task"
    for tid in os.listdir(tasks):
        try:
            with open(f"{tasks}/{tid}/stat") as raw:
                name, state = raw.read().rsplit(")", 1)
        except FileNotFoundError:  # the thread ended while we looked
            continue
        if state.split()[0] == "S":
            names.append(name.split("(", 1)[1])
    return names


def snapshot(jack: bool = False) -> Snapshot:
    multiprocessing.active_children()  # reaps the ended ones, as multiprocessing does at its next start
    return Snapshot(_open_fds(), _children(), frozenset(t.ident for t in threading.enumerate() if t.ident),
                    _open_canvases(), jack_clients() if jack else None, _native_threads())


def _process_wide() -> tuple[set[int], set[int]]:
    """(pids, fds) that live as long as this process by design, whichever test first made them.

    multiprocessing starts one resource tracker per process, at its first use, and keeps it
    (and the pipe to it) until the process exits.
    """
    from multiprocessing import resource_tracker

    tracker = resource_tracker._resource_tracker  # type: ignore[attr-defined]
    pid, fd = getattr(tracker, "_pid", None), getattr(tracker, "_fd", None)
    return ({pid} if pid is not None else set()), ({fd} if fd is not None else set())


def _describe_child(pid: int) -> str | None:
    """What the child is (None once it is gone: it ended while we looked)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as raw:
            command = raw.read().replace(b"\0", b" ").decode(errors="replace").strip()
        with open(f"/proc/{pid}/stat") as raw:
            state = raw.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return None
    started = next((repr(child) for child in multiprocessing.active_children() if child.pid == pid), None)
    if started is not None:
        command = f"{started} {command}"
    zombie = " (ended, never waited for)" if state == "Z" else ""
    return f"child process {pid}{zombie}: {command[:200]}"


def _describe_thread(ident: int) -> str | None:
    """What the thread is (None once it has ended while we looked)."""
    thread = next((t for t in threading.enumerate() if t.ident == ident), None)
    if thread is None:
        return None
    target = getattr(thread, "_target", None)  # what it runs tells whose it is better than its name
    runs = getattr(target, "__qualname__", repr(target)) if target is not None else f"{type(thread).__qualname__}.run"
    return f"thread {thread.name!r} ({'daemon' if thread.daemon else 'not daemon'}, running {runs})"


QT_POOLED_THREAD = "Thread (pooled)"  # the kernel's name for a thread of one of Qt's thread pools


def _qt_pool_eventfds(before: Snapshot, after: Snapshot, fds: list[tuple[int, str]]) -> set[int]:
    """The eventfds that Qt's pooled threads started since ``before`` hold: each such thread has
    an event dispatcher, whose wakeup is an eventfd, until it has idled 30 s. Qt scales large
    images smoothly on the threads of its GUI pool (the previews), a pool that Python cannot
    reach to keep its threads for the session, so a test that scales one more than 30 s after
    the last starts them again. They are Qt's, not the test's."""
    pooled = sum(name == QT_POOLED_THREAD for _, name in after.native_threads - before.native_threads)
    eventfds = sorted(fd for fd, target in fds if target == "anon_inode:[eventfd]")
    return set(eventfds[:pooled])


def difference(before: Snapshot, after: Snapshot) -> list[str]:
    tracker_pids, tracker_fds = _process_wide()
    new_fds = sorted(after.fds - before.fds)
    qt_pools = _qt_pool_eventfds(before, after, new_fds)
    found = [f"open file descriptor {fd} -> {target}" for fd, target in new_fds
             if fd not in tracker_fds and fd not in qt_pools]
    described = [_describe_child(pid) for pid in sorted(after.children - before.children) if pid not in tracker_pids]
    described += [_describe_thread(ident) for ident in sorted(after.threads - before.threads)]
    found += [line for line in described if line is not None]
    if any(line.startswith("open file descriptor") for line in found):
        # a native thread (Qt's, Mesa's) holds descriptors of its own (an event loop's eventfd): name them
        started = sorted(after.native_threads - before.native_threads)
        found += [f"thread {tid} {name!r} (native)" for tid, name in started]
    if after.canvases - before.canvases:
        found.append(f"{len(after.canvases - before.canvases)} vispy canvas(es) not closed (each holds a GL context)")
    if before.jack_clients is not None and after.jack_clients is not None:
        found += [f"JACK client {name!r}" for name in sorted(after.jack_clients - before.jack_clients)]
    return found


def _unclosed_in_garbage() -> list[str]:
    """Collect garbage, naming each file, socket or process that the collector had to close or drop.

    Such an object (held in a reference cycle, a failed test's traceback for one) would
    otherwise warn in whichever later test happens to collect it.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        gc.collect()
    found = []
    for warning in caught:
        if not issubclass(warning.category, ResourceWarning):  # not ours to judge: let it go on
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
            continue
        where = tracemalloc.get_object_traceback(warning.source) if warning.source is not None else None
        origin = ", opened at\n" + "\n".join(where.format()) if where is not None else \
            " (PYTHONTRACEMALLOC=20 tells where it was opened)"
        found.append(f"{warning.message}{origin}")
    return found


def left_behind(before: Snapshot, take: Callable[[], Snapshot] = snapshot, grace_s: float = 3.0,
                every: float = 0.05) -> list[str]:
    """What is still there after up to ``grace_s`` seconds that was not in ``before``, described."""
    unclosed = _unclosed_in_garbage()  # first: the collector could otherwise run during the wait, unheard
    deadline = time.monotonic() + grace_s
    while True:
        found = difference(before, take())
        if not found or time.monotonic() >= deadline:
            return unclosed + found
        time.sleep(every)
