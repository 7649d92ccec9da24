"""Three headless Myco members of one cluster on this machine, and what to measure on them.

A venue of three outputs across a 1600x360 canvas, each overlapping the next by 160 pixels, one
output per member (``a`` leads, ``b`` and ``c`` follow); each member is ``myco run --headless
--venue FILE --member NAME`` with its own status port. The soak (``scripts/soak_cluster.py``) and
the benchmark (``benchmarks/bench_cluster.py``) drive it; nothing here imports Qt or GL.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt
from numpy.typing import NDArray
from paho.mqtt.enums import CallbackAPIVersion
from PIL import Image

from installation.app.cluster import CATCH_UP_S
from tests import services
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parent.parent
MEMBERS = (("a", "leader", 10), ("b", "follower", 20), ("c", "follower", 30))
REGIONS = {"a": (0.0, 0.4), "b": (0.3, 0.7), "c": (0.6, 1.0)}  # x0, x1 of the canvas: 160 px overlaps
NAMESPACE = "myco/rig"
FRAME_MS = 1000 / 60  # one frame at 60 Hz, the cluster's goal for the offset between members


def write_venue(path: Path, broker_url: str, *, ca_file: Path | None = None, namespace: str = NAMESPACE,
                members: tuple[tuple[str, str, int], ...] = MEMBERS) -> Path:
    ca = f'ca_file = "{ca_file}"\n' if ca_file else ""
    rows = "".join(f'\n[[cluster.member]]\nname = "{name}"\nrole = "{role}"\npriority = {priority}\n'
                   for name, role, priority in members)
    outputs = "".join(f'\n[[output]]\nname = "out-{name}"\nmember = "{name}"\nregion = [{x0}, 0.0, {x1}, 1.0]\n'
                      for name, (x0, x1) in REGIONS.items() if any(name == row[0] for row in members))
    path.write_text(f'[venue]\ntitle = "Cluster rig"\ncanvas = [1600, 360]\n\n[cluster]\nbroker = "{broker_url}"\n'
                    f'{ca}namespace = "{namespace}"\n{rows}{outputs}')
    return path


@dataclass
class Member:
    name: str
    venue: Path
    logs: Path
    port: int = field(default_factory=services.free_port)
    osc_port: int = field(default_factory=lambda: services.free_port(socket.SOCK_DGRAM))
    process: subprocess.Popen[bytes] | None = None
    visuals: bool = True  # False: the cluster's protocol and show alone, no renderer (the benchmark's control)

    def start(self, env: dict[str, str]) -> None:
        command = [sys.executable, "-m", "installation", "run", "--headless", "--no-audio", "--size", "320x180",
                   "--quality", "low", "--venue", str(self.venue), "--member", self.name,
                   "--status", f"127.0.0.1:{self.port}", "--osc", f"127.0.0.1:{self.osc_port}",
                   "--shader-dir", str(frozen_shaders(self.logs)), *([] if self.visuals else ["--no-visuals"])]
        with (self.logs / f"member-{self.name}.log").open("ab") as log:
            self.process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)

    def kill9(self) -> None:
        """As a power cut would: no last words, the broker's last will speaks for it."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            services.stop(self.process, timeout=15)
            self.process = None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def cluster(self) -> dict[str, Any] | None:
        """The ``cluster`` section of its /status, None while it does not answer."""
        report = services.myco_status(self.port)
        section = report.get("cluster") if report else None
        return section if isinstance(section, dict) else None

    def preview(self) -> tuple[int, NDArray[np.float32]] | None:
        """Its own output's /preview.png?output=NAME and the show step it was taken at (the same
        status read before and after; None while the member has none at a settled step)."""
        before = self.cluster()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/preview.png?output=out-{self.name}",
                                        timeout=5) as reply:
                png = reply.read()
        except OSError:  # 503 until the output's first preview after it was asked for
            return None
        after = self.cluster()
        if not before or not after or before["preview_step"] != after["preview_step"] or before["preview_step"] < 0:
            return None
        return int(before["preview_step"]), np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), np.float32)


def frozen_shaders(folder: Path) -> Path:
    """A copy of the shaders for the rig's members: every member loads the same files, whatever
    is edited in the working tree meanwhile (a member restarted later would load the edit)."""
    copy = folder / "shaders"
    if not copy.exists():
        shutil.copytree(ROOT / "shaders", copy)
    return copy


def lag_ms(section: dict[str, Any]) -> float:
    """This member's own lag behind the shared show clock when its /status was built."""
    me = next(row for row in section["members"] if row.get("me"))
    return float(me["lag_ms"])


def overlap(first: tuple[str, NDArray[np.float32]], second: tuple[str, NDArray[np.float32]]) -> dict[str, float]:
    """Where two members' outputs show the same part of the canvas, their pictures compared pixel by pixel.

    Besides the differences, their correlation: near 1 for one organism seen twice, near the
    control's (the overlap against a strip of the world beside it) for two that drifted apart.
    """
    (a, left), (b, right) = first, second
    x0, x1 = max(REGIONS[a][0], REGIONS[b][0]), min(REGIONS[a][1], REGIONS[b][1])

    def cut(name: str, picture: NDArray[np.float32]) -> NDArray[np.float32]:
        start, end = REGIONS[name]
        width = picture.shape[1] / (end - start)  # the canvas's width at this preview's scale
        return picture[:, round((x0 - start) * width):round((x1 - start) * width)]

    one, other = cut(a, left), cut(b, right)
    difference = np.abs(one - other)
    # the control: the strip of the second (right-hand) output just beside the overlap, another part of the world
    beside = right[:, one.shape[1]:2 * one.shape[1]]
    return {"mean_abs_diff": round(float(difference.mean()), 4), "max_abs_diff": float(difference.max()),
            "equal_fraction": round(float((difference.max(axis=2) == 0).mean()), 4),
            "correlation": round(float(np.corrcoef(one.ravel(), other.ravel())[0, 1]), 4),
            "control_correlation": round(float(np.corrcoef(one.ravel(), beside.ravel())[0, 1]), 4),
            "mean_level": round(float(one.mean()), 2), "columns": one.shape[1]}


def matching_previews(members: list[Member], timeout: float) -> tuple[int, dict[str, NDArray[np.float32]]] | None:
    """A preview from each member taken at one and the same show step (None if they never line up).

    Members take previews every :data:`installation.app.lockstep.CLUSTER_PREVIEW_STEPS` steps,
    each at its own moment; asking keeps each output's preview rendered, and what each member
    showed is kept by step until one step has been seen on all of them.
    """
    seen: dict[str, dict[int, NDArray[np.float32]]] = {member.name: {} for member in members}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for member in members:
            shot = member.preview()
            if shot is not None:
                seen[member.name][shot[0]] = shot[1]
        common = set.intersection(*(set(shots) for shots in seen.values()))
        if common:
            step = max(common)
            return step, {name: shots[step] for name, shots in seen.items()}
        time.sleep(0.5)
    return None


def headless_env() -> dict[str, str]:
    """Offscreen GL without a display, as the suite runs headless members."""
    env = {key: value for key, value in os.environ.items() if key not in ("DISPLAY", "WAYLAND_DISPLAY")}
    return {**env, "QT_QPA_PLATFORM": "offscreen"}


def in_step(members: list[Member], leader: str, within_ms: float = FRAME_MS) -> dict[str, dict[str, Any]] | None:
    """Every member connected, following ``leader`` and within a frame (or ``within_ms``) of the show clock."""
    sections = {member.name: member.cluster() for member in members}
    if not all(section and section["connected"] and section["leader"] == leader and not section["waiting_for_state"]
               and abs(lag_ms(section)) <= within_ms for section in sections.values()):
        return None
    return sections  # type: ignore[return-value]


class TopicWatch:
    """A bare MQTT client on one topic: what arrived (decoded), with its monotonic arrival time."""

    def __init__(self, broker_port: int, topic: str, decode: Callable[[bytes], Any], name: str) -> None:
        self.arrived: list[tuple[float, Any]] = []
        self._lock = threading.Lock()
        self._decode = decode
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{name}-{os.getpid()}")
        self.client.on_message = self._on_message
        self.client.on_connect = lambda client, *_args: client.subscribe(topic, qos=1)
        self.client.connect_async("127.0.0.1", broker_port)
        self.client.loop_start()

    def _on_message(self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        value = self._decode(message.payload)
        with self._lock:
            self.arrived.append((time.monotonic(), value))

    def values(self) -> list[tuple[float, Any]]:
        with self._lock:
            return list(self.arrived)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        self.client.reinitialise()  # closes paho's socket pair now (the leak check looks at once)


class ClaimWatch(TopicWatch):
    """The cluster's leader topic: when each claim reached the broker's readers.

    /status is rebuilt once a second, so a takeover timed through it is up to a second late; the
    claim itself is what every member acts on.
    """

    def __init__(self, broker_port: int, namespace: str = NAMESPACE) -> None:
        super().__init__(broker_port, f"{namespace}/cluster/leader", json.loads, "claim-watch")

    def first_after(self, since: float, epoch: int) -> tuple[float, str] | None:
        return next(((t, str(claim["leader"])) for t, claim in self.values()
                     if t >= since and int(claim["epoch"]) > epoch), None)


def kill_leader(members: list[Member], env: dict[str, str], claims: ClaimWatch) -> dict[str, Any]:
    """``kill -9`` the leader; time the new claim, the others in step behind it, the old one back."""
    leader = next(member for member in members if (member.cluster() or {}).get("role") == "leader")
    others = [member for member in members if member is not leader]
    epoch = int((leader.cluster() or {})["epoch"])
    killed = time.monotonic()
    leader.kill9()

    def new_leader() -> str | None:
        sections = [member.cluster() for member in others]
        names = {section["leader"] for section in sections if section and section["epoch"] > epoch
                 and section["leader"] != leader.name}
        return names.pop() if len(names) == 1 and all(sections) else None

    successor = wait_for(new_leader, 30, "a follower to take over")
    status_s = time.monotonic() - killed
    claimed = claims.first_after(killed, epoch)
    wait_for(lambda: in_step(others, successor), 300, "the two members in step behind the new leader")
    in_step_s = time.monotonic() - killed
    return {"killed": leader.name, "successor": successor,
            "takeover_s": round(claimed[0] - killed, 2) if claimed else None,  # the new claim at the broker
            "takeover_in_status_s": round(status_s, 2), "others_in_step_s": round(in_step_s, 2),
            **rejoin(leader, members, successor, env)}


SHOW_MS = CATCH_UP_S * 1000  # "has the running show": this close to its clock (closer is the CPU's share)


def rejoin(member: Member, members: list[Member], leader: str, env: dict[str, str]) -> dict[str, Any]:
    """Start ``member`` again; time it from spawn (and from its first /status) to in step as a follower."""
    spawned = time.monotonic()
    member.start(env)
    wait_for(lambda: member.cluster(), 60, f"member {member.name}'s /status", every=0.1)
    answering = time.monotonic()
    wait_for(lambda: not (member.cluster() or {"waiting_for_state": True})["waiting_for_state"], 60,
             f"member {member.name} to adopt the leader's snapshot", every=0.1)
    adopted = time.monotonic()

    def has_the_show() -> bool:  # the running show, within CATCH_UP_S of its clock
        section = member.cluster()
        return bool(section and section["leader"] == leader and not section["waiting_for_state"]
                    and abs(lag_ms(section)) <= SHOW_MS)

    wait_for(has_the_show, 60, f"member {member.name} following {leader} again")
    caught_up = time.monotonic()
    # within a frame: how close it keeps then is its share of the CPU (minutes on a loaded 2-core machine)
    wait_for(lambda: in_step(members, leader), 300, f"member {member.name} back in step behind {leader}")
    done = time.monotonic()
    roles = {other.name: (other.cluster() or {}).get("role") for other in members}
    return {"catch_up_s": round(caught_up - spawned, 2), "catch_up_after_start_s": round(caught_up - answering, 2),
            "snapshot_adopted_after_start_s": round(adopted - answering, 2),
            "within_a_frame_s": round(done - spawned, 2),
            "roles_after": roles, "leaders_after": sum(role == "leader" for role in roles.values())}
