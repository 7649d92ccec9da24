"""Driving the renderer from an Engine without a window: video frames and contact sheets.

The engine steps at its fixed rate; the renderer advances once per output frame with
all the events of the engine steps in between, so nothing the show fires is lost
between frames, and the result is the same on every run for the same show and seed.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from installation.core.frames import WorldFrame
from installation.core.hyphal_measures import HyphalMeasures, measure
from installation.render.offscreen import RGB, Offscreen
from installation.render.sound import OfflineSound, hears

WARMUP_S = 6.0  # hyphae need a few seconds to weave a network before a still is worth taking


@dataclass(frozen=True)
class Still:
    act_index: int
    act_title: str
    at_s: float  # seconds into the act
    caption: str


class ShowDriver:
    """One engine and one offscreen renderer in lockstep."""

    def __init__(self, engine: Any, offscreen: Offscreen, fps: float) -> None:
        self.engine = engine
        engine.on_world_time()  # beats follow the show's time, however fast the frames render
        self.offscreen = offscreen
        self.dt = 1.0 / fps
        if engine.dt > self.dt + 1e-9:  # each frame would step the engine a whole step: the show runs ahead
            raise ValueError(f"the engine steps every {engine.dt:.4f} s, longer than a frame ({self.dt:.4f} s): "
                             "give it a step rate of at least the frame rate")
        self._pending: list[Any] = []
        self.sound: OfflineSound | None = None  # the show's sound, once an effect listens to it

    def _sync(self) -> None:
        self.offscreen.make_current()  # a new seed or look sends GL commands
        renderer = self.offscreen.renderer
        renderer.set_look_mix(*self.engine.look_mix())  # acts blend, never cut
        renderer.set_seed(self.engine.seed)
        slots = self.engine.effects.slots
        if self.sound is None and hears(slots):
            self.sound = OfflineSound(self.engine.dt)
        self.offscreen.world.follow_effects(slots, self.sound.scope() if self.sound else None)

    def _engine_until(self, t: float) -> WorldFrame:
        frame = self.engine.latest
        while self.engine.t + 1e-9 < t:
            frame = self.engine.step()
            self._pending.extend(frame.events)
            if self.sound is not None:
                self.sound.push(frame, self.engine.bank.snapshot())
        return frame

    def skip(self, seconds: float) -> None:
        """Run the engine alone (no pictures) for ``seconds``; events in that time are dropped."""
        self._engine_until(self.engine.t + seconds)
        self._pending.clear()

    def frame(self, draw: bool = True) -> RGB | None:
        """Advance by one output frame; return the picture when ``draw``."""
        frame = self._engine_until(self.engine.t + self.dt)
        frame = dataclasses.replace(frame, events=tuple(self._pending))
        self._pending.clear()
        self._sync()
        params = self.engine.bank.snapshot()
        if draw:
            return self.offscreen.render(frame, params, self.dt)
        self.offscreen.step(frame, params, self.dt)
        return None

    def frames(self, count: int) -> Iterator[RGB]:
        for _ in range(count):
            image = self.frame()
            assert image is not None
            yield image


def show_stills(show: Any) -> list[Still]:
    """One still per cue (shortly after it fires, when its layer is in full swing) and one per act."""
    stills = []
    for index, act in enumerate(show.acts):
        for cue in act.cues:
            caption = cue.label or cue.event.value.replace("_", " ")
            stills.append(Still(index, act.title, min(act.duration_s - 0.1, cue.at_s + 2.5), caption))
        stills.append(Still(index, act.title, act.duration_s * 0.92, "the act settled"))
    return sorted(stills, key=lambda s: (s.act_index, s.at_s))


def take_stills(driver: ShowDriver, stills: list[Still]) -> list[tuple[Still, RGB]]:
    """Play the show through once, warming the hyphae up before each still."""
    player = driver.engine.player
    results = []
    for still in stills:
        target = player.show.act_start(still.act_index) + still.at_s
        now = player.show_t
        warmup = min(WARMUP_S, max(0.0, target - now))
        if target - warmup > now:
            driver.skip(target - warmup - now)
        steps = max(1, round(warmup / driver.dt))
        for _ in range(steps - 1):
            driver.frame(draw=False)
        image = driver.frame()
        assert image is not None
        results.append((still, image))
    return results


def _font(size: int) -> Any:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has one bitmap size
        return ImageFont.load_default()


def contact_sheet(title: str, shots: list[tuple[Still, RGB]], columns: int | None = None) -> Image.Image:
    """A grid: one row per act, its stills left to right, each labelled with the act and time."""
    rows: dict[int, list[tuple[Still, RGB]]] = {}
    for still, image in shots:
        rows.setdefault(still.act_index, []).append((still, image))
    columns = columns or max(len(r) for r in rows.values())
    height, width = shots[0][1].shape[:2]
    label_h = max(28, height // 7)
    pad = 8
    head = label_h + pad
    sheet = Image.new("RGB", (pad + columns * (width + pad), head + len(rows) * (height + label_h + pad)),
                      (18, 18, 20))
    draw = ImageDraw.Draw(sheet)
    draw.text((pad, pad // 2), title, fill=(235, 235, 235), font=_font(label_h * 2 // 3))
    small = _font(max(10, label_h * 2 // 5))
    for row, index in enumerate(sorted(rows)):
        for column, (still, image) in enumerate(rows[index][:columns]):
            x = pad + column * (width + pad)
            y = head + row * (height + label_h + pad)
            sheet.paste(Image.fromarray(np.asarray(image)), (x, y))
            minutes, seconds = divmod(int(still.at_s), 60)
            draw.text((x, y + height + 2), f"{index + 1}. {still.act_title}  {minutes}:{seconds:02d}",
                      fill=(230, 230, 230), font=small)
            draw.text((x, y + height + 2 + label_h // 2), still.caption[:60], fill=(160, 160, 165), font=small)
    return sheet


def still_name(still: Still) -> str:
    """A still's file name: act number and title, seconds into the act, the cue's caption."""
    def slug(text: str) -> str:
        return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]
    return f"act{still.act_index + 1}-{slug(still.act_title)}-{int(still.at_s):03d}s-{slug(still.caption)}.png"


def save_stills(shots: list[tuple[Still, RGB]], folder: Path) -> list[Path]:
    """Write each still as its own PNG in ``folder`` (made if missing), named by :func:`still_name`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for still, image in shots:
        path = folder / still_name(still)
        Image.fromarray(np.asarray(image)).save(path)
        paths.append(path)
    return paths


def act_stills(show: Any, cues: bool = True) -> list[Still]:
    """The stills the art is measured on: the middle of every act and (with ``cues``) each cue's."""
    stills = [Still(index, act.title, act.duration_s / 2, "the middle of the act")
              for index, act in enumerate(show.acts)]
    if cues:
        stills += [still for still in show_stills(show) if still.caption != "the act settled"]
    return sorted(stills, key=lambda s: (s.act_index, s.at_s))


def measure_acts(driver: ShowDriver, stills: list[Still]) -> dict[int, list[HyphalMeasures]]:
    """Play the show through ``stills`` (as :func:`take_stills`) and measure each: by act index."""
    measured: dict[int, list[HyphalMeasures]] = {}
    for still, image in take_stills(driver, stills):
        measured.setdefault(still.act_index, []).append(measure(image))
    return measured
