"""A windowed cluster member's hyphae in lockstep with a headless leader's (issue 18), over a real
mosquitto: the leader is ``myco run --headless --member a``, the follower the desktop app in this
process (``--member b``, its output window on the test X server), both from one venue file whose
outputs overlap. The follower joins late, so it catches up from the leader's shared snapshot; the
renderer's state the leader shares in a later snapshot (its agents, trails and transients at that
step) is compared, exactly, with the follower's world at the same step; then the two members'
whole-canvas previews (``/preview.png``) taken at one show step.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt
import pytest
from numpy.typing import NDArray
from paho.mqtt.enums import CallbackAPIVersion

from installation.app.gui import DesktopApp
from installation.core.cluster import RENDER_GROUP
from installation.core.snapshot import Snapshot, decode
from tests.appkit import pump, start_app, stop_app
from tests.cluster_rig import frozen_shaders
from tests.services import Mosquitto, free_port, start_mosquitto, stop
from tests.test_app_headless import MYCO
from tests.test_cluster import output_at_step

VENUE = """[venue]
title = "A headless leader and a windowed follower"

[[output]]
name = "left"
region = [0.0, 0.0, 0.6, 1.0]
member = "a"

[[output]]
name = "right"
region = [0.4, 0.0, 1.0, 1.0]
member = "b"

[cluster]
broker = "mqtt://127.0.0.1:{port}"
namespace = "{namespace}"

[[cluster.member]]
name = "a"
role = "leader"
priority = 1

[[cluster.member]]
name = "b"
priority = 2
"""
SIZE = (320, 180)  # the leader's --size and the follower's canvas: one renderer size
KEPT = 200  # the follower's renderer states kept, by step (its latest 400 steps)

GpuState = tuple[dict[str, Any], dict[str, NDArray[Any]]]


class Snapshots:
    """The leader's snapshots as the broker hands them to every member (retained, then each new one)."""

    def __init__(self, port: int, namespace: str) -> None:
        self.taken: list[Snapshot] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"snapshot-watch-{os.getpid()}")
        self.client.on_message = self._on_message
        self.client.on_connect = lambda client, *_args: client.subscribe(f"{namespace}/cluster/state", qos=1)
        self.client.connect_async("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.taken.append(decode(message.payload))

    def steps(self) -> list[int]:
        with self._lock:
            return [int(snapshot.manifest["engine"]["step_count"]) for snapshot in self.taken]

    def at(self, step: int) -> Snapshot:
        with self._lock:
            return next(snapshot for snapshot in self.taken if snapshot.manifest["engine"]["step_count"] == step)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        self.client.reinitialise()  # closes paho's socket pair now


@pytest.fixture
def leader(tmp_path: Path) -> Iterator[tuple[Path, Snapshots, int]]:
    """The broker, the venue file and the headless leader (and its status port), running; the
    leader's snapshots watched."""
    broker: Mosquitto = start_mosquitto(tmp_path)
    namespace = f"myco/windowed-{broker.port}"
    venue = tmp_path / "hall.toml"
    venue.write_text(VENUE.format(port=broker.port, namespace=namespace))
    snapshots = Snapshots(broker.port, namespace)
    port = free_port()
    env = {**os.environ, "MYCO_HOME": str(tmp_path / "a")}
    with open(tmp_path / "a.log", "a") as log, subprocess.Popen(
            [*MYCO, "run", "--headless", "--no-audio", "--quality", "low", "--size", f"{SIZE[0]}x{SIZE[1]}",
             "--venue", str(venue), "--member", "a", "--status", f"127.0.0.1:{port}",
             "--shader-dir", str(frozen_shaders(tmp_path))],
            env=env, stdout=log, stderr=subprocess.STDOUT) as process:
        try:
            yield venue, snapshots, port
        finally:
            snapshots.close()
            stop(process, timeout=15)
            stop(broker.process)
            print((tmp_path / "a.log").read_text()[-2000:])


def test_a_windowed_follower_steps_its_hyphae_with_the_headless_leader(
        qt_session: object, tmp_path: Path, leader: tuple[Path, Snapshots, int],
        monkeypatch: pytest.MonkeyPatch) -> None:
    venue, snapshots, leader_port = leader
    assert pump(30, lambda: bool(snapshots.steps())), "the leader shared no snapshot within 30 s"
    monkeypatch.setenv("MYCO_HOME", str(tmp_path / "b"))
    port = free_port()
    app: DesktopApp = start_app(venue=str(venue), member="b", canvas=SIZE, shader_dir=frozen_shaders(tmp_path),
                                status=f"127.0.0.1:{port}")
    try:
        engine, cluster = app.runtime.engine, app.runtime.cluster
        assert cluster is not None
        states: dict[int, GpuState] = {}  # the follower's renderer after each of its steps, by engine step
        show_frame = app.pictures.show_frame

        def recorded(*args: Any) -> None:
            show_frame(*args)
            states[engine.step_count] = app.pictures.save_state()  # type: ignore[attr-defined]
            for step in sorted(states)[:-KEPT]:
                del states[step]

        monkeypatch.setattr(app.pictures, "show_frame", recorded)
        assert pump(30, lambda: not cluster.status()["waiting_for_state"]), "the follower adopted no snapshot"
        joined = engine.step_count
        previews: list[tuple[int, NDArray[np.int16], NDArray[np.int16]]] = []  # taken at the same show steps
        look = every(0.3, lambda: bool(previews) or same_step_previews(leader_port, port, joined, previews))

        def shared() -> bool:  # the previews are looked for meanwhile (the snapshot comes every 5 s)
            look()
            return any(step > joined and step in states for step in snapshots.steps())

        assert pump(30, shared), \
            f"no snapshot of the leader's after step {joined} at a step the follower rendered ({sorted(states)[-5:]})"
        step = max(step for step in snapshots.steps() if step > joined and step in states)
        snapshot = snapshots.at(step)
        meta, arrays = states[step]
        expected = snapshot.part("gpu")
        print(f"follower joined at step {joined}; compared at step {step} "
              f"({(step - joined) // RENDER_GROUP} render steps later)")
        differing = {name: int(np.count_nonzero(arrays[name] != expected[name])) for name in ("agents", "trail")
                     if arrays[name].shape != expected[name].shape or np.any(arrays[name] != expected[name])}
        print(json.dumps({"values_differing": differing, "agents": int(arrays["agents"].size)}))
        assert not differing, f"the follower's renderer differs from the leader's at step {step}: {differing}"
        assert np.array_equal(arrays["transients"], expected["transients"])
        leaders = snapshot.manifest["gpu"]
        assert (meta["t"], meta["frame_count"]) == (leaders["t"], leaders["frame_count"])
        assert float(np.std(arrays["trail"].astype(np.float32))) > 0.0, "the trails hold something to compare"

        assert pump(30, look), "no whole-canvas previews of the leader and the follower at one step"
        shown, one, other = previews[0]
        print(f"previews at step {shown}: {one.shape}, max difference {int(np.abs(one - other).max())}")
        assert one.shape == other.shape and float(one.std()) > 1.0
        assert np.array_equal(one, other)
    finally:
        stop_app(app)


def every(seconds: float, check: Callable[[], bool]) -> Callable[[], bool]:
    """``check`` at most every ``seconds``, so the app's event loop runs between the requests."""
    last = [0.0]

    def throttled() -> bool:
        if time.monotonic() - last[0] < seconds:
            return False
        last[0] = time.monotonic()
        return check()

    return throttled


def same_step_previews(leader_port: int, follower_port: int, after: int,
                       found: list[tuple[int, NDArray[np.int16], NDArray[np.int16]]]) -> bool:
    """The leader's and the follower's whole-canvas previews of one show step after ``after``, into ``found``."""
    one = output_at_step(leader_port, "")
    if one is None or one[0] <= after:
        return False
    other = output_at_step(follower_port, "", one[0])
    if other is None:
        return False
    found.append((one[0], one[1], other[1]))
    return True
