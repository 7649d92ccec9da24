"""A mosquitto set up the way docs/cluster.md tells a venue to set up its cluster's broker.

A certificate authority and a server certificate it signed (openssl), a password file
(mosquitto_passwd), an ACL that confines each venue's members to the venue's namespace, and
persistence so a restarted broker keeps its retained messages and sessions. The security test,
``scripts/soak_cluster.py`` and ``benchmarks/bench_cluster.py`` use it; nothing here imports Qt,
GL or audio libraries.
"""

from __future__ import annotations

import getpass
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests import services
from tests.waiting import wait_for


@dataclass(frozen=True)
class Venue:
    """A venue's namespace (``myco/<name>/cluster``) and its members' user names and passwords."""

    name: str
    members: dict[str, str]

    @property
    def namespace(self) -> str:
        return f"myco/{self.name}/cluster"


@dataclass
class Broker:
    folder: Path
    port: int
    tls: bool
    venues: tuple[Venue, ...] = ()
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def cafile(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def config(self) -> Path:
        return self.folder / "mosquitto.conf"

    def url(self, user: str | None = None, password: str | None = None) -> str:
        credentials = f"{user}:{password}@" if user else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{credentials}127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start (or start again, on the same port and with the same persistence file)."""
        with (self.folder / "mosquitto.log").open("ab") as log:  # the child keeps its own copy of the handle
            self.process = subprocess.Popen([services.require("mosquitto"), "-c", str(self.config)],
                                            stdout=subprocess.DEVNULL, stderr=log)
        wait_for(lambda: services.accepting(self.port), 10, "mosquitto to listen", process=self.process,
                 error=services.ServiceUnavailable)

    def stop(self) -> None:
        if self.process is not None:
            services.stop(self.process)  # SIGTERM: mosquitto writes its persistence file as it exits
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


def make_pki(folder: Path) -> None:
    """``ca.pem`` (a throw-away certificate authority) and ``server.pem``/``server.key`` signed by it."""
    openssl = services.require("openssl")

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], check=True, capture_output=True, timeout=60, cwd=folder)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=Myco test CA",
        "-keyout", "ca.key", "-out", "ca.pem")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr")
    (folder / "server.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1",
        "-extfile", "server.ext", "-out", "server.pem")


def acl(venues: tuple[Venue, ...]) -> str:
    """Each member may read and write its own venue's namespace and nothing else."""
    blocks = [f"user {user}\ntopic readwrite {venue.namespace}/#\n" for venue in venues for user in venue.members]
    return "\n".join(blocks)


def secure_broker(folder: Path, venues: tuple[Venue, ...], *, tls: bool = True) -> Broker:
    """A broker (not yet started) that wants a password, speaks TLS and confines each venue."""
    folder.mkdir(parents=True, exist_ok=True)
    passwd = folder / "passwd"
    passwd.write_text("".join(f"{user}:{password}\n" for venue in venues for user, password in venue.members.items()))
    subprocess.run([services.require("mosquitto_passwd"), "-U", str(passwd)], check=True, capture_output=True,
                   timeout=30)  # -U hashes the plain passwords in place
    (folder / "acl").write_text(acl(venues))
    lines = ["allow_anonymous false", f"password_file {passwd}", f"acl_file {folder / 'acl'}"]
    if tls:
        make_pki(folder)
        lines += [f"cafile {folder / 'ca.pem'}", f"certfile {folder / 'server.pem'}",
                  f"keyfile {folder / 'server.key'}"]
    return _configured(folder, lines, tls, venues)


def plain_broker(folder: Path) -> Broker:
    """An anonymous broker on loopback with persistence (the soak and the benchmark: no TLS to time)."""
    folder.mkdir(parents=True, exist_ok=True)
    return _configured(folder, ["allow_anonymous true"], False, ())


def _configured(folder: Path, security: list[str], tls: bool, venues: tuple[Venue, ...]) -> Broker:
    port = services.free_port()
    # `user`: run as whoever runs the tests, so the broker can read the private test folder.
    # `listener` first: the security lines after it apply to it (per_listener_settings is off).
    lines = [f"user {getpass.getuser()}", f"listener {port} 127.0.0.1", *security,
             "persistence true", f"persistence_location {folder}/", "autosave_interval 1"]
    (folder / "mosquitto.conf").write_text("\n".join(lines) + "\n")
    return Broker(folder, port, tls, venues)
