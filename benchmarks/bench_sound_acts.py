"""Acts that sound apart: both shows rendered as ``myco render-audio`` does, measured act by act.

For every act of Kai's festival and Elara's mural, over the act's middle half
(:mod:`installation.synth.acts`): the mean log-magnitude spectrum, the loudness (RMS dBFS and an
ungated K-weighted, LUFS-like dB), the spectral centroid and the onsets per second. ``pairs``: the
RMS distance in nepers between the spectra of every pair of acts of a show (issue 19's floor:
0.8). The control beside them, ``within_act``: the same distance between the first and the second
half of each act's middle, what an act differs from itself; pairs of acts must stand well above
it. ``arc``: the renaissance against every earlier act of Kai's festival (louder and brighter).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from installation.app.compose import render_show_audio  # noqa: E402
from installation.core.shows import find_show  # noqa: E402
from installation.synth.acts import ActSound, distance, measure, middle, pairwise  # noqa: E402

SHOWS = ("kai-festival", "elara-mural")
FLOOR = 0.8


def measure_show(name: str, rate: int) -> tuple[dict[str, Any], list[ActSound]]:
    show = find_show(name)
    start = time.perf_counter()
    samples = render_show_audio(name, show.duration_s, sample_rate=rate)
    render_s = time.perf_counter() - start
    sounds: list[ActSound] = []
    within = []
    for index, act in enumerate(show.acts):
        begin, end = middle(show.act_start(index), act.duration_s)
        sounds.append(measure(samples, rate, begin, end))
        half = (begin + end) / 2
        within.append(distance(measure(samples, rate, begin, half), measure(samples, rate, half, end)))
    pairs = {f"{i + 1}-{j + 1}": value for (i, j), value in pairwise(sounds).items()}
    return {
        "min_pair": min(pairs.values()),
        "pairs": pairs,
        "within_act_max": max(within),
        "within_act": {str(i + 1): value for i, value in enumerate(within)},
        "acts": {str(i + 1): {"title": act.title, "rms_db": s.rms_db, "k_weighted_db": s.k_weighted_db,
                              "centroid_hz": s.centroid_hz, "onsets_per_s": s.onsets_per_s}
                 for i, (act, s) in enumerate(zip(show.acts, sounds, strict=True))},
        "render_x_realtime": show.duration_s / render_s,
    }, sounds


def run(quick: bool = False) -> dict[str, Any]:
    rate = 24000 if quick else 48000  # 24 kHz still holds the measured band (40 Hz .. 12 kHz)
    figures: dict[str, Any] = {"sample_rate": rate, "floor_nepers": FLOOR}
    last: list[ActSound] = []
    for name in SHOWS:
        figures[name], sounds = measure_show(name, rate)
        if name == "kai-festival":
            last = sounds
    finale, earlier = last[-1], last[:-1]
    figures["arc"] = {
        "renaissance_k_db_above_loudest_earlier": finale.k_weighted_db - max(s.k_weighted_db for s in earlier),
        "renaissance_centroid_over_brightest_earlier": finale.centroid_hz / max(s.centroid_hz for s in earlier),
    }
    figures["headline"] = {
        "kai_min_pair_nepers": figures["kai-festival"]["min_pair"],
        "kai_within_act_max": figures["kai-festival"]["within_act_max"],
        "elara_min_pair_nepers": figures["elara-mural"]["min_pair"],
        "elara_within_act_max": figures["elara-mural"]["within_act_max"],
        **figures["arc"],
    }
    return figures


if __name__ == "__main__":
    import json

    print(json.dumps(run("--quick" in sys.argv), indent=1))
