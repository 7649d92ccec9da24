"""Logging to the console and to rotating files in the user's log folder.

An installation runs for weeks: the log folder keeps the last few megabytes of history
(five files of 1 MiB), so an operator can read what happened last night without the disk
ever filling up.
"""

from __future__ import annotations

import logging
import logging.handlers

from installation.core.paths import UserDirs

LOG_FILE = "myco.log"
LOG_BYTES = 1 << 20
LOG_FILES_KEPT = 5
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(verbose: bool = False, user: UserDirs | None = None) -> logging.Handler | None:
    """Log to stderr and, where the log folder is writable, to a rotating file; returns that handler."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    console = logging.StreamHandler()
    console.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(console)
    folder = (user or UserDirs.default()).logs
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(folder / LOG_FILE, maxBytes=LOG_BYTES,
                                                       backupCount=LOG_FILES_KEPT - 1, encoding="utf-8")
    except OSError as error:
        root.warning("logging to the console only: %s", error)
        return None
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    return handler
