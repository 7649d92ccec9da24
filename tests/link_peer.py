"""A second Ableton Link peer in a process of its own, driven line by line on stdin.

``python -m tests.link_peer BPM`` joins the session at BPM and answers each command with one line:
``peers`` (how many other peers), ``tempo`` (the session's), ``set TEMPO``, ``beat T Q`` (the
session's beat at monotonic time ``T`` with quantum ``Q``; Link's clock is CLOCK_MONOTONIC_RAW).
"""

from __future__ import annotations

import sys
import time

import link


def main() -> None:
    session = link.Link(float(sys.argv[1]))
    session.enabled = True
    print("ready", flush=True)
    for line in sys.stdin:
        word, *args = line.split()
        state = session.captureAppSessionState()
        if word == "peers":
            print(session.numPeers(), flush=True)
        elif word == "tempo":
            print(state.tempo(), flush=True)
        elif word == "set":
            state.setTempo(float(args[0]), session.clock().micros())
            session.commitAppSessionState(state)
            print("ok", flush=True)
        elif word == "beat":
            offset = session.clock().micros() / 1e6 - time.monotonic()
            print(state.beatAtTime(round((float(args[0]) + offset) * 1e6), float(args[1])), flush=True)
    session.enabled = False


if __name__ == "__main__":
    main()
