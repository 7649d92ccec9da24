"""A cluster member's hyphae in lockstep: one renderer step per render group, by the group's fixed dt.

The engine steps alike on every member, but the renderer's step depends on the dt and the frames
it is given: a wall-clock dt, or a step per drawn frame, differs from machine to machine, and the
hyphae drift apart where outputs overlap. So every member, headless (``app/headless.py``) or
windowed (``app/gui.py``), steps them only where a render group ends (a member's tick ends there:
``ClusterMember.may_step``), with the group's frames and :data:`RENDER_GROUP` engine steps' dt.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from installation.core.cluster import RENDER_GROUP
from installation.core.frames import WorldFrame, with_all_events

if TYPE_CHECKING:
    from installation.app.runtime import Runtime
    from installation.engine import Engine

CLUSTER_PREVIEW_STEPS = 120  # a cluster member's previews: every 2 s of show time, at the same steps


class Lockstep:
    """The engine's frames gathered until a render group ends."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._pending: list[WorldFrame] = []
        self._resumed: object = None  # the snapshot caught up from, until the output takes it

    def due(self, frames: list[WorldFrame]) -> tuple[WorldFrame, float] | None:
        """Take a tick's frames: the group's frame and dt when the engine has just ended a group, else None.

        Call before the output takes ``engine.resumed``: a tick that ended in a catch-up from the
        leader's snapshot steps nothing, and the frames it and the ticks before it ran are dropped
        (they led elsewhere; the snapshot's picture is the leader's after its step at that group's end).
        """
        resumed = self.engine.resumed
        if resumed is not self._resumed:
            self._resumed = resumed
            if resumed is not None:
                self._pending = []
                return None
        self._pending.extend(frames)
        if not self._pending or self.engine.step_count % RENDER_GROUP:
            return None
        frame, self._pending = with_all_events(self._pending), []
        return frame, RENDER_GROUP * self.engine.dt


def publish_previews(runtime: Runtime, whole: Callable[[], bytes],
                     outputs: Iterable[tuple[str, Callable[[], bytes]]]) -> None:
    """A cluster member's previews (PNG), the whole canvas's and each of its own outputs', taken at
    the same show steps on every member (every :data:`CLUSTER_PREVIEW_STEPS`), so they can be
    compared: ``/status`` says the step (``preview_step``). Call after a render step."""
    cluster, server, step = runtime.cluster, runtime.status_server, runtime.engine.step_count
    if cluster is None or server is None:
        return
    if step // CLUSTER_PREVIEW_STEPS == cluster.preview_step // CLUSTER_PREVIEW_STEPS:  # taken in this period
        return
    cluster.preview_step = -1  # "being replaced": a client never takes a new picture for the last step's
    runtime.publish_status()
    server.publish_preview(whole())
    for name, take in outputs:  # each at every preview step: never an older one under its step
        server.publish_preview(take(), name)
    cluster.preview_step = step
    runtime.publish_status()  # the step of these previews, with them
