"""Turn raw node values (from OSC, MQTT or a recording) into a NodeReading, or a counted reason.

A reading must name a valid node id and carry at least one measured value. Values that a
node does not measure (a bare electrode has no toxin sensor) are NaN in the reading and the
mux keeps the simulated twin's value for them. Everything else that is wrong is rejected:
unknown fields, wrong types, NaN or infinity, values out of range, too many fields.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from installation.core.frames import NODE_ID_PATTERN, POTENTIAL_LIMIT_MV, NodeReading

MEASURED = ("potential_mv", "toxin", "waste", "moisture")
RANGES: dict[str, tuple[float, float]] = {
    "potential_mv": (-POTENTIAL_LIMIT_MV, POTENTIAL_LIMIT_MV),
    "toxin": (0.0, 1.0),
    "waste": (0.0, 1.0),
    "moisture": (0.0, 1.0),
    "x": (0.0, 1.0),
    "y": (0.0, 1.0),
}
ALIASES = {"potential": "potential_mv", "mv": "potential_mv"}
MAX_FIELDS = 8


@dataclass(frozen=True)
class Rejection:
    """Why an input was dropped: ``reason`` is one of ``counters.REASONS``; ``detail`` is for logs."""

    reason: str
    detail: str = ""


def valid_id(node_id: object) -> bool:
    return isinstance(node_id, str) and NODE_ID_PATTERN.match(node_id) is not None


def validate(node_id: object, values: Mapping[Any, object], *, t: float, source: str) -> NodeReading | Rejection:
    if not valid_id(node_id):
        return Rejection("bad_id", f"node id {str(node_id)[:40]!r} is not [a-z0-9_-]{{1,32}}")
    if len(values) > MAX_FIELDS:
        return Rejection("oversize", f"{len(values)} fields (at most {MAX_FIELDS})")
    clean: dict[str, float] = {}
    for raw_key, value in values.items():
        key = ALIASES.get(raw_key, raw_key) if isinstance(raw_key, str) else raw_key
        if key not in RANGES:
            return Rejection("unknown_field", f"unknown field {str(raw_key)[:40]!r}")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return Rejection("wrong_type", f"{key} must be a number, got {type(value).__name__}")
        number = float(value)
        if not math.isfinite(number):
            return Rejection("not_finite", f"{key} is {number}")
        low, high = RANGES[str(key)]
        if not low <= number <= high:
            return Rejection("out_of_range", f"{key}={number:g} outside {low:g}..{high:g}")
        clean[str(key)] = number
    if not any(name in clean for name in MEASURED):
        return Rejection("missing_field", "no measured value (potential_mv, toxin, waste or moisture)")
    if ("x" in clean) != ("y" in clean):
        return Rejection("missing_field", "a position needs both x and y")
    assert isinstance(node_id, str)
    return NodeReading(node=node_id, t=t, potential_mv=clean.get("potential_mv", math.nan),
                       toxin=clean.get("toxin", math.nan), waste=clean.get("waste", math.nan),
                       moisture=clean.get("moisture", math.nan), x=clean.get("x"), y=clean.get("y"), source=source)
