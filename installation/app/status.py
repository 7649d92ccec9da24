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
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from installation.app.metrics import to_prometheus

log = logging.getLogger(__name__)

DEFAULT_ADDRESS = "127.0.0.1:8765"
OUTPUT_PREVIEW_KEEP_S = 10.0  # an output's preview is rendered while asked for this recently
OUTPUT_PREVIEW_WAIT_S = 3.0  # the first request for an output's preview waits this long for it
PREVIEW_WIDTH = 480  # /preview.png: small enough to poll from a phone, big enough to see the show
NOT_FOUND = (b'{"error":"not found: try /status, /metrics, /preview.png (not with --no-visuals) or '
             b'/preview.png?output=NAME (an output of the windows)"}\n')


class PreviewNotReady(Exception):
    """An output's preview was asked for and the app has not rendered one in time (503)."""


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
        self._output_previews: dict[str, bytes] = {}
        self._outputs: list[str] = []  # the outputs ?output= may name
        self._asked: dict[str, float] = {}  # output name: when a client last asked for its preview
        self._preview_ready = threading.Condition(self._lock)
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

    def publish_preview(self, png: bytes, output: str | None = None) -> None:
        """A small PNG for ``/preview.png`` (the whole picture: the app sends one a second, headless
        too), or for ``/preview.png?output=NAME``: what that output shows, mapping included."""
        with self._lock:
            if output is None:
                self._preview = png
            else:
                self._output_previews[output] = png
                self._preview_ready.notify_all()

    def set_outputs(self, names: list[str]) -> None:
        with self._lock:
            self._outputs = list(names)

    def wanted_outputs(self) -> list[str]:
        """The outputs whose preview a client asked for in the last :data:`OUTPUT_PREVIEW_KEEP_S`
        (only those are rendered for it)."""
        now = time.monotonic()
        with self._lock:
            return [name for name, asked in self._asked.items() if now - asked < OUTPUT_PREVIEW_KEEP_S]

    def _output_preview(self, name: str) -> tuple[bytes, str] | None:
        """Called with the lock held. The first request waits for the app's next preview."""
        if name not in self._outputs:
            return None
        self._asked[name] = time.monotonic()
        if name not in self._output_previews:
            self._preview_ready.wait_for(lambda: name in self._output_previews, OUTPUT_PREVIEW_WAIT_S)
        found = self._output_previews.get(name)
        if found is None:
            raise PreviewNotReady(name)
        return found, "image/png"

    def authorised(self, header: str | None, query: str) -> bool:
        if self._token is None:
            return True
        offered = ""
        if header and header.startswith("Bearer "):
            offered = header[len("Bearer "):].strip()
        elif query:
            offered = (parse_qs(query).get("token") or [""])[0]
        return hmac.compare_digest(offered.encode(), self._token.encode())

    def body(self, path: str, query: str = "") -> tuple[bytes, str] | None:
        with self._lock:
            output = (parse_qs(query).get("output") or [""])[0]
            if path == "/preview.png" and output:
                return self._output_preview(output)
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
            try:
                found = server.body(path, parts.query)
            except PreviewNotReady as error:
                self._reply(503, json.dumps({"error": f"the preview of output {error} is not ready yet"}).encode(),
                            "application/json", {"Retry-After": "1"})
                return
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
