"""Undo, redo and the unsaved-changes state of the preset being edited (no Qt here)."""

from __future__ import annotations

from dataclasses import dataclass

from installation.core.params import Value


@dataclass(frozen=True)
class Edit:
    name: str
    before: Value
    after: Value


class EditHistory:
    """Parameter edits since the preset was loaded or saved.

    Dragging a slider produces many edits of one parameter; consecutive edits of the same
    parameter merge into one step, so one undo takes the whole drag back.
    """

    def __init__(self) -> None:
        self._done: list[Edit] = []
        self._undone: list[Edit] = []
        self._saved: Edit | None = None  # the last edit when saved (None: as loaded)

    def record(self, name: str, before: Value, after: Value) -> None:
        if before == after:
            return
        if self._done and self._done[-1].name == name and self._done[-1] is not self._saved:
            before = self._done.pop().before
        self._done.append(Edit(name, before, after))
        self._undone.clear()

    def undo(self) -> Edit | None:
        if not self._done:
            return None
        edit = self._done.pop()
        self._undone.append(edit)
        return edit

    def redo(self) -> Edit | None:
        if not self._undone:
            return None
        edit = self._undone.pop()
        self._done.append(edit)
        return edit

    @property
    def can_undo(self) -> bool:
        return bool(self._done)

    @property
    def can_redo(self) -> bool:
        return bool(self._undone)

    @property
    def unsaved(self) -> bool:
        return (self._done[-1] if self._done else None) is not self._saved

    def edited_values(self) -> dict[str, Value]:
        """The latest value of every parameter edited (what a save writes)."""
        values: dict[str, Value] = {}
        for edit in self._done:
            values[edit.name] = edit.after
        return values

    def mark_saved(self) -> None:
        self._saved = self._done[-1] if self._done else None

    def clear(self) -> None:
        self._done.clear()
        self._undone.clear()
        self._saved = None
