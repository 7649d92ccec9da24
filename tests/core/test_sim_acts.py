"""Act changes in a shipped show: the living network carries over and the fields blend, never cut."""

from __future__ import annotations

import numpy as np

from installation.core.events import CommandInput, EventKind
from installation.engine import Engine
from installation.registry import build_bank


def test_kai_festival_act_change_blends() -> None:
    engine = Engine.for_show("kai-festival", bank=build_bank())
    frames = engine.advance(5.0)
    before = frames[-1]
    engine.inputs.put(CommandInput("next_act", source="ui"))
    frames = engine.advance(7.0)  # the act's first cue (a toxin pool) comes at 8 s
    assert engine.player.act_index == 1 and engine.seed.name == "kai-clusters"
    # Nodes present before the change are still there right after it (they fade, not vanish).
    assert set(before.node_ids) <= set(frames[0].node_ids)
    # No field jumps between consecutive steps: the act's new toxin arrives over the transition.
    toxin = np.array([f.fields["toxin"].mean() for f in [before, *frames]])
    assert toxin[-1] > toxin[0] + 0.01
    assert np.abs(np.diff(toxin)).max() < 0.01 * toxin[-1]
    # Links carry over: the network is not regrown from nothing.
    assert len(frames[0].links) >= 0.8 * len(before.links)
    kinds = {e.kind for f in frames for e in f.events}
    assert EventKind.SPIKE in kinds
