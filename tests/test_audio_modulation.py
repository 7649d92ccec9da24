"""The picture moves with the room: a tone played into Myco's input through a real JACK server
(``jackd -d dummy``) moves a parameter routed from ``room.low``, through the running runtime (its
tick hands the engine the audio engine's features)."""

from __future__ import annotations

import sys
import time

import numpy as np
import pytest

from installation.app.compose import build_runtime
from installation.app.options import RunOptions
from installation.core.events import ParamInput, RoutingsInput
from installation.core.modulation import Routing, Source, SourceKind
from tests import services
from tests.test_audio import realtime_server
from tests.test_audio_analysis import RATE, JackTester, tone
from tests.waiting import wait_for

EXPOSURE = "render.exposure"  # linear 0.1 .. 4.0


def test_a_tone_in_the_room_moves_the_parameter_routed_from_its_band(jack_server: services.Jack) -> None:
    realtime_server(jack_server)
    switching = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)  # the test's JACK client waits for the GIL in every cycle: not long
    runtime = build_runtime(RunOptions(show="elara-mural", audio=True, audio_input="system", status=None)).start()
    tester = JackTester()
    try:
        assert runtime.audio is not None
        audio = runtime.audio
        wait_for(lambda: audio.status().get("input_state") == "listening", 30, "the audio process to listen")
        wait_for(lambda: "myco:in_0" in {p.name for p in tester.client.get_ports()}, 10, "myco:in_0")
        tester.play_into_myco()
        engine = runtime.engine
        engine.inputs.put(ParamInput(EXPOSURE, 1.0, "ui"))
        engine.inputs.put(RoutingsInput((Routing(Source(SourceKind.ROOM, "low"), EXPOSURE, 1.0),)))
        base = (1.0 - 0.1) / 3.9

        def played_for(seconds: float) -> tuple[list[float], list[float]]:
            """The exposure the snapshot carried and the room's low band, at each tick of ``seconds``."""
            exposures, lows = [], []
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                runtime.tick()
                exposures.append(float(engine.bank.snapshot()[EXPOSURE]))  # type: ignore[arg-type]
                lows.append(engine.modulation.room.get("room.low", 0.0))
                time.sleep(1 / 120)
            return exposures[-30:], lows[-30:]  # the last ticks: the band's window is full of the signal

        tester.set_signal(tone(100.0, 0.5))
        exposures, lows = played_for(2.0)
        rms = 0.5 / 2 ** 0.5
        assert all(low == pytest.approx(rms, rel=0.05) for low in lows), lows
        # moved by all of the band's level (depth 1): a tick plays the level read at the one before
        assert float(np.median(exposures)) == pytest.approx(0.1 + (base + float(np.median(lows))) * 3.9, rel=0.01)
        assert engine.bank.target(EXPOSURE) == 1.0  # the base stays
        tester.set_signal(np.zeros(RATE, np.float32))
        exposures, lows = played_for(1.5)
        assert max(lows) < 1e-6 and all(exposure == pytest.approx(1.0) for exposure in exposures)
    finally:
        tester.close()
        runtime.stop()
        sys.setswitchinterval(switching)
