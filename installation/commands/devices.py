"""``myco devices``: list the audio output devices PortAudio sees (the names ``--audio-device`` takes)."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("devices", help="list audio output devices",
                            description="List PortAudio devices; '*' marks the default output. JACK must be "
                                        "running before this starts to list JACK.")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--all", action="store_true", help="include devices without outputs")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from installation.audio.devices import list_devices

    try:
        devices = list_devices()
    except Exception as error:  # PortAudio missing or broken: say so, do not trace back
        print(f"myco devices: cannot query audio devices: {error}")
        return 1
    shown = [d for d in devices if args.all or d.outputs > 0]
    if args.json:
        print(json.dumps([d.__dict__ for d in shown], indent=2))
    elif not shown:
        print("no audio output devices (is the sound server running?)")
    else:
        for device in shown:
            print(device.describe())
    return 0
