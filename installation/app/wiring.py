"""Starting the adapters the runtime needs: sound and the input listeners.

Each adapter is optional for the show: when one cannot start (no sound card, a port in
use, a broker down), the reason is logged for the operator's error list and the rest of
the app goes on. That is the reliability rule: no black projector because one part failed.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

from installation.app.options import RunOptions
from installation.engine import Engine

log = logging.getLogger(__name__)

Counters = Callable[[], Mapping[str, Any]]


def start_audio(options: RunOptions) -> tuple[Any, str]:
    """The audio engine (its own process), or None and a notice saying why there is no sound."""
    try:
        module = importlib.import_module("installation.audio.engine")
    except ImportError as error:
        notice = f"no audio engine available ({error}); visuals only"
        log.warning("%s", notice)
        return None, notice
    try:
        audio = module.AudioEngine()
        audio.start(device=options.audio_device, sample_rate=48000, block=256, channels=2)
    except Exception as error:
        notice = f"sound could not start on {options.audio_device or 'the default device'}: {error}; visuals only"
        log.error("%s", notice)
        return None, notice
    return audio, f"playing on {options.audio_device or 'the default device'}"


def start_inputs(options: RunOptions, engine: Engine) -> list[tuple[Any, Counters]]:
    """Start the listeners asked for; returns each with a function reading its counters."""
    started: list[tuple[Any, Counters]] = []
    for name, wanted in (("osc", options.osc), ("mqtt", options.mqtt), ("midi", options.midi)):
        if wanted is None:
            continue
        try:
            module = importlib.import_module(f"installation.inputs.{name}")
            part = module.start(wanted, engine, options)
        except Exception as error:
            log.error("%s input %s could not start: %s", name, wanted, error)
            continue
        started.append((part, part.counters))
    return started
