"""One output's projection mapping on the GPU, drawn by :meth:`World.show`.

The geometry is a grid over the output's content, placed on the CPU by the mesh warp and
the corner pin (:func:`installation.core.mapping.warp_homogeneous`) and drawn with
``shaders/map.vert``, which keeps the pin's homogeneous w so the GPU interpolates with a true
perspective divide. Without a mesh one quad is exact; with one, the grid is fine enough
(eight steps per mesh cell) that the smooth warp has no visible facets. The masks are
rasterised on the CPU into a texture over the output (:func:`mask_alpha`). Both are built
when a mapping or the output's size changes, never per frame.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
from numpy.typing import NDArray
from vispy import gloo

from installation.core.mapping import Mapping, Mask, mask_alpha, warp_homogeneous

STEPS_PER_MESH_CELL = 8
MAX_STEPS = 256
MAX_MASK_SIDE = 2048  # the mask texture's longest side; it is sampled smoothly, and masks are soft
KEPT = 8  # geometries and masks cached: every output's current one, and room for an editor's drag


def grid_steps(mapping: Mapping) -> tuple[int, int]:
    """Cells of the drawn grid across and down."""
    if mapping.mesh is None:
        return 1, 1
    return (min(MAX_STEPS, (mapping.mesh.columns - 1) * STEPS_PER_MESH_CELL),
            min(MAX_STEPS, (mapping.mesh.rows - 1) * STEPS_PER_MESH_CELL))


def geometry(mapping: Mapping) -> tuple[NDArray[np.float32], NDArray[np.uint32]]:
    """Vertices (x*w, y*w, w, u, v) and triangle indices of the mapped grid."""
    columns, rows = grid_steps(mapping)
    u, v = np.meshgrid(np.linspace(0.0, 1.0, columns + 1), np.linspace(0.0, 1.0, rows + 1))
    positions = warp_homogeneous(mapping, u.ravel(), v.ravel())
    vertices = np.column_stack([positions, u.ravel(), v.ravel()]).astype(np.float32)
    corner = (np.arange(rows)[:, None] * (columns + 1) + np.arange(columns)[None, :]).ravel()
    below = corner + columns + 1
    indices = np.column_stack([corner, corner + 1, below, corner + 1, below + 1, below]).ravel()
    return vertices, indices.astype(np.uint32)


def mask_size(viewport: tuple[int, int]) -> tuple[int, int]:
    width, height = viewport
    scale = min(1.0, MAX_MASK_SIDE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


class _Cache:
    """A few GL objects built from values, the least recently used deleted first."""

    def __init__(self) -> None:
        self._items: OrderedDict[Any, Any] = OrderedDict()

    def get(self, key: Any, build: Any) -> Any:
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        value = build()
        self._items[key] = value
        while len(self._items) > KEPT:
            _, old = self._items.popitem(last=False)
            for item in old if isinstance(old, tuple) else (old,):
                item.delete()
        return value

    def close(self) -> None:
        for value in self._items.values():
            for item in value if isinstance(value, tuple) else (value,):
                item.delete()
        self._items.clear()


class MappedGeometry:
    """The GPU side of every output's mapping: grids and mask textures, built once per change."""

    def __init__(self) -> None:
        self._grids = _Cache()
        self._masks = _Cache()
        self._open = gloo.Texture2D(np.full((1, 1), 255, np.uint8), format="luminance")

    def grid(self, mapping: Mapping) -> tuple[gloo.VertexBuffer, gloo.IndexBuffer]:
        def build() -> tuple[gloo.VertexBuffer, gloo.IndexBuffer]:
            vertices, indices = geometry(mapping)
            structured = np.zeros(len(vertices), [("a_position", np.float32, 3), ("a_content", np.float32, 2)])
            structured["a_position"] = vertices[:, :3]
            structured["a_content"] = vertices[:, 3:]
            return gloo.VertexBuffer(structured), gloo.IndexBuffer(indices)
        key = (mapping.corners, mapping.mesh)
        return self._grids.get(key, build)  # type: ignore[no-any-return]

    def mask(self, masks: tuple[Mask, ...], viewport: tuple[int, int]) -> gloo.Texture2D:
        if not masks:
            return self._open
        size = mask_size(viewport)

        def build() -> gloo.Texture2D:
            alpha = np.round(mask_alpha(masks, size) * 255).astype(np.uint8)
            return gloo.Texture2D(alpha, format="luminance", interpolation="linear", wrapping="clamp_to_edge")
        return self._masks.get((masks, size), build)  # type: ignore[no-any-return]

    def close(self) -> None:
        self._grids.close()
        self._masks.close()
        self._open.delete()
