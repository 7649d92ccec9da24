"""`myco run --replay` plays a recording as live nodes; `--resume` comes back to the same act."""

from __future__ import annotations

from pathlib import Path

import pytest

from installation.app.compose import build_engine
from installation.app.options import RunOptions
from installation.core.errors import LoadError
from installation.core.frames import NodeReading
from installation.nodes.recording import RecordingWriter


def test_replay_plays_a_recording_as_live_nodes(tmp_path: Path) -> None:
    path = tmp_path / "gallery.jsonl"
    with RecordingWriter(path, "osc") as writer:
        for step in range(40):
            t = step * 0.1
            writer.reading(NodeReading("oak-7", t, 0.4 if step % 10 else 1.8, 0.2, 0.6, 0.5, 0.25, 0.75, "osc"), t)
    engine = build_engine(RunOptions(replay=path))
    engine.advance(2.0)
    frame = engine.latest
    index = frame.index_of("oak-7")
    assert frame.live[index], "the replayed node is live"
    assert frame.positions[index].tolist() == pytest.approx([0.25, 0.75], abs=0.05)
    assert frame.toxin[index] == pytest.approx(0.2, abs=0.05)


def test_a_file_that_is_no_recording_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("shopping list\n")
    with pytest.raises(LoadError) as caught:
        build_engine(RunOptions(replay=path))
    assert str(path) in str(caught.value)


def test_resume_starts_in_the_act_where_the_show_was() -> None:
    engine = build_engine(RunOptions(show="elara-mural", resume=True))
    engine.player.jump(3, 10.0)
    engine.advance(1.0)  # the act change is noted at once
    again = build_engine(RunOptions(show="elara-mural", resume=True))
    assert again.player.act_index == 3 and again.preset.name == "elara-4-workshops"
    assert build_engine(RunOptions(show="elara-mural")).player.act_index == 0
