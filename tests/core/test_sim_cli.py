"""``myco simulate``: a deterministic recording with a progress bar, and clear errors for bad options."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from installation.commands import simulate


def simulate_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    simulate.register(parser.add_subparsers())
    args = parser.parse_args(["simulate", *argv])
    return int(args.func(args))


def test_simulate_writes_a_deterministic_recording(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = []
    for name, seed in (("a", "5"), ("b", "5"), ("c", "6")):
        out = tmp_path / f"{name}.jsonl"
        assert simulate_cli("--seed", seed, "--seconds", "3", "--out", str(out), "--grid", "18x32", "--rate", "5") == 0
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] and outputs[0] != outputs[2]
    records = [json.loads(line) for line in outputs[0].splitlines()]
    assert records[0]["type"] == "header" and records[0]["rng"] == 5
    readings = [r for r in records if r["type"] == "reading"]
    times = sorted({r["t"] for r in readings})
    assert len(times) == 15 and times[-1] <= 3.0
    assert any(r["type"] == "event" and r["kind"] == "spike" for r in records)
    err = capsys.readouterr().err
    assert "100%" in err and "wrote" in err


def test_simulate_rejects_bad_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert simulate_cli("--out", str(tmp_path / "x.jsonl"), "--grid", "big") == 2
    assert simulate_cli("--out", str(tmp_path / "x.jsonl"), "--world", "no-such-world") == 1
    assert "no-such-world" in capsys.readouterr().err
    assert not (tmp_path / "x.jsonl").exists()
