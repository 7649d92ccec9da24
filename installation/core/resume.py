"""Where the show was: saved every few seconds so a crash or power cut resumes the same act.

The state file is small JSON in the user's state folder, written atomically; a missing,
stale or unreadable file simply means "start from the top".
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from installation.core.errors import LoadError
from installation.core.paths import UserDirs
from installation.core.textfile import loads_json, read_text
from installation.core.tomlsource import atomic_write

STATE_FILE = "resume.json"


@dataclass(frozen=True)
class ShowPosition:
    show: str
    act_index: int
    position_s: float
    saved_at: float


def state_path(user: UserDirs) -> Path:
    return user.state / STATE_FILE


def save_position(user: UserDirs, position: ShowPosition) -> None:
    user.ensure()
    atomic_write(state_path(user), json.dumps(asdict(position)).encode(), keep_backups=False)


def load_position(user: UserDirs, show: str, max_age_s: float, now: float | None = None) -> ShowPosition | None:
    """The saved position in ``show``, if one was saved less than ``max_age_s`` ago."""
    path = state_path(user)
    try:
        data = loads_json(read_text(path), path)
        position = ShowPosition(str(data["show"]), int(data["act_index"]), float(data["position_s"]),
                                float(data["saved_at"]))
    except (LoadError, ValueError, KeyError, TypeError):
        return None
    age = (time.time() if now is None else now) - position.saved_at
    if position.show != show or not 0 <= age <= max_age_s or not math.isfinite(position.position_s):
        return None
    return position
