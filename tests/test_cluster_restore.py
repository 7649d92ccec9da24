"""A renderer restored from a snapshot goes on bit for bit as the one it was read from (issue 18:
a cluster joiner, and issue 15's ``myco run --resume``), on real GL: the same engine frames fed
to the original and, after a restore in a NEW renderer, to it; their agents, trails and
pictures compared exactly after each frame."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pytest
from numpy.typing import NDArray
from vispy import gloo

from installation.app.compose import build_engine
from installation.app.options import RunOptions
from installation.core.frames import WorldFrame, with_all_events
from installation.core.params import Value
from installation.engine import Engine
from installation.render.offscreen import Offscreen
from installation.render.renderer import _Target

pytestmark = pytest.mark.usefixtures("qt_session")
SIZE = (192, 108)
AGENTS = 4096
GROWN, AFTER = 20, 6  # frames before the snapshot, frames compared after it


def engine_frames(count: int) -> tuple[list[WorldFrame], list[Mapping[str, Value]], float, Engine]:
    """``count`` frames of the default show, two engine steps each (a cluster's render group)."""
    engine = build_engine(RunOptions(step_hz=60.0, audio=False, status=None))
    frames, params = [], []
    for _ in range(count):
        frames.append(with_all_events([engine.step(), engine.step()]))
        params.append(engine.bank.snapshot())
    return frames, params, 2 * engine.dt, engine


def state(offscreen: Offscreen) -> dict[str, NDArray[np.float32]]:
    renderer = offscreen.renderer

    def read(target: _Target) -> NDArray[np.float32]:
        height, width = target.shape
        with target.fbo:
            return np.asarray(gloo.read_pixels((0, 0, width, height), alpha=True, out_type=np.float32))

    return {"agents": read(renderer._agents[0]), "trail": read(renderer._trail[0]),
            "picture": np.asarray(offscreen.world.read(size=SIZE), np.float32)}


def test_a_renderer_restored_before_its_first_frame_stays_bit_identical() -> None:
    frames, params, dt, engine = engine_frames(GROWN + AFTER)
    assert any(len(frame.links) for frame in frames[GROWN:]), "the frames have links (strands the hyphae follow)"

    def run(offscreen: Offscreen, which: range) -> list[dict[str, NDArray[np.float32]]]:
        states = []
        for index in which:
            offscreen.make_current()
            offscreen.world.step(frames[index], params[index], dt, engine.look_mix(), engine.seed)
            states.append(state(offscreen))
        return states

    source = Offscreen(SIZE, "low", agents=AGENTS, sim_height=108, seed=3)
    try:
        run(source, range(GROWN))
        meta, arrays = source.renderer.save_state()
        expected = run(source, range(GROWN, GROWN + AFTER))
    finally:
        source.close()
    restored = Offscreen(SIZE, "low", agents=AGENTS, sim_height=108, seed=3)  # one hidden context at a time
    try:
        restored.make_current()
        restored.renderer.restore_state(meta, arrays)
        got = run(restored, range(GROWN, GROWN + AFTER))
    finally:
        restored.close()
    differing = [(index, name, int(np.count_nonzero(a[name] != b[name])))
                 for index, (a, b) in enumerate(zip(expected, got, strict=True))
                 for name in a if np.any(a[name] != b[name])]
    assert not differing, f"(frame after the restore, texture, values that differ): {differing}"
    assert float(np.std(expected[-1]["picture"])) > 1.0, "the picture has something to compare"
