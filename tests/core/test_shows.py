"""Shows: the shipped ones load with five acts; the player fires cues once and changes acts."""

from __future__ import annotations

from pathlib import Path

import pytest

from installation.core.errors import LoadError
from installation.core.events import EventKind
from installation.core.paths import UserDirs
from installation.core.presets import PresetLibrary
from installation.core.seeds import find_seed, load_seed
from installation.core.shows import Act, Cue, Show, ShowPlayer, find_show, load_show, show_names

SHIPPED = ("kai-festival", "elara-mural")


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_shows_have_five_acts_whose_presets_and_seeds_load(name: str) -> None:
    library = PresetLibrary(UserDirs.default())
    show = find_show(name, preset_exists=lambda preset: preset in library.names())
    assert len(show.acts) == 5
    assert all(act.cues for act in show.acts), "every act plays as a scene, with cues"
    assert all(act.transition_s >= 3 for act in show.acts), "acts blend, never cut"
    seeds = set()
    for act in show.acts:
        preset = library.load(act.preset)
        seeds.add(find_seed(preset.seed).name)
    assert len(seeds) >= 2


def test_show_names_lists_both_stories() -> None:
    assert set(SHIPPED) <= set(show_names())


def test_show_errors_name_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[show]\ntitle = "x"\n\n[[acts]]\ntitle = "one"\npreset = "nope"\nduration = 10\n\n'
                    '[[acts.cues]]\nat = 20\nevent = "surge"\n\n[[acts.cues]]\nat = 1\nevent = "earthquake"\n')
    with pytest.raises(LoadError) as caught:
        load_show(path, preset_exists=lambda name: False)
    text = str(caught.value)
    assert f"{path}:6: acts[0].preset: preset 'nope' not found" in text
    assert f"{path}:10: acts[0].cues[0].at: 20 is outside [0, 10]" in text
    assert f"{path}:15: acts[0].cues[1].event: unknown event 'earthquake'" in text


def two_act_show() -> Show:
    return Show("t", "T", (
        Act("one", "p1", 10.0, 0.0, (Cue(0.0, EventKind.BLOOM), Cue(5.0, EventKind.SURGE, 1.5, 0.5, 0.5))),
        Act("two", "p2", 10.0, 4.0, (Cue(0.0, EventKind.TOXIN_CLUSTER), Cue(2.0, EventKind.DISRUPTION))),
    ))


def run(player: ShowPlayer, seconds: float, dt: float = 1 / 60) -> tuple[list, list]:
    events, changes = [], []
    for _ in range(round(seconds / dt)):
        fired, changed = player.advance(dt)
        events += fired
        changes += changed
    return events, changes


def test_player_fires_each_cue_once_at_its_time_and_moves_through_acts() -> None:
    player = ShowPlayer(two_act_show())
    events, changes = run(player, 25.0)
    expected = [(EventKind.BLOOM, 0.0), (EventKind.SURGE, 5.0), (EventKind.TOXIN_CLUSTER, 10.0),
                (EventKind.DISRUPTION, 12.0)]
    assert [e.kind for e in events[:4]] == [kind for kind, _ in expected]
    for event, (_, at) in zip(events, expected, strict=False):
        assert at <= event.t + 1e-9 <= at + 2 / 60, "a cue fires within one step of its time"
    assert [(c.previous, c.index, c.transition_s) for c in changes[:3]] == [(None, 0, 0.0), (0, 1, 4.0), (1, 0, 0.0)]
    assert player.act_index == 0 and player.position_s == pytest.approx(5.0, abs=0.02)


def test_jump_lands_quietly_and_no_loop_stops_at_the_end() -> None:
    player = ShowPlayer(two_act_show(), loop=False)
    player.jump(1, 3.0)
    events, _ = run(player, 20.0)
    assert events == [], "cues before the entry point are skipped"
    assert player.finished and player.act_index == 1
    player.previous()
    assert player.act_index == 0
    with pytest.raises(IndexError):
        player.jump(5)


def test_seed_fields_are_deterministic_and_follow_the_recipe() -> None:
    seeds_folder = Path(find_seed("kai-city").path).parent  # type: ignore[arg-type]
    city = load_seed(seeds_folder / "kai-city.toml")
    clusters = load_seed(seeds_folder / "kai-clusters.toml")
    assert [n.id for n in city.nodes] == [n.id for n in clusters.nodes], "the same city across acts"
    toxin = clusters.field("toxin", (72, 128))
    assert toxin[int(0.28 * 72), int(0.78 * 128)] > 0.8, "the old-quarter pool is where the seed says"
    assert city.field("toxin", (72, 128)).max() == 0.0
    assert (city.field("waste", (72, 128)) == load_seed(seeds_folder / "kai-city.toml").field("waste", (72, 128))).all()
    mural = find_seed("elara-wall").field("mask", (90, 160))
    assert mural[int(0.40 * 90), 80] > 0.9 and mural[5, 5] < 0.05
