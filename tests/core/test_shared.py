"""Parameter snapshots read by another process: consistent values, never torn."""

from __future__ import annotations

import multiprocessing

import numpy as np

from installation.core.params import ParamBank, color_param, enum_param, float_param
from installation.core.shared import ParamLayout, SharedParams


def _reader(name: str, width: int, count: int, result: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    specs = [float_param(f"test.p{i:02d}", 0.0, 0.0, 1e9) for i in range(width)]
    shared = SharedParams(ParamLayout(specs), name=name, create=False)
    floats = np.empty(width)
    torn = 0
    reads = 0
    while reads < count:
        if shared.read_floats(floats):
            reads += 1
            if not np.all(floats == floats[0]):
                torn += 1
    shared.memory.close()
    result.put(torn)


def test_other_process_reads_whole_snapshots_while_the_writer_races() -> None:
    width = 64
    specs = [float_param(f"test.p{i:02d}", 0.0, 0.0, 1e9) for i in range(width)]
    shared = SharedParams(ParamLayout(specs))
    context = multiprocessing.get_context("spawn")
    result = context.Queue()
    process = context.Process(target=_reader, args=(shared.name, width, 20000, result))
    process.start()
    value = 0.0
    while process.is_alive():
        value += 1.0
        shared.publish({spec.name: value for spec in specs})
    process.join()
    assert result.get(timeout=10) == 0
    assert value > 10
    shared.close()


def test_every_kind_round_trips_through_the_layout() -> None:
    bank = ParamBank()
    bank.register_all([float_param("a.x", 0.25, 0.0, 1.0), enum_param("a.mode", "b", ("a", "b", "c")),
                       color_param("a.tint", "#336699")])
    shared = SharedParams(ParamLayout(bank.specs()))
    shared.publish(bank.snapshot())
    assert shared.read() == dict(bank.snapshot())
    shared.close()
