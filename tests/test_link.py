"""Ableton Link with a second peer in another process: tempo both ways, the beat in phase
(Link keeps a tempo as microseconds per beat: 128.5 comes back as 128.50002).

Link finds peers by UDP multicast on every interface that is up, loopback included: on one
machine nothing more is needed than ``lo`` being up, with no multicast route (tried in a
network namespace holding only ``lo``: it passes with ``lo`` up, and fails, saying why, with
``lo`` down). A test that finds no peer fails: it never skips.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from installation.app.compose import build_runtime
from installation.app.options import RunOptions
from installation.core.tempo import Follow, Source, Tempo
from installation.inputs.link import LinkSession
from tests.waiting import wait_for

REPO = Path(__file__).resolve().parent.parent


class Peer:
    """The other Link app (``tests/link_peer.py``)."""

    def __init__(self, bpm: float) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "tests.link_peer", str(bpm)], cwd=REPO,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.ask_line() == "ready"

    def ask_line(self, command: str = "") -> str:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        if command:
            stdin.write(command + "\n")
            stdin.flush()
        return stdout.readline().strip()

    def ask(self, command: str) -> float:
        return float(self.ask_line(command))

    def close(self) -> None:
        streams: list[IO[str] | None] = [self.process.stdin]
        for stream in streams:
            if stream is not None:
                stream.close()
        self.process.wait(10)
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def peer() -> Iterator[Peer]:
    other = Peer(128.0)
    try:
        yield other
    finally:
        other.close()


def phase_error_ms(tempo: Tempo, peer: Peer) -> float:
    """Myco's beat against the peer's at the same instant, in ms, within a bar (Link shares bar phase)."""
    now = time.monotonic() + 0.05
    bar = tempo.beats_per_bar
    difference = (tempo.beat_at(now) - peer.ask(f"beat {now} {bar}")) % bar
    return min(difference, bar - difference) * 60_000.0 / tempo.bpm


def test_tempo_crosses_both_ways_and_the_beats_align(peer: Peer) -> None:
    tempo = Tempo(100.0, t=time.monotonic())
    with LinkSession(tempo) as session:
        wait_for(lambda: session.peers == 1 and peer.ask("peers") == 1, 10,
                 "the two Link peers to meet (by multicast: is an interface up, at least lo?)")
        assert peer.ask_line("set 128.5") == "ok"
        wait_for(lambda: tempo.source is Source.LINK and abs(tempo.bpm - 128.5) < 1e-3, 5,
                 "Myco to follow the peer's tempo")
        follow_ms = [phase_error_ms(tempo, peer) for _ in range(10)]
        assert tempo.set_bpm(91.0, time.monotonic())  # a tap or the operator in Myco: for the whole session
        wait_for(lambda: abs(peer.ask("tempo") - 91.0) < 1e-3, 5, "the peer to take Myco's tempo")
        assert tempo.source is Source.LINK
        # Myco leads: manual follow, its own tempo and beat forced onto the session
        tempo.set_follow(Follow.MANUAL)
        tempo.set_bpm(133.0, time.monotonic())
        tempo.locate(time.monotonic(), 0.5)  # half a beat off the session's phase
        wait_for(lambda: abs(peer.ask("tempo") - 133.0) < 1e-3, 5, "the peer to take the tempo Myco leads")
        wait_for(lambda: phase_error_ms(tempo, peer) < 5.0, 5, "the peer to take Myco's phase")
        lead_ms = [phase_error_ms(tempo, peer) for _ in range(10)]
    print({"follow_ms": follow_ms, "lead_ms": lead_ms, "pushes": session.pushes})
    assert max(follow_ms) < 5.0, follow_ms
    assert max(lead_ms) < 5.0, lead_ms


def test_myco_run_link_joins_the_session_and_shows_it(peer: Peer) -> None:
    runtime = build_runtime(RunOptions(audio=False, status=None, link=True)).start()
    try:
        tempo = runtime.engine.tempo
        wait_for(lambda: runtime.part("link").peers == 1 and peer.ask("peers") == 1, 10, "the peers to meet")
        assert peer.ask_line("set 140") == "ok"  # once met: which tempo a meeting keeps is for Link to choose
        wait_for(lambda: abs(tempo.bpm - 140.0) < 1e-3, 10, "myco run --link to follow the peer")
        runtime.engine.advance(2 * runtime.engine.dt)  # the steps that show the followed tempo in tempo.bpm
        status = runtime.publish_status()
    finally:
        runtime.stop()
    assert status["inputs"]["link"]["peers"] == 1
    assert status["tempo"]["source"] == "link" and status["tempo"]["bpm"] == pytest.approx(140.0)
    assert status["params"]["tempo.bpm"] == pytest.approx(140.0)
