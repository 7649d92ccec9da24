"""``myco isf list``: the ISF effects and generators Myco can play, and where each comes from."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from installation.core.effects import available, isf_folders
from installation.core.errors import LoadError, shown
from installation.core.isf import load_isf
from installation.core.paths import UserDirs


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("isf", help="the ISF effects and generators Myco can play",
                            description="ISF files are looked up in the --isf-dir folders, the user's ISF "
                                        "folder and the shipped shaders/isf/, the first of a name winning "
                                        "(see docs/isf.md).")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="print name, kind, category and credit of every ISF file")
    listing.add_argument("--isf-dir", type=Path, action="append", default=[], metavar="DIR",
                         help="look in DIR first (repeatable)")
    listing.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """One line per file: name, kind, categories, credit and path; a file whose header cannot
    be read is listed as ``broken`` and its problems go to stderr (exit status 1)."""
    folders = isf_folders(UserDirs.default(), args.isf_dir)
    files = available(folders)
    rows = [("NAME", "KIND", "CATEGORY", "CREDIT", "FILE")]
    broken = 0
    for name, path in files.items():
        try:
            shader = load_isf(path)
        except LoadError as error:
            broken += 1
            rows.append((name, "broken", "-", "-", str(path)))
            print(error, file=sys.stderr)
            continue
        rows.append((name, shader.kind, ", ".join(shader.categories) or "-", shown(shader.credit, 60) or "-",
                     str(path)))
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[4])
    if not files:
        print(f"no ISF files in {', '.join(map(str, folders))}", file=sys.stderr)
    return 1 if broken else 0
