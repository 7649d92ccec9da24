"""The composition root: the one place the running system is built.

:func:`build_runtime` makes the parameter bank (every part's parameters, the shader
headers' included), the engine on its world and the :class:`Runtime` that starts sound,
inputs and the status server around it. The desktop app, ``--headless``, ``myco render``,
``myco render-audio`` and the benchmarks all build through it; the outputs they open
(windows, an offscreen context, a video) only read the runtime's engine and bank.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from installation.app.options import RunOptions
from installation.app.runtime import Runtime
from installation.core.cluster import check_member
from installation.core.errors import LoadError
from installation.core.frames import WorldFrame
from installation.core.seeds import Seed
from installation.core.venue import load_venue, venue_path
from installation.engine import Engine
from installation.nodes.mux import NodeMux
from installation.nodes.recording import open_replay
from installation.registry import build_bank
from installation.sim.kernel import Kernel
from installation.synth.offline import render_stream


def live_world(seed: Seed, replay: Path | None = None) -> NodeMux:
    """The simulation with live nodes layered over it: silent or absent nodes stay simulated.

    With ``replay``, a recording of node readings plays in a loop as if the nodes were live.
    """
    return NodeMux(Kernel(seed), replay=open_replay(replay, loop=True) if replay else None)


def build_engine(options: RunOptions) -> Engine:
    """The engine playing ``options.show`` (at ``options.preset`` if given); raises LoadError."""
    engine = Engine.for_show(options.show, bank=build_bank(options.shader_dir), step_hz=options.step_hz,
                             resume=options.resume, world_factory=lambda seed: live_world(seed, options.replay),
                             isf_dirs=options.isf_dirs)
    if options.preset and not engine.recall(options.preset, crossfade_s=0.0):
        raise LoadError.single(f"{options.preset}.toml", 0, "", f"preset {options.preset!r} cannot be loaded")
    return engine


def build_runtime(options: RunOptions) -> Runtime:
    """Everything ``options`` asks for, not yet started (:meth:`Runtime.start` starts sound,
    inputs and the status server); raises LoadError for a show, preset or venue file that
    cannot load."""
    venue = load_venue(venue_path(options.venue)) if options.venue else None
    if options.member:
        check_member(venue, options.member)
    return Runtime(options, build_engine(options), venue)


def render_show_audio(show: str, seconds: float, sample_rate: int = 48000, channels: int = 2,
                      block: int = 256, step_hz: float = 60.0, seed: int = 0) -> NDArray[np.float32]:
    """Play a show through the engine (no window, no device) and render its sound."""
    engine = build_engine(RunOptions(show=show, step_hz=step_hz, audio=False, status=None))

    def frames() -> Iterator[WorldFrame]:
        while True:
            yield engine.step()

    engine.on_world_time()
    return render_stream(frames(), engine.bank.snapshot, 1.0 / step_hz, seconds, sample_rate, channels, block,
                         seed, bpm=engine.tempo.bpm)
