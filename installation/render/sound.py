"""The sound the ISF effects hear: Myco's own, as a waveform and a spectrum (no GL here).

In the app it is the running audio engine's scope (``AudioEngine.scope()``, in step with what
is heard); in a headless render (``myco render``), :class:`OfflineSound` plays the same
frames through the offline synth and takes the scope of the samples up to the picture's time
(:func:`installation.synth.analysis.scope_of`). Read only when an effect of the chain has an
``audio`` or ``audioFFT`` input.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from installation.core.effects import Slot
from installation.core.frames import WorldFrame
from installation.core.params import Value
from installation.synth.analysis import FFT_SIZE, Scope, scope_of
from installation.synth.summary import summarise
from installation.synth.synth import Synth

log = logging.getLogger(__name__)

Audio = Mapping[str, NDArray[np.float32]]  # "waveform" (channels, n) in -1..1, "spectrum" (channels, m) in 0..1


def hears(slots: Iterable[Slot]) -> bool:
    """Whether any effect of the chain has an audio or audioFFT input."""
    return any(item.type in ("audio", "audioFFT") for slot in slots for item in slot.shader.inputs)


def sound_of(scope: Scope) -> Audio:
    """A scope of the sound as the effects take it."""
    return {"waveform": scope.wave, "spectrum": scope.spectrum}


def live_sound(slots: tuple[Slot, ...], audio: Any) -> Audio | None:
    """Myco's own sound as heard now, from the running audio engine (``Runtime.audio``; None
    without sound), when an effect of ``slots`` listens; None otherwise."""
    if audio is None or not hears(slots):
        return None
    try:
        return sound_of(audio.scope())
    except (OSError, EOFError, ValueError) as error:  # a lost sound process: the effects hear silence
        log.warning("no scope of the sound for the effects: %s", error)
        return None


class OfflineSound:
    """The offline synth fed with the engine's frames as they are stepped; :meth:`scope` is the
    sound up to the latest frame (the sound a ``myco render`` of the same show would have)."""

    def __init__(self, step_s: float, sample_rate: int = 48000, channels: int = 2, block: int = 256,
                 seed: int = 0) -> None:
        self.synth = Synth(sample_rate, channels, block, seed)
        self.step_s = step_s
        self.sample_rate = sample_rate
        self.block = block
        self._pushed = 0
        self._made = 0
        self._tail = np.zeros((FFT_SIZE, channels), np.float32)

    def push(self, frame: WorldFrame, params: Mapping[str, Value]) -> None:
        """One engine step's frame, with the parameters after it."""
        start = round(self._pushed * self.step_s * self.sample_rate)
        self.synth.push_summary(summarise(frame), params, start_sample=start, step_s=self.step_s)
        self._pushed += 1
        until = round(self._pushed * self.step_s * self.sample_rate)
        while self._made + self.block <= until:
            block = np.zeros((self.block, self._tail.shape[1]), np.float32)
            self.synth.process(block)
            self._tail = np.concatenate([self._tail, block])[-FFT_SIZE:]
            self._made += self.block

    def scope(self) -> Audio:
        return sound_of(scope_of(self._tail, self.sample_rate))
