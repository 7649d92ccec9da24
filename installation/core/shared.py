"""Parameter snapshots shared with another process, without locks and without tearing.

The audio engine runs in its own process (the GIL would otherwise make it drop out when
the UI is busy). The engine publishes every parameter's current value into shared memory
as floats; the other side reads them with a sequence lock over two buffers: the writer
fills the buffer the reader is not using, then bumps the sequence; a reader that sees the
sequence change while it copied simply copies again. Neither side ever waits on the other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from multiprocessing import shared_memory

import numpy as np

from installation.core.params import ParamSpec, Value

HEADER = 1  # one int64 slot for the sequence number


class ParamLayout:
    """Where each parameter's floats sit in the shared buffer."""

    def __init__(self, specs: Sequence[ParamSpec]) -> None:
        self.specs = sorted(specs, key=lambda spec: spec.name)
        self.offsets: dict[str, int] = {}
        offset = 0
        for spec in self.specs:
            self.offsets[spec.name] = offset
            offset += spec.width
        self.width = offset

    def pack(self, values: Mapping[str, Value], out: np.ndarray) -> None:
        for spec in self.specs:
            value = values.get(spec.name, spec.default)
            start = self.offsets[spec.name]
            out[start : start + spec.width] = spec.as_floats(value)

    def unpack(self, floats: np.ndarray) -> dict[str, Value]:
        return {spec.name: spec.from_floats(floats[self.offsets[spec.name] : self.offsets[spec.name] + spec.width])
                for spec in self.specs}


class SharedParams:
    """A seqlock-protected pair of float64 buffers in shared memory."""

    def __init__(self, layout: ParamLayout, name: str | None = None, create: bool = True) -> None:
        self.layout = layout
        size = 8 * (HEADER + 2 * max(1, layout.width))
        self.memory = shared_memory.SharedMemory(name=name, create=create, size=size if create else 0)
        self._owner = create
        self._seq = np.ndarray((HEADER,), dtype=np.int64, buffer=self.memory.buf, offset=0)
        self._buffers = np.ndarray((2, max(1, layout.width)), dtype=np.float64, buffer=self.memory.buf, offset=8)
        if create:
            self._seq[0] = 0
            self._buffers[:] = 0.0

    @property
    def name(self) -> str:
        return self.memory.name

    def publish(self, values: Mapping[str, Value]) -> None:
        """Writer side (one thread only): fill the idle buffer, then make it current."""
        sequence = int(self._seq[0])
        self.layout.pack(values, self._buffers[(sequence + 1) % 2])
        self._seq[0] = sequence + 1

    def read_floats(self, out: np.ndarray, attempts: int = 64) -> bool:
        """Reader side: copy the current buffer into ``out``; False if the writer kept racing."""
        for _ in range(attempts):
            before = int(self._seq[0])
            np.copyto(out, self._buffers[before % 2])
            if int(self._seq[0]) == before:
                return True
        return False

    def read(self) -> dict[str, Value]:
        floats = np.empty(max(1, self.layout.width), np.float64)
        self.read_floats(floats)
        return self.layout.unpack(floats)

    def close(self) -> None:
        # Drop the views before closing, or the memory cannot be released.
        del self._seq, self._buffers
        self.memory.close()
        if self._owner:
            self.memory.unlink()
