"""Which screen each output window goes to, as a pure function of the screens present.

An output remembers the *name* of the screen it was asked for. When that screen is missing
(disconnected mid-show) the output moves to another one, preferring a screen that is not the
control window's and not already used by another output; when the screen returns, the same
rule puts the output back on it. The output itself never closes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OutputRequest:
    """One output: the screen it wants (a name, or None: 'the best free screen') and its region.

    ``region`` is (x0, y0, x1, y1) in 0..1 of the wide canvas this output shows.
    """

    wanted: str | None
    region: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)


def split_regions(count: int) -> list[tuple[float, float, float, float]]:
    """Side-by-side regions for ``count`` outputs across one wide canvas."""
    return [(i / count, 0.0, (i + 1) / count, 1.0) for i in range(count)]


def requests_for(screens: list[str], indices: list[int]) -> list[OutputRequest]:
    """Turn ``--output-screen N`` choices (indices into ``screens``) into requests by name.

    Raises ValueError naming the screens present when an index does not exist.
    """
    if not indices:
        return [OutputRequest(None)]
    for index in indices:
        if not 0 <= index < len(screens):
            listed = ", ".join(f"{i}: {name}" for i, name in enumerate(screens))
            raise ValueError(f"--output-screen {index}: no such screen (screens: {listed})")
    regions = split_regions(len(indices))
    return [OutputRequest(screens[index], region) for index, region in zip(indices, regions, strict=True)]


def window_size(screen_size: tuple[int, int], full_screen: bool) -> tuple[int, int]:
    """An output window's size on a screen of ``screen_size``: all of it, or half each way when
    it shares the control window's screen."""
    width, height = screen_size
    return (width, height) if full_screen else (max(1, width // 2), max(1, height // 2))


def default_canvas(sizes: list[tuple[int, int]]) -> tuple[int, int]:
    """The canvas when none is given: as many pixels as the output windows show side by side
    (each shows an equal share, ``split_regions``), so the picture is never resampled up."""
    width = max(size[0] for size in sizes)
    height = max(size[1] for size in sizes)
    return width * len(sizes), height


def assign(screens: list[str], control: str | None, requests: list[OutputRequest]) -> list[tuple[str, bool]]:
    """For each request, (screen name, full screen?).

    An output is full screen unless it has to share the control window's screen; with one
    screen it runs windowed beside the control window, so an operator can still work.
    """
    if not screens:
        raise ValueError("no screens")
    used: set[str] = set()
    placed: list[tuple[str, bool]] = []
    for request in requests:
        if request.wanted in screens:
            name = request.wanted
        else:
            free = [s for s in screens if s != control and s not in used]
            others = [s for s in screens if s != control]
            name = (free or others or screens)[0]
        used.add(name)
        shares_control = name == control and request.wanted != control
        placed.append((name, not shares_control))
    return placed
