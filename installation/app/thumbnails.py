"""Thumbnails of presets and ISF files, rendered offscreen in a separate process so the show never stalls.

``python -m installation.app.thumbnails FOLDER NAME...`` grows each preset's seed for a few
seconds with the preset's parameters, renders a still with the real renderer and writes
``FOLDER/NAME-MTIME.png``. ``python -m installation.app.thumbnails --isf FOLDER PRESET FILE.fs...``
renders each ISF file with its default inputs for a moment: a filter over a still of ``PRESET``
(what it would do to the organism), a generator alone, into ``FOLDER/isf-NAME-MTIME.png``
(:func:`~installation.core.effects.isf_thumbnail_file`). The browsers start it with QProcess and
pick the files up as they appear; an item that fails is reported on stderr and skipped.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from installation.core.effects import isf_thumbnail_file
from installation.core.paths import UserDirs
from installation.core.presets import PresetLibrary, thumbnail_file
from installation.core.seeds import find_seed
from installation.registry import build_bank
from installation.sim.kernel import Kernel

GROW_S = 3.0
STEP_S = 1 / 30
PR_SET_PDEATHSIG = 1
SIZE = (384, 216)  # rendered at twice the browser's icon size, downscaled for smooth edges
ISF_FRAMES = 45  # an ISF file's thumbnail shows it 1.5 s in: feedback and persistent buffers have filled


def render_preset(name: str, library: PresetLibrary, size: tuple[int, int] = SIZE) -> object:
    """The preset's still as a PIL image, at half ``size``."""
    return _smaller(preset_still(name, library, size), size)


def _smaller(pixels: NDArray[np.uint8], size: tuple[int, int]) -> object:
    from PIL import Image

    return Image.fromarray(pixels).resize((size[0] // 2, size[1] // 2), Image.Resampling.LANCZOS)


def preset_still(name: str, library: PresetLibrary, size: tuple[int, int] = SIZE) -> NDArray[np.uint8]:
    """The preset's still, ``(height, width, 3)`` uint8, top row first."""
    from installation.render.offscreen import Offscreen

    bank = build_bank()
    specs = {spec.name: spec for spec in bank.specs()}
    preset = library.load(name, specs)
    seed = find_seed(preset.seed)
    kernel = Kernel(seed)
    bank.set_many(preset.resolved(specs), "preset", immediate=True)
    offscreen = Offscreen(size, "low")
    try:
        offscreen.renderer.set_look(preset.look)
        offscreen.renderer.set_seed(seed)  # the mural mask
        params = bank.snapshot()
        frame = kernel.step(STEP_S, [], params)
        for _ in range(int(GROW_S / STEP_S)):
            frame = kernel.step(STEP_S, [], params)
            offscreen.step(frame, params, STEP_S)
        pixels = offscreen.snapshot()
    finally:
        offscreen.close()
    return pixels


def render_isf(path: Path, background: NDArray[np.uint8], size: tuple[int, int] = SIZE) -> object:
    """An ISF file's thumbnail as a PIL image, at half ``size``: ISF_FRAMES frames of it with its
    default inputs, a filter (or transition) over ``background`` (top row first), a generator alone."""
    from vispy import gloo

    from installation.core.isf import load_isf
    from installation.render.effects import today
    from installation.render.isf import IsfRenderer
    from installation.render.offscreen import HiddenContext

    shader = load_isf(path)
    context = HiddenContext()
    try:
        # GL's rows run bottom-up: the background goes in upside down, the read-back comes out top first
        picture = gloo.Texture2D(np.ascontiguousarray(background[::-1]), interpolation="linear",
                                 wrapping="clamp_to_edge")
        target = gloo.FrameBuffer(color=gloo.Texture2D((size[1], size[0], 4), format="rgba"))
        images = {item.name: picture for item in shader.inputs if item.type == "image"}
        renderer = IsfRenderer(shader, size)
        try:
            for frame in range(ISF_FRAMES):
                renderer.render(target, images=images, values={}, time_s=frame * STEP_S, dt=STEP_S, frame=frame,
                                date=today())
            with target:
                pixels = gloo.read_pixels((0, 0, *size), alpha=False)
        finally:
            renderer.close()
    finally:
        context.close()
    return _smaller(np.ascontiguousarray(pixels), size)


def die_with_parent() -> None:
    """On Linux, end this process when the app that started it ends, even if the app crashed."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() == 1:  # the app was already gone before the line above
            sys.exit(1)


def main(argv: list[str]) -> int:
    die_with_parent()
    isf = argv[:1] == ["--isf"]
    argv = argv[1:] if isf else argv
    if len(argv) < (3 if isf else 2):
        print("usage: python -m installation.app.thumbnails FOLDER NAME...\n"
              "       python -m installation.app.thumbnails --isf FOLDER PRESET FILE.fs...", file=sys.stderr)
        return 2
    folder = Path(argv[0])
    folder.mkdir(parents=True, exist_ok=True)
    library = PresetLibrary(UserDirs.default())
    backgrounds: list[NDArray[np.uint8]] = []

    def background() -> NDArray[np.uint8]:  # the preset's still under the filters: once, and only if needed
        if not backgrounds:
            backgrounds.append(preset_still(argv[1], library))
        return backgrounds[0]

    failed = 0
    for item in argv[2:] if isf else argv[1:]:
        try:
            if isf:
                target = isf_thumbnail_file(folder, Path(item))
                image = render_isf(Path(item), background())
            else:
                target = thumbnail_file(folder, library, item)
                image = render_preset(item, library)
            partial = folder / f".{target.name}.part"
            image.save(partial, format="PNG")  # type: ignore[attr-defined]
            partial.replace(target)  # the browser never sees half a file
        except Exception as error:  # one broken item never stops the others
            print(f"thumbnail {item}: {error}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
