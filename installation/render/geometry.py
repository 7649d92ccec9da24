"""Vertex data built from a WorldFrame: node points, link quads, field textures. Pure numpy."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from installation.core.frames import FIELD_NAMES, WorldFrame

MAX_NODES = 1024
F32 = NDArray[np.float32]

# Two triangles per link: (along, across) of the six corners.
_CORNERS = np.array([(0, -1), (1, -1), (0, 1), (0, 1), (1, -1), (1, 1)], np.float32)


def fields_texture(frame: WorldFrame) -> F32:
    """The four coarse fields as one RGBA float image (rows = y, like the canvas)."""
    grids = [frame.fields.get(name) for name in FIELD_NAMES]
    shape = next((g.shape for g in grids if g is not None and g.ndim == 2), (1, 1))
    layers = [np.zeros(shape, np.float32) if g is None or g.shape != shape else g for g in grids]
    stacked = np.stack(layers, axis=-1).astype(np.float32)
    return np.ascontiguousarray(np.nan_to_num(np.clip(stacked, 0.0, 1.0)))


def node_points(frame: WorldFrame, since_joined: F32) -> F32:
    """(N, 4): x, y, activity, seconds since joined; at most MAX_NODES."""
    count = min(frame.node_count, MAX_NODES)
    data = np.zeros((max(count, 1), 4), np.float32)
    if count:
        data[:count, :2] = frame.positions[:count]
        data[:count, 2] = np.clip(frame.activity[:count], 0.0, 1.0)
        data[:count, 3] = since_joined[:count]
    else:
        data[0] = (-10.0, -10.0, 0.0, 0.0)  # off-canvas: nothing to draw
    return np.nan_to_num(data)


def node_list(frame: WorldFrame) -> F32:
    """A 1 x MAX_NODES texture: node i at texel i, for agents respawning at nodes."""
    data = np.zeros((1, MAX_NODES, 4), np.float32)
    count = min(frame.node_count, MAX_NODES)
    data[0, :count, :2] = frame.positions[:count]
    data[0, :count, 2] = frame.activity[:count]
    return np.nan_to_num(data)


def link_quads(frame: WorldFrame, since_spike: F32, aspect: float) -> dict[str, F32]:
    """Six vertices per link with ends, (along, across), (length, flow, thickness, activity), spikes."""
    links = frame.links.reshape(-1, 2) if frame.links.size else np.zeros((0, 2), np.int32)
    valid: NDArray[np.bool_] = np.asarray((links >= 0).all(axis=1) & (links < frame.node_count).all(axis=1))
    links = links[valid]
    count = len(links)
    if count == 0:
        zeros = np.zeros((6, 4), np.float32)
        zeros[:, :] = -10.0
        return {"a_ends": zeros, "a_along": np.tile(_CORNERS, (1, 1)), "a_link": np.zeros((6, 4), np.float32),
                "a_spikes": np.full((6, 2), 1e4, np.float32)}
    a = frame.positions[links[:, 0]]
    b = frame.positions[links[:, 1]]
    length = np.hypot((b[:, 0] - a[:, 0]) * aspect, b[:, 1] - a[:, 1])
    flow = frame.flow[valid] if len(frame.flow) == len(valid) else np.full(count, 0.5, np.float32)
    thick = frame.thickness[valid] if len(frame.thickness) == len(valid) else np.full(count, 0.5, np.float32)
    activity = np.maximum(frame.activity[links[:, 0]], frame.activity[links[:, 1]])
    per_link = {
        "a_ends": np.concatenate([a, b], axis=1),
        "a_link": np.stack([length, flow, thick, activity], axis=1),
        "a_spikes": np.stack([since_spike[links[:, 0]], since_spike[links[:, 1]]], axis=1),
    }
    result = {name: np.nan_to_num(np.repeat(values, 6, axis=0).astype(np.float32)) for name, values in per_link.items()}
    result["a_along"] = np.tile(_CORNERS, (count, 1))
    return result
