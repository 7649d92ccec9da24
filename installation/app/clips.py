"""Clips of a show's acts as visitors see them: each act's most striking moment, reached by playing.

A clip starts at a moment of the show, but the organism there is what the show grew since its
start: :func:`play_clips` plays the show once from the beginning, stepping the hyphae without
drawing (at ``warmup_hz`` renderer steps per show second) between the clips and drawing every
frame inside them, so every clip of a show costs one pass through it.

The moment (:func:`act_clips`) is chosen by a stated rule: each act's main cue, the one whose
event ranks first in :data:`STRIKING` (the earliest on a tie), with the clip starting
:data:`LEAD_S` before it so the beat lands early in the clip; clamped into the act.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from installation.render.headless import ShowDriver
from installation.render.offscreen import RGB

#: cue events from the most to the least striking to watch: the story's turning points first
STRIKING = ("shield", "surge", "disruption", "bloom", "purification", "toxin_cluster", "interference",
            "spike_burst", "node_joined")
LEAD_S = 3.0  # the clip starts this long before its cue
START_WARMUP_S = 4.0  # ``myco render --start``: hyphae woven this long before the first frame


@dataclass(frozen=True)
class Clip:
    act_index: int
    act_title: str
    start_s: float  # seconds into the show
    seconds: float
    cue_at_s: float | None  # the main cue, seconds into the act (None: an act without cues)
    why: str

    @property
    def name(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.act_title.lower()).strip("-")[:40]
        return f"act{self.act_index + 1}-{slug}"


def main_cue(act: Any) -> Any | None:
    """The act's most striking cue by :data:`STRIKING` (the earliest on a tie); None without cues."""
    ranked = [cue for cue in act.cues if cue.event.value in STRIKING]
    if not ranked:
        return act.cues[0] if act.cues else None
    return min(ranked, key=lambda cue: (STRIKING.index(cue.event.value), cue.at_s))


def act_clips(show: Any, seconds: float = 20.0) -> list[Clip]:
    """One clip per act: ``seconds`` from :data:`LEAD_S` before its main cue, kept inside the act
    (an act shorter than the clip: from its start)."""
    clips = []
    for index, act in enumerate(show.acts):
        cue = main_cue(act)
        at = cue.at_s - LEAD_S if cue is not None else act.duration_s / 2 - seconds / 2
        at = max(0.0, min(at, act.duration_s - seconds))
        if cue is None:
            why = "the middle of the act (it has no cues)"
        else:
            why = f"{cue.event.value.replace('_', ' ')} at {cue.at_s:g} s" + (f": {cue.label}" if cue.label else "")
        clips.append(Clip(index, act.title, show.act_start(index) + at, seconds,
                          cue.at_s if cue is not None else None, why))
    return clips


def play_to(driver: ShowDriver, show_t: float, warmup_hz: float) -> None:
    """Play the show from where it is to ``show_t`` without drawing, one renderer step per
    ``1 / warmup_hz`` seconds of the show (the hyphae live through it, nothing is read back)."""
    frame_dt = driver.dt
    driver.dt = 1.0 / warmup_hz
    player = driver.engine.player
    try:
        while player.show_t + driver.dt <= show_t + 1e-9:
            driver.frame(draw=False)
    finally:
        driver.dt = frame_dt
    if show_t - player.show_t > 1e-6:  # the last part, less than a warm-up step
        driver.dt, rest = show_t - player.show_t, driver.dt
        driver.frame(draw=False)
        driver.dt = rest


def play_clips(driver: ShowDriver, clips: list[Clip], fps: float, warmup_hz: float,
               progress: Callable[[int], None] | None = None) -> Iterator[tuple[Clip, Iterator[RGB]]]:
    """Play the show from its start through ``clips`` (in show order): for each, its frames.
    Each clip's frames must be consumed before the next clip is asked for."""
    done = 0
    for clip in sorted(clips, key=lambda c: c.start_s):
        play_to(driver, clip.start_s, warmup_hz)

        def frames(clip: Clip = clip) -> Iterator[RGB]:
            nonlocal done
            for _ in range(max(1, round(clip.seconds * fps))):
                image = driver.frame()
                assert image is not None
                done += 1
                if progress is not None:
                    progress(done)
                yield image

        yield clip, frames()


def start_at(driver: ShowDriver, start: float) -> None:
    """What ``myco render --start`` does: the engine alone to a little before ``start``, then the
    hyphae woven for :data:`START_WARMUP_S` (a fresh organism, not the one the show grew)."""
    warmup = min(start, START_WARMUP_S)
    driver.skip(start - warmup)
    for _ in range(round(warmup / driver.dt)):
        driver.frame(draw=False)
