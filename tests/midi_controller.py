"""A test MIDI controller in a process of its own: ``python -m tests.midi_controller NAME``.

It opens a JACK MIDI out port (what the controller sends) and in port (the feedback it gets),
says ``ready``, sends each ``send B1 B2 ...`` line of its stdin, and prints ``got B1 B2 ...``
for each message that arrives. It is unplugged by being killed, the way hardware goes: libjack
walks a client's port list unlocked while it handles a latency notification, so a port closed
while another client's change is still being announced can crash the process (jack2 issue
#216), and rtmidi cannot deactivate a client first. Only this process may crash that way.
"""

from __future__ import annotations

import sys
import threading
import time

import rtmidi

POLL_SECONDS = 0.002  # how often arrived messages are passed on


def main(name: str) -> None:
    out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=name)
    out.open_virtual_port("out")
    inp = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name=name)
    inp.ignore_types(sysex=False, timing=False, active_sense=True)
    inp.open_virtual_port("in")
    lock = threading.Lock()  # one writer of stdout at a time

    def say(line: str) -> None:
        with lock:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    def send_each_line() -> None:
        for line in sys.stdin:
            words = line.split()
            if words[:1] == ["send"]:
                out.send_message([int(word) for word in words[1:]])

    threading.Thread(target=send_each_line, daemon=True).start()
    say("ready")
    while True:
        while (item := inp.get_message()) is not None:
            say("got " + " ".join(str(byte) for byte in item[0]))
        time.sleep(POLL_SECONDS)


if __name__ == "__main__":
    main(sys.argv[1])
