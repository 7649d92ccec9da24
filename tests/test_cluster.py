"""A cluster of three headless members on one machine over a real mosquitto (issue 18).

One test, one cluster, in order: the members show the same act and step through ``/status`` and the
same pixels where their outputs overlap (``/preview.png?output=NAME`` at the same show step), bit
for bit; a Link session's tempo that the leader follows is every member's tempo
(``tests/test_cluster_shared.py`` compares tempo step by step); the same pixels also after live
nodes were sent to the leader alone (their readings reach every member at the same step); the
leader is killed with ``kill -9`` and the best follower takes over; a command sent to a follower
reaches the new leader and every member; the broker restarts mid-act and no act change is lost; the
old leader comes back, follows and catches up within 10 s (asserted). The takeover time is printed,
not asserted (a busy two-core machine); ``make soak-cluster`` and the benchmark measure the figures
over minutes.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from installation.app.cluster import CATCH_UP_S
from tests.cluster_rig import frozen_shaders
from tests.services import Mosquitto, free_port, myco_status, require, start_mosquitto, stop
from tests.test_app_headless import MYCO
from tests.test_link import Peer
from tests.waiting import wait_for

VENUE = """[venue]
title = "Three machines"

[[output]]
name = "left"
region = [0.0, 0.0, 0.6, 1.0]
member = "one"

[[output]]
name = "middle"
region = [0.4, 0.0, 1.0, 1.0]
member = "two"

[[output]]
name = "right"
region = [0.5, 0.0, 1.0, 1.0]
member = "three"

[cluster]
broker = "mqtt://127.0.0.1:{port}"
namespace = "myco/test-{port}"

[[cluster.member]]
name = "one"
role = "leader"
priority = 1

[[cluster.member]]
name = "two"
priority = 2

[[cluster.member]]
name = "three"
priority = 3
"""
WAIT_S = 120.0  # generous: three renderers share two busy cores


@contextmanager
def member(name: str, venue: Path, port: int, home: Path, osc_port: int) -> Iterator[subprocess.Popen[str]]:
    env = {**os.environ, "MYCO_HOME": str(home / name)}  # each machine its own snapshots
    with open(home / f"{name}.log", "a") as log, subprocess.Popen(
            [*MYCO, "run", "--headless", "--no-audio", "--quality", "low", "--size", "320x180", "--venue",
             str(venue), "--member", name, "--status", f"127.0.0.1:{port}", "--osc", f"127.0.0.1:{osc_port}",
             "--link", "--shader-dir", str(frozen_shaders(home))],  # (the leader's inputs, Link too)
            env=env, stdout=log, stderr=subprocess.STDOUT, text=True) as process:
        try:
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()


def cluster_of(port: int) -> dict[str, Any] | None:
    report = myco_status(port)
    return report if report is not None and report.get("cluster") else None


def showing(port: int, check: Callable[[dict[str, Any]], bool]) -> Callable[[], dict[str, Any] | None]:
    """A poll of the member's /status that returns the document once ``check`` holds."""
    def ready() -> dict[str, Any] | None:
        report = cluster_of(port)
        return report if report is not None and check(report) else None

    return ready


def until(ready: Callable[[], Any], what: str, timeout: float = WAIT_S) -> Any:
    return wait_for(ready, timeout, what, every=0.2)


def output_at_step(port: int, output: str, step: int | None = None) -> tuple[int, NDArray[np.int16]] | None:
    """The output's preview (``""``: the whole canvas's) with the show step it was taken at."""
    before = cluster_of(port)
    query = f"?output={output}" if output else ""
    try:  # the first request waits up to 3 s for the output's preview (then 503: not rendered yet)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/preview.png{query}", timeout=5) as reply:
            png = reply.read()
    except OSError:
        return None
    after = cluster_of(port)
    if before is None or after is None or png is None:
        return None
    taken = before["cluster"]["preview_step"]
    if taken != after["cluster"]["preview_step"] or taken <= 0 or (step is not None and taken != step):
        return None
    return taken, np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), np.int16)


def same_step_overlap(ports: dict[str, int], after: int = 0) -> tuple[int, NDArray[np.int16], NDArray[np.int16]] | None:
    """The canvas x 0.5..0.6, seen by "left" (member one) and "middle" (member two) at one step
    (one later than ``after``)."""
    left = output_at_step(ports["one"], "left")
    if left is None or left[0] <= after:
        return None
    middle = output_at_step(ports["two"], "middle", left[0])
    if middle is None:
        return None
    # both outputs are 0.6 of the canvas wide: x 0.5..0.6 is the last sixth of one, the second of the other
    width = left[1].shape[1]
    span = width // 6
    return left[0], left[1][:, width - span:], middle[1][:, span:2 * span]


def same_step_whole(first: int, second: int, after: int = 0) -> tuple[int, NDArray[np.int16]] | None:
    """The step (one later than ``after``) and the difference of two members' whole-canvas previews
    taken at that step."""
    one = output_at_step(first, "")
    other = output_at_step(second, "", one[0]) if one is not None and one[0] > after else None
    return None if one is None or other is None else (one[0], np.abs(one[1] - other[1]))


def post_command(port: int, command: str) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/control", json.dumps({"command": command}).encode(),
                                     {"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=5) as reply:
        assert reply.status == 202


def test_three_members_one_show_takeover_broker_restart_and_rejoin(tmp_path: Path) -> None:
    broker: Mosquitto = start_mosquitto(tmp_path)
    venue = tmp_path / "hall.toml"
    venue.write_text(VENUE.format(port=broker.port))
    oscsend = require("oscsend")
    ports = {name: free_port() for name in ("one", "two", "three")}
    osc = {name: free_port() for name in ports}
    with ExitStack() as stack:
        stack.callback(lambda: stop(broker.process))
        processes = {name: stack.enter_context(member(name, venue, ports[name], tmp_path, osc[name]))
                     for name in ("one", "two", "three")}

        # -- the same show: the followers follow the leader's epoch, at its act -----------------
        for name in ("two", "three"):
            until(showing(ports[name], lambda c: c["cluster"]["leader"] == "one" and c["step"] > 0),
                  f"{name} following one")
        step, left, middle = until(lambda: same_step_overlap(ports, 100), "previews of one step from one and two")
        assert left.shape == middle.shape and left.mean() > 1.0  # the hyphae are drawn there
        difference = np.abs(left - middle)
        print(f"overlap of one (leader) and two at step {step}: max difference {difference.max()}, "
              f"{np.mean(difference > 0):.2%} of the values differ")
        # the followers joined from the leader's snapshot: the same organism, bit for bit
        assert difference.max() == 0
        step, whole = until(lambda: same_step_whole(ports["two"], ports["three"], 100),
                            "whole previews of two and three")
        print(f"two and three (both joined from the snapshot) at step {step}: max difference {whole.max()}")
        assert whole.max() == 0

        # -- a tempo the leader follows (an Ableton Link session) is every member's ----------------
        peer = Peer(128.0)
        stack.callback(peer.close)
        until(lambda: peer.ask("peers") >= 1, "the leader in the peer's Link session")  # followers open no Link
        assert peer.ask_line("set 137") == "ok"

        def linked(report: dict[str, Any]) -> bool:
            return (report["tempo"]["source"] == "link" and abs(report["tempo"]["bpm"] - 137.0) < 0.01
                    and abs(report["params"]["tempo.bpm"] - 137.0) < 0.01)

        for name in ("one", "two", "three"):
            until(showing(ports[name], linked), f"{name} at the Link session's tempo")

        # -- live nodes, sent to the leader only, are on every member at the same step ----------
        for i in range(15):  # 1.5 s of two gallery nodes at 10 Hz, to the leader's OSC port
            for node, mv in (("gallery-1", 0.4), ("gallery-2", -0.3)):
                subprocess.run([oscsend, "127.0.0.1", str(osc["one"]), f"/myco/node/{node}", "ffff",
                                str(mv + 0.01 * i), "0.2", "0.3", "0.6"], check=True)
            time.sleep(0.1)

        def live_node(report: dict[str, Any]) -> bool:
            node = report["nodes"].get("gallery-2", {})
            return bool(node.get("live")) and node["last"]["moisture"] == 0.6

        for name in ("two", "three"):  # followers have no listener open: only the cluster brings them
            until(showing(ports[name], live_node), f"{name} showing the leader's live node")
        seen = until(showing(ports["one"], live_node), "one showing its live node")["step"]
        step, left, middle = until(lambda: same_step_overlap(ports, seen), "previews of one and two after the nodes")
        difference = np.abs(left - middle)
        print(f"overlap of one and two at step {step}, after the live nodes: max difference {difference.max()}")
        assert difference.max() == 0  # the readings took effect at the same step on both

        # -- kill -9 of the leader: two takes over ---------------------------------------------
        killed = time.monotonic()
        os.kill(processes["one"].pid, signal.SIGKILL)
        until(showing(ports["two"], lambda c: c["cluster"]["role"] == "leader"), "two leading")
        print(f"takeover {time.monotonic() - killed:.1f} s after kill -9")
        report = until(showing(ports["three"], lambda c: c["cluster"]["leader"] == "two"), "three following two")
        assert report["cluster"]["epoch"] == 2

        # -- a command on a follower reaches the leader; the broker restarts mid-act ------------
        act = report["act_index"]
        post_command(ports["three"], "next_act")
        for name in ("two", "three"):
            until(showing(ports[name], lambda c: c["act_index"] == act + 1), f"{name} in the next act")
        stop(broker.process)
        broker = start_mosquitto(tmp_path, broker.port)
        post_command(ports["two"], "next_act")
        for name in ("two", "three"):
            until(showing(ports[name], lambda c: c["act_index"] == act + 2),
                  f"{name} in act {act + 3} after the broker restarted")

        # -- the old leader returns: it follows (no second leader) and catches up --------------
        processes["one"].wait()
        back = time.monotonic()
        stack.enter_context(member("one", venue, ports["one"], tmp_path, osc["one"]))
        until(lambda: cluster_of(ports["one"]), "one's /status")
        answering = time.monotonic()

        def within(ms: float) -> Callable[[dict[str, Any]], bool]:
            def check(report: dict[str, Any]) -> bool:
                me = next(row for row in report["cluster"]["members"] if row["me"])
                return (report["cluster"]["leader"] == "two" and report["act_index"] == act + 2
                        and abs(me["lag_ms"]) <= ms)
            return check

        # (within a frame of the clock is the CPU's matter: 92 s with the load at 15 on two cores;
        # the soak and the benchmark measure it)
        # caught up: the running show's act, within CATCH_UP_S of its clock (closer than that a
        # follower steps rather than takes a snapshot; how close it keeps then is the CPU's share)
        report = until(showing(ports["one"], within(CATCH_UP_S * 1000)), "one back, following two")
        done = time.monotonic()
        print(f"one caught up {done - back:.1f} s after it started ({done - answering:.1f} s after its first "
              f"/status), at step {report['step']}")
        assert report["cluster"]["role"] == "follower"
        assert done - answering <= 10.0, "the issue's goal: a restarted follower catches up within 10 s"
        leader = cluster_of(ports["two"])
        assert leader is not None and leader["cluster"]["role"] == "leader"
        positions = [myco_status(ports[name]) for name in ("one", "two", "three")]
        assert len({p["act"] for p in positions if p}) == 1
