"""``myco run``: the installation itself (control window + outputs), or ``--headless``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from installation.app.options import DEFAULT_OSC, DEFAULT_SHOW, RunOptions
from installation.app.status import DEFAULT_ADDRESS
from installation.app.supervise import STALE_AFTER_S, STARTUP_GRACE_S
from installation.commands.render import frame_size
from installation.render.params import QUALITIES

NO_DISPLAY = """myco run: no display found (neither DISPLAY nor WAYLAND_DISPLAY is set).
  On a machine without a screen run:   myco run --headless
  From an SSH session to the show machine:   DISPLAY=:0 myco run
"""


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("run", help="run the installation (control window and output windows)",
                            description="Run the installation: visuals, sound, inputs and the status page.")
    parser.add_argument("--show", default=DEFAULT_SHOW, help=f"show to play (default {DEFAULT_SHOW})")
    parser.add_argument("--preset", help="start on this preset instead of the first act's")
    parser.add_argument("--output-screen", type=int, action="append", default=[], metavar="N",
                        help="screen index for an output window; repeat for several outputs side by side")
    parser.add_argument("--osc", nargs="?", const=DEFAULT_OSC, metavar="HOST:PORT",
                        help=f"listen for OSC node data and control (default {DEFAULT_OSC})")
    parser.add_argument("--mqtt", metavar="URL", help="subscribe to node data on this broker, e.g. mqtt://host:1883")
    parser.add_argument("--midi", metavar="PATTERN", help="open MIDI ports whose name contains PATTERN")
    parser.add_argument("--midi-api", metavar="API", help="MIDI API: alsa or jack")
    parser.add_argument("--clock-out", action="store_true",
                        help="send MIDI clock at the show's tempo on the port myco-clock:clock out (docs/perform.md)")
    parser.add_argument("--link", action="store_true", help="join the Ableton Link session on the network")
    parser.add_argument("--no-audio", action="store_true", help="no sound")
    parser.add_argument("--audio-device", metavar="NAME", help="sound output device (default: the system's)")
    parser.add_argument("--audio-input", metavar="NAME",
                        help="listen to the room's sound on this input device (docs/perform.md)")
    parser.add_argument("--headless", action="store_true",
                        help="no windows: engine, inputs, sound, status, and the visuals rendered offscreen")
    parser.add_argument("--size", type=frame_size, metavar="WxH",
                        help="with --headless: the offscreen output's size (default 640x360)")
    parser.add_argument("--canvas", type=frame_size, metavar="WxH",
                        help="the picture the outputs show regions of (default: the windows' pixels side by side)")
    parser.add_argument("--venue", metavar="NAME_OR_FILE",
                        help="the room's venue file: outputs, their screens, regions and projection mapping "
                             "(a name in the user's venues folder or presets/venues, or a path)")
    parser.add_argument("--member", metavar="NAME",
                        help="this machine is the venue's cluster member NAME: it renders that member's outputs "
                             "and shares one show with the others over the broker (docs/cluster.md)")
    parser.add_argument("--no-visuals", action="store_true",
                        help="with --headless: no renderer at all (an audio- or sensor-only machine)")
    parser.add_argument("--status", default=DEFAULT_ADDRESS, metavar="HOST:PORT",
                        help=f"serve /status and /metrics here (default {DEFAULT_ADDRESS})")
    parser.add_argument("--no-status", action="store_true", help="no status server")
    parser.add_argument("--status-token", metavar="TOKEN",
                        help="token required by the status server (needed to bind beyond loopback)")
    parser.add_argument("--quality", choices=QUALITIES,
                        help="render quality (agents and simulation resolution); default: the preset's")
    parser.add_argument("--shader-dir", type=Path, metavar="DIR",
                        help="use the shaders (and looks) in DIR instead of the shipped ones; edits hot-reload")
    parser.add_argument("--isf-dir", type=Path, action="append", default=[], metavar="DIR",
                        help="look for ISF effects in DIR first (repeatable); edits hot-reload")
    parser.add_argument("--seconds", type=float, metavar="S", help="run for S seconds, then exit cleanly")
    parser.add_argument("--resume", action="store_true",
                        help="start in the act where this show was when Myco last stopped (after a crash or power cut)")
    parser.add_argument("--replay", type=Path, metavar="FILE",
                        help="play a node recording (myco nodes record) as live nodes, looped")
    watch = parser.add_argument_group("supervision (where there is no systemd: see myco service)")
    watch.add_argument("--supervise", action="store_true",
                       help="run Myco as a child process and start it again (with --resume) when it exits or hangs")
    watch.add_argument("--stale-after", type=float, default=STALE_AFTER_S, metavar="S",
                       help=f"with --supervise: restart when no frame finished for S s (default {STALE_AFTER_S:g})")
    watch.add_argument("--startup-grace", type=float, default=STARTUP_GRACE_S, metavar="S",
                       help=f"with --supervise: how long the first frame may take (default {STARTUP_GRACE_S:g})")
    parser.set_defaults(func=run)


def options_from(args: argparse.Namespace) -> RunOptions:
    return RunOptions(
        show=args.show, preset=args.preset, output_screens=tuple(args.output_screen), osc=args.osc,
        mqtt=args.mqtt, midi=args.midi, midi_api=args.midi_api, clock_out=args.clock_out, link=args.link,
        audio=not args.no_audio,
        audio_device=args.audio_device, audio_input=args.audio_input,
        headless=args.headless, headless_size=args.size or RunOptions.headless_size,
        visuals=not args.no_visuals,
        status=None if args.no_status else args.status, status_token=args.status_token or None,
        seconds=args.seconds, quality=args.quality, shader_dir=args.shader_dir, isf_dirs=tuple(args.isf_dir),
        resume=args.resume,
        replay=args.replay, canvas=args.canvas, venue=args.venue, member=args.member,
    )


def has_display() -> bool:
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or platform.startswith("offscreen"))


def run(args: argparse.Namespace) -> int:
    options = options_from(args)
    if options.seconds is not None and options.seconds <= 0:
        print("myco run: --seconds must be positive", file=sys.stderr)
        return 2
    if not options.headless and (args.size or args.no_visuals):
        print("myco run: --size and --no-visuals go with --headless (windows take their screen's size)",
              file=sys.stderr)
        return 2
    if not options.headless and not has_display():
        print(NO_DISPLAY, file=sys.stderr, end="")
        return 2
    if options.member and not options.venue:
        print("myco run: --member needs --venue (the venue file's [cluster] names the members)", file=sys.stderr)
        return 2
    if args.supervise:
        if args.stale_after <= 0 or args.startup_grace <= 0:
            print("myco run: --stale-after and --startup-grace must be positive", file=sys.stderr)
            return 2
        from installation.app.supervise import Limits, supervise

        argv = getattr(args, "argv", None)
        return supervise(sys.argv[1:] if argv is None else argv, Limits(args.stale_after, args.startup_grace))
    from installation.app.launch import launch

    return launch(options)
