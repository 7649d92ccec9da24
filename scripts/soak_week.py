"""Soak: a week of opening hours in minutes, and a real-time run of the whole headless app.

Usage: python scripts/soak_week.py [--days 7] [--step-s 60] [--draw-every 8] [--start 2026-10-19]
                                   [--out benchmarks/soak_week.json]
       python scripts/soak_week.py --real-minutes 10      (``myco run --headless`` as a process)

**The accelerated week** runs the real runtime headless (:func:`installation.app.compose.build_runtime`
with a venue holding a week of opening hours, the status server on, no sound) as fast as the
engine steps: the opening hours read a simulated clock that advances ``--step-s`` seconds of
venue time per engine step, so a week passes in ~10 000 steps (the venue's fades of 1 s take 60
steps: an hour of venue time). The offscreen renderer draws every ``--draw-every``-th step, the
status server's /status is fetched now and then. The week
(Europe/Berlin, from Monday 19 October 2026) holds every kind of transition: ordinary days, a
closed Monday, an exception day, an opening past midnight, and one across the night the clocks
go back (25 October). Every transition must be seen exactly once, at its scheduled instant, and
the picture and the sound must have finished fading before the next one.

At every opening, once its fade-in has ended, the output's picture is read back and measured
with :mod:`installation.core.hyphal_measures` (coverage, fine energy, box-counting dimension,
with the act then playing), so the week also says whether the hyphae still fill the canvas on
the last day as on the first (``hyphae``: each opening's figures, and the last and weakest
against the first).

Resources are sampled every ``--sample-every`` steps: RSS (/proc/self/statm), Python threads and
kernel tasks, file descriptors and how many are sockets, the GL objects of vispy's GLIR parser
(textures, programs, buffers, framebuffers), the log file's size (a rotating handler in the
run's temporary ``MYCO_HOME``) and the log handlers. The show's timeline runs ``show_speed``
times faster (``show.time_scale``, at most 8: the default show's five acts of 90 s loop every
~3400 steps), so the week passes every act, look and morph of the show three times. After a
warm-up (the first loop of the show: every look drawn once, its textures and programs made),
the median of the last samples is compared with the median of the first:
RSS may grow by less than :data:`MAX_RSS_GROWTH` (or :data:`RSS_SLACK_MIB`, whichever is larger),
and no count may grow at all (GL objects: by :data:`GL_SLACK`, the textures the looks make and
free). Exits 1 otherwise.

**The real-time run** (``--real-minutes N``) starts ``myco run --headless --venue <the same
week> --no-audio`` as a child process and reads its /status and its /proc every ``--every``
seconds (real clock: the venue is open or closed as the hours say now); same figures, the
warm-up being the show's first loop in real time (8 minutes), so give it 15 minutes or more.

``make soak-week`` runs the accelerated week; ``benchmarks/bench_soak_week.py`` runs it for
``benchmarks/run.py`` (the ``soak_week`` area of ``benchmarks/results.json``); the suite runs two
accelerated days (tests/test_soak_short.py).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MAX_RSS_GROWTH = 0.05  # of the warmed-up RSS
# The allocator keeps freed arenas and numpy's and Mesa's caches settle in steps of a few MiB:
# on a ~300 MiB process 5 % is 15 MiB anyway; the slack only matters for a smaller one.
RSS_SLACK_MIB = 4.0
START = datetime(2026, 10, 19, 0, 0)  # a Monday, local time in ZONE; the clocks go back on Sunday 25
ZONE = "Europe/Berlin"
# Live GL textures come and go by one or two as the show's looks change (measured over three
# accelerated weeks: 18, 19, 20, back to 18, 19, with no trend): a bounded wander, not a leak.
GL_SLACK = 2
COUNTS = ("threads", "tasks", "fds", "sockets", "gl_objects", "log_handlers")

# A week with every kind of day: closed Monday, ordinary days, an exception (Thursday 22: a
# short afternoon instead of the late evening), two spans on Friday, the last past midnight,
# and Saturday's night opening running into the repeated hour of 25 October.
WEEK_VENUE = f"""\
[venue]
title = "Soak: a week of every kind of opening"

[[output]]
name = "wall"
screen = 0

[schedule]
timezone = "{ZONE}"
monday = []
tuesday = [["10:00", "18:00"]]
wednesday = [["10:00", "18:00"]]
thursday = [["10:00", "21:00"]]
friday = [["10:00", "18:00"], ["20:00", "25:30"]]
saturday = [["11:00", "19:00"], ["22:00", "27:00"]]
sunday = [["11:00", "17:00"]]
closing = {{ fade = 1.0, night = "live" }}
opening = {{ fade = 1.0, start = "continue" }}

[[schedule.exception]]
date = "2026-10-22"
hours = [["13:00", "15:00"]]
note = "a private view in the evening: the room is open two hours"
"""


# -- what a process holds -------------------------------------------------------------------

def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def fds_and_sockets(pid: int | str = "self") -> tuple[int, int]:
    folder = f"/proc/{pid}/fd"
    fds = sockets = 0
    for name in os.listdir(folder):
        try:
            target = os.readlink(f"{folder}/{name}")
        except OSError:  # the listing's own descriptor, closed once listed
            continue
        fds += 1
        sockets += target.startswith("socket:")
    return fds, sockets


def gl_objects() -> dict[str, int]:
    """The live objects of every vispy GL context's GLIR parser, by kind (Texture2D, Program, ...)."""
    context = sys.modules.get("vispy.gloo.context")
    kinds: dict[str, int] = {}
    if context is None:
        return kinds
    parsers = {}
    for ref in context.canvasses:  # type: ignore[attr-defined]
        canvas = ref()
        if canvas is not None and not canvas._closed:
            parser = canvas.context.shared.parser
            parsers[id(parser)] = parser
    for parser in parsers.values():
        for value in getattr(parser, "_objects", {}).values():
            if isinstance(value, int):  # JUST_DELETED: gone at the next parse
                continue
            kind = type(value).__name__.removeprefix("Glir")
            kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def log_handlers() -> int:
    return len(logging.getLogger().handlers) + len(logging.getLogger("installation").handlers)


def sample_self(log_file: Path | None) -> dict[str, Any]:
    fds, sockets = fds_and_sockets()
    gl = gl_objects()
    return {"rss_mib": round(rss_mib(), 2), "threads": threading.active_count(),
            "tasks": len(os.listdir("/proc/self/task")), "fds": fds, "sockets": sockets,
            "gl_objects": sum(gl.values()), "gl_kinds": gl, "log_handlers": log_handlers(),
            "log_bytes": log_size(log_file)}


def log_size(log_file: Path | None) -> int:
    """The log folder's bytes: the file and its rotated copies (bounded by the rotation)."""
    if log_file is None:
        return 0
    return sum(path.stat().st_size for path in log_file.parent.glob(log_file.name + "*"))


# -- judging the samples ----------------------------------------------------------------------

def growth(samples: list[dict[str, Any]], warmup: int, window: int = 5) -> dict[str, Any]:
    """How much each figure grew: the median of the last ``window`` samples against the median
    of the first ``window`` after the warm-up (a median: one sample during a collection or a
    burst of log lines is no trend)."""
    kept = samples[min(warmup, max(0, len(samples) - 2)):]  # too few samples: judge what there is
    window = max(1, min(window, len(kept) // 2))
    first, last = kept[:window], kept[-window:]

    def median(rows: list[dict[str, Any]], key: str) -> float:
        return float(statistics.median(row[key] for row in rows))

    rss_before, rss_after = median(first, "rss_mib"), median(last, "rss_mib")
    grown = {key: median(last, key) - median(first, key) for key in COUNTS}
    return {"rss_mib_after_warmup": round(rss_before, 1), "rss_mib_end": round(rss_after, 1),
            "rss_growth_pct": round(100 * (rss_after - rss_before) / rss_before, 2),
            "rss_growth_mib": round(rss_after - rss_before, 2),
            "grown": {key: round(value, 1) for key, value in grown.items()},
            "max": {key: max(row[key] for row in samples) for key in (*COUNTS, "log_bytes")}}


def problems(result: dict[str, Any]) -> list[str]:
    """Why a soak result fails (empty: it passed)."""
    found = []
    figures = result["growth"]
    allowed = max(MAX_RSS_GROWTH * figures["rss_mib_after_warmup"], RSS_SLACK_MIB)
    if figures["rss_growth_mib"] > allowed:
        found.append(f"RSS grew {figures['rss_growth_mib']} MiB after warm-up (allowed {allowed:.1f})")
    found += [f"{key} grew by {value}" for key, value in figures["grown"].items()
              if value > (GL_SLACK if key == "gl_objects" else 0)]
    transitions = result.get("transitions")
    if transitions is not None:
        if transitions["missed"] or transitions["extra"]:
            found.append(f"transitions missed {transitions['missed']}, extra {transitions['extra']}")
        if transitions["late_steps_max"] > 0:
            found.append(f"a transition was seen {transitions['late_steps_max']} steps late")
        if transitions["unfinished_fades"]:
            found.append(f"fades not finished before the next transition: {transitions['unfinished_fades']}")
    return found


# -- the accelerated week ---------------------------------------------------------------------

@dataclass
class SimulatedClock:
    """Venue time that advances ``step_s`` seconds each engine step (aware, UTC)."""

    now: datetime
    step_s: float

    def __call__(self) -> datetime:
        return self.now

    def tick(self) -> None:
        self.now += timedelta(seconds=self.step_s)


@dataclass
class Seen:
    """The transitions the engine carried out: (open, at), each with the step it happened on."""

    at: list[tuple[bool, datetime, datetime]] = field(default_factory=list)  # (open, due at, the clock then)
    before_next: list[tuple[float, float]] = field(default_factory=list)  # (blackout, open_level) just before each


def expected_transitions(venue: Any, start: datetime, end: datetime) -> list[tuple[bool, datetime]]:
    from installation.core.schedule import openings

    schedule = venue.schedule
    days = openings(schedule, (start - timedelta(days=2)).date(), (end + timedelta(days=2)).date())
    found = [(True, opens) for opens, _ in days] + [(False, closes) for _, closes in days]
    return sorted((item for item in found if start < item[1] <= end), key=lambda item: item[1])


@contextlib.contextmanager
def soak_home(log: bool = True) -> Iterator[tuple[Path, Path]]:
    """A temporary ``MYCO_HOME`` with the week's venue in it, and (``log``) this process logging
    to a rotating file there, as ``myco run`` does."""
    from installation.core.logs import configured_logging
    from installation.core.paths import UserDirs

    with tempfile.TemporaryDirectory(prefix="myco-soak-") as folder:
        home = Path(folder)
        previous = os.environ.get("MYCO_HOME")
        os.environ["MYCO_HOME"] = str(home)
        venue = home / "soak-week.toml"
        venue.write_text(WEEK_VENUE)
        try:
            before = list(logging.getLogger().handlers)
            with configured_logging(user=UserDirs.default()) if log else contextlib.nullcontext() as handler:
                for each in logging.getLogger().handlers:
                    if each not in before and not isinstance(each, logging.FileHandler):
                        each.setLevel(logging.WARNING)  # the console stays readable; the file has it all
                log_file = Path(handler.baseFilename) if isinstance(handler, logging.FileHandler) \
                    else home / "logs" / "myco.log"
                yield venue, log_file
        finally:
            if previous is None:
                os.environ.pop("MYCO_HOME", None)
            else:
                os.environ["MYCO_HOME"] = previous


def accelerated(days: float = 7.0, step_s: float = 60.0, draw_every: int = 8, sample_every: int = 500,
                warmup: int = 4, status_every: int = 200, start: datetime = START, show_speed: float = 8.0,
                progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run ``days`` of the week's opening hours through the real headless runtime; the figures."""
    from installation.app.compose import build_runtime
    from installation.app.headless import HeadlessOutput
    from installation.app.options import RunOptions
    from installation.core.schedule import resolve_local
    from tests.services import free_port

    with soak_home() as (venue_file, log_file):
        port = free_port()
        options = RunOptions(headless=True, audio=False, status=f"127.0.0.1:{port}", venue=str(venue_file),
                             thumbnails=False, headless_size=(320, 180), quality="low")
        runtime = build_runtime(options)
        from zoneinfo import ZoneInfo

        begin = resolve_local(start, ZoneInfo(ZONE))
        clock = SimulatedClock(begin, step_s)
        runtime.engine.hours.clock = clock
        runtime.projector_clock = clock
        engine = runtime.engine
        engine.bank.set("show.time_scale", show_speed, "soak", immediate=True)
        show_s = sum(act.duration_s for act in engine.player.show.acts)
        loop_steps = round(show_s / (show_speed * engine.dt))
        steps = round(days * 86400 / step_s)
        expected = expected_transitions(runtime.venue, begin, begin + timedelta(seconds=steps * step_s))
        seen = Seen()
        samples: list[dict[str, Any]] = []
        status_reads = status_failures = draws = 0
        draw_now = time.monotonic()
        runtime.start()
        output = HeadlessOutput(runtime)
        bank = runtime.engine.bank
        was_open = runtime.engine.hours.open
        initial: bool | None = None
        hyphae: list[dict[str, Any]] = []
        measure_due = False  # an opening whose picture is still to be measured, once lit
        started = time.perf_counter()
        try:
            pending = []
            for index in range(steps):
                clock.tick()
                blackout, level = bank.number("render.blackout"), bank.number("synth.open_level")
                # the runtime's monotonic time, exactly when its next fixed step is due: one step per tick
                frames = runtime.tick(now=runtime._next_step)
                hours = runtime.engine.hours
                if hours.open != was_open:
                    was_open = hours.open
                    if hours.since is None or hours.since > begin:  # not the state at start, applied at once
                        seen.at.append((hours.open, hours.since or clock.now, clock.now))
                        seen.before_next.append((blackout, level))
                        measure_due = hours.open
                if index == 0:
                    initial = hours.open
                pending.extend(frames)
                if index % draw_every == 0:
                    # a draw period (and a bit) later on the output's own clock: it draws what is pending,
                    # and sends a preview to the status server every second of that clock
                    draw_now += 0.04
                    drew = output.show(pending, draw_now)
                    draws += drew
                    pending = []
                    if measure_due and drew and blackout < 0.001:  # the fade-in is over: what visitors see
                        measure_due = False
                        hyphae.append({"venue_time": clock.now.isoformat(timespec="minutes"), "step": index,
                                       "act": engine.player.act_index + 1, **opening_hyphae(output)})
                if index % status_every == 0:
                    status_reads += 1
                    status_failures += fetch_status(port) is None
                if index % sample_every == 0:
                    settle(output)
                    samples.append({"step": index, "venue_time": clock.now.isoformat(timespec="minutes"),
                                    **sample_self(log_file)})
                    if progress is not None:
                        progress(f"step {index}/{steps} {clock.now:%a %d %H:%M} UTC open={hours.open} "
                                 f"rss={samples[-1]['rss_mib']} MiB fds={samples[-1]['fds']} "
                                 f"gl={samples[-1]['gl_objects']}")
            wall = time.perf_counter() - started
            settle(output)
            samples.append({"step": steps, "venue_time": clock.now.isoformat(timespec="minutes"),
                            **sample_self(log_file)})
        finally:
            output.close()
            runtime.stop()
        transitions = judge_transitions(expected, seen, step_s)
        warmup = max(warmup, sum(1 for row in samples if row["step"] < loop_steps))
        result = {
            "venue_days": days, "venue_s_per_step": step_s, "steps": steps, "draws": draws,
            "wall_s": round(wall, 1), "steps_per_s": round(steps / wall, 1),
            "venue_speedup": round(steps * step_s / wall), "status_reads": status_reads,
            "status_failures": status_failures, "engine_errors": len(runtime.engine.errors),
            "start": begin.isoformat(), "initial_state": "open" if initial else "closed",
            "transitions": transitions, "show_speed": show_speed, "show_loops": round(steps / loop_steps, 1),
            "samples": len(samples), "warmup_samples": warmup,
            "growth": growth(samples, warmup), "hyphae": hyphae_summary(hyphae), "readings": samples,
        }
        result["problems"] = problems(result)
        return result


def opening_hyphae(output: Any) -> dict[str, float]:
    """The hyphal measures of the output's picture now."""
    from installation.core.hyphal_measures import measure

    return measure(output.offscreen.snapshot()).as_dict()


def hyphae_summary(openings: list[dict[str, Any]]) -> dict[str, Any]:
    """Each opening's measures, and the last and the weakest opening's against the first's."""
    keys = ("coverage", "fine_energy", "dimension")
    if not openings:
        return {"openings": []}
    first = openings[0]
    return {"openings": openings,
            "last_over_first": {key: round(openings[-1][key] / first[key], 3) if first[key] else 0.0 for key in keys},
            "min_over_first": {key: round(min(row[key] for row in openings) / first[key], 3) if first[key] else 0.0
                               for key in keys}}


def settle(output: Any) -> None:
    """Collect garbage and carry out the GL deletions it queued (vispy deletes a replaced texture
    when its Python object goes, at the next flush of the context), so a count is what is alive."""
    gc.collect()
    output.offscreen.make_current()
    context = output.offscreen.context.canvas.context
    context.flush_commands()
    context.shared.parser.parse([])  # forgets the objects just deleted


def judge_transitions(expected: list[tuple[bool, datetime]], seen: Seen, step_s: float) -> dict[str, Any]:
    wanted = [(opened, at) for opened, at in expected]
    got = [(opened, at) for opened, at, _ in seen.at]
    missed = [f"{'open' if o else 'close'} {a.isoformat()}" for o, a in wanted if (o, a) not in got]
    extra = [f"{'open' if o else 'close'} {a.isoformat()}" for o, a in got if (o, a) not in wanted]
    # seen at the first step whose venue time reached it: 0 steps late
    late = [int((clock_at - at).total_seconds() // step_s) for _, at, clock_at in seen.at]
    unfinished = []
    for (opened, at, _), (blackout, level) in zip(seen.at[1:], seen.before_next[1:], strict=True):
        # just before an opening, the closing's fade has ended: black and silent; before a closing, lit and loud
        done = (blackout > 0.999 and level < 0.001) if opened else (blackout < 0.001 and level > 0.999)
        if not done:
            unfinished.append(f"{'open' if opened else 'close'} {at.isoformat()}: blackout {blackout:.3f}, "
                              f"level {level:.3f}")
    return {"expected": len(wanted), "seen": len(got),
            "opens": sum(1 for o, _ in got if o), "closes": sum(1 for o, _ in got if not o),
            "missed": missed, "extra": extra, "late_steps_max": max(late, default=0),
            "unfinished_fades": unfinished}


def fetch_status(port: int) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=5) as reply:
            return json.loads(reply.read())  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return None


# -- the real-time run ------------------------------------------------------------------------

def sample_process(pid: int) -> dict[str, Any]:
    with open(f"/proc/{pid}/statm") as statm:
        rss = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    fds, sockets = fds_and_sockets(pid)
    return {"rss_mib": round(rss, 2), "tasks": len(os.listdir(f"/proc/{pid}/task")), "fds": fds, "sockets": sockets}


def real_time(minutes: float, every: float = 10.0, warmup_s: float = 480.0,
              progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """``myco run --headless`` for ``minutes`` of real time: /status and /proc every ``every`` seconds."""
    from tests.services import free_port

    with soak_home(log=False) as (venue_file, log_file):  # the child logs there, as myco run does
        port = free_port()
        command = [sys.executable, "-m", "installation", "run", "--headless", "--no-audio", "--venue", str(venue_file),
                   "--status", f"127.0.0.1:{port}"]
        samples: list[dict[str, Any]] = []
        unanswered = 0
        with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as process:
            try:
                started = time.monotonic()
                while time.monotonic() - started < minutes * 60 and process.poll() is None:
                    time.sleep(every)
                    status = fetch_status(port)
                    if status is None:
                        unanswered += 1
                        continue
                    row = {"minute": round((time.monotonic() - started) / 60, 2), **sample_process(process.pid),
                           "threads": 0, "gl_objects": 0,  # not seen from outside: its tasks are
                           "log_handlers": 0, "log_bytes": log_size(log_file),
                           "world_frames": status["world_frames"], "fps": status["fps"],
                           "open": status["schedule"]["open"], "late_steps": status["late_steps"],
                           "errors_total": status["errors_total"]}
                    samples.append(row)
                    if progress is not None:
                        progress(json.dumps(row))
            finally:
                process.terminate()
                try:
                    exit_code = process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    exit_code = process.wait()
    # the warm-up: the show's first loop (five acts of 90 s: every look drawn once)
    warmup = sum(1 for row in samples if row["minute"] * 60 < warmup_s)
    if len(samples) < warmup + 2:
        return {"minutes": minutes, "samples": len(samples), "unanswered": unanswered, "exit_code": exit_code,
                "problems": [f"only {len(samples)} readings of /status"]}
    result = {"minutes": minutes, "every_s": every, "warmup_s": warmup_s, "samples": len(samples),
              "unanswered": unanswered,
              "exit_code": exit_code, "fps_median": statistics.median(row["fps"] for row in samples),
              "late_steps_end": samples[-1]["late_steps"], "growth": growth(samples, warmup, window=3),
              "readings": samples}
    result["problems"] = problems(result) + ([f"exit code {exit_code}"] if exit_code not in (0, -15) else [])
    return result


def headline(week: dict[str, Any], real: dict[str, Any] | None = None) -> dict[str, Any]:
    """The figures the README shows."""
    growth_figures = week["growth"]
    line: dict[str, Any] = {
        "venue_days": week["venue_days"], "wall_s": week["wall_s"], "venue_speedup": week["venue_speedup"],
        "transitions_seen_expected": f"{week['transitions']['seen']}/{week['transitions']['expected']}",
        "rss_mib_after_warmup": growth_figures["rss_mib_after_warmup"],
        "rss_growth_pct": growth_figures["rss_growth_pct"],
        "grown_counts": ", ".join(f"{key} {value:g}" for key, value in growth_figures["grown"].items()),
        "max_counts": ", ".join(f"{key} {value}" for key, value in growth_figures["max"].items()),
        "problems": len(week["problems"]),
    }
    if week["hyphae"]["openings"]:
        line["hyphae_openings"] = len(week["hyphae"]["openings"])
        line["hyphae_last_over_first"] = week["hyphae"]["last_over_first"]
        line["hyphae_min_over_first"] = week["hyphae"]["min_over_first"]
    if real is not None and "growth" in real:
        line["real_minutes"] = real["minutes"]
        line["real_rss_growth_pct"] = real["growth"]["rss_growth_pct"]
        line["real_problems"] = len(real["problems"])
    return line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=7.0, help="venue days to run (accelerated)")
    parser.add_argument("--step-s", type=float, default=60.0, help="venue seconds per engine step")
    parser.add_argument("--start", type=datetime.fromisoformat, default=START,
                        help=f"the first venue day, local time in {ZONE} (default {START:%Y-%m-%d}, a Monday)")
    parser.add_argument("--draw-every", type=int, default=8, help="draw offscreen every N-th step")
    parser.add_argument("--sample-every", type=int, default=250, help="steps between two resource samples")
    parser.add_argument("--real-minutes", type=float, default=0.0,  # 15 or more: the warm-up is 8
                        help="also (or, with --days 0, only) run myco run --headless this many real minutes")
    parser.add_argument("--every", type=float, default=10.0, help="seconds between two readings of the real run")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "soak_week.json")
    args = parser.parse_args()
    report: dict[str, Any] = {}
    if args.days > 0:
        report["week"] = accelerated(args.days, args.step_s, args.draw_every, args.sample_every, start=args.start,
                                     progress=lambda line: print(line, flush=True))
    if args.real_minutes > 0:
        report["real_time"] = real_time(args.real_minutes, args.every, progress=lambda line: print(line, flush=True))
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    failed = [f"{part}: {problem}" for part, result in report.items() for problem in result["problems"]]
    for part, result in report.items():
        summary = {key: value for key, value in result.items() if key != "readings"}
        print(part, json.dumps(summary, indent=2))
    print("\n".join(failed) if failed else "no problems", f"(written to {args.out})")
    return 1 if failed or not report else 0


if __name__ == "__main__":
    sys.exit(main())
