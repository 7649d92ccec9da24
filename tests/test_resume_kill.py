"""The organism survives ``kill -9``: ``myco run --headless --resume`` is back in the same act, at
the position it had, with the same organism on screen (its picture's network, the cords and filaments between the
single pixel's flicker and the glow, correlates with the one before the kill far more than a
fresh run's does)."""

from __future__ import annotations

import io
import json
import os
import signal
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
from PIL import Image

from tests.services import free_port, myco_status
from tests.test_app_headless import fetch, myco_run
from tests.waiting import wait_for

ARGS = ("--headless", "--no-audio", "--size", "320x180")


def post_command(port: int, command: str) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/control", json.dumps({"command": command}).encode(),
                                     {"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=5) as reply:
        assert reply.status == 202


def luma(png: bytes) -> np.ndarray:
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), np.float64)
    return rgb @ np.array([0.2126, 0.7152, 0.0722])


def box_blur(image: np.ndarray, size: int) -> np.ndarray:
    padded = np.pad(image, size // 2, mode="edge")
    rows = sum(padded[i:i + image.shape[0]] for i in range(size))
    return sum(rows[:, i:i + image.shape[1]] for i in range(size)) / size ** 2


def network(png: bytes) -> np.ndarray:
    """The picture's network: luma band-passed between a 3x3 and a 15x15 box blur. The finest
    scale is left out: the festival lights the filaments' crests, which move at every step of
    the hyphae, and /preview.png is redrawn once a second, so the picture before the kill can be
    a second away from the snapshot (the luma less its 9x9 blur correlated 0.35-0.95 resumed,
    0.01-0.03 fresh; this band 0.86-0.88 resumed, 0.14-0.17 fresh, on the same pictures too)."""
    image = luma(png)
    return box_blur(image, 3) - box_blur(image, 15)


def correlation(a: bytes, b: bytes) -> float:
    return float(np.corrcoef(network(a).ravel(), network(b).ravel())[0, 1])


def first_preview(port: int, process: object, timeout: float) -> bytes:
    return wait_for(lambda: fetch(port, "/preview.png"), timeout, "a first preview", process=process,  # type: ignore[arg-type]
                    every=0.05)


def snapshots(home: Path) -> list[Path]:
    return sorted(home.rglob("snapshots/*.npz"))


def test_after_kill_9_the_same_act_position_and_organism_come_back(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "MYCO_HOME": str(home), "MYCO_SNAPSHOT_EVERY_S": "3"}
    port = free_port()
    status = ("--status", f"127.0.0.1:{port}")
    with myco_run(*ARGS, *status, env=env) as first:
        wait_for(lambda: myco_status(port), 30, "the first run's /status", process=first, every=0.2)
        post_command(port, "next_act")
        wait_for(lambda: (myco_status(port) or {}).get("act_index") == 1, 10, "act 2", process=first, every=0.2)
        time.sleep(15.0)  # into the act: an organism grown for a while, not a young one
        seen = {p.name for p in snapshots(home)}
        # kill right after a periodic snapshot is written, with the picture of that moment
        newest = wait_for(lambda: next((p for p in snapshots(home) if p.name not in seen), None), 15,
                          "a periodic snapshot in act 2", process=first, every=0.05)
        before_png = fetch(port, "/preview.png")
        before = myco_status(port)
        assert before_png is not None and before is not None
        os.kill(first.pid, signal.SIGKILL)
        killed = time.monotonic()
        first.wait(10)
    assert before["act_index"] == 1

    with myco_run(*ARGS, *status, "--resume", env=env) as second:
        back = wait_for(lambda: myco_status(port), 10, "the resumed run's /status", process=second, every=0.05)
        resumed_png = first_preview(port, second, 10)
        after_kill = time.monotonic() - killed
        second.send_signal(signal.SIGTERM)
        output, _ = second.communicate(timeout=30)
    assert f"from snapshot {newest.name}" in output, output[-3000:]
    assert "the picture is back" in output, output[-3000:]

    fresh_home = tmp_path / "fresh"
    with myco_run(*ARGS, *status, env={**env, "MYCO_HOME": str(fresh_home)}) as fresh:
        wait_for(lambda: myco_status(port), 30, "the fresh run's /status", process=fresh, every=0.05)
        fresh_png = first_preview(port, fresh, 10)
        fresh.send_signal(signal.SIGTERM)
        fresh.communicate(timeout=30)

    resumed, regrown = correlation(before_png, resumed_png), correlation(before_png, fresh_png)
    figures = (f"back {after_kill:.1f} s after the kill in act {back['act_index'] + 1} at {back['position_s']:.1f} s "
               f"(killed in act {before['act_index'] + 1} at {before['position_s']:.1f} s); the network's "
               f"correlation with the picture before the kill: resumed {resumed:.3f}, fresh run {regrown:.3f}")
    print(figures, file=sys.stderr)
    assert after_kill <= 10.0, figures
    assert back["act_index"] == before["act_index"] == 1, figures
    assert abs(back["position_s"] - before["position_s"]) < 5.0, figures
    # the same organism: far closer to the picture before than a fresh one (see network())
    assert resumed > 0.6 and resumed > regrown + 0.4, figures
