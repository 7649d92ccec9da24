"""Draw the mural mask for Elara's show (seeds/elara-mural.png).

The mask is what the hyphae reveal in Elara's acts: a sun-flower rising from a tree whose
roots spread into the ground, framed by waves of reclaimed material. Run once; the PNG is shipped.
Usage: python scripts/make_mural_mask.py seeds/elara-mural.png
"""

from __future__ import annotations

import math
import sys

from PIL import Image, ImageDraw, ImageFilter

WIDTH, HEIGHT = 960, 540


def draw(path: str) -> None:
    image = Image.new("L", (WIDTH, HEIGHT), 0)
    pen = ImageDraw.Draw(image)
    cx, cy = WIDTH * 0.5, HEIGHT * 0.40
    # The sun-flower: a ring of petals around a bright disc.
    for index in range(16):
        angle = index * math.tau / 16
        px, py = cx + math.cos(angle) * 92, cy + math.sin(angle) * 92
        pen.ellipse((px - 34, py - 34, px + 34, py + 34), outline=230, width=9)
    pen.ellipse((cx - 58, cy - 58, cx + 58, cy + 58), fill=255)
    pen.ellipse((cx - 150, cy - 150, cx + 150, cy + 150), outline=170, width=6)
    # The trunk and branches of the tree that holds the flower.
    pen.line((cx, cy + 60, cx, HEIGHT * 0.86), fill=235, width=22)
    for side in (-1, 1):
        for level, reach in ((0.62, 170), (0.72, 120), (0.54, 230)):
            y = HEIGHT * level
            pen.line((cx, y, cx + side * reach, y - 70), fill=210, width=10)
            pen.ellipse((cx + side * reach - 16, y - 86, cx + side * reach + 16, y - 54), fill=220)
    # Roots spreading into the ground, each ending in a small seed of light.
    base_y = HEIGHT * 0.84
    for index in range(7):
        spread = (index - 3) / 3
        x2, y2 = cx + spread * 210, base_y + 42 - abs(spread) * 20
        pen.line((cx, base_y - 20, cx + spread * 110, base_y + 20, x2, y2), fill=200, width=9, joint="curve")
        pen.ellipse((x2 - 10, y2 - 10, x2 + 10, y2 + 10), fill=230)
    # Waves of reclaimed material along the bottom and the top.
    for band, (level, amplitude) in enumerate(((0.95, 14), (0.08, 10))):
        points = [(x, HEIGHT * level + math.sin(x / 38 + band) * amplitude) for x in range(0, WIDTH + 8, 8)]
        pen.line(points, fill=160, width=8)
    image = image.filter(ImageFilter.GaussianBlur(2.5))
    image.save(path)


if __name__ == "__main__":
    draw(sys.argv[1] if len(sys.argv) > 1 else "seeds/elara-mural.png")
