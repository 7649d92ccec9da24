"""Build the engine and run it, headless or with windows; turn start-up problems into messages."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from installation.app.options import RunOptions
from installation.app.runtime import Runtime
from installation.app.status import StatusConfigError, check_policy, parse_address
from installation.core.errors import LoadError
from installation.core.seeds import Seed
from installation.engine import Engine
from installation.nodes.mux import NodeMux
from installation.nodes.recording import open_replay
from installation.sim.kernel import Kernel

log = logging.getLogger(__name__)


def live_world(seed: Seed, replay: Path | None = None) -> NodeMux:
    """The simulation with live nodes layered over it: silent or absent nodes stay simulated.

    With ``replay``, a recording of node readings plays in a loop as if the nodes were live.
    """
    return NodeMux(Kernel(seed), replay=open_replay(replay, loop=True) if replay else None)


def build_engine(options: RunOptions) -> Engine:
    engine = Engine.for_show(options.show, step_hz=options.step_hz, resume=options.resume,
                             world_factory=lambda seed: live_world(seed, options.replay))
    if options.preset and not engine.recall(options.preset, crossfade_s=0.0):
        raise LoadError.single(f"{options.preset}.toml", 0, "", f"preset {options.preset!r} cannot be loaded")
    return engine


@contextlib.contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """SIGINT and SIGTERM only set an event; the loops check it and stop cleanly.

    Nothing else happens in the handler: it may run in the middle of any Python code, including
    a Qt callback, where quitting the event loop directly crashed the app (measured: SIGSEGV).
    """
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def launch(options: RunOptions) -> int:
    """Run until closed, interrupted or ``--seconds`` are up; returns the exit status."""
    with stop_on_signals() as stop:
        return _launch(options, stop)


def _launch(options: RunOptions, stop: threading.Event) -> int:
    try:
        if options.status:
            check_policy(parse_address(options.status)[0], options.status_token)
        engine = build_engine(options)
        runtime = Runtime(options, engine)
    except (LoadError, StatusConfigError) as error:
        print(f"myco run: {error}", file=sys.stderr)
        return 2
    try:
        runtime.start()
    except StatusConfigError as error:
        runtime.stop()
        print(f"myco run: {error}", file=sys.stderr)
        return 2
    try:
        if options.headless:
            from installation.app.headless import run_headless

            return run_headless(runtime, stop)
        from installation.app.gui import run_gui

        return run_gui(runtime, stop)
    finally:
        runtime.stop()
