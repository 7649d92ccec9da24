"""The ``myco`` command line.

Each sub-command lives in its own module under :mod:`installation.commands` and adds its
parser in ``register``; the parser's ``func`` default runs it and returns the exit status.
Heavy libraries (Qt, vispy, sounddevice) are imported inside the commands that need them,
so ``myco check`` and ``myco simulate`` start quickly.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from installation import __version__
from installation.commands import check, devices, isf, midi, nodes, render, render_audio, run, service, simulate
from installation.core.logs import configured_logging

COMMANDS = (check, run, simulate, nodes, render, midi, devices, render_audio, service, isf)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="myco", description="Myco: living-art installation controller.")
    parser.add_argument("--version", action="version", version=f"myco {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # as typed: myco run --supervise passes them on
    with configured_logging(args.verbose):
        if not getattr(args, "func", None):
            parser.print_help()
            return 2
        try:
            return int(args.func(args) or 0)
        except KeyboardInterrupt:
            return 130
