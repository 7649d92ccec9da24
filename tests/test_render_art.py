"""The art measured (issue 19): every act of both shows keeps its hyphae, stills reached by playing;
``myco render --stills`` names each still by act and cue."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from installation.core.hyphal_measures import HyphalMeasures, floors
from installation.render.headless import ShowDriver
from installation.render.offscreen import Offscreen

pytestmark = pytest.mark.usefixtures("qt_session")  # GL through Qt, whose application belongs to the session


# The engine steps once per frame at 6 Hz: playing a 7.5-minute show to each still costs the
# engine's steps, not the pictures (at 60 Hz the engine alone took over a minute a show).
RATE_HZ = 6.0


def _driver(show: str, size: tuple[int, int], agents: int, sim_height: int) -> tuple[ShowDriver, Offscreen]:
    from installation.app.compose import build_engine
    from installation.app.options import RunOptions
    engine = build_engine(RunOptions(show=show, step_hz=RATE_HZ, audio=False, status=None))
    offscreen = Offscreen(size, "low", agents=agents, sim_height=sim_height, seed=engine.seed.rng_seed)
    return ShowDriver(engine, offscreen, RATE_HZ), offscreen


@pytest.mark.parametrize("show", ["kai-festival", "elara-mural"])
def test_every_act_keeps_its_hyphae(show: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cheap version of benchmarks/bench_art.py: the middle of each act, played to, issue 19's floors.

    Cheap: 480x270 from a 270-row simulation of 32768 hyphae (still filaments, not dust), 4 s of
    growth before each still, and no offline sound (it only shakes kai act 2's shimmer, and
    synthesising 7.5 minutes of it cost most of the test)."""
    from installation.render import headless

    monkeypatch.setattr(headless, "WARMUP_S", 4.0)
    monkeypatch.setattr(headless, "hears", lambda slots: False)
    driver, offscreen = _driver(show, (480, 270), 32768, 270)
    try:
        measured = headless.measure_acts(driver, headless.act_stills(driver.engine.player.show, cues=False))
    finally:
        offscreen.close()
    acts = {index: items[0] for index, items in measured.items()}
    assert sorted(acts) == list(range(len(driver.engine.player.show.acts)))
    assert all(1.6 < m.dimension < 1.9 for m in acts.values()), acts  # natural mycelium's range
    assert floors({str(i + 1): m for i, m in acts.items()}) == [], acts


def test_stills_are_saved_by_act_and_cue(tmp_path: Path) -> None:
    from installation.render.headless import save_stills, show_stills, take_stills

    driver, offscreen = _driver("elara-mural", (160, 90), 4096, 90)
    try:
        stills = [s for s in show_stills(driver.engine.player.show) if s.act_index == 0][:2]
        shots = take_stills(driver, stills)
    finally:
        offscreen.close()
    paths = save_stills(shots, tmp_path / "stills")
    assert [p.name for p in paths] == sorted(p.name for p in (tmp_path / "stills").iterdir())
    first, image = shots[0]
    assert paths[0].name.startswith(f"act1-reclamation-{int(first.at_s):03d}s-")
    assert paths[0].name.endswith(".png") and first.caption.split()[0].lower() in paths[0].name
    assert np.array_equal(np.asarray(Image.open(paths[0])), image)


def test_stills_need_a_contact_sheet() -> None:
    import subprocess

    result = subprocess.run([sys.executable, "-m", "installation", "render", "--stills", "x", "--png", "y"],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2 and "--contact-sheet" in result.stderr


def test_floors_name_the_poor_act() -> None:
    rich, poor = HyphalMeasures(0.3, 3.0, 1.7), HyphalMeasures(0.1, 2.9, 1.7)
    assert floors({"rich": rich, "poor": poor}) == [
        "poor: coverage 0.1000 is under 70% of the richest act's 0.3000"]


def test_a_driver_refuses_an_engine_that_steps_slower_than_its_frames() -> None:
    """Each frame steps the engine to the frame's time: with a step longer than a frame it would
    take a whole step every frame, and the show would run ahead of its pictures (3 times as fast
    at 30 fps on a 10 Hz engine)."""
    from installation.app.compose import build_engine
    from installation.app.options import RunOptions
    engine = build_engine(RunOptions(show="kai-festival", step_hz=10.0, audio=False, status=None))
    with pytest.raises(ValueError, match="longer than a frame"):
        ShowDriver(engine, None, 30.0)  # type: ignore[arg-type]  # refused before the renderer is touched
    assert ShowDriver(engine, None, 10.0).dt == pytest.approx(0.1)  # type: ignore[arg-type]
