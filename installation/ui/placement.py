"""Which screen each output window goes to, as a pure function of the screens present.

An output remembers the *name* of the screen it was asked for. When that screen is missing
(disconnected mid-show) the output moves to another one, preferring a screen that is not the
control window's and not already used by another output; when the screen returns, the same
rule puts the output back on it. The output itself never closes. A venue file may name a
fallback screen for each output, used before that rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from installation.core.mapping import Region
from installation.core.venue import Venue, split_regions

__all__ = ["OutputRequest", "assign", "default_canvas", "requests_for", "split_regions", "venue_requests",
           "window_size"]


@dataclass(frozen=True)
class OutputRequest:
    """One output: the screen it wants (a name, or None: 'the best free screen'), the screen to
    use while that one is missing (a name or None), and its region.

    ``region`` is (x0, y0, x1, y1) in 0..1 of the wide canvas this output shows.
    """

    wanted: str | None
    region: Region = (0.0, 0.0, 1.0, 1.0)
    fallback: str | None = None


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


def venue_requests(screens: list[str], venue: Venue) -> list[OutputRequest]:
    """The venue's outputs as requests: a screen given by index is named by the screens present
    now (an index past them asks for the fallback, then the best free screen)."""
    def name_of(screen: str | int | None) -> str | None:
        if isinstance(screen, int):
            return screens[screen] if screen < len(screens) else None
        return screen
    return [OutputRequest(name_of(output.screen), output.region, name_of(output.fallback)) for output in venue.outputs]


def window_size(screen_size: tuple[int, int], full_screen: bool) -> tuple[int, int]:
    """An output window's size on a screen of ``screen_size``: all of it, or half each way when
    it shares the control window's screen."""
    width, height = screen_size
    return (width, height) if full_screen else (max(1, width // 2), max(1, height // 2))


def default_canvas(sizes: list[tuple[int, int]], regions: list[Region] | None = None) -> tuple[int, int]:
    """The canvas when none is given: enough pixels that every output window's region has at
    least as many as the window shows (side by side by default: ``split_regions``), so the
    picture is never resampled up."""
    regions = regions or split_regions(len(sizes))
    width = max(size[0] / (region[2] - region[0]) for size, region in zip(sizes, regions, strict=True))
    height = max(size[1] / (region[3] - region[1]) for size, region in zip(sizes, regions, strict=True))
    return round(width), round(height)


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
        elif request.fallback in screens:
            name = request.fallback
        else:
            free = [s for s in screens if s != control and s not in used]
            others = [s for s in screens if s != control]
            name = (free or others or screens)[0]
        used.add(name)
        shares_control = name == control and request.wanted != control
        placed.append((name, not shares_control))
    return placed
