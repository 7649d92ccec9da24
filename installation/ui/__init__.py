"""Qt widgets and windows: the control window, output windows, panels and monitors.

PySide6 6.12 on CPython 3.11 drops a reference to ``None`` on every call of a method that
returns nothing (``setText``, ``setPen``, ``update``, ...): measured, -1 per call. On 3.12+
``None`` is immortal and nothing happens; on 3.11 the app aborts with "none_dealloc" after a
few thousand calls. Until PySide6 is fixed, make ``None`` effectively immortal here too, as
3.12 does, before any widget is used. Importing any Qt part of Myco goes through this module.
"""

from __future__ import annotations

import ctypes
import sys

NONE_REFERENCE_RESERVE = 1 << 60  # decades of -1 per call; far below the 2**63 limit


def keep_none_alive() -> None:
    """Give ``None`` a reserve of references on CPython < 3.12 (no-op from 3.12 on)."""
    if sys.version_info < (3, 12) and sys.implementation.name == "cpython":
        count = ctypes.c_ssize_t.from_address(id(None))
        if count.value < NONE_REFERENCE_RESERVE:
            count.value += NONE_REFERENCE_RESERVE


keep_none_alive()
