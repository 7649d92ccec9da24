"""The status document in Prometheus text exposition format (version 0.0.4).

A pure function of the JSON status dict, so ``/status`` and ``/metrics`` can never
disagree: the server renders both from the same snapshot.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any


def _escape(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: Mapping[str, object]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{key}="{_escape(value)}"' for key, value in labels.items()) + "}"


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self._declared: set[str] = set()

    def metric(self, name: str, kind: str, help_text: str,
               samples: Iterable[tuple[Mapping[str, object], object]]) -> None:
        rows = [(labels, _number(value)) for labels, value in samples]
        rows = [(labels, value) for labels, value in rows if value is not None]
        if not rows:
            return
        if name not in self._declared:
            self.lines.append(f"# HELP myco_{name} {help_text}")
            self.lines.append(f"# TYPE myco_{name} {kind}")
            self._declared.add(name)
        for labels, value in rows:
            self.lines.append(f"myco_{name}{_labels(labels)} {value:.10g}")


def to_prometheus(status: Mapping[str, Any]) -> str:
    """Render the status dict (see :mod:`installation.app.status`) as Prometheus text."""
    out = _Writer()
    info = {key: status.get(key) or "" for key in ("show", "act", "preset")}
    out.metric("info", "gauge", "Show, act and preset now playing (always 1).", [(info, 1)])
    out.metric("act_index", "gauge", "Index of the act now playing (0-based).", [({}, status.get("act_index"))])
    out.metric("position_seconds", "gauge", "Position in the current act.", [({}, status.get("position_s"))])
    out.metric("uptime_seconds", "gauge", "Seconds since the app started.", [({}, status.get("uptime_s"))])
    out.metric("fps", "gauge", "World frames completed per second (one step for every output).",
               [({}, status.get("fps"))])
    frame = status.get("frame_ms") or {}
    out.metric("frame_ms", "gauge", "World frame time percentiles in milliseconds.",
               [({"quantile": "0.5"}, frame.get("p50")), ({"quantile": "0.99"}, frame.get("p99"))])
    outputs = status.get("outputs") or []
    out.metric("output_fps", "gauge", "Frames each output window painted per second.",
               [({"output": view.get("name"), "screen": view.get("screen")}, view.get("fps")) for view in outputs])
    out.metric("output_frame_ms", "gauge", "Each output window's paint time percentiles in milliseconds.",
               [({"output": view.get("name"), "quantile": quantile}, (view.get("frame_ms") or {}).get(key))
                for view in outputs for quantile, key in (("0.5", "p50"), ("0.99", "p99"))])
    audio = status.get("audio") or {}
    device = {"device": audio.get("device") or ""}
    out.metric("audio_running", "gauge", "1 while the audio engine runs.", [(device, audio.get("running"))])
    out.metric("audio_load", "gauge", "Audio callback load (0..1 of the block time).", [(device, audio.get("load"))])
    out.metric("audio_underflows_total", "counter", "Audio output underflows.", [(device, audio.get("underflows"))])
    params = status.get("params") or {}
    samples: list[tuple[Mapping[str, object], object]] = []
    for name, value in params.items():
        if isinstance(value, (list, tuple)):
            samples.extend(({"name": name, "channel": "rgb"[i]}, v) for i, v in enumerate(value[:3]))
        else:
            samples.append(({"name": name}, value))
    out.metric("param", "gauge", "Current value of every numeric parameter.", samples)
    nodes = status.get("nodes") or {}
    out.metric("node_live", "gauge", "1 for a live sensor node, 0 for a simulated one.",
               [({"node": node}, data.get("live")) for node, data in nodes.items()])
    for field in ("potential_mv", "toxin", "waste", "moisture", "activity"):
        out.metric(f"node_{field}", "gauge", f"Last reading of each node: {field}.",
                   [({"node": node}, (data.get("last") or {}).get(field)) for node, data in nodes.items()])
    inputs = status.get("inputs") or {}
    out.metric("input_received_total", "counter", "Messages received per input source.",
               [({"source": source}, data.get("received")) for source, data in inputs.items()])
    out.metric("input_dropped_total", "counter", "Messages dropped per input source and reason.",
               [({"source": source, "reason": reason}, count)
                for source, data in inputs.items() for reason, count in (data.get("dropped") or {}).items()])
    projectors = status.get("projectors") or []
    out.metric("projector_up", "gauge", "1 while the projector answers PJLink, 0 while it does not.",
               [({"name": p.get("name")}, p.get("reachable")) for p in projectors])
    out.metric("projector_power_on", "gauge", "1 while the projector reports its power on (not warming or cooling).",
               [({"name": p.get("name")}, p.get("power") == "on") for p in projectors])
    out.metric("projector_lamp_hours", "gauge", "Hours on the projector's first lamp, as it reports them.",
               [({"name": p.get("name")}, p.get("lamp_hours")) for p in projectors])
    levels = {"ok": 0, "warning": 1, "error": 2}
    out.metric("projector_error", "gauge", "Each projector part's state: 0 ok, 1 warning, 2 error.",
               [({"name": p.get("name"), "part": part}, levels.get(level))
                for p in projectors for part, level in (p.get("errors") or {}).items()])
    schedule = status.get("schedule") or {}
    out.metric("open", "gauge", "1 while the venue is open (its opening hours or an operator's open now).",
               [({}, schedule.get("open"))])
    out.metric("next_change_seconds", "gauge", "Seconds to the next opening or closing (absent when none is due).",
               [({"to": schedule.get("next_state") or ""}, schedule.get("next_change_in_s"))])
    out.metric("errors_total", "counter", "Errors reported since start.", [({}, status.get("errors_total"))])
    return "\n".join(out.lines) + "\n"
