"""Art benchmark: how much of each act's picture is hyphae, measured on stills reached by playing.

For both shows, the engine plays the show and the renderer draws a still at the middle of every
act and shortly after every cue (``installation.render.headless.act_stills``); each still is
measured by ``installation.core.hyphal_measures`` (coverage of hyphal texture, fine-structure
energy, box-counting dimension of the hyphal layer). Per act: the mean of its stills. The floors
(issue 19): every act's coverage and fine energy at least 70 % of its show's richest act's.
The control is a flat picture of the same size (a bitmap-like fill with soft edges): what the
measures give for a picture with no filaments.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from installation.core.hyphal_measures import HyphalMeasures, floors, measure

SHOWS = ("kai-festival", "elara-mural")
SIZE = (480, 270)


def _control() -> HyphalMeasures:
    rows, cols = SIZE[1], SIZE[0]
    y, x = np.mgrid[0:rows, 0:cols] / rows
    blob = np.exp(-((x - 0.9) ** 2 + (y - 0.5) ** 2) * 12.0)
    image = np.stack([blob * 0.9, blob * 0.6, blob * 0.2], -1)
    return measure((image * 255).astype(np.uint8))


def measure_show(show: str, quick: bool) -> dict[str, dict[str, float]]:
    from installation.app.compose import build_engine
    from installation.app.options import RunOptions
    from installation.render.headless import ShowDriver, act_stills, measure_acts
    from installation.render.offscreen import Offscreen

    fps = 10.0
    # the engine steps once per frame: playing both shows to each still at 60 Hz cost more than the pictures
    engine = build_engine(RunOptions(show=show, step_hz=fps, audio=False, status=None))
    offscreen = Offscreen(SIZE, "low", seed=engine.seed.rng_seed)
    try:
        driver = ShowDriver(engine, offscreen, fps)
        measured = measure_acts(driver, act_stills(engine.player.show, cues=not quick))
    finally:
        offscreen.close()
    titles = [act.title for act in engine.player.show.acts]
    means = {titles[index]: HyphalMeasures(*(float(np.mean([getattr(m, key) for m in items]))
                                             for key in ("coverage", "fine_energy", "dimension")))
             for index, items in sorted(measured.items())}
    result: dict[str, Any] = {title: m.as_dict() for title, m in means.items()}
    result["floor_failures"] = floors(means)
    return result


def run(quick: bool = False) -> dict[str, Any]:
    shows = {show: measure_show(show, quick) for show in SHOWS}
    headline = {}
    for show, acts in shows.items():
        for title, figures in acts.items():
            if title != "floor_failures":
                headline[f"{show}: {title}"] = f"{figures['coverage']:.3f} / {figures['fine_energy']:.2f} / " \
                                               f"{figures['dimension']:.2f}"
        headline[f"{show}: floors"] = "hold" if not acts["floor_failures"] else "; ".join(acts["floor_failures"])
    return {"headline": headline, "shows": shows, "control_flat_picture": _control().as_dict(),
            "columns": "coverage / fine energy / box dimension", "size": list(SIZE), "quality": "low",
            "stills": "middle of each act" + ("" if quick else " and after each cue"),
            "played": "engine and renderer at 10 Hz from the show's start, 6 s of hyphae before each still"}


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick=True), indent=2))
