"""Scales, roots and note quantisation."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

SCALE_STEPS: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "harmonic_minor": (0, 2, 3, 5, 7, 8, 11),
    "pentatonic_major": (0, 2, 4, 7, 9),
    "pentatonic_minor": (0, 3, 5, 7, 10),
    "whole_tone": (0, 2, 4, 6, 8, 10),
    "chromatic": tuple(range(12)),
}
SCALES = tuple(SCALE_STEPS)


def midi_to_hz(midi: float | NDArray[np.float64]) -> float | NDArray[np.float64]:
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=np.float64) - 69.0) / 12.0)  # type: ignore[no-any-return]


class Scale:
    """A scale on a root: maps scale degrees (any integer, negative too) to MIDI notes."""

    def __init__(self, name: str, root: str, octave: int) -> None:
        self.name = name
        self.steps = SCALE_STEPS[name]
        self.root_midi = 12 * (octave + 1) + NOTE_NAMES.index(root)

    @property
    def size(self) -> int:
        return len(self.steps)

    def degree_to_midi(self, degree: int) -> int:
        octave, index = divmod(degree, len(self.steps))
        return self.root_midi + 12 * octave + self.steps[index]

    def chord_degree(self, degree: int) -> int:
        """The nearest chord tone (root, third, fifth: every other degree) at or below ``degree``."""
        if self.size < 6:  # pentatonic and the like: root, third-ish and fifth-ish steps
            tones = (0, 2, 3) if self.size == 5 else (0, 2, 4)
        else:
            tones = (0, 2, 4)
        octave, index = divmod(degree, self.size)
        best = max(t for t in tones if t <= index) if index >= tones[0] else tones[0]
        return octave * self.size + best

    def pitch_classes(self) -> set[int]:
        return {(self.root_midi + s) % 12 for s in self.steps}
