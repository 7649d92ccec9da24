"""Logging to the console and to rotating files in the user's log folder.

An installation runs for weeks: the log folder keeps the last few megabytes of history
(five files of 1 MiB), so an operator can read what happened last night without the disk
ever filling up.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
from collections.abc import Iterator

from installation.core.paths import UserDirs

LOG_FILE = "myco.log"
LOG_BYTES = 1 << 20
LOG_FILES_KEPT = 5
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@contextlib.contextmanager
def configured_logging(verbose: bool = False, user: UserDirs | None = None) -> Iterator[logging.Handler | None]:
    """Log to stderr and, where the log folder is writable, to a rotating file (yielded) until the block ends.

    The handlers are removed and closed on leaving, so a process that runs ``myco`` more than
    once (the tests call :func:`installation.cli.main` in-process) neither keeps the log file
    open nor writes each line once per run.
    """
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    console = logging.StreamHandler()
    console.setFormatter(logging.Formatter(FORMAT))
    added: list[logging.Handler] = [console]
    root.addHandler(console)
    folder = (user or UserDirs.default()).logs
    handler: logging.Handler | None = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(folder / LOG_FILE, maxBytes=LOG_BYTES,
                                                       backupCount=LOG_FILES_KEPT - 1, encoding="utf-8")
    except OSError as error:
        root.warning("logging to the console only: %s", error)
    if handler is not None:
        handler.setFormatter(logging.Formatter(FORMAT))
        added.append(handler)
        root.addHandler(handler)
    try:
        yield handler
    finally:
        for each in added:
            root.removeHandler(each)
            each.close()
