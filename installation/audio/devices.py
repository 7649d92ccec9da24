"""Sound devices: listing them (``myco devices``) and finding an output or an input by name.

Only this module and :mod:`installation.audio.process` import sounddevice, and only inside
functions, so importing the package stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Device:
    index: int
    name: str
    hostapi: str
    outputs: int
    inputs: int
    default_rate: float
    is_default: bool

    def describe(self) -> str:
        mark = "*" if self.is_default else " "
        return (f"{mark} {self.index:3d}  {self.name}  [{self.hostapi}]  out {self.outputs}  in {self.inputs}  "
                f"{self.default_rate:g} Hz")


def list_devices(sd: Any = None) -> list[Device]:
    """Every PortAudio device (as seen when PortAudio was initialised in this process)."""
    if sd is None:
        import sounddevice

        sd = sounddevice
    apis = sd.query_hostapis()
    try:
        default_out = sd.default.device[1]
    except Exception:
        default_out = -1
    found = []
    for index, info in enumerate(sd.query_devices()):
        found.append(Device(index, str(info["name"]), str(apis[info["hostapi"]]["name"]),
                            int(info["max_output_channels"]), int(info["max_input_channels"]),
                            float(info["default_samplerate"]), index == default_out))
    return found


def find_output(devices: list[Device], wanted: str | None, channels: int) -> Device | None:
    """The output device for ``wanted``: an index, an exact name, or a case-insensitive part of
    ``"name [hostapi]"``; ``None`` means the default output (else the first JACK one, else the
    first with outputs). Devices with fewer than ``channels`` outputs never match."""
    return _find([d for d in devices if d.outputs >= channels], wanted)


def find_input(devices: list[Device], wanted: str, channels: int) -> Device | None:
    """The input device for ``wanted``, matched as :func:`find_output` matches outputs; ``""``
    means the first JACK device with inputs, else the first with inputs (PortAudio's default marks
    an output). Devices with fewer than ``channels`` inputs never match."""
    return _find([d for d in devices if d.inputs >= channels], wanted, default_first=False)


def _find(usable: list[Device], wanted: str | None, default_first: bool = True) -> Device | None:
    if wanted is None or wanted.strip() == "":
        rules = [lambda d: d.is_default] if default_first else []
        for rule in [*rules, lambda d: "JACK" in d.hostapi, lambda d: True]:
            match = [d for d in usable if rule(d)]
            if match:
                return match[0]
        return None
    text = wanted.strip()
    if text.isdigit():
        return next((d for d in usable if d.index == int(text)), None)
    exact = [d for d in usable if d.name == text]
    if exact:
        return exact[0]
    needle = text.lower()
    partial = [d for d in usable if needle in f"{d.name} [{d.hostapi}]".lower()]
    # with several matches, JACK first: it is the one that survives server restarts by name
    partial.sort(key=lambda d: ("JACK" not in d.hostapi, d.index))
    return partial[0] if partial else None
