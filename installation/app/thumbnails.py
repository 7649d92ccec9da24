"""Preset thumbnails, rendered offscreen in a separate process so the show never stalls.

``python -m installation.app.thumbnails FOLDER NAME...`` grows each preset's seed for a few
seconds with the preset's parameters, renders a still with the real renderer and writes
``FOLDER/NAME-MTIME.png``. The preset browser starts it with QProcess and picks the files up as
they appear; a preset that fails is reported on stderr and skipped.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from installation.core.paths import UserDirs
from installation.core.presets import PresetLibrary, thumbnail_file
from installation.core.seeds import find_seed
from installation.registry import build_bank
from installation.sim.kernel import Kernel

GROW_S = 3.0
STEP_S = 1 / 30
PR_SET_PDEATHSIG = 1
SIZE = (384, 216)  # rendered at twice the browser's icon size, downscaled for smooth edges


def render_preset(name: str, library: PresetLibrary, size: tuple[int, int] = SIZE) -> object:
    """The preset's still as a PIL image."""
    from PIL import Image

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
    return Image.fromarray(pixels).resize((size[0] // 2, size[1] // 2), Image.Resampling.LANCZOS)


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
    if len(argv) < 2:
        print("usage: python -m installation.app.thumbnails FOLDER NAME...", file=sys.stderr)
        return 2
    folder = Path(argv[0])
    folder.mkdir(parents=True, exist_ok=True)
    library = PresetLibrary(UserDirs.default())
    failed = 0
    for name in argv[1:]:
        try:
            target = thumbnail_file(folder, library, name)
            image = render_preset(name, library)
            partial = folder / f".{target.name}.part"
            image.save(partial, format="PNG")  # type: ignore[attr-defined]
            partial.replace(target)  # the browser never sees half a file
        except Exception as error:
            print(f"thumbnail {name}: {error}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
