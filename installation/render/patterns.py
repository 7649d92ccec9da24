"""Test patterns for lining up projectors, drawn over the whole canvas.

Every output shows its own region of the same pattern, so where two projectors overlap
they show the same lines and labels, and aligning them is making those coincide. The
numbered grid is an image (labels need a font); the colour bars, blend check and solids
are computed in ``shaders/map.frag``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

PATTERNS = ("grid", "bars", "blend", "white", "black")  # in the order of their keys, 1..5
PATTERN_CODES = {name: index + 1 for index, name in enumerate(PATTERNS)}
GRID_ROWS = 8
MAX_GRID_WIDTH = 4096


def pattern_code(pattern: str | None) -> int:
    """The shader's ``u_pattern`` for ``pattern`` (None: the picture)."""
    if pattern is None:
        return 0
    if pattern not in PATTERN_CODES:
        raise ValueError(f"no test pattern {pattern!r} (patterns: {', '.join(PATTERNS)})")
    return PATTERN_CODES[pattern]


def numbered_grid(canvas: tuple[int, int]) -> NDArray[np.uint8]:
    """A grid of square cells over a canvas of ``canvas`` (width, height), (height, width, 3)
    top row first: cells labelled A1, A2... (rows by letter), a circle and a cross at the centre
    to show any distortion, and a frame at the canvas's edge. At most 4096 pixels wide."""
    scale = min(1.0, MAX_GRID_WIDTH / canvas[0])
    width, height = max(64, round(canvas[0] * scale)), max(36, round(canvas[1] * scale))
    image = Image.new("RGB", (width, height), (18, 20, 24))
    draw = ImageDraw.Draw(image)
    cell = height / GRID_ROWS
    columns = max(1, round(width / cell))
    cell_x = width / columns
    line = max(1, round(height / 360))
    font = ImageFont.load_default(size=max(10, round(cell * 0.22)))
    for row in range(GRID_ROWS):
        for column in range(columns):
            x0, y0 = column * cell_x, row * cell
            shade = (40, 46, 54) if (row + column) % 2 else (28, 32, 38)
            draw.rectangle((x0, y0, x0 + cell_x, y0 + cell), fill=shade)
            draw.text((x0 + cell_x * 0.1, y0 + cell * 0.1), f"{chr(65 + row)}{column + 1}",
                      fill=(235, 235, 235), font=font)
    for column in range(columns + 1):
        x = min(width - line, round(column * cell_x))
        draw.rectangle((x - line // 2, 0, x + (line + 1) // 2, height), fill=(230, 230, 230))
    for row in range(GRID_ROWS + 1):
        y = min(height - line, round(row * cell))
        draw.rectangle((0, y - line // 2, width, y + (line + 1) // 2), fill=(230, 230, 230))
    cx, cy, radius = width / 2, height / 2, height * 0.4
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), outline=(255, 200, 40), width=2 * line)
    draw.line((cx, 0, cx, height), fill=(255, 200, 40), width=2 * line)
    draw.line((0, cy, width, cy), fill=(255, 200, 40), width=2 * line)
    draw.rectangle((0, 0, width - 1, height - 1), outline=(255, 60, 60), width=3 * line)
    return np.asarray(image, dtype=np.uint8)
