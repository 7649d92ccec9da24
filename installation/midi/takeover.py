"""Soft takeover: an absolute knob that disagrees with its parameter must not make it jump.

After a preset recall (or a change from the UI, OSC or the show) the knob's position and
the parameter's value differ. All positions here are in the binding's control space, 0..1
(after invert and curve), with the parameter's value expressed in the same space.

- ``jump``: the parameter follows the knob at once (the classic jump).
- ``pickup``: the knob does nothing until it reaches or passes the parameter's value.
- ``scale``: the knob moves the parameter proportionally towards the end it is heading
  for, so both arrive at the end together; from the moment they meet, it is direct.
"""

from __future__ import annotations

from dataclasses import dataclass

from installation.midi.bindings import Takeover

# Close enough to count as caught: about three steps of a 7-bit control.
CATCH = 3.0 / 127.0
MEET = 0.5 / 127.0


@dataclass
class TakeoverState:
    """The takeover state of one binding."""

    mode: Takeover
    engaged: bool = False
    last_position: float | None = None

    def release(self) -> None:
        """The parameter was changed by someone else: the knob must catch it again."""
        self.engaged = False

    def move(self, position: float, value: float) -> float | None:
        """The knob moved to ``position`` while the parameter is at ``value``.

        Returns the new parameter value in control space, or ``None`` to leave it alone.
        """
        previous, self.last_position = self.last_position, position
        if self.mode is Takeover.JUMP or self.engaged:
            self.engaged = True
            return position
        # Scaling converges smoothly, so it engages only where the two meet; pick-up
        # engages a little early because a coarse knob may step over the value.
        catch = CATCH if self.mode is Takeover.PICKUP else MEET
        if abs(position - value) <= catch or (
            previous is not None and (previous - value) * (position - value) <= 0.0
        ):
            self.engaged = True
            return position
        if self.mode is Takeover.PICKUP or previous is None:
            return None
        return _scaled(previous, position, min(1.0, max(0.0, value)))


def _scaled(previous: float, position: float, value: float) -> float | None:
    """Move ``value`` by the knob's step, scaled so both reach the end the knob heads for."""
    if position > previous:
        room_knob, room_value = 1.0 - previous, 1.0 - value
    elif position < previous:
        room_knob, room_value = previous, value
    else:
        return None
    if room_knob <= 0.0:
        return None
    return value + (position - previous) * room_value / room_knob
