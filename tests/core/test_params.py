"""The parameter bank: typing, clamping, smoothing, sources, notifications, snapshots."""

from __future__ import annotations

import logging
import threading

import pytest

from installation.core.params import (
    Curve,
    Kind,
    ParamBank,
    ParamSpec,
    bool_param,
    color_param,
    enum_param,
    float_param,
    int_param,
)


def make_bank() -> ParamBank:
    bank = ParamBank()
    bank.register_all([
        float_param("sim.growth", 0.5, 0.0, 2.0, "x", "growth", smoothing_s=1.0),
        float_param("synth.cutoff", 1000.0, 20.0, 20000.0, "Hz", "cutoff", curve=Curve.LOG),
        int_param("render.agents", 1000, 10, 100000),
        bool_param("synth.mute", False),
        enum_param("synth.scale", "lydian", ("major", "lydian", "dorian")),
        color_param("render.tint", "#00ffcc", smoothing_s=0.5),
    ])
    return bank


def test_out_of_range_values_are_clamped_with_the_reason_logged(caplog: pytest.LogCaptureFixture) -> None:
    bank = make_bank()
    with caplog.at_level(logging.WARNING):
        change = bank.set("sim.growth", 7.5, "midi", immediate=True)
    assert bank.get("sim.growth") == 2.0
    assert "above maximum 2" in change.clamped_reason
    assert "sim.growth" in caplog.text and "midi" in caplog.text
    assert bank.set("render.agents", 3, "osc").value == 10


def test_wrong_types_are_refused_and_change_nothing() -> None:
    bank = make_bank()
    for name, bad in (("sim.growth", "fast"), ("synth.mute", "yes"), ("synth.scale", "chromatic"),
                      ("render.tint", "#12"), ("sim.growth", float("nan"))):
        before = bank.get(name)
        with pytest.raises(ValueError):
            bank.set(name, bad, "osc")
        assert bank.get(name) == before
    with pytest.raises(KeyError):
        bank.set("sim.nothing", 1.0, "osc")


def test_set_many_is_all_or_nothing() -> None:
    bank = make_bank()
    with pytest.raises(ValueError):
        bank.set_many({"sim.growth": 1.0, "synth.scale": "nope"}, "preset")
    assert bank.target("sim.growth") == 0.5


def test_smoothing_reaches_the_target_in_its_time_and_moves_linearly() -> None:
    bank = make_bank()
    bank.set("sim.growth", 1.5, "ui")
    assert bank.get("sim.growth") == 0.5
    for _ in range(30):
        bank.tick(1 / 60)
    assert bank.get("sim.growth") == pytest.approx(1.0, abs=1e-9)
    for _ in range(30):
        bank.tick(1 / 60)
    assert bank.get("sim.growth") == 1.5
    bank.set("render.tint", "#ff0000", "ui")
    bank.tick(0.25)
    red, green, blue = bank.get("render.tint")  # type: ignore[misc]
    assert red == pytest.approx(0.5) and green == pytest.approx(0.5) and blue == pytest.approx(0.4)


def test_source_of_last_change_and_notifications() -> None:
    bank = make_bank()
    seen = []
    unsubscribe = bank.subscribe(seen.append)
    bank.set("synth.scale", "dorian", "midi")
    bank.set_normalized("synth.cutoff", 0.5, "ui")
    unsubscribe()
    bank.set("synth.mute", True, "osc")
    assert [(c.name, c.source) for c in seen] == [("synth.scale", "midi"), ("synth.cutoff", "ui")]
    assert bank.source("synth.scale") == "midi"
    # The log curve puts the middle of the fader at the geometric mean of the range.
    assert seen[1].value == pytest.approx((20 * 20000) ** 0.5, rel=1e-6)


def test_normalised_side_round_trips_for_every_curve() -> None:
    for curve in Curve:
        spec = ParamSpec("a.b", Kind.FLOAT, 10.0, 1.0, 100.0, curve=curve)
        for position in (0.0, 0.1, 0.5, 0.9, 1.0):
            assert spec.to_normalized(spec.from_normalized(position)) == pytest.approx(position)  # type: ignore[arg-type]


def test_registration_conflicts_and_bad_declarations() -> None:
    bank = make_bank()
    bank.register(float_param("sim.growth", 0.5, 0.0, 2.0, "x", "growth", smoothing_s=1.0))
    with pytest.raises(ValueError):
        bank.register(float_param("sim.growth", 0.5, 0.0, 3.0))
    with pytest.raises(ValueError):
        float_param("Bad Name", 0.0, 0.0, 1.0)
    with pytest.raises(ValueError):
        float_param("a.b", 5.0, 0.0, 1.0)


def test_snapshot_is_immutable_and_never_torn_across_threads() -> None:
    bank = make_bank()
    bank.register(float_param("test.a", 0.0, 0.0, 1e9))
    bank.register(float_param("test.b", 0.0, 0.0, 1e9))
    stop = threading.Event()
    torn = []

    def reader() -> None:
        while not stop.is_set():
            snap = bank.snapshot()
            if snap["test.a"] != snap["test.b"]:
                torn.append((snap["test.a"], snap["test.b"]))

    thread = threading.Thread(target=reader)
    thread.start()
    for value in range(1, 3000):
        bank.set_many({"test.a": float(value), "test.b": float(value)}, "engine")
    stop.set()
    thread.join()
    assert torn == []
    with pytest.raises(TypeError):
        bank.snapshot()["test.a"] = 1.0  # type: ignore[index]


def test_declaring_an_owner_keeps_unchanged_values_and_follows_added_changed_and_removed_ones() -> None:
    bank = ParamBank()
    bank.register_all([float_param("shader.post.grain", 0.1, 0.0, 1.0), float_param("shader.post.glow", 1.0, 0.0, 4.0),
                       float_param("shader.post.old", 0.5, 0.0, 1.0), float_param("render.exposure", 1.0, 0.1, 4.0)])
    bank.set("shader.post.grain", 0.3, "ui", immediate=True)
    bank.set("shader.post.glow", 2.0, "ui", immediate=True)
    bank.declare("shader.post", [float_param("shader.post.grain", 0.1, 0.0, 1.0),
                                 float_param("shader.post.glow", 1.0, 0.0, 8.0),
                                 color_param("shader.post.tint", "#ff0000")])
    assert bank.get("shader.post.grain") == 0.3  # unchanged: the operator's value stays
    assert bank.get("shader.post.glow") == 1.0 and bank.spec("shader.post.glow").maximum == 8.0  # changed
    assert bank.get("shader.post.tint") == (1.0, 0.0, 0.0) and "shader.post.tint" in bank.snapshot()
    assert "shader.post.old" not in bank and "render.exposure" in bank
