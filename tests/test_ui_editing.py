"""Undo, redo and the unsaved marker of preset edits (plain Python, no widgets)."""

from __future__ import annotations

from installation.ui.editing import EditHistory


def test_a_drag_is_one_undo_step_and_redo_restores_it() -> None:
    history = EditHistory()
    for value in (0.2, 0.3, 0.4):
        history.record("sim.growth_rate", value - 0.1, value)
    history.record("render.exposure", 1.0, 1.5)
    assert history.edited_values() == {"sim.growth_rate": 0.4, "render.exposure": 1.5}
    edit = history.undo()
    assert edit is not None and (edit.name, edit.before) == ("render.exposure", 1.0)
    edit = history.undo()
    assert edit is not None and (edit.name, edit.before, edit.after) == ("sim.growth_rate", 0.1, 0.4)
    assert history.undo() is None and not history.can_undo
    assert history.redo() is not None and history.edited_values() == {"sim.growth_rate": 0.4}


def test_unsaved_follows_saves_undo_and_new_edits() -> None:
    history = EditHistory()
    assert not history.unsaved
    history.record("a.b", 0, 1)
    assert history.unsaved
    history.mark_saved()
    assert not history.unsaved
    history.record("a.b", 1, 2)  # after a save, an edit of the same parameter is a new step
    assert history.unsaved
    history.undo()
    assert not history.unsaved  # back where it was saved
    history.record("c.d", 0, 5)  # a different edit at the same depth is not the saved state
    assert history.unsaved and not history.can_redo
    history.record("c.d", 5, 5)  # no change, no step
    assert history.edited_values() == {"a.b": 1, "c.d": 5}
