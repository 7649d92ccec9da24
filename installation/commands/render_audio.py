"""``myco render-audio --show NAME --seconds S --out FILE.wav``: a show's sound, offline.

Faster than real time and deterministic for a show and ``--seed``; sample 0 is world time 0,
so the file lines up with ``myco render`` video of the same show.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("render-audio", help="render a show's sound to a WAV file",
                            description="Play a show through the simulation and the synth, without a window or "
                                        "an audio device, and write a WAV file.")
    parser.add_argument("--show", required=True, help="show name (e.g. elara-mural, kai-festival)")
    parser.add_argument("--seconds", type=float, default=60.0, help="length in seconds (default 60)")
    parser.add_argument("--out", type=Path, required=True, help="output .wav file")
    parser.add_argument("--rate", type=int, default=48000, help="sample rate in Hz (default 48000)")
    parser.add_argument("--channels", type=int, default=2, help="output channels (default 2)")
    parser.add_argument("--bits", type=int, choices=(16, 24), default=24, help="PCM bits (default 24)")
    parser.add_argument("--seed", type=int, default=0, help="the synth's random seed (default 0)")
    parser.add_argument("--step-hz", type=float, default=60.0, help="engine steps per second (default 60)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from installation.app.compose import render_show_audio
    from installation.core.errors import LoadError
    from installation.synth.offline import write_wav

    if not 0 < args.seconds <= 24 * 3600:
        print("myco render-audio: --seconds must be between 0 and 86400", file=sys.stderr)
        return 2
    if not 1 <= args.channels <= 64 or not 8000 <= args.rate <= 192000:
        print("myco render-audio: --channels must be 1..64 and --rate 8000..192000", file=sys.stderr)
        return 2
    if args.out.suffix.lower() != ".wav":
        print("myco render-audio: --out must end in .wav", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        samples = render_show_audio(args.show, args.seconds, sample_rate=args.rate, channels=args.channels,
                                    step_hz=args.step_hz, seed=args.seed)
    except (LoadError, KeyError, FileNotFoundError, ValueError) as error:
        print(f"myco render-audio: {error}", file=sys.stderr)
        return 1
    try:
        write_wav(args.out, samples, args.rate, args.bits)
    except OSError as error:
        print(f"myco render-audio: cannot write {args.out}: {error}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - started
    print(f"wrote {args.out}: {args.seconds:g} s, {args.channels} ch, {args.rate} Hz, {args.bits}-bit "
          f"in {elapsed:.1f} s ({args.seconds / elapsed:.1f}x real time)")
    return 0
