"""Snapshots of the organism (installation.core.snapshot): the engine's whole state survives a
round trip through a file, a bad file falls back to the one before, then to the seed, and the
folder stays bounded."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from installation.core.commands import Command
from installation.core.events import CommandInput, Event, EventKind
from installation.core.frames import NodeReading
from installation.core.paths import UserDirs
from installation.core.snapshot import (
    FORMAT_VERSION,
    MANIFEST,
    Snapshot,
    SnapshotError,
    decode,
    encode,
    first_usable,
    folder,
    read,
    snapshot_files,
    write,
)
from installation.engine import Engine
from installation.nodes.mux import NodeMux
from installation.registry import build_bank
from installation.sim.defaults import demo_seed
from installation.sim.kernel import Kernel


def through_file(snapshot: Snapshot) -> Snapshot:
    """What a reader gets back from the bytes (JSON manifest, plain arrays, no pickles)."""
    return decode(encode(snapshot))


def test_the_kernel_continues_bit_for_bit_after_a_round_trip() -> None:
    seed = demo_seed()
    kernel = Kernel(seed)
    events = [Event(EventKind.SURGE, 0.0, 1.5, 0.4, 0.5), Event(EventKind.DISRUPTION, 0.0, 1.0, 0.6, 0.4)]
    for step in range(400):
        kernel.step(1 / 60, events if step == 100 else [], {"sim.time_compression": 3600.0})
    meta, arrays = kernel.save_state()
    back = through_file(Snapshot({"show": "x", "kernel": meta}, {f"k.{n}": a for n, a in arrays.items()}))
    again = Kernel(seed)
    assert again.state_hash() != kernel.state_hash()
    again.restore_state(back.manifest["kernel"], back.part("k"))
    assert again.state_hash() == kernel.state_hash()
    for _ in range(300):  # the random streams, spike trains, links and fields all carry on alike
        kernel.step(1 / 60, [], {"sim.time_compression": 3600.0})
        again.step(1 / 60, [], {"sim.time_compression": 3600.0})
    assert again.state_hash() == kernel.state_hash()


def test_a_kernel_of_another_grid_is_refused() -> None:
    meta, arrays = Kernel(demo_seed()).save_state()
    with pytest.raises(SnapshotError, match="grid"):
        Kernel(demo_seed(), grid=(36, 64)).restore_state(meta, arrays)


def test_the_node_history_survives() -> None:
    mux = NodeMux(Kernel(demo_seed()))
    mux.push(NodeReading("s1", 0.0, 0.3, 0.2, 0.1, 0.5, 0.3, 0.3, "osc"))
    for _ in range(60):
        mux.step(1 / 60, [], {})
    meta, arrays = mux.save_state()
    meta = json.loads(json.dumps(meta))
    again = NodeMux(Kernel(demo_seed()))
    again.restore_state(meta, arrays)
    assert again.kernel.state_hash() == mux.kernel.state_hash()
    assert again.live["s1"].reading == mux.live["s1"].reading
    assert again.live["s1"].weight == pytest.approx(mux.live["s1"].weight) and again.live["s1"].weight > 0
    assert again.kernel.index_of("s1") is not None and bool(again.kernel.external[again.kernel.index_of("s1")])


def test_the_engine_resumes_act_position_parameters_schedule_and_organism() -> None:
    engine = Engine.for_show("elara-mural", bank=build_bank(), resume=True)
    engine.bank.set("show.time_scale", 8.0, "ui")
    engine.advance(100 / 8)  # act 1 lasts 90 s: now in act 2
    assert engine.player.act_index == 1 and engine.act_changes == 1
    engine.inputs.put(CommandInput(Command.CLOSE_NOW, "", "ui"))
    engine.inputs.put(Event(EventKind.SURGE, 0.0, 1.0, 0.5, 0.5))
    engine.advance(2.0)
    engine.bank.set("sim.growth_rate", 1.7, "midi")  # mid-fade when the snapshot is taken
    engine.step()
    user = UserDirs.default()
    write(folder(user), engine.save_snapshot())

    again = Engine.for_show("elara-mural", bank=build_bank(), resume=True)
    assert again.resumed is not None
    assert again.player.act_index == 1 and again.preset.name == "elara-2-unveiled"
    assert again.player.position_s == pytest.approx(engine.player.position_s)
    assert again.world.state_hash() == engine.world.state_hash()  # type: ignore[attr-defined]
    assert dict(again.bank.snapshot()) == dict(engine.bank.snapshot())  # every parameter's value
    names = engine.bank.names()
    assert [again.bank.target(n) for n in names] == [engine.bank.target(n) for n in names]
    assert [again.bank.source(n) for n in names] == [engine.bank.source(n) for n in names]
    assert (again.fade is None) == (engine.fade is None)
    assert again.hours.override, "the operator's close now holds after the restart"
    for _ in range(180):
        engine.step()
        again.step()
    assert again.world.state_hash() == engine.world.state_hash()  # type: ignore[attr-defined]
    assert dict(again.bank.snapshot()) == dict(engine.bank.snapshot())  # the closing's fade went on alike
    assert engine.bank.get("render.blackout") > 0.1
    assert again.player.position_s == pytest.approx(engine.player.position_s)
    assert Engine.for_show("elara-mural", bank=build_bank()).resumed is None, "resume is asked for, not assumed"


def snap(show: str, act: int, marker: float) -> Snapshot:
    return Snapshot({"show": show, "act_index": act, "position_s": marker, "saved_at": 0.0},
                    {"engine.marker": np.full(4, marker)})


def test_bad_files_fall_back_to_the_previous_then_to_the_seed(tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    for marker in (1.0, 2.0, 3.0, 4.0):
        write(tmp_path, snap("show", 0, marker))
    files = snapshot_files(tmp_path, "show")
    assert [f.name for f in files] == ["show-000004.npz", "show-000003.npz", "show-000002.npz"]
    newest, middle, oldest = files
    newest.write_bytes(newest.read_bytes()[: newest.stat().st_size // 2])  # truncated by the crash
    wrong = read(middle)
    wrong.manifest["version"] = FORMAT_VERSION + 1
    arrays = {MANIFEST: np.frombuffer(json.dumps(wrong.manifest).encode(), np.uint8), **wrong.arrays}
    with middle.open("wb") as handle:
        np.savez(handle, **arrays)  # type: ignore[arg-type]
    caplog.set_level(logging.INFO, "installation")

    def use(snapshot: Snapshot) -> float:
        return float(snapshot.part("engine")["marker"][0])

    assert first_usable(tmp_path, "show", use) == 2.0
    lines = [r.getMessage() for r in caplog.records if "unreadable" in r.getMessage()]
    assert len(lines) == 2, lines
    assert lines[0].startswith("snapshot show-000004.npz unreadable (") and lines[0].endswith("trying show-000003.npz")
    assert "format version 2" in lines[1] and lines[1].endswith("trying show-000002.npz")

    caplog.clear()

    def refuse(snapshot: Snapshot) -> float:
        raise SnapshotError("wrong shapes")

    assert first_usable(tmp_path, "show", refuse) is None
    assert caplog.records[-1].getMessage().endswith("(wrong shapes); starting from the seed")
    oldest.unlink()
    newest.unlink()
    middle.unlink()
    caplog.clear()
    assert first_usable(tmp_path, "show", use) is None
    assert "no snapshot of show" in caplog.records[-1].getMessage()


def test_a_pickle_is_never_loaded(tmp_path: Path) -> None:
    path = tmp_path / "show-000001.npz"
    manifest = np.frombuffer(json.dumps({"version": FORMAT_VERSION, "show": "show"}).encode(), np.uint8)
    with path.open("wb") as handle:
        np.savez(handle, manifest=manifest, evil=np.array([{"a": 1}], dtype=object))
    with pytest.raises(SnapshotError, match="readable"):
        decode(path.read_bytes())


def test_snapshots_are_bounded_in_number_and_size(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    for marker in range(6):
        write(tmp_path, snap("show", 0, float(marker)))
    write(tmp_path, snap("other", 0, 9.0))
    assert len(snapshot_files(tmp_path, "show")) == 3 and len(snapshot_files(tmp_path, "other")) == 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temporary file is left"
    big = Snapshot({"show": "show"}, {"engine.noise": np.random.default_rng(0).random(300_000)})
    assert write(tmp_path, big, max_bytes=1_000_000) is None
    assert "over the" in caplog.records[-1].getMessage()
    assert snapshot_files(tmp_path, "show")[0].name == "show-000006.npz"
