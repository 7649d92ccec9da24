"""Soak: do the hyphae hold? A show played for an hour, its picture measured every minute.

Usage: python scripts/soak_art.py [--show kai-festival] [--minutes 60] [--size 480x270]
                                  [--draw-hz 30] [--quality medium] [--stills DIR]
                                  [--out benchmarks/soak_art.json]

The show plays from its start as the headless app plays it (``myco run --headless``): the engine
at its fixed 60 Hz step, the real renderer at ``--quality`` stepped ``--draw-hz`` times a show
second (the app draws at up to 30; a machine that draws slower steps the hyphae by longer
``dt``, up to the renderer's 0.1 s), the show looping. At the end of every show minute the
picture is read back and measured with :mod:`installation.core.hyphal_measures` (coverage, fine
energy, box-counting dimension), and so is the still ``myco render --start`` gives of the same
show position (a fresh organism: the engine alone to 4 s before, then the hyphae woven for 4 s)
at minute 1 and every ``--fresh-every``-th minute.
The ratio played / fresh is what the issue is about: a still rendered with ``--start`` looked
richer than the same moment reached by playing. The JSON is rewritten after every minute, so
an interrupted run keeps what it measured.

The sim's textures are sized by the quality, not the canvas: a smaller ``--size`` measures the
same organism for less read-back and composition.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

STEP_HZ = 60.0  # the engine's fixed step, as in myco run


def driver_for(show: str, size: tuple[int, int], quality: str, draw_hz: float) -> Any:
    from installation.app.compose import build_engine
    from installation.app.options import RunOptions
    from installation.render.headless import ShowDriver
    from installation.render.offscreen import Offscreen

    engine = build_engine(RunOptions(show=show, step_hz=STEP_HZ, audio=False, status=None))
    return ShowDriver(engine, Offscreen(size, quality, seed=engine.seed.rng_seed), draw_hz)


def fresh_still(show: str, position: float, size: tuple[int, int], quality: str, draw_hz: float) -> Any:
    """The still ``myco render --start position`` gives (its first frame), from a world of its own
    beside the played one."""
    from installation.app.clips import start_at

    driver = driver_for(show, size, quality, draw_hz)
    try:
        start_at(driver, position)
        return driver.frame()
    finally:
        driver.offscreen.close()


def summary(minutes: list[dict[str, Any]]) -> dict[str, Any]:
    """First and last minute, the weakest played minute, and played / fresh ratios (over the
    minutes that have a fresh still)."""
    def ratio(row: dict[str, Any], key: str) -> float:
        fresh = row["fresh"][key]
        return round(row["played"][key] / fresh, 3) if fresh else 0.0

    compared = [row for row in minutes if "fresh" in row]
    ratios = {key: [ratio(row, key) for row in compared] for key in ("coverage", "fine_energy")}
    played = {key: [row["played"][key] for row in minutes] for key in ("coverage", "fine_energy", "dimension")}
    return {
        "minutes_measured": len(minutes),
        "played_first": minutes[0]["played"], "played_last": minutes[-1]["played"],
        "played_min": {key: min(values) for key, values in played.items()},
        "played_median": {key: round(statistics.median(values), 4) for key, values in played.items()},
        # the last played minute against the first: does the texture thin as the show plays on?
        "last_over_first": {key: round(values[-1] / values[0], 3) if values[0] else 0.0
                            for key, values in played.items()},
        "minutes_with_fresh_still": len(compared),
        "played_over_fresh_median": {key: round(statistics.median(values), 3) if values else None
                                     for key, values in ratios.items()},
        "played_over_fresh_min": {key: min(values, default=None) for key, values in ratios.items()},
    }


def soak(show: str, minutes: float, size: tuple[int, int], quality: str, draw_hz: float, out: Path,
         stills: Path | None = None, fresh_every: int = 1) -> dict[str, Any]:
    from PIL import Image

    from installation.core.hyphal_measures import measure

    driver = driver_for(show, size, quality, draw_hz)
    player = driver.engine.player
    per_minute = round(60 * draw_hz)
    rows: list[dict[str, Any]] = []
    report: dict[str, Any] = {"show": show, "size": f"{size[0]}x{size[1]}", "quality": quality,
                              "engine_hz": STEP_HZ, "draw_hz": draw_hz, "show_minutes": minutes}
    started = time.perf_counter()
    if stills:
        stills.mkdir(parents=True, exist_ok=True)
    try:
        for minute in range(1, int(minutes) + 1):
            for _ in range(per_minute - 1):
                driver.frame(draw=False)
            played = driver.frame()
            position, act = player.show_t, player.act_index
            row: dict[str, Any] = {"minute": minute, "show_t": round(position, 2), "act": act + 1,
                                   "played": measure(played).as_dict()}
            if stills:
                Image.fromarray(played).save(stills / f"minute{minute:03d}-played.png")
            if minute == 1 or minute % fresh_every == 0:
                fresh = fresh_still(show, position, size, quality, draw_hz)
                row["fresh"] = measure(fresh).as_dict()
                if stills:
                    Image.fromarray(fresh).save(stills / f"minute{minute:03d}-fresh.png")
            row["wall_s"] = round(time.perf_counter() - started, 1)
            rows.append(row)
            print(json.dumps(rows[-1]), flush=True)
            report.update(summary=summary(rows), minutes=rows, errors=[str(e) for e in driver.offscreen.world.errors])
            out.write_text(json.dumps(report, indent=2) + "\n")
    finally:
        driver.offscreen.close()
    return report


def main() -> int:
    from installation.commands.render import frame_size

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", default="kai-festival")
    parser.add_argument("--minutes", type=float, default=60.0, help="show minutes to play (default 60)")
    parser.add_argument("--size", type=frame_size, default=(480, 270), help="canvas (default 480x270)")
    parser.add_argument("--quality", choices=("low", "medium", "high", "ultra"), default="medium")
    parser.add_argument("--draw-hz", type=float, default=30.0,
                        help="renderer steps per show second (default 30, the headless app's; 60 must be a multiple)")
    parser.add_argument("--fresh-every", type=int, default=1, metavar="N",
                        help="the fresh still only at minute 1 and every N-th minute (its engine plays from the "
                             "show's start, so late ones cost most of an hour's soak; default 1)")
    parser.add_argument("--stills", type=Path, metavar="DIR", help="also save each minute's stills as PNG")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "soak_art.json")
    args = parser.parse_args()
    if args.minutes < 1 or (STEP_HZ / args.draw_hz) % 1 or args.fresh_every < 1:
        parser.error("--minutes and --fresh-every are at least 1, and --draw-hz divides 60")
    report = soak(args.show, args.minutes, args.size, args.quality, args.draw_hz, args.out, args.stills,
                  args.fresh_every)
    print(json.dumps(report["summary"], indent=2), f"(written to {args.out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
