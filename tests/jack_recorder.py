"""A JACK client in a process of its own that records the MIDI from one port on JACK's timeline.

``python -m tests.jack_recorder SOURCE`` connects SOURCE to its input, prints ``ready``, then a
line ``HEX TIME HANDLED`` per message (its bytes; its time: the period's start plus the event's
frame in it, on ``time.monotonic``'s clock; and when this client's process callback ran, which is
what rtmidi stamps a JACK message with) and ``rate FRAMES_PER_S`` (JACK's frames per second
of the machine's clock since the start) every 0.2 s, until its stdin closes. A process of its
own, so no other thread's work delays its process callback (JACK drops a client that misses
its deadline too long, and then hears nothing more).
"""

from __future__ import annotations

import queue
import sys
import threading
import time
import uuid

import jack

FLUSH_S = 0.02
RATE_EVERY = 10  # flushes


def main() -> None:
    offset = time.clock_gettime(time.CLOCK_MONOTONIC_RAW) - time.monotonic()
    client = jack.Client(f"rec{uuid.uuid4().hex[:6]}", no_start_server=True)
    port = client.midi_inports.register("in")
    heard: queue.SimpleQueue[str] = queue.SimpleQueue()
    cycles: list[tuple[int, float]] = []  # the first and the latest (frame, seconds) at a period's start

    @client.set_process_callback
    def process(frames: int) -> None:
        _, position = client.transport_query_struct()  # its usecs: this period's start on JACK's clock
        start = position.usecs / 1e6
        handled = time.monotonic()
        cycle = (client.last_frame_time, start)
        if cycles:
            cycles[1:] = [cycle]
        else:
            cycles.append(cycle)
        for frame, data in port.incoming_midi_events():
            heard.put(f"{bytes(data).hex()} {start + frame / position.frame_rate - offset!r} {handled!r}")

    client.activate()
    deadline = time.monotonic() + 5
    while True:  # a client just started may not take connections yet
        try:
            client.connect(sys.argv[1], port)
            break
        except jack.JackError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    closed = threading.Event()

    def until_stdin_closes() -> None:
        sys.stdin.read()
        closed.set()

    threading.Thread(target=until_stdin_closes, daemon=True).start()
    print("ready", flush=True)
    flushes = 0
    while not closed.wait(FLUSH_S):
        lines = []
        while not heard.empty():
            lines.append(heard.get())
        flushes += 1
        if flushes % RATE_EVERY == 0 and len(cycles) == 2:
            (f0, t0), (f1, t1) = cycles
            lines.append(f"rate {(f1 - f0) / (t1 - t0)!r}")
        if lines:
            print("\n".join(lines), flush=True)
    client.deactivate()
    port.unregister()  # the port before the client
    client.close()


if __name__ == "__main__":
    main()
