"""The operators' status page: ``/status`` (JSON), ``/metrics`` (Prometheus), ``/preview.png``.

The app builds one status dict per second from the engine (in the engine's thread) and
hands it to :meth:`StatusServer.publish`; the HTTP thread only serialises the latest
snapshot, so a slow or hostile client can never touch the engine or stall a frame.

Binding anything but loopback needs a token, checked on every request (header
``Authorization: Bearer TOKEN`` or ``?token=TOKEN``), so the status page is never open to
the whole network by accident.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import socket
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from installation.app.metrics import to_prometheus

log = logging.getLogger(__name__)

DEFAULT_ADDRESS = "127.0.0.1:8765"
PREVIEW_WIDTH = 480  # /preview.png: small enough to poll from a phone, big enough to see the show
NOT_FOUND = b'{"error":"not found: try /status, /metrics or /preview.png (not with --no-visuals)"}\n'


class StatusConfigError(ValueError):
    """The --status address or token is not usable; the message says how to fix it."""


def parse_address(text: str, what: str = "status", example: str = DEFAULT_ADDRESS) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` for IPv6) to a host and port."""
    host, sep, port_text = text.strip().rpartition(":")
    if not sep or not host:
        raise StatusConfigError(f"{what} address {text!r} is not HOST:PORT (e.g. {example})")
    host = host.strip("[]")
    try:
        port = int(port_text)
    except ValueError:
        raise StatusConfigError(f"{what} port {port_text!r} is not a number") from None
    if not 0 <= port <= 65535:
        raise StatusConfigError(f"{what} port {port} is out of range 0..65535")
    return host, port


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_policy(host: str, token: str | None) -> None:
    """Refuse to serve beyond this machine without a token."""
    if not is_loopback(host) and not token:
        raise StatusConfigError(
            f"refusing to serve status on {host}, which is reachable from other machines, without a token: "
            "add --status-token TOKEN (clients send 'Authorization: Bearer TOKEN' or ?token=TOKEN), "
            f"or use --status {DEFAULT_ADDRESS}")


class StatusServer:
    """A small HTTP server in one daemon thread, serving the latest published status."""

    def __init__(self, host: str, port: int, token: str | None = None) -> None:
        check_policy(host, token)
        self._token = token or None
        self._lock = threading.Lock()
        self._status: dict[str, Any] = {"state": "starting"}
        self._body_json = json.dumps(self._status).encode()
        self._body_metrics = to_prometheus(self._status).encode()
        self._preview: bytes | None = None
        self.refused = 0
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        server_class = type("_Server", (ThreadingHTTPServer,), {"address_family": family, "daemon_threads": True})
        try:
            self._httpd = server_class((host, port), _handler_for(self))
        except OSError as error:
            raise StatusConfigError(f"cannot serve status on {host}:{port}: {error.strerror or error}") from None
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="myco-status", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._httpd.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://{'[' + host + ']' if ':' in host else host}:{port}"

    def start(self) -> StatusServer:
        self._thread.start()
        log.info("status on %s/status and %s/metrics", self.url, self.url)
        return self

    def stop(self) -> None:
        """Stop serving and join the thread (idempotent)."""
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join(5.0)
        self._httpd.server_close()

    def publish(self, status: Mapping[str, Any]) -> None:
        """Replace the snapshot served to clients (rendered here, once, not per request)."""
        document = dict(status)
        body_json = json.dumps(document, separators=(",", ":"), default=str).encode()
        body_metrics = to_prometheus(document).encode()
        with self._lock:
            self._status = document
            self._body_json = body_json
            self._body_metrics = body_metrics

    def publish_preview(self, png: bytes) -> None:
        """A small PNG of the output for ``/preview.png`` (the app sends one a second, headless too)."""
        with self._lock:
            self._preview = png

    def authorised(self, header: str | None, query: str) -> bool:
        if self._token is None:
            return True
        offered = ""
        if header and header.startswith("Bearer "):
            offered = header[len("Bearer "):].strip()
        elif query:
            offered = (parse_qs(query).get("token") or [""])[0]
        return hmac.compare_digest(offered.encode(), self._token.encode())

    def body(self, path: str) -> tuple[bytes, str] | None:
        with self._lock:
            if path == "/status":
                return self._body_json, "application/json"
            if path == "/metrics":
                return self._body_metrics, "text/plain; version=0.0.4; charset=utf-8"
            if path == "/preview.png" and self._preview is not None:
                return self._preview, "image/png"
        return None


def _handler_for(server: StatusServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "myco-status"
        timeout = 10

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if not server.authorised(self.headers.get("Authorization"), parts.query):
                server.refused += 1
                self._reply(401, b'{"error":"token required"}\n', "application/json",
                            {"WWW-Authenticate": 'Bearer realm="myco"'})
                return
            path = parts.path.rstrip("/") or "/"
            if path == "/":
                path = "/status"
            found = server.body(path)
            if found is None:
                self._reply(404, NOT_FOUND, "application/json")
                return
            self._reply(200, *found)

        def _reply(self, code: int, body: bytes, content_type: str,
                   headers: Mapping[str, str] | None = None) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("status %s: " + format, self.client_address[0], *args)

    return Handler
