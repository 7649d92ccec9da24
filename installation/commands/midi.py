"""``myco midi list`` and ``myco midi monitor``: see what MIDI Myco finds and what it makes of it.

``list`` prints the MIDI APIs, the ports of the one that opens (with the fallback notice
when the preferred one cannot) and the profile that matches each port. ``monitor`` opens
the matching ports and prints every message as it arrives, decoded, with the parameter
values, events and commands it becomes: the first stop when a controller seems dead.
``learn`` binds the next control moved to a target (MIDI learn without the app, for an
installation set up over SSH); ``forget`` removes learned bindings.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from installation.app.launch import stop_on_signals

COUNT_LINGER_S = 0.2  # after --count messages: what the last one maps to comes through the input queue


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("midi", help="list MIDI ports and profiles, or monitor what a controller sends",
                            description="MIDI ports, profiles and a live monitor.")
    actions = parser.add_subparsers(dest="midi_action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="MIDI APIs, ports and the profile matching each port")
    listing.add_argument("--midi-api", metavar="API", help="MIDI API to try first (alsa, jack, ...)")
    listing.set_defaults(func=run_list)
    monitor = actions.add_parser("monitor", help="print the messages of matching ports and what they map to")
    monitor.add_argument("pattern", nargs="?", default="", help="port name pattern (regular expression)")
    monitor.add_argument("--midi-api", metavar="API", help="MIDI API to try first (alsa, jack, ...)")
    monitor.add_argument("--seconds", type=float, default=0.0, help="stop after this long (default: Ctrl-C)")
    monitor.add_argument("--count", type=int, default=0, metavar="N",
                         help="stop after N messages and what they map to (default: Ctrl-C)")
    monitor.set_defaults(func=run_monitor)
    learn = actions.add_parser("learn", help="bind the next control you move to a target, saved for good")
    learn.add_argument("target", help="param:NAME, event:KIND or command:NAME [ARGUMENT] (quote it)")
    learn.add_argument("pattern", nargs="?", default="", help="port name pattern (regular expression)")
    learn.add_argument("--midi-api", metavar="API", help="MIDI API to try first (alsa, jack, ...)")
    learn.add_argument("--seconds", type=float, default=30.0, help="how long to wait for a control (default 30)")
    learn.set_defaults(func=run_learn)
    forget = actions.add_parser("forget", help="remove learned bindings of one target, or all of them")
    forget.add_argument("target", nargs="?", help="param:NAME, event:KIND or command:NAME (default: all)")
    forget.set_defaults(func=run_forget)


def run_list(args: argparse.Namespace) -> int:
    from installation.inputs.midi_ports import api_names, load_profiles, open_probe

    print("compiled MIDI APIs:", ", ".join(api_names()) or "none")
    try:
        probe_in, probe_out, api, notice = open_probe(args.midi_api)
    except (RuntimeError, ValueError) as error:
        print(f"error: {error}")
        return 1
    if notice:
        print("notice:", notice)
    profiles = load_profiles()
    print(f"using {api}; profiles: {', '.join(p.name for p in profiles) or 'none'}")
    for title, probe in (("inputs", probe_in), ("outputs", probe_out)):
        ports = probe.get_ports()
        print(f"{title}:" if ports else f"{title}: none")
        for name in ports:
            profile = next((p.name for p in profiles if p.matches_port(name)), "no profile: learn its controls")
            print(f"  {name}  [{profile}]")
    probe_in.delete()
    probe_out.delete()
    return 0


def run_monitor(args: argparse.Namespace) -> int:
    from installation.core.events import InputQueue
    from installation.inputs.midi import MidiInputs
    from installation.midi.messages import parse
    from installation.registry import build_bank

    bank = build_bank()
    queue = InputQueue()
    seen = 0

    def show(port: str, data: list[int], t: float) -> None:
        nonlocal seen
        seen += 1
        message = parse(data)
        text = "malformed" if message is None else f"{message.kind.value} ch {message.channel + 1} " \
            f"{message.number} {message.value}"
        print(f"{t:12.3f}  {port}  {' '.join(f'{b:02x}' for b in data)}  {text}", flush=True)

    midi = MidiInputs(queue, bank, pattern=args.pattern, api=args.midi_api, on_message=show)
    try:
        midi.start()
    except (RuntimeError, ValueError) as error:
        print(f"error: {error}")
        return 1
    ports = ", ".join(midi.open_ports()) or "none yet"
    print(f"monitoring {args.pattern or 'every port'} on {midi.api}; ports: {ports}", flush=True)
    end = time.monotonic() + args.seconds if args.seconds > 0 else float("inf")
    # Ctrl-C or SIGTERM end it cleanly, also where a shell started it with SIGINT ignored
    with stop_on_signals() as stop:
        try:
            while not stop.wait(0.02) and time.monotonic() < end:
                for item in queue.drain():
                    _print_input(item)
                if 0 < args.count <= seen:  # a moment more for what the last message maps to
                    end = min(end, time.monotonic() + COUNT_LINGER_S)
        finally:
            midi.stop()
    return 0


def _print_input(item: Any) -> None:
    from installation.core.events import CommandInput, Event, ParamInput

    if isinstance(item, Event):
        print(f"{'':12}  -> event {item.kind.value} strength {item.strength:.2f}", flush=True)
    elif isinstance(item, CommandInput):
        print(f"{'':12}  -> command {item.command} {item.argument}".rstrip(), flush=True)
    elif isinstance(item, ParamInput):  # (a control's own position, for modulation, is the raw line above)
        print(f"{'':12}  -> {item.name} = {item.value}", flush=True)


def run_learn(args: argparse.Namespace) -> int:
    from installation.core.events import InputQueue
    from installation.inputs.midi import MidiInputs
    from installation.registry import build_bank

    bank = build_bank()
    midi = MidiInputs(InputQueue(), bank, pattern=args.pattern, api=args.midi_api)
    try:
        midi.start()
        midi.arm(args.target)
    except (RuntimeError, ValueError) as error:
        midi.stop()
        print(f"error: {error}")
        return 1
    print(f"move a control on {', '.join(midi.open_ports()) or 'a MIDI port'} to bind it to {args.target} ...",
          flush=True)
    end = time.monotonic() + args.seconds
    with stop_on_signals() as stop:
        try:
            while midi.status()["learning"] and time.monotonic() < end and not stop.wait(0.02):
                pass
        finally:
            still_armed = midi.router.learner.armed
            midi.cancel()
            midi.stop()
    if still_armed or not midi.router.learned:
        print("nothing learned: no control moved")
        return 1
    binding = midi.router.learned[0]  # the newest learned binding comes first
    print(f"learned: {binding.control} -> {binding.target} (saved to {midi.learned_file})")
    return 0


def run_forget(args: argparse.Namespace) -> int:
    from installation.core.errors import LoadError
    from installation.midi.bindings import parse_target
    from installation.midi.profile import learned_path, load_learned, save_learned

    path = learned_path()
    try:
        bindings = list(load_learned(path).bindings)
        target = parse_target(args.target) if args.target else None
    except (LoadError, ValueError) as error:
        print(f"error: {error}")
        return 1
    kept = [b for b in bindings if target is not None and b.target != target]
    save_learned(path, kept)
    print(f"forgot {len(bindings) - len(kept)} learned binding(s); {len(kept)} left in {path}")
    return 0
