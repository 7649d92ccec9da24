"""``myco simulate``: run the simulation kernel headless and write readings and events to a file."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from installation.core.errors import LoadError
from installation.core.seeds import Seed

DEFAULT_WORLD = "kai-city"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("simulate", help="run the simulation headless and write a recording (JSON Lines)",
                            description="Run the simulation kernel for a while and write node readings and "
                                        "events in the myco-nodes recording format (see docs/nodes.md).")
    parser.add_argument("--seed", type=int, default=None, help="RNG seed (default: the world's own)")
    parser.add_argument("--seconds", type=float, default=60.0, help="show seconds to simulate (default 60)")
    parser.add_argument("--out", type=Path, required=True, help="file to write (JSON Lines)")
    parser.add_argument("--world", default=DEFAULT_WORLD,
                        help=f"seed name in seeds/ or a seed .toml file (default {DEFAULT_WORLD}; "
                             "the built-in demo world if that is missing)")
    parser.add_argument("--rate", type=float, default=10.0, help="node readings written per second (default 10)")
    parser.add_argument("--step-hz", type=float, default=60.0, help="fixed steps per show second (default 60)")
    parser.add_argument("--grid", default="72x128", help="field grid ROWSxCOLS (default 72x128)")
    parser.set_defaults(func=run)


def load_world(name: str) -> Seed:
    from installation.core.seeds import find_seed, load_seed, seed_path
    from installation.sim.defaults import demo_seed

    if name.endswith(".toml"):
        return load_seed(Path(name))
    if name == DEFAULT_WORLD and not seed_path(name).is_file():
        return demo_seed()
    return find_seed(name)


def progress(done: float, total: float, width: int = 30) -> None:
    fraction = 1.0 if total <= 0 else min(1.0, done / total)
    filled = round(fraction * width)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {fraction:4.0%} {done:.0f}/{total:.0f} s")
    sys.stderr.flush()


def run(args: argparse.Namespace) -> int:
    from installation.nodes.recording import RecordingWriter
    from installation.sim.kernel import Kernel

    try:
        rows, cols = (int(v) for v in args.grid.lower().split("x"))
        if not (8 <= rows <= 2048 and 8 <= cols <= 2048):
            raise ValueError
    except ValueError:
        print(f"myco simulate: --grid must be ROWSxCOLS, 8..2048 each, got {args.grid!r}", file=sys.stderr)
        return 2
    if args.seconds < 0 or args.rate <= 0 or args.step_hz <= 0:
        print("myco simulate: --seconds must be >= 0, --rate and --step-hz > 0", file=sys.stderr)
        return 2
    try:
        seed = load_world(args.world)
    except LoadError as error:
        print(f"myco simulate: {error}", file=sys.stderr)
        return 1
    if args.seed is not None:
        seed = dataclasses.replace(seed, rng_seed=args.seed)
    kernel = Kernel(seed, grid=(rows, cols))
    dt = 1.0 / args.step_hz
    steps = round(args.seconds * args.step_hz)
    every = max(1, round(args.step_hz / args.rate))
    with RecordingWriter(args.out, "simulate", seed=seed.name, rng=seed.rng_seed, step_hz=args.step_hz) as out:
        for index in range(steps):
            frame = kernel.step(dt, (), {})
            out.frame(frame, readings=index % every == 0)
            if index % max(1, steps // 100) == 0:
                progress(frame.t, args.seconds)
    progress(args.seconds, args.seconds)
    sys.stderr.write(f"\nwrote {args.out} ({steps} steps, state {kernel.state_hash()[:16]})\n")
    return 0
