"""Morphing between two sets of parameter values (a preset crossfade, an act transition).

Numbers glide linearly (integers rounded), colors travel through OKLab so that a fade
from teal to amber does not pass through grey mud, and enums and switches change at the
midpoint, where the picture is most mixed and a jump is least visible.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from installation.core.params import Color, Kind, ParamSpec, Value

# Björn Ottosson's OKLab matrices (2020), linear sRGB -> LMS -> OKLab and back.
_M1 = np.array([[0.4122214708, 0.5363325363, 0.0514459929],
                [0.2119034982, 0.6806995451, 0.1073969566],
                [0.0883024619, 0.2817188376, 0.6299787005]])
_M2 = np.array([[0.2104542553, 0.7936177850, -0.0040720468],
                [1.9779984951, -2.4285922050, 0.4505937099],
                [0.0259040371, 0.7827717662, -0.8086757660]])
_M1_INV = np.linalg.inv(_M1)
_M2_INV = np.linalg.inv(_M2)


def _to_linear(channel: np.ndarray) -> np.ndarray:
    return np.where(channel <= 0.04045, channel / 12.92, ((channel + 0.055) / 1.055) ** 2.4)


def _to_srgb(channel: np.ndarray) -> np.ndarray:
    channel = np.clip(channel, 0.0, 1.0)
    return np.where(channel <= 0.0031308, channel * 12.92, 1.055 * channel ** (1 / 2.4) - 0.055)


def srgb_to_oklab(color: Color) -> np.ndarray:
    lms = _M1 @ _to_linear(np.asarray(color, dtype=float))
    return _M2 @ np.cbrt(lms)


def oklab_to_srgb(lab: np.ndarray) -> Color:
    lms = (_M2_INV @ lab) ** 3
    rgb = _to_srgb(_M1_INV @ lms)
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]))


def mix_colors(a: Color, b: Color, factor: float) -> Color:
    lab = srgb_to_oklab(a) * (1 - factor) + srgb_to_oklab(b) * factor
    return oklab_to_srgb(lab)


def mix_value(spec: ParamSpec, a: Value, b: Value, factor: float) -> Value:
    """The value ``factor`` of the way from ``a`` to ``b`` (0 gives a, 1 gives b)."""
    factor = min(1.0, max(0.0, factor))
    if spec.kind is Kind.FLOAT:
        return float(a) + (float(b) - float(a)) * factor  # type: ignore[arg-type]
    if spec.kind is Kind.INT:
        return round(float(a) + (float(b) - float(a)) * factor)  # type: ignore[arg-type]
    if spec.kind is Kind.COLOR:
        return mix_colors(a, b, factor)  # type: ignore[arg-type]
    return a if factor < 0.5 else b


def morph(specs: Mapping[str, ParamSpec], a: Mapping[str, Value], b: Mapping[str, Value],
          factor: float) -> dict[str, Value]:
    """Interpolate every parameter present in either set; a missing side uses the default."""
    result: dict[str, Value] = {}
    for name in a.keys() | b.keys():
        spec = specs.get(name)
        if spec is None:
            continue
        result[name] = mix_value(spec, a.get(name, spec.default), b.get(name, spec.default), factor)
    return result
