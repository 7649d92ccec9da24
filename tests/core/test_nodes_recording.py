"""Recordings: written line by line, read back with bad lines reported, replayed on their times."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from installation.core.errors import LoadError
from installation.core.events import Event, EventKind
from installation.core.frames import NODE_ID_PATTERN, NodeReading
from installation.nodes.mux import NodeMux
from installation.nodes.recording import RecordingWriter, open_replay, read_recording
from installation.sim.defaults import demo_seed
from installation.sim.kernel import Kernel
from tests.fuzzing import fuzz


def test_write_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "rec" / "a.jsonl"
    with RecordingWriter(path, "test", seed="demo") as out:
        out.reading(NodeReading("n1", 0.0, 0.5, math.nan, 0.2, 0.3, 0.1, 0.9, "osc"), 0.25)
        out.event(Event(EventKind.SURGE, t=0.5, strength=2, x=0.5, y=0.5, source="osc"))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["format"] == "myco-nodes" and lines[0]["seed"] == "demo"
    assert lines[1]["toxin"] is None and lines[1]["t"] == 0.25
    recording = read_recording(path)
    assert not recording.problems
    (t, reading), = recording.readings
    assert t == 0.25 and reading.potential_mv == 0.5 and math.isnan(reading.toxin) and reading.source == "replay"
    assert recording.events[0]["kind"] == "surge"


def test_bad_lines_are_reported_with_their_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"type":"header","format":"myco-nodes","version":1}\n'
                    '{"type":"reading","t":1,"node":"n1","potential_mv":0.1}\n'
                    'garbage\n'
                    '{"type":"reading","t":2,"node":"n1","potential_mv":500}\n'
                    '{"type":"reading","t":-1,"node":"n1","potential_mv":0.1}\n')
    recording = read_recording(path)
    assert len(recording.readings) == 1
    assert [p.line for p in recording.problems] == [3, 4, 5]
    assert "out_of_range" in recording.problems[1].reason
    not_a_recording = tmp_path / "x.jsonl"
    not_a_recording.write_text("hello\n")
    with pytest.raises(LoadError):
        open_replay(not_a_recording)


def test_simulated_run_replays_into_the_mux_on_time(tmp_path: Path) -> None:
    path = tmp_path / "sim.jsonl"
    kernel = Kernel(demo_seed(41, 6), grid=(18, 32))
    with RecordingWriter(path, "simulate") as out:
        for step in range(120):
            out.frame(kernel.step(1 / 60, (), {}), readings=step % 6 == 0)
    replay = open_replay(path)
    assert len(replay.recording.readings) == 6 * 20
    mux = NodeMux(Kernel(demo_seed(41, 6), grid=(18, 32)), replay=replay)
    seen = []
    for _ in range(150):
        frame = mux.step(1 / 60, (), {})
        seen.append(int(frame.live.sum()))
    assert seen[-1] == 6 and replay.finished
    assert mux.counters.snapshot()["replay"]["accepted"] == 120
    # Readings come due on their recorded times, and a looping replay starts again.
    again = open_replay(path, loop=True)
    first = list(again.due(1.0))
    assert len(first) == 6 * 10 and max(r.t for r in first) <= 1.0
    assert len(list(again.due(2.0))) == 6 * 11  # the rest, and the loop's first set at 1.93 s
    assert len(list(again.due(2.5))) > 0 and not again.finished


line_values = st.one_of(st.none(), st.booleans(), st.floats(), st.integers(), st.text(max_size=8))
records = st.fixed_dictionaries({"type": st.sampled_from(["reading", "event", "header", "other"]),
                                 "t": line_values, "node": st.one_of(st.just("n1"), line_values)},
                                optional={name: line_values for name in ("potential_mv", "toxin", "x", "y", "junk")})


@fuzz(500)
@given(st.lists(st.one_of(records.map(json.dumps), st.text(max_size=60)), max_size=6))
def test_fuzz_recording_lines_never_raise(tmp_path_factory: pytest.TempPathFactory, lines: list[str]) -> None:
    path = tmp_path_factory.getbasetemp() / "fuzz.jsonl"
    path.write_text('{"type":"header","format":"myco-nodes","version":1}\n' + "\n".join(lines) + "\n",
                    encoding="utf-8", errors="surrogatepass")
    recording = read_recording(path)
    for t, reading in recording.readings:
        assert t >= 0 and math.isfinite(t) and NODE_ID_PATTERN.match(reading.node)  # "n1", or text like "0"
        assert math.isnan(reading.potential_mv) or -100 <= reading.potential_mv <= 100
    assert all(problem.line >= 2 for problem in recording.problems)
