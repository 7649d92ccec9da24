"""MIDI in the GUI's process or in one of its own: what the MIDI thread costs the process it is in.

Every figure is measured in a worker process of its own (a fresh Python, like the app's), on a
JACK server of this benchmark's own (``jackd -d dummy``, 48 kHz / 256 frames), with a test
controller in another process sending on a virtual JACK port, and set beside its control. The
designs (``DESIGNS``) alternate block by block, so that the machine's own drift falls on all.

- ``thread``: the MIDI thread's CPU share and wakeups per second (its context switches, from
  ``/proc``), with nothing else running in the worker, at idle and under 200 CC/s; and the
  whole worker's (the rtmidi clients' JACK threads wake every period too). Controls: no MIDI
  at all, and a bare Python thread that only wakes every millisecond (``Event.wait(0.001)``,
  as the MIDI thread did, and ``time.sleep(0.001)``), the least a 1 ms poll can cost.
- ``gui``: a stand-in for the GUI thread, a 60 Hz loop doing about 8 ms of pure Python per
  tick: how late each tick starts (p50/p99) and how long its work takes, with no MIDI (the
  control), the bare threads, the MIDI layer as it polled before (``midi_before``) and as it
  polls now (``midi_now``), a 4 ms poll (what an idle back-off would poll at), and rtmidi's
  callback mode (no poll; the callback takes the GIL in JACK's thread), at 0 and 200 CC/s.
  ``xruns``: the JACK server's late cycles meanwhile, counted by a client of our own.
- ``latency``: a CC from the controller's ``send_message`` until its input is in the engine's
  queue, with the main loop idle and busy (then the MIDI thread waits for the GIL), also with
  the GIL's switch interval at 1 ms instead of 5.
- ``pipe``: the cost of the other design, a process of its own: a ``multiprocessing`` pipe
  round trip (spawn, as the audio process) to an echo process, idle and with the echo's
  process running the same busy loop; control: the same round trip between two threads of
  one process through a ``queue.SimpleQueue``.

Usage: python benchmarks/bench_midi_process.py [--quick]; ``run(quick)`` for benchmarks/run.py.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import queue
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TICK_S = 1 / 60
WORK_MS = 8.0
CCS = range(20, 84)  # 64 controls x 128 values: each message of a block is told apart by its bytes
ALL = (("idle", 0.0), ("idle", 200.0), ("busy", 0.0), ("busy", 200.0))  # main thread, CC per second
# The designs a worker runs, and the conditions each is measured in.
DESIGNS: dict[str, dict[str, Any]] = {
    # controls: no MIDI at all; a bare thread that only wakes every 1 ms, two ways
    "off": {"runs": (("idle", 0.0), ("busy", 0.0), ("busy", 200.0))},
    "bare_1ms_event_wait": {"bare": "event", "runs": (("idle", 0.0), ("busy", 0.0))},
    "bare_1ms_sleep": {"bare": "sleep", "runs": (("idle", 0.0), ("busy", 0.0))},
    # the MIDI layer as it polled before (Event.wait(0.001), controller or not), and as it polls now
    "midi_before": {"midi": "before", "runs": ALL},
    "midi_now": {"midi": "now", "runs": ALL},
    "midi_now_no_controller": {"midi": "now", "pattern": "matches-no-port", "runs": (("idle", 0.0),)},
    # the GIL's switch interval at 1 ms instead of 5 (a process-wide setting, the app's to make)
    "midi_now_switch_1ms": {"midi": "now", "switch_s": 0.001, "runs": (("busy", 0.0), ("busy", 200.0))},
    # the cheaper fixes that were not taken: a 4 ms poll (what an idle back-off would poll at),
    # and rtmidi's callback mode (no poll at all: the callback takes the GIL in JACK's thread)
    "midi_poll_4ms": {"midi": "now", "constants": {"POLL_S": 0.004}, "runs": ALL},
    "callback": {"callback": True, "runs": ALL},
}


def _percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"n": 0}
    ordered = sorted(samples)
    return {"p50": round(statistics.median(ordered), 4),
            "p99": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 4),
            "max": round(ordered[-1], 4), "n": len(ordered)}


# -- the worker: one design, one main-thread load, measured from inside -------------------------
def _python_work(iterations: int) -> int:
    total = 0
    for i in range(iterations):
        total += i * i % 7
    return total


def calibrate(ms: float = WORK_MS) -> int:
    """How many iterations of :func:`_python_work` take ``ms`` here, with nothing beside them."""
    iterations = 20000
    best = min(_timed(iterations) for _ in range(5))
    return max(1, round(iterations * ms / 1000 / best))


def _timed(iterations: int) -> float:
    started = time.perf_counter()
    _python_work(iterations)
    return time.perf_counter() - started


def busy_loop(seconds: float, iterations: int) -> dict[str, list[float]]:
    """The GUI stand-in: every 1/60 s, about 8 ms of pure Python; how late each tick started."""
    late, work = [], []
    start = time.perf_counter()
    tick = 1
    while tick * TICK_S < seconds:
        due = start + tick * TICK_S
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        began = time.perf_counter()
        late.append((began - due) * 1000)
        _python_work(iterations)
        work.append((time.perf_counter() - began) * 1000)
        tick = max(tick + 1, int((time.perf_counter() - start) / TICK_S) + 1)  # an overrun skips, as the app does
    return {"late_ms": late, "work_ms": work}


def _task_figures(tid: int) -> tuple[float, int, int]:
    """(CPU seconds, voluntary, involuntary context switches) of one thread of this process."""
    base = Path(f"/proc/self/task/{tid}")
    run_ns = int((base / "schedstat").read_text().split()[0])
    fields = dict(line.split(":", 1) for line in (base / "status").read_text().splitlines() if ":" in line)
    return run_ns / 1e9, int(fields["voluntary_ctxt_switches"]), int(fields["nonvoluntary_ctxt_switches"])


def _process_switches() -> int:
    total = 0
    for task in Path("/proc/self/task").iterdir():
        try:
            _, voluntary, involuntary = _task_figures(int(task.name))
        except (OSError, ValueError):
            continue
        total += voluntary + involuntary
    return total


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one design in this process; ``spec``: design, main ("idle" or "busy"), seconds, iterations, port."""
    from installation.core.events import InputQueue, ParamInput
    from installation.core.params import ParamBank, float_param
    from installation.midi.bindings import Binding, Control, ControlType, Takeover, Target
    from installation.midi.profile import Profile

    design = DESIGNS[spec["design"]]
    if "switch_s" in design:
        sys.setswitchinterval(design["switch_s"])
    arrivals: dict[str, float] = {}

    class TimedQueue(InputQueue):
        def put(self, item: Any) -> bool:
            if isinstance(item, ParamInput) and item.name.startswith("bench.cc"):
                arrivals[f"{item.name[8:]},{round(float(item.value))}"] = time.perf_counter()  # type: ignore[arg-type]
            return super().put(item)

    bank = ParamBank()
    bindings = []
    for cc in CCS:
        bank.register(float_param(f"bench.cc{cc}", 0.5, 0.0, 127.0))
        bindings.append(Binding(Control(ControlType.CC, None, cc), Target.param(f"bench.cc{cc}"),
                                takeover=Takeover.JUMP))
    profile = Profile("bench", spec["port"], tuple(bindings))
    stop = threading.Event()
    watched: threading.Thread | None = None
    finish: Any = None
    if "midi" in design:
        watched, finish = _midi_layer(design, spec, TimedQueue(), bank, profile)
    elif "bare" in design:
        watched = _bare_thread(design["bare"], stop)
    elif design.get("callback"):
        finish = _callback_layer(spec["port"], TimedQueue(), bank, profile)
    time.sleep(1.0)  # settle: the first scan and feedback are not measured
    print("ready", flush=True)
    sys.stdin.readline()  # "go": the controller is sending now (or staying idle)
    before = _task_figures(watched.native_id) if watched is not None and watched.native_id else None
    process_before, switches_before, wall = time.process_time(), _process_switches(), time.perf_counter()
    loop = busy_loop(spec["seconds"], spec["iterations"]) if spec["main"] == "busy" else None
    if loop is None:
        time.sleep(spec["seconds"])
    wall = time.perf_counter() - wall
    result: dict[str, Any] = {
        "process_cpu_pct": 100 * (time.process_time() - process_before) / wall,
        "process_switches_per_s": (_process_switches() - switches_before) / wall,
    }
    if before is not None and watched is not None and watched.native_id:
        after = _task_figures(watched.native_id)
        result.update(thread_cpu_pct=100 * (after[0] - before[0]) / wall,
                      thread_wakeups_per_s=(after[1] - before[1]) / wall,
                      thread_preempted_per_s=(after[2] - before[2]) / wall)
    if loop is not None:
        result.update(loop)
    result["arrivals"] = dict(arrivals)
    stop.set()
    if finish is not None:
        finish()
    return result


def _bare_thread(kind: str, stop: threading.Event) -> threading.Thread:
    """The control: a Python thread that does nothing but wake every millisecond."""
    def wake_by_event() -> None:
        while not stop.wait(0.001):
            pass

    def wake_by_sleep() -> None:
        while not stop.is_set():
            time.sleep(0.001)

    thread = threading.Thread(target=wake_by_event if kind == "event" else wake_by_sleep, name="bare-1ms", daemon=True)
    thread.start()
    return thread


def _midi_layer(design: dict[str, Any], spec: dict[str, Any], timed: Any, bank: Any,
                profile: Any) -> tuple[threading.Thread, Any]:
    """MidiInputs on the controller's port: as shipped, or with the loop it had before."""
    from installation.inputs import midi as midi_module

    for key, value in design.get("constants", {}).items():
        setattr(midi_module, key, value)
    midi = midi_module.MidiInputs(timed, bank, [profile], pattern=design.get("pattern", spec["port"]), api="jack")
    if design["midi"] == "before":  # until this benchmark: Event.wait(0.001) before every turn, always
        def pause_before() -> None:
            midi._stop.wait(0.001)

        midi._pause = pause_before  # type: ignore[method-assign]
    midi.start()
    if "pattern" not in design:
        deadline = time.monotonic() + 10
        while not midi.open_ports() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not midi.open_ports():
            raise RuntimeError("the controller's port did not open")
    return next(t for t in threading.enumerate() if t.name == "myco-midi"), midi.stop


def _callback_layer(port: str, timed: Any, bank: Any, profile: Any) -> Any:
    """rtmidi's callback mode: the router runs in JACK's process thread of our client, under the GIL."""
    import rtmidi

    from installation.midi.router import Router

    router = Router([profile], [], lambda n: bank.spec(n) if n in bank else None, lambda n: bank.snapshot().get(n))
    midi_in = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name="bench-callback")
    name = f"{port}:out"
    midi_in.open_port(midi_in.get_ports().index(name), "in")
    router.open_port(name)

    def received(item: Any, _: Any) -> None:
        for put in router.handle(name, item[0], time.monotonic()):
            timed.put(put)

    midi_in.set_callback(received)

    def finish() -> None:
        midi_in.cancel_callback()
        midi_in.close_port()
        midi_in.delete()

    return finish


# -- the controller: a process that sends CCs on a virtual JACK port ----------------------------
def sender(name: str) -> None:
    """Open ``name``:out, say "ready", then for each "RATE SECONDS" line send that, and print when each went."""
    import rtmidi

    out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=name)
    out.open_virtual_port("out")
    print("ready", flush=True)
    for line in sys.stdin:
        rate, seconds = (float(x) for x in line.split())
        sent: dict[str, float] = {}
        start = time.perf_counter()
        count = int(rate * seconds)
        for index in range(count):
            due = start + index / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            cc, value = CCS[(index // 128) % len(CCS)], index % 128
            sent[f"{cc},{value}"] = time.perf_counter()
            out.send_message([0xB0, cc, value])
        print(json.dumps(sent), flush=True)
    out.close_port()
    out.delete()


class Child:
    """A Python child of this benchmark (``__file__`` with ``arguments``), talked to line by line;
    every wait for a line has a time limit, so a hung child fails the run instead of hanging it."""

    def __init__(self, arguments: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen([sys.executable, __file__, *arguments], env=env, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self._lines: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def say(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def hear(self, timeout: float, what: str) -> str:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise RuntimeError(f"timed out after {timeout:g} s waiting for {what}") from None
        if line is None:
            raise RuntimeError(f"{what}: the child exited with {self.process.wait()}")
        return line

    def end(self, timeout: float) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Controller(Child):
    """The test controller's process (:func:`sender`)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.name = f"benchctl{uuid.uuid4().hex[:6]}"
        super().__init__(["--sender", self.name], env)
        self.hear(30, "the test controller to start")

    def send(self, rate: float, seconds: float) -> None:
        self.say(f"{rate} {seconds}")

    def sent(self, timeout: float) -> dict[str, float]:
        return dict(json.loads(self.hear(timeout, "the controller's send times")))


def measure(design: str, main: str, rate: float, seconds: float, iterations: int, controller: Controller,
            env: dict[str, str], xruns: XrunCounter) -> dict[str, Any]:
    """One block: a worker running ``design`` with its main thread ``main``, the controller at ``rate``."""
    spec = {"design": design, "main": main, "seconds": seconds, "iterations": iterations, "port": controller.name}
    print(f"  {design} main {main}, {rate:g} CC/s", file=sys.stderr, flush=True)
    worker_process = Child(["--worker", json.dumps(spec)], env)
    try:
        worker_process.hear(60, f"worker {design} to start")
        if rate:
            controller.send(rate, seconds)
        counted = xruns.count
        worker_process.say("go")
        result = dict(json.loads(worker_process.hear(seconds + 60, f"worker {design}'s figures")))
        result["xruns"] = xruns.count - counted
        sent = controller.sent(30) if rate else {}
    finally:
        worker_process.end(30)
    arrivals = result.pop("arrivals")
    result["latency_ms"] = [(arrivals[key] - at) * 1000 for key, at in sent.items() if key in arrivals]
    result["lost"] = len(sent) - len(result["latency_ms"])
    return result


# -- the other design's cost: a pipe hop to another process -------------------------------------
def _echo(connection: Any, busy: bool, iterations: int) -> None:
    def answer() -> None:
        while True:
            message = connection.recv()
            if message is None:
                return
            connection.send(message)

    if not busy:
        answer()
        return
    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    while thread.is_alive():
        busy_loop(1.0, iterations)


def pipe_round_trip(count: int, busy: bool, iterations: int) -> dict[str, float]:
    context = multiprocessing.get_context("spawn")
    here, there = context.Pipe()
    echo = context.Process(target=_echo, args=(there, busy, iterations), daemon=True)
    echo.start()
    try:
        here.send(("cc", 0, 7, 0.0))
        here.recv()  # started
        times = _round_trips(count, here.send, here.recv)
        here.send(None)
    finally:
        echo.join(10)
        if echo.is_alive():
            echo.kill()
    return times


def thread_round_trip(count: int) -> dict[str, float]:
    """The control: the same round trip between two threads of this process."""
    there: queue.SimpleQueue[Any] = queue.SimpleQueue()
    back: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def answer() -> None:
        while (message := there.get()) is not None:
            back.put(message)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    times = _round_trips(count, there.put, back.get)
    there.put(None)
    thread.join()
    return times


def _round_trips(count: int, send: Callable[[Any], object], receive: Callable[[], object]) -> dict[str, float]:
    """``count`` small messages there and back, one every 2 ms: the round trips in ms."""
    times = []
    for index in range(count):
        started = time.perf_counter()
        send(("cc", 0, index % 128, started))
        receive()
        times.append((time.perf_counter() - started) * 1000)
        time.sleep(0.002)
    return _percentiles(times)


class XrunCounter:
    """A JACK client of the benchmark's own that counts the server's xruns (late cycles)."""

    def __init__(self) -> None:
        import jack

        self.count = 0
        self.client = jack.Client(f"benchxruns{uuid.uuid4().hex[:6]}", no_start_server=True)
        self.client.set_xrun_callback(self._xrun)
        self.client.activate()

    def _xrun(self, _delay: float) -> None:
        self.count += 1

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()


# -- putting it together ------------------------------------------------------------------------
def _merge(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("process_cpu_pct", "process_switches_per_s", "thread_cpu_pct", "thread_wakeups_per_s",
                "thread_preempted_per_s"):
        values = [block[key] for block in blocks if key in block]
        if values:
            out[key] = round(statistics.median(values), 2)
    for key in ("late_ms", "work_ms", "latency_ms"):
        samples = [value for block in blocks for value in block.get(key, [])]
        if samples:
            out[key] = _percentiles(samples)
    out["xruns"] = sum(block["xruns"] for block in blocks)
    out["xruns_per_block"] = [block["xruns"] for block in blocks]
    if any(block.get("lost") for block in blocks):
        out["lost"] = sum(block["lost"] for block in blocks)
    return out


def run(quick: bool = False) -> dict[str, Any]:
    from tests import services

    seconds, repeats = (4.0, 1) if quick else (8.0, 3)
    jack = services.start_jack(f"myco-bench-midiproc-{uuid.uuid4().hex[:6]}")
    home = tempfile.TemporaryDirectory()
    env = dict(os.environ, **jack.env(), MYCO_HOME=home.name, PYTHONPATH=str(ROOT))
    saved = {key: os.environ.get(key) for key in jack.env()}
    os.environ.update(jack.env())
    results: dict[str, Any] = {"jack": "dummy driver, 48000 Hz, 256 frames (5.33 ms period)",
                               "block_s": seconds, "blocks_each": repeats}
    try:
        iterations = calibrate()
        results["work_iterations_for_8ms"] = iterations
        controller, xruns = Controller(env), XrunCounter()
        try:
            blocks: dict[str, list[dict[str, Any]]] = {}
            for _ in range(repeats):  # the designs alternate: the machine's drift falls on all alike
                for design, plan in DESIGNS.items():
                    for main, rate in plan["runs"]:
                        blocks.setdefault(f"{design}/{main}/{int(rate)}cc_per_s", []).append(
                            measure(design, main, rate, seconds, iterations, controller, env, xruns))
        finally:
            xruns.close()
            controller.end(10)
        merged = {key: _merge(value) for key, value in blocks.items()}
    finally:
        services.stop(jack.process)
        home.cleanup()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    results["thread"] = {key: {k: v for k, v in figures.items() if k != "latency_ms"}
                         for key, figures in merged.items() if "/idle/" in key}
    results["gui"] = {key: {k: v for k, v in figures.items() if k != "latency_ms"}
                      for key, figures in merged.items() if "/busy/" in key}
    results["latency"] = {key: figures["latency_ms"] for key, figures in merged.items() if "latency_ms" in figures}
    count = 500 if quick else 2000
    results["pipe"] = {"thread_round_trip_ms": thread_round_trip(count),
                       "pipe_round_trip_ms": pipe_round_trip(count, busy=False, iterations=iterations),
                       "pipe_round_trip_busy_echo_ms": pipe_round_trip(count, busy=True, iterations=iterations)}
    results["headline"] = headline(results)
    return results


def _pair(figures: dict[str, Any]) -> str:
    return f"{figures.get('p50')} / {figures.get('p99')}"


def headline(results: dict[str, Any]) -> dict[str, Any]:
    """Idle cost of the MIDI thread, the GUI stand-in's tick lateness, CC latency, xruns, the pipe hop."""
    gui, thread, latency, pipe = results["gui"], results["thread"], results["latency"], results["pipe"]
    rows: dict[str, Any] = {}
    for design in ("bare_1ms_sleep", "midi_before", "midi_now", "midi_now_no_controller"):
        idle = thread.get(f"{design}/idle/0cc_per_s", {})
        rows[f"idle_thread_cpu_pct.{design}"] = f"{idle.get('thread_cpu_pct')} ({idle.get('thread_wakeups_per_s')}/s)"
    for design, rate in (("off", 200), ("midi_before", 200), ("midi_now", 0), ("midi_now", 200)):
        rows[f"tick_late_ms_p50_p99.{design}_{rate}cc"] = _pair(gui.get(f"{design}/busy/{rate}cc_per_s",
                                                                         {}).get("late_ms", {}))
    for design, main in (("midi_now", "idle"), ("midi_now", "busy"), ("midi_now_switch_1ms", "busy")):
        rows[f"cc_to_queue_ms_p50_p99.{design}_main_{main}"] = _pair(latency.get(f"{design}/{main}/200cc_per_s", {}))
    rows["xruns_busy_200cc.callback_vs_midi_now"] = (f"{gui.get('callback/busy/200cc_per_s', {}).get('xruns')} vs "
                                                     f"{gui.get('midi_now/busy/200cc_per_s', {}).get('xruns')}")
    rows["pipe_round_trip_ms_p50_p99.idle"] = _pair(pipe["pipe_round_trip_ms"])
    rows["pipe_round_trip_ms_p50_p99.busy_echo"] = _pair(pipe["pipe_round_trip_busy_echo_ms"])
    return rows


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopped: still stop jackd (finally), never kill it
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        print(json.dumps(worker(json.loads(sys.argv[2]))), flush=True)
    elif len(sys.argv) == 3 and sys.argv[1] == "--sender":
        sender(sys.argv[2])
    else:
        print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
