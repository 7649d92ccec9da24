"""``myco service install`` and ``myco service status``: Myco as a systemd service with a watchdog.

The unit starts ``myco run --resume`` for a venue after the graphical session, waits for its
first frame (``Type=notify``: Myco says ``READY=1`` then), restarts it whenever it stops
(``Restart=always``) and, through ``WatchdogSec``, whenever its frames stop: Myco's heartbeat
comes only from the step that finishes a frame (see :mod:`installation.app.watchdog`). Without
systemd, ``myco run --supervise`` does the same job.
"""

from __future__ import annotations

import argparse
import getpass
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from installation import __version__
from installation.app.options import DEFAULT_SHOW
from installation.core.tomlsource import atomic_write

UNIT_NAME = "myco.service"
WATCHDOG_S = 20
RESTART_S = 2
START_TIMEOUT_S = 180  # the first frame (shaders compile, a cold disk) before systemd gives up on a start
STOP_TIMEOUT_S = 20
SYSTEM_UNIT_DIR = Path("/etc/systemd/system")
SYSTEMCTL_TIMEOUT_S = 20


def user_unit_dir() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "systemd" / "user"


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("service", help="install Myco as a systemd service (restarts, watchdog) or show it",
                            description="Myco as a systemd service: started with the graphical session, "
                                        "restarted when it exits or its frames stop (watchdog).")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    install = actions.add_parser("install", help="write the systemd unit",
                                 description="Write myco.service: myco run --resume for a venue, Type=notify, "
                                             f"WatchdogSec={WATCHDOG_S}, Restart=always. Arguments after -- go "
                                             "to myco run, e.g.  myco service install --user --venue gallery "
                                             "-- --osc")
    where(install)
    install.add_argument("--venue", metavar="NAME_OR_FILE", help="the room's venue (as myco run --venue)")
    install.add_argument("--show", metavar="NAME", help=f"the show to play (default {DEFAULT_SHOW})")
    install.add_argument("--watchdog", type=int, default=WATCHDOG_S, metavar="S",
                         help=f"restart when no frame finished for S seconds (default {WATCHDOG_S})")
    install.add_argument("--display", default=":0", help="the X display the outputs go to (default :0)")
    install.add_argument("--enable", action="store_true",
                         help="also run systemctl daemon-reload and enable --now (where systemctl exists)")
    install.add_argument("run_args", nargs="*", metavar="-- RUN_ARGS", help="more arguments for myco run")
    install.set_defaults(func=install_command)
    status = actions.add_parser("status", help="read the installed unit back (and ask systemd whether it runs)")
    where(status)
    status.set_defaults(func=status_command)
    parser.set_defaults(func=lambda _args: (parser.print_help(), 2)[1])


def where(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", action="store_true",
                        help="a user service (~/.config/systemd/user), started with the desktop session; "
                             "without it a system service in /etc/systemd/system (needs root)")
    parser.add_argument("--unit-dir", type=Path, metavar="DIR", help="the folder for the unit file (tests)")


def unit_path(args: argparse.Namespace) -> Path:
    folder = args.unit_dir or (user_unit_dir() if args.user else SYSTEM_UNIT_DIR)
    return Path(folder) / UNIT_NAME


def myco_command() -> list[str]:
    """This installation's ``myco``: the venv's script beside its Python, or ``python -m installation``."""
    script = Path(sys.executable).parent / "myco"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "installation"]


def exec_quote(word: str) -> str:
    """One ExecStart word as systemd reads it: quoted when needed, ``%`` and ``$`` escaped."""
    word = word.replace("%", "%%").replace("$", "$$")
    if word and not any(c in word for c in " \t\n\"'\\;"):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


def run_arguments(venue: str | None, show: str | None, extra: list[str]) -> list[str]:
    arguments = ["run", "--resume"]
    if venue:
        arguments += ["--venue", venue]
    if show:
        arguments += ["--show", show]
    return arguments + [word for word in extra if word != "--resume"]


def unit_text(*, user: bool, venue: str | None, show: str | None, extra: list[str], watchdog_s: int = WATCHDOG_S,
              display: str = ":0", command: list[str] | None = None, working_dir: Path | None = None,
              run_as: str | None = None) -> str:
    target = "graphical-session.target" if user else "graphical.target"
    exec_start = " ".join(exec_quote(word) for word in [*(command or myco_command()),
                                                        *run_arguments(venue, show, extra)])
    lines = [
        f"# Written by `myco service install` (myco {__version__}); `myco service status` reads it back.",
        "[Unit]",
        f"Description=Myco installation{f' ({venue})' if venue else ''}",
        f"After={target}",
        f"PartOf={target}" if user else "Wants=network-online.target",
        "StartLimitIntervalSec=0",  # a show restarts for ever, never 'failed' after five quick restarts
        "",
        "[Service]",
        "Type=notify",  # started when Myco says READY=1 after its first frame
        "NotifyAccess=main",
        f"WatchdogSec={watchdog_s}",  # WATCHDOG=1 comes only while frames finish
        "Restart=always",
        f"RestartSec={RESTART_S}",
        f"TimeoutStartSec={START_TIMEOUT_S}",
        f"TimeoutStopSec={STOP_TIMEOUT_S}",
        f"Environment=DISPLAY={display}",
        "Environment=PYTHONUNBUFFERED=1",
    ]
    if run_as:
        lines.append(f"User={run_as}")
    lines += [
        f"WorkingDirectory={working_dir or Path.cwd()}",
        f"ExecStart={exec_start}",
        "",
        "[Install]",
        f"WantedBy={target}",
        "",
    ]
    return "\n".join(lines)


def systemctl(user: bool, *words: str) -> list[str]:
    return ["systemctl", *(["--user"] if user else []), *words]


def install_command(args: argparse.Namespace) -> int:
    extra = list(args.run_args)
    if args.watchdog <= 0:
        print("myco service: --watchdog must be a positive number of seconds", file=sys.stderr)
        return 2
    run_as = None if args.user else (os.environ.get("SUDO_USER") or getpass.getuser())
    text = unit_text(user=args.user, venue=args.venue, show=args.show, extra=extra, watchdog_s=args.watchdog,
                     display=args.display, run_as=run_as if run_as != "root" else None)
    path = unit_path(args)
    try:
        atomic_write(path, text.encode(), keep_backups=False)
    except OSError as error:
        hint = "" if args.user else " (a system service needs root: sudo, or use --user)"
        print(f"myco service: cannot write {path}: {error.strerror or error}{hint}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    commands = [systemctl(args.user, "daemon-reload"), systemctl(args.user, "enable", "--now", UNIT_NAME)]
    if args.enable and shutil.which("systemctl"):
        for command in commands:
            done = subprocess.run(command, check=False, timeout=SYSTEMCTL_TIMEOUT_S)
            if done.returncode != 0:
                print(f"myco service: {shlex.join(command)} exited with {done.returncode}", file=sys.stderr)
                return 1
        print(f"enabled and started: {shlex.join(systemctl(args.user, 'status', UNIT_NAME))} shows it")
        return 0
    print("to start it now and at every boot:")
    for command in commands:
        print(f"  {shlex.join(command)}")
    if args.user:
        print(f"  loginctl enable-linger {getpass.getuser()}   # keep the user's services across logouts")
    return 0


@dataclass
class Unit:
    path: Path
    entries: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # section: key: values

    def get(self, section: str, key: str) -> str | None:
        values = self.entries.get(section, {}).get(key)
        return values[-1] if values else None

    def exec_start(self) -> list[str]:
        text = self.get("Service", "ExecStart") or ""
        try:
            return [word.replace("%%", "%").replace("$$", "$") for word in shlex.split(text)]
        except ValueError:
            return text.split()

    def option(self, name: str) -> str | None:
        words = self.exec_start()
        for index, word in enumerate(words):
            if word == name and index + 1 < len(words):
                return words[index + 1]
            if word.startswith(name + "="):
                return word[len(name) + 1:]
        return None


def read_unit(path: Path) -> Unit:
    unit = Unit(path)
    section = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, _, value = line.partition("=")
        unit.entries.setdefault(section, {}).setdefault(key.strip(), []).append(value.strip())
    return unit


def status_command(args: argparse.Namespace) -> int:
    path = unit_path(args)
    if not path.is_file():
        print(f"myco service: no unit at {path}: install it with  myco service install"
              f"{' --user' if args.user else ''} --venue NAME", file=sys.stderr)
        return 1
    unit = read_unit(path)
    exec_start = unit.exec_start()
    print(f"unit: {path}")
    print(f"venue: {unit.option('--venue') or '(none)'}")
    print(f"show: {unit.option('--show') or DEFAULT_SHOW}")
    print(f"type: {unit.get('Service', 'Type')}")
    print(f"watchdog: {unit.get('Service', 'WatchdogSec')} s")
    print(f"restart: {unit.get('Service', 'Restart')} (after {unit.get('Service', 'RestartSec')} s)")
    print(f"after: {unit.get('Unit', 'After')}")
    print(f"runs: {shlex.join(exec_start)}")
    if args.unit_dir is None and shutil.which("systemctl"):
        try:
            done = subprocess.run(systemctl(args.user, "is-active", UNIT_NAME), capture_output=True, text=True,
                                  check=False, timeout=SYSTEMCTL_TIMEOUT_S)
            state = (done.stdout.strip() or done.stderr.strip() or f"exit status {done.returncode}")
        except (OSError, subprocess.TimeoutExpired) as error:
            state = f"systemctl did not answer: {error}"
        print(f"systemd: {state}")
    return 0
