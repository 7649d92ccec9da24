"""Run every benchmark and write benchmarks/results.json; refresh the README's performance section.

Each ``benchmarks/bench_<area>.py`` defines ``run(quick: bool) -> dict``. Figures that are
ratios are measured side by side inside one benchmark, in the same run, on the same machine.
Usage: python benchmarks/run.py [--quick] [--only AREA ...]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
README = ROOT / "README.md"
BEGIN, END = "<!-- performance:begin -->", "<!-- performance:end -->"
MAX_ROWS = 14


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gl = ""
    try:
        gl = subprocess.run(["glxinfo", "-B"], capture_output=True, text=True, timeout=20).stdout
        gl = next((line.split(":", 1)[1].strip() for line in gl.splitlines() if "OpenGL renderer" in line), "")
    except (OSError, subprocess.TimeoutExpired):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "system": f"{platform.system()} {platform.release()}", "gl_renderer": gl or "unknown (no display)"}


def load(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def render_markdown(results: dict[str, Any]) -> str:
    """A short table per area: its ``headline`` figures if it names them, else its top-level ones."""
    lines = [f"Last run {results['date']} on {results['machine']['cpu']} ({results['machine']['cores']} cores), "
             f"GL: {results['machine']['gl_renderer']}; each area says which run measured it. Every figure: "
             "`benchmarks/results.json`.", ""]
    for area, figures in results["benchmarks"].items():
        chosen = figures.get("headline") or figures
        rows = [(key, value) for key, value in _flatten(chosen) if key.count(".") <= 1][:MAX_ROWS]
        stamp = f" (measured {figures['measured']})" if "measured" in figures else " (measured in an earlier run)"
        lines += [f"**{area}**{stamp}", "", "| figure | value |", "|---|---|"]
        lines += [f"| `{key}` | {value} |" for key, value in rows]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _flatten(figures: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(figures, dict):
        out: list[tuple[str, Any]] = []
        for key, value in figures.items():
            out.extend(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(figures, float):
        return [(prefix, round(figures, 3))]
    if isinstance(figures, list):
        return [(prefix, ", ".join(str(round(v, 3) if isinstance(v, float) else v) for v in figures))]
    return [(prefix, figures)]


def update_readme(markdown: str) -> None:
    text = README.read_text()
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        README.write_text(f"{head}{BEGIN}\n{markdown}{END}{tail}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter runs, for a smoke test")
    parser.add_argument("--only", nargs="*", default=None, help="areas to run (e.g. sim render)")
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    with contextlib.ExitStack() as services_running:
        start_services(services_running)
        return run_all(args)


def start_services(stack: contextlib.ExitStack) -> None:
    """The same real services as the tests: an X server with Mesa GL, and a JACK server."""
    from tests import services

    if not os.environ.get("DISPLAY"):
        os.environ["DISPLAY"] = stack.enter_context(services.xvfb()).display
    if not os.environ.get("JACK_DEFAULT_SERVER"):
        os.environ.update(stack.enter_context(services.jackd()).env())


def run_all(args: argparse.Namespace) -> int:
    results: dict[str, Any] = {"date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
                               "machine": machine(), "quick": args.quick, "benchmarks": {}}
    failed = False
    for path in sorted(HERE.glob("bench_*.py")):
        area = path.stem.removeprefix("bench_")
        if args.only and area not in args.only:
            continue
        print(f"benchmark {area} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            figures = load(path).run(quick=args.quick)
        except Exception:  # a broken benchmark is reported, the others still run
            traceback.print_exc()
            figures = {"error": traceback.format_exc(limit=3).strip().splitlines()[-1]}
            failed = True
        figures["wall_s"] = round(time.perf_counter() - started, 1)
        # areas kept from an earlier run (--only) keep the stamp of the run that measured them
        figures["measured"] = f"{results['date']}, {results['machine']['cpu']}"
        results["benchmarks"][area] = figures
    if args.only and args.out.exists():
        # read the file only now: another run may have written its areas while this one ran
        kept = json.loads(args.out.read_text()).get("benchmarks", {})
        results["benchmarks"] = {**kept, **results["benchmarks"]}
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    if args.out.resolve() == (HERE / "results.json").resolve():
        update_readme(render_markdown(results))
    print(f"wrote {args.out}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
