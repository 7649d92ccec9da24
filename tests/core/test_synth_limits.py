"""The master limiter's promise: never above -0.3 dBFS, whatever the parameters and events."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from installation.core.events import Event, EventKind
from installation.core.params import Kind, ParamSpec
from installation.synth.effects import Limiter
from installation.synth.offline import render_stream
from installation.synth.params import param_specs
from tests.core.synth_frames import STEP_S, frames
from tests.fuzzing import fuzz

pytestmark = pytest.mark.core
CEILING = 10 ** (-0.3 / 20)


def value_of(spec: ParamSpec) -> st.SearchStrategy[object]:
    if spec.kind is Kind.BOOL:
        return st.booleans()
    if spec.kind is Kind.ENUM:
        return st.sampled_from(spec.choices)
    if spec.kind is Kind.INT:
        return st.integers(int(spec.minimum), int(spec.maximum))
    # the extremes are where clipping hides
    return st.one_of(st.sampled_from([spec.minimum, spec.maximum]),
                     st.floats(spec.minimum, spec.maximum, allow_nan=False))


PARAMS = st.fixed_dictionaries({spec.name: value_of(spec) for spec in param_specs()})
EVENT = st.builds(
    Event,
    kind=st.sampled_from(list(EventKind)),
    t=st.floats(0.0, 0.3),
    strength=st.floats(0.0, 4.0),
    x=st.none() | st.floats(0.0, 1.0),
    y=st.none() | st.floats(0.0, 1.0),
    node=st.sampled_from([None, "n0", "n3"]),
)
UNIT = st.floats(0.0, 1.0)


@fuzz(30, suppress_health_check=[HealthCheck.too_slow])
@given(params=PARAMS, events=st.lists(EVENT, max_size=12), density=UNIT, toxin=UNIT, flow=UNIT, flora=UNIT,
       waste=UNIT, channels=st.sampled_from([1, 2, 4]))
def test_peak_never_exceeds_the_ceiling(params: dict[str, object], events: list[Event], density: float,
                                        toxin: float, flow: float, flora: float, waste: float,
                                        channels: int) -> None:
    # every event lands in the first 20 steps; many of them at once is the loud case
    events_at: dict[int, tuple[Event, ...]] = {}
    for i, event in enumerate(events):
        events_at.setdefault(i % 20, ())
        events_at[i % 20] += (event,)
    out = render_stream(frames(0.8, events_at, density=density, toxin=toxin, flow=flow, flora=flora, waste=waste),
                        params, STEP_S, 0.8, channels=channels)
    assert np.isfinite(out).all()
    assert np.abs(out).max() <= CEILING


def test_limiter_holds_a_hot_signal_under_the_ceiling_without_squashing_quiet_parts() -> None:
    rate, block = 48000, 256
    limiter = Limiter(rate, 2, block)
    t = np.arange(rate) / rate
    quiet = 0.1 * np.sin(2 * np.pi * 220 * t)
    hot = 30.0 * np.sin(2 * np.pi * 220 * t) * (np.random.default_rng(1).random(rate) + 0.5)
    signal = np.concatenate([quiet, hot, quiet]).astype(np.float32)
    stereo = np.stack([signal, -signal], axis=1)
    usable = len(stereo) // block * block
    for start in range(0, usable, block):
        limiter.process(stereo[start:start + block], -0.3)
    assert np.abs(stereo[:usable]).max() <= CEILING
    # the quiet part before the burst passes unchanged (delayed by the lookahead window)
    w = limiter.window
    assert np.allclose(stereo[w:rate // 2, 0], signal[: rate // 2 - w], atol=1e-6)
    # and the release brings the quiet part back within a second of the burst's end
    tail = stereo[int(2.8 * rate):usable, 0]
    assert np.abs(tail).max() == pytest.approx(0.1, rel=0.05)


def test_non_finite_world_data_never_reaches_the_output() -> None:
    bad = []
    for k, good in enumerate(frames(1.0, {3: (Event(EventKind.SPIKE, t=0.06, node="n1"),)}, live=True)):
        good.positions[1] = np.nan
        good.potential_mv[:] = np.inf if k % 2 else np.nan
        good.toxin[0] = np.nan
        good.fields["density"][0, 0] = np.inf
        good.flow[0] = np.nan
        bad.append(good)
    out = render_stream(bad, {}, STEP_S, 1.0)
    assert np.isfinite(out).all()
    assert np.abs(out).max() > 1e-3  # the rest still sounds
