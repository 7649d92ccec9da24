"""A resumed snapshot's picture, uploaded into a new renderer (see :mod:`installation.core.snapshot`)."""

from __future__ import annotations

import logging
from typing import Any

from installation.core.snapshot import Snapshot

log = logging.getLogger(__name__)


def restore_picture(renderer: Any, snapshot: Snapshot | None) -> bool:
    """Upload a resumed snapshot's picture into a new ``renderer`` (in its GL context, before its
    first update). A snapshot without one, or of another quality or canvas, leaves the hyphae to
    regrow, and the log says why. True when the picture came back."""
    if snapshot is None:
        return False
    meta, arrays = snapshot.manifest.get("gpu"), snapshot.part("gpu")
    if not meta or not arrays:
        log.info("snapshot %s holds no picture: the hyphae regrow around the resumed organism", snapshot.name)
        return False
    try:
        renderer.restore_state(meta, arrays)
    except (ValueError, KeyError, TypeError, IndexError) as error:
        log.warning("snapshot %s: the engine is resumed but the hyphae regrow: %s", snapshot.name, error)
        return False
    log.info("snapshot %s: the picture is back (%d agents, trails %dx%d)", snapshot.name, renderer.agent_count,
             renderer.sim_shape[1], renderer.sim_shape[0])
    return True
