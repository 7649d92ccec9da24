"""Run what the composition root builds, headless or with windows; turn start-up problems into messages."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Iterator

from installation.app.compose import build_runtime
from installation.app.options import RunOptions
from installation.app.status import StatusConfigError, check_policy, parse_address
from installation.core.errors import LoadError

log = logging.getLogger(__name__)


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
        runtime = build_runtime(options)
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
