"""How much of a picture is hyphae: measures of a still (an RGB array), pure numpy.

Used by ``benchmarks/bench_art.py`` and the tests, so both judge a still the same way:

- **coverage**: the share of the canvas where the light has fine local contrast (a thread
  brighter than the ground a few pixels around it). Flat fills (a bitmap laid over the picture,
  a blank ground, a soft glow) do not count, however bright.
- **fine energy**: the mean squared luma of the picture's high spatial frequencies (luma minus
  its 5x5 box mean), times 1000: filaments carry it, smooth strokes and gradients do not.
- **dimension**: the box-counting dimension of the hyphal layer (the coverage mask), fitted over
  boxes from 2 pixels to an eighth of the short side. A straight stroke is near 1, a filled area
  near 2; natural mycelium and physarum networks lie roughly between 1.6 and 1.9.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

#: a pixel is hyphal where its luma stands this far above the mean of its neighbourhood (0..1 luma)
CONTRAST = 0.025
NEIGHBOURHOOD = 4  # pixels each side of the local mean for the coverage
FINE = 2  # pixels each side of the box the fine energy is taken against


@dataclass(frozen=True)
class HyphalMeasures:
    coverage: float  # 0..1 of the canvas
    fine_energy: float  # mean squared high-pass luma x 1000
    dimension: float  # box-counting dimension of the hyphal layer (0 when it is empty)

    def as_dict(self) -> dict[str, float]:
        return {"coverage": round(self.coverage, 4), "fine_energy": round(self.fine_energy, 4),
                "dimension": round(self.dimension, 3)}


def luma(image: NDArray[np.generic]) -> NDArray[np.float64]:
    """Rec. 709 luma of an RGB image (uint8 0..255 or float 0..1) as floats 0..1."""
    rgb = np.asarray(image, np.float64)[..., :3]
    if np.asarray(image).dtype == np.uint8:
        rgb = rgb / 255.0
    return rgb @ np.array([0.2126, 0.7152, 0.0722])


def box_mean(values: NDArray[np.float64], radius: int) -> NDArray[np.float64]:
    """The mean over a (2 radius + 1)² box around each pixel, edges repeated (summed-area table)."""
    side = 2 * radius + 1
    padded = np.pad(values, radius, mode="edge")
    table = np.zeros((padded.shape[0] + 1, padded.shape[1] + 1))
    table[1:, 1:] = padded.cumsum(0).cumsum(1)
    rows, cols = values.shape
    total = (table[side:side + rows, side:side + cols] - table[:rows, side:side + cols]
             - table[side:side + rows, :cols] + table[:rows, :cols])
    return total / (side * side)


def hyphal_layer(image: NDArray[np.generic]) -> NDArray[np.bool_]:
    """Where the picture holds threads: luma above its neighbourhood's mean by :data:`CONTRAST`."""
    light = luma(image)
    return (light - box_mean(light, NEIGHBOURHOOD)) > CONTRAST


def fine_energy(image: NDArray[np.generic]) -> float:
    light = luma(image)
    return float(np.mean((light - box_mean(light, FINE)) ** 2) * 1000.0)


def box_dimension(layer: NDArray[np.bool_]) -> float:
    """The slope of log(boxes holding any of ``layer``) against log(1 / box side)."""
    if not layer.any():
        return 0.0
    sides, counts = [], []
    size = 2
    while size <= min(layer.shape) // 8:
        rows, cols = (layer.shape[0] // size) * size, (layer.shape[1] // size) * size
        boxes = layer[:rows, :cols].reshape(rows // size, size, cols // size, size).any(axis=(1, 3))
        sides.append(size)
        counts.append(max(1, int(boxes.sum())))
        size *= 2
    if len(sides) < 2:
        return 0.0
    slope = np.polyfit(np.log(1.0 / np.array(sides)), np.log(np.array(counts, np.float64)), 1)[0]
    return float(slope)


def measure(image: NDArray[np.generic]) -> HyphalMeasures:
    """All three measures of one still."""
    layer = hyphal_layer(image)
    return HyphalMeasures(float(layer.mean()), fine_energy(image), box_dimension(layer))


def floors(measures: dict[str, HyphalMeasures], share: float = 0.7) -> list[str]:
    """The acts whose coverage or fine energy falls under ``share`` of the richest act's, each
    as a line saying by how much (empty when every act holds)."""
    if not measures:
        return []
    failures = []
    for key in ("coverage", "fine_energy"):
        best = max(getattr(m, key) for m in measures.values())
        for name, m in measures.items():
            value = getattr(m, key)
            if value < share * best:
                failures.append(f"{name}: {key} {value:.4f} is under {share:.0%} of the richest act's {best:.4f}")
    return failures
