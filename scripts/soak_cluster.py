"""Soak: a cluster of three headless members for several minutes, one organism across their seams.

Usage: python scripts/soak_cluster.py [--minutes 6] [--every 10] [--out benchmarks/soak_cluster.json]

A real mosquitto (persistent, on loopback) and three members of one venue (``tests/cluster_rig.py``:
``a`` leads, ``b`` and ``c`` follow, their outputs overlapping by 160 of 640 pixels), each
``myco run --headless --member NAME`` with its own status port. Every ``--every`` seconds it takes
a preview from each member at one and the same show step and compares the overlaps pixel by
pixel (the same picture, not two organisms drifting apart), and reads each member's act, show
position and lag through ``/status``. A third of the way in the broker is restarted mid-act; two
thirds in the leader is killed with ``kill -9``, the takeover timed, and the old leader started
again (it must come back as a follower, and its catch-up is timed). Writes what it measured;
exits 1 when the overlap or the show position ever differed, the takeover took over 5 s, the
catch-up over 10 s, or two members led at once.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import services  # noqa: E402
from tests.cluster_broker import Broker, plain_broker  # noqa: E402
from tests.cluster_rig import (  # noqa: E402
    MEMBERS,
    SHOW_MS,
    ClaimWatch,
    Member,
    headless_env,
    in_step,
    kill_leader,
    lag_ms,
    matching_previews,
    overlap,
    write_venue,
)
from tests.waiting import wait_for  # noqa: E402

MIN_CORRELATION = 0.9  # of two members' overlaps; the same picture is 0.99, a strip beside it about 0.5
TAKEOVER_LIMIT_S, CATCH_UP_LIMIT_S = 5.0, 10.0


def reading(members: list[Member]) -> dict[str, Any]:
    """One round: the overlaps at one step, and each member's act, position, lag, leader and epoch."""
    shot = matching_previews(members, 60.0)  # the members' next preview step: 2 s of show time
    round_: dict[str, Any] = {"t": round(time.monotonic(), 1), "members": {}}
    if shot is None:
        round_["overlaps"] = None
    else:
        step, pictures = shot
        round_["step"] = step
        round_["overlaps"] = {f"{x}|{y}": overlap((x, pictures[x]), (y, pictures[y]))
                              for x, y in (("a", "b"), ("b", "c")) if x in pictures and y in pictures}
    for member in members:
        report = services.myco_status(member.port) or {}
        section = report.get("cluster") or {}
        round_["members"][member.name] = {
            "act_index": report.get("act_index"), "position_s": report.get("position_s"),
            "role": section.get("role"), "leader": section.get("leader"), "epoch": section.get("epoch"),
            "lag_ms": lag_ms(section) if section else None,
            "snapshots_adopted": (section.get("rejected") or {}).get("state_adopted", 0) if section else None}
    return round_


def soak(broker: Broker, folder: Path, minutes: float, every: float) -> dict[str, Any]:
    venue = write_venue(folder / "venue.toml", broker.url())
    env = headless_env()
    members = [Member(name, venue, folder) for name, _role, _priority in MEMBERS]
    result: dict[str, Any] = {"minutes": minutes, "every_s": every, "rounds": [], "faults": {}}
    claims = ClaimWatch(broker.port)
    try:
        started = time.monotonic()
        for member in members:
            member.start(env)
        # the running show on all three (within a frame of its clock is the CPU's share on a loaded machine)
        wait_for(lambda: in_step(members, "a", SHOW_MS), 120, "three members following leader a")
        result["start_to_in_step_s"] = round(time.monotonic() - started, 1)
        end = time.monotonic() + minutes * 60
        broker_restart_at, kill_at = time.monotonic() + minutes * 20, time.monotonic() + minutes * 40
        while time.monotonic() < end:
            alive = [member for member in members if member.alive]
            result["rounds"].append(reading(alive))
            if broker_restart_at and time.monotonic() >= broker_restart_at:
                broker_restart_at = 0
                result["faults"]["broker_restart"] = fault(members, lambda: restart_broker(broker, members))
            if kill_at and time.monotonic() >= kill_at:
                kill_at = 0
                result["faults"]["leader_killed"] = fault(members, lambda: kill_leader(members, env, claims))
            time.sleep(max(0.0, every - 1.0))
    finally:
        claims.close()
        for member in members:
            member.stop()
    return result


def fault(members: list[Member], action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """What a fault's recovery measured, or, when it never came, why and what /status said then."""
    try:
        return action()
    except AssertionError as error:
        return {"error": str(error), "cluster": {member.name: member.cluster() for member in members}}


def restart_broker(broker: Broker, members: list[Member]) -> dict[str, Any]:
    """Stop and start the broker; time until the members are in step again behind whoever leads."""
    before = {member.name: member.cluster() or {} for member in members}
    started = time.monotonic()
    broker.restart()

    def settled() -> str | None:
        leaders = {section["leader"] for member in members if (section := member.cluster())}
        leader = leaders.pop() if len(leaders) == 1 else None
        return leader if leader and in_step(members, leader, SHOW_MS) else None

    leader = wait_for(settled, 120, "the members in step again after the broker restarted")
    after = {member.name: member.cluster() or {} for member in members}
    return {"back_in_step_s": round(time.monotonic() - started, 2), "leader_before": before["a"].get("leader"),
            "leader_after": leader, "epoch_before": before["a"].get("epoch"), "epoch_after": after["a"].get("epoch"),
            "acts": {name: (services.myco_status(member.port) or {}).get("act_index")
                     for name, member in zip(after, members, strict=True)}}


def verdict(result: dict[str, Any]) -> list[str]:
    problems = []
    for round_ in result["rounds"]:
        for pair, figures in (round_["overlaps"] or {}).items():
            if figures["correlation"] < MIN_CORRELATION:
                problems.append(f"overlap {pair} differs at step {round_['step']}: {figures}")
        acts = {row["act_index"] for row in round_["members"].values()}
        if len(acts) > 1:
            problems.append(f"members in different acts at {round_['t']}: {round_['members']}")
    compared = sum(1 for round_ in result["rounds"] if round_["overlaps"])
    if compared < len(result["rounds"]) / 2:
        problems.append(f"only {compared} of {len(result['rounds'])} rounds found previews at one step")
    problems += [f"{name}: {figures['error']}" for name, figures in result["faults"].items() if "error" in figures]
    restart = result["faults"].get("broker_restart", {})
    if restart.get("leader_after") not in (None, restart.get("leader_before")):
        problems.append(f"the broker's restart moved the lead: {restart['leader_before']} -> {restart['leader_after']}")
    killed = result["faults"].get("leader_killed", {})
    takeover = killed.get("takeover_s") or killed.get("takeover_in_status_s", 0)
    if takeover > TAKEOVER_LIMIT_S:
        problems.append(f"takeover took {takeover} s")
    if killed.get("catch_up_s", 0) > CATCH_UP_LIMIT_S:
        problems.append(f"catch-up took {killed['catch_up_s']} s")
    if killed.get("leaders_after", 1) != 1:
        problems.append(f"{killed['leaders_after']} leaders after the old one came back")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=6.0)
    parser.add_argument("--every", type=float, default=10.0, help="seconds between two comparisons")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "soak_cluster.json")
    args = parser.parse_args()
    # a SIGTERM (make interrupted, a CI timeout) unwinds like Ctrl+C: members and broker are stopped
    signal.signal(signal.SIGTERM, lambda _signal, _frame: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="myco-soak-cluster-") as folder:
        broker = plain_broker(Path(folder) / "broker")
        broker.start()
        try:
            result = soak(broker, Path(folder), args.minutes, args.every)
        finally:
            broker.stop()
    result["problems"] = verdict(result)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}: {len(result['rounds'])} rounds, faults {json.dumps(result['faults'])}, "
          f"{len(result['problems'])} problems", file=sys.stderr)
    for problem in result["problems"]:
        print(f"  {problem}", file=sys.stderr)
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
