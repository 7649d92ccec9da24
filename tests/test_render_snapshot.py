"""The renderer's part of a snapshot on real GL: agents, trails and transients read back and
uploaded into a NEW renderer give the same picture; a regrowth does not."""

from __future__ import annotations

import numpy as np
import pytest

from installation.core.events import Event, EventKind
from installation.core.snapshot import Snapshot, decode, encode
from installation.registry import build_bank
from installation.render.offscreen import Offscreen
from tests.test_render import DT, world

pytestmark = pytest.mark.usefixtures("qt_session")
SIZE = (192, 108)
AGENTS = 4096


def fine(image: np.ndarray) -> np.ndarray:
    """The picture's fine structure: luma less its 9x9 box blur."""
    luma = image.astype(np.float64) @ np.array([0.2126, 0.7152, 0.0722])
    padded = np.pad(luma, 4, mode="edge")
    rows = sum(padded[i:i + luma.shape[0]] for i in range(9))
    blurred = sum(rows[:, i:i + luma.shape[1]] for i in range(9)) / 81.0
    return luma - blurred


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    fa, fb = fine(a).ravel(), fine(b).ravel()
    return float(np.corrcoef(fa, fb)[0, 1])


def grown(seed: int, frames: int) -> Offscreen:
    offscreen = Offscreen(SIZE, agents=AGENTS, sim_height=108, seed=seed)
    params = build_bank().snapshot()
    for index in range(frames):
        events = (Event(EventKind.DISRUPTION, 0.0, 1.0, 0.5, 0.5),) if index == frames - 10 else ()
        offscreen.step(world(events), params, DT)
    flush(offscreen)
    return offscreen


def flush(offscreen: Offscreen) -> None:
    """Run the context's queued GL commands now: vispy queues them per canvas, and a queue left
    behind would run in whichever context is current next (several hidden canvases here)."""
    offscreen.make_current()
    offscreen.context.flush()


def next_picture(offscreen: Offscreen) -> np.ndarray:
    """Three more frames of the same world, then the picture; the offscreen is closed (one hidden
    context alive at a time, as in the app: a new process restores the snapshot)."""
    params = build_bank().snapshot()
    try:
        for _ in range(2):
            offscreen.step(world(), params, DT)
        return offscreen.render(world(), params, DT)
    finally:
        offscreen.close()


def test_a_restored_renderer_paints_the_same_organism_and_a_regrowth_does_not() -> None:
    before = grown(7, 90)
    meta, arrays = before.renderer.save_state()
    assert before.renderer.transients.items, "a disruption is in flight when the snapshot is taken"
    picture = next_picture(before)
    back = decode(encode(Snapshot({"show": "x", "gpu": meta}, {f"gpu.{n}": a for n, a in arrays.items()})))
    restored = Offscreen(SIZE, agents=AGENTS, sim_height=108, seed=7)
    restored.renderer.restore_state(back.manifest["gpu"], back.part("gpu"))
    assert restored.renderer.transients.items[0].kind is EventKind.DISRUPTION
    same = correlation(picture, next_picture(restored))
    regrowth = correlation(picture, next_picture(grown(8, 90)))  # another organism, as old
    assert float(np.std(fine(picture))) > 1.0, "the picture has fine structure to compare"
    assert same > 0.95 and regrowth < 0.5, f"restored {same:.3f}, regrown {regrowth:.3f}"


def test_a_state_of_another_quality_is_refused() -> None:
    small = Offscreen(SIZE, agents=AGENTS, sim_height=108)
    other = Offscreen(SIZE, agents=1024, sim_height=108)
    try:
        meta, arrays = small.renderer.save_state()
        with pytest.raises(ValueError, match="agents"):
            other.renderer.restore_state(meta, arrays)
    finally:
        small.close()
        other.close()
