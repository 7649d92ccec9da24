"""The operators' status page: ``/status`` (JSON), ``/metrics`` (Prometheus), ``/preview.png``,
the remote control (``POST /control``, ``GET /log``) and a page for a phone at ``/``.

The app builds one status dict per second from the engine (in the engine's thread) and
hands it to :meth:`StatusServer.publish`; the HTTP thread only serialises the latest
snapshot, so a slow or hostile client can never touch the engine or stall a frame.
``POST /control`` only posts a :class:`~installation.core.events.CommandInput` through the
``control`` callback (the engine's input queue), parsed exactly as OSC's
``/myco/command/<name>``; the engine's one dispatcher carries it out.

Binding anything but loopback needs a token, checked on every request (header
``Authorization: Bearer TOKEN`` or ``?token=TOKEN``), so the status page is never open to
the whole network by accident. The page at ``/`` itself holds no data and is served to
anyone; everything it shows or does goes through the guarded endpoints. The control is
also refused (403) to a client beyond loopback when no token is set, and to a browser page
of another origin; it takes only ``Content-Type: application/json`` (a form of another
site cannot send that without the browser asking first), and each client address gets
:data:`CONTROL_RATE` requests a second with bursts of :data:`CONTROL_BURST` (429 beyond).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import ipaddress
import json
import logging
import math
import socket
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from installation.app.metrics import to_prometheus
from installation.core.commands import SPECS
from installation.core.events import CommandInput
from installation.nodes.codec import COMMAND_PREFIX, decode_osc

log = logging.getLogger(__name__)

DEFAULT_ADDRESS = "127.0.0.1:8765"
OUTPUT_PREVIEW_KEEP_S = 10.0  # an output's preview is rendered while asked for this recently
OUTPUT_PREVIEW_WAIT_S = 3.0  # the first request for an output's preview waits this long for it
PREVIEW_WIDTH = 480  # /preview.png: small enough to poll from a phone, big enough to see the show
NOT_FOUND = (b'{"error":"not found: try /status, /metrics, /preview.png (not with --no-visuals), '
             b'/preview.png?output=NAME (an output of the windows), /log?lines=N, /healthz or POST /control"}\n')
CONTROL_COMMANDS = tuple(command.value for command, spec in SPECS.items() if not spec.midi_only)
CONTROL_MAX_BODY = 4096  # bytes of a POST /control body
CONTROL_RATE = 5.0  # requests a second each client address may make to /control and /log ...
CONTROL_BURST = 10  # ... with bursts of this many; a wrong token costs one as well
SKIP_BODY_MAX = 65536  # a refused body is read away up to this much, then the connection is closed
LOG_DEFAULT_LINES = 50
LOG_MAX_LINES = 200
RATE_CLIENTS_MAX = 1024  # client addresses remembered by the rate limit (idle ones are forgotten first)
PAGE_HEADERS = {  # the page's own: no framing (a tap on a hidden frame), no referrer, nothing from elsewhere
    "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                               "img-src 'self' blob: data:; connect-src 'self'; frame-ancestors 'none'; "
                               "base-uri 'none'; form-action 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

Control = Callable[[CommandInput], bool]  # posts one command to the engine; False when its queue is full
LogLines = Callable[[int], list[dict[str, Any]]]  # the operator log's last N entries, oldest first
FrameAge = Callable[[], float | None]  # seconds since the world's last finished frame, None before the first
HEALTHZ_LIMIT_S = 10.0  # /healthz answers 503 when the last frame is older than this
HEALTHZ_GRACE_S = 60.0  # ... or when there has been no frame at all this long after start


def page_html() -> bytes:
    """The remote page shipped in the package (``installation/app/page/index.html``)."""
    return resources.files("installation.app").joinpath("page/index.html").read_bytes()


class ControlError(ValueError):
    """A control request that cannot be carried out: its HTTP status and a reason for the client."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def parse_control(body: bytes) -> CommandInput:
    """A ``POST /control`` JSON body, ``{"command": NAME, "argument": ...}``, to a command.

    The argument (a string, a number or a boolean; absent for none) is read exactly as OSC
    reads ``/myco/command/NAME ARGUMENT`` (:func:`installation.nodes.codec.decode_osc`).
    Raises :class:`ControlError` (400) with the reason.
    """
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ControlError(400, f"the body is not JSON: {str(error)[:120]}") from None
    if not isinstance(data, dict):
        raise ControlError(400, 'the body must be a JSON object like {"command": "blackout", "argument": "on"}')
    unknown = sorted(set(data) - {"command", "argument"})
    if unknown:
        raise ControlError(400, f"unknown field {unknown[0][:40]!r}: a body has 'command' and 'argument'")
    name = data.get("command")
    if not isinstance(name, str) or name not in CONTROL_COMMANDS:
        shown = name[:40] if isinstance(name, str) else name
        raise ControlError(400, f"unknown command {shown!r} (one of: {', '.join(CONTROL_COMMANDS)})")
    argument = data.get("argument")
    if argument is not None and not isinstance(argument, (str, int, float, bool)):
        raise ControlError(400, "the argument is a string, a number or a boolean")
    if isinstance(argument, float) and not math.isfinite(argument):
        raise ControlError(400, "the argument is not a finite number")
    decoded = decode_osc(COMMAND_PREFIX + name, [] if argument is None or argument == "" else [argument])
    if not isinstance(decoded, CommandInput):
        detail = getattr(decoded, "detail", "") or getattr(decoded, "reason", "")
        raise ControlError(400, f"bad argument for {name}: {detail}")
    return dataclasses.replace(decoded, source="http")


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


class RateLimit:
    """A token bucket per client address: ``rate`` a second, up to ``burst`` at once."""

    def __init__(self, rate: float = CONTROL_RATE, burst: int = CONTROL_BURST) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}  # address: (tokens, when counted)
        self._lock = threading.Lock()

    def allow(self, client: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, then = self._buckets.get(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[client] = (tokens, now)
            if len(self._buckets) > RATE_CLIENTS_MAX:  # forget the longest idle (a full bucket again)
                oldest = min(self._buckets, key=lambda key: self._buckets[key][1])
                del self._buckets[oldest]
            return allowed


def is_loopback_client(address: str) -> bool:
    """A client's address (as the socket gives it; IPv4 mapped into IPv6 too) is this machine."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return bool((mapped or ip).is_loopback)


def loopback_host_header(host: str) -> bool:
    """A ``Host`` header naming this machine (a page of a rebound DNS name names its own)."""
    name = host.strip()
    if name.startswith("["):
        name = name[1:].partition("]")[0]
    elif name.count(":") == 1:
        name = name.partition(":")[0]
    return is_loopback(name.lower())


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

    def __init__(self, host: str, port: int, token: str | None = None, control: Control | None = None,
                 log_lines: LogLines | None = None, rate_limit: RateLimit | None = None,
                 frame_age: FrameAge | None = None, healthz_limit_s: float = HEALTHZ_LIMIT_S,
                 startup_grace_s: float = HEALTHZ_GRACE_S) -> None:
        check_policy(host, token)
        self._token = token or None
        self._control = control
        self._log_lines = log_lines
        self._frame_age = frame_age  # asked at each request: a hung frame loop publishes nothing
        self.healthz_limit_s = healthz_limit_s
        self.startup_grace_s = startup_grace_s
        self._created = time.monotonic()
        self.rate_limit = rate_limit or RateLimit()
        self._page = page_html()
        self._lock = threading.Lock()
        self._status: dict[str, Any] = {"state": "starting"}
        self._body_json = json.dumps(self._status).encode()
        self._body_metrics = to_prometheus(self._status).encode()
        self._preview: bytes | None = None
        self._output_previews: dict[str, bytes] = {}
        self._outputs: list[str] = []  # the outputs ?output= may name
        self._asked: dict[str, float] = {}  # output name: when a client last asked for its preview
        self._preview_ready = threading.Condition(self._lock)
        self.refused = 0  # requests refused for a wrong or missing token (401) or from where not allowed (403)
        self.rate_limited = 0  # 429s
        self.accepted = 0  # commands posted to the engine
        self.rejected = 0  # control requests refused as malformed (400, 413, 415)
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
        log.info("status on %s/status and %s/metrics, the remote page on %s/", self.url, self.url, self.url)
        return self

    def stop(self) -> None:
        """Stop serving and join the thread (idempotent)."""
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join(5.0)
        self._httpd.server_close()

    def counters(self) -> dict[str, Any]:
        """The server's own figures, served in ``/status`` under ``status_server``."""
        return {"refused": self.refused, "rate_limited": self.rate_limited, "accepted": self.accepted,
                "rejected": self.rejected, "control": self._control is not None,
                "commands": list(CONTROL_COMMANDS)}

    def count(self, what: str) -> None:
        with self._lock:
            setattr(self, what, getattr(self, what) + 1)

    def publish(self, status: Mapping[str, Any]) -> None:
        """Replace the snapshot served to clients (rendered here, once, not per request)."""
        document = {**status, "status_server": self.counters()}
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

    @property
    def token_required(self) -> bool:
        return self._token is not None

    def authorised(self, header: str | None, query: str) -> bool:
        if self._token is None:
            return True
        offered = ""
        if header and header.startswith("Bearer "):
            offered = header[len("Bearer "):].strip()
        elif query:
            offered = (parse_qs(query).get("token") or [""])[0]
        # digests of equal length, compared in constant time: neither the token nor its length shows in timing
        return hmac.compare_digest(hashlib.sha256(offered.encode()).digest(),
                                   hashlib.sha256(self._token.encode()).digest())

    def control(self, body: bytes) -> CommandInput:
        """Parse a ``POST /control`` body and post its command; raises :class:`ControlError`."""
        if self._control is None:
            raise ControlError(503, "this server takes no commands")
        try:
            item = parse_control(body)
        except ControlError:
            self.count("rejected")
            raise
        if not self._control(item):
            raise ControlError(503, "the engine's input queue is full: try again")
        self.count("accepted")
        log.info("command %s %s from the status server", item.command, item.argument)
        return item

    def log_lines(self, query: str) -> list[dict[str, Any]]:
        """``GET /log?lines=N``: the operator log's last N entries (default 50, at most 200)."""
        text = (parse_qs(query).get("lines") or [str(LOG_DEFAULT_LINES)])[0]
        if not text.isdigit() or not 1 <= int(text) <= LOG_MAX_LINES:
            raise ControlError(400, f"lines must be a number from 1 to {LOG_MAX_LINES}")
        return self._log_lines(int(text)) if self._log_lines is not None else []

    def body(self, path: str, query: str = "") -> tuple[bytes, str] | None:
        with self._lock:
            output = (parse_qs(query).get("output") or [""])[0]
            if path == "/preview.png" and output:
                return self._output_preview(output)
            if path == "/status":
                return self._with_age_json(self._body_json), "application/json"
            if path == "/metrics":
                return self._with_age_metrics(self._body_metrics), "text/plain; version=0.0.4; charset=utf-8"
            if path == "/preview.png" and self._preview is not None:
                return self._preview, "image/png"
        return None

    # -- the age of the last frame, at the moment of asking ----------------------------------
    def last_frame_age(self) -> float | None:
        """Seconds since the world's last finished frame, computed now (None: no frame yet, or not known)."""
        if self._frame_age is None:
            return None
        try:
            age = self._frame_age()
        except Exception as error:  # the status thread must answer whatever the app's state
            log.debug("frame age: %s", error)
            return None
        return None if age is None else round(float(age), 3)

    def _with_age_json(self, body: bytes) -> bytes:
        """The published snapshot with ``last_frame_age_s`` added (spliced in, not re-rendered)."""
        if self._frame_age is None or not body.endswith(b"}"):
            return body
        return body[:-1] + b',"last_frame_age_s":' + json.dumps(self.last_frame_age()).encode() + b"}"

    def _with_age_metrics(self, body: bytes) -> bytes:
        age = self.last_frame_age()
        if age is None:
            return body
        return body + (b"# HELP myco_last_frame_age_seconds Seconds since the world's last finished frame.\n"
                       b"# TYPE myco_last_frame_age_seconds gauge\n"
                       b"myco_last_frame_age_seconds %.3f\n" % age)

    def health(self, query: str = "") -> tuple[int, dict[str, Any]]:
        """``GET /healthz[?limit=S]``: 200 while frames are fresh (or Myco is still starting), else 503."""
        text = (parse_qs(query).get("limit") or [""])[0]
        try:
            limit = float(text) if text else self.healthz_limit_s
        except ValueError:
            limit = math.nan
        if not limit > 0 or math.isinf(limit):
            return 400, {"ok": False, "error": "limit must be a positive number of seconds"}
        age = self.last_frame_age()
        document: dict[str, Any] = {"last_frame_age_s": age, "limit_s": limit}
        if self._frame_age is None:
            return 200, {"ok": True, **document, "frames": "not watched"}
        if age is None:
            waited = time.monotonic() - self._created
            if waited < self.startup_grace_s:
                return 200, {"ok": True, **document, "starting": True}
            return 503, {"ok": False, **document, "error": f"no frame in the {waited:.0f} s since start"}
        if age > limit:
            return 503, {"ok": False, **document, "error": f"the last frame is {age:.1f} s old"}
        return 200, {"ok": True, **document}


def _handler_for(server: StatusServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "myco-status"
        timeout = 10

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            path = parts.path.rstrip("/") or "/"
            if path in ("/", "/index.html"):  # the page holds no data: it asks the guarded endpoints
                self._reply(200, server._page, "text/html; charset=utf-8", PAGE_HEADERS)
                return
            if path == "/control":
                self._error(405, "POST a JSON command to /control", {"Allow": "POST"})
                return
            if not self._admitted(parts.query, limited=path == "/log"):
                return
            if path == "/log":
                try:
                    lines = server.log_lines(parts.query)
                except ControlError as error:
                    self._error(error.code, error.reason)
                    return
                self._reply(200, json.dumps({"lines": lines}, default=str).encode(), "application/json")
                return
            if path == "/healthz":
                code, health = server.health(parts.query)
                self._reply(code, json.dumps(health).encode() + b"\n", "application/json")
                return
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

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            path = parts.path.rstrip("/") or "/"
            length_text = (self.headers.get("Content-Length") or "").strip()
            length = int(length_text) if length_text.isdigit() else None
            if path != "/control":
                self._skip_body(length)
                self._error(405 if path in ("/", "/status", "/metrics", "/preview.png", "/log") else 404,
                            "only /control takes a POST", {"Allow": "GET"})
                return
            if not self._admitted(parts.query, limited=True, control=True):
                self._skip_body(length)
                return
            kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            problem: ControlError | None = None
            if kind != "application/json":
                problem = ControlError(415, "send the command as JSON (Content-Type: application/json)")
            elif length is None:
                problem = ControlError(411, "a Content-Length is required")
            elif length > CONTROL_MAX_BODY:
                problem = ControlError(413, f"the body is over {CONTROL_MAX_BODY} bytes")
            if problem is not None:
                server.count("rejected")
                self._skip_body(length)
                self._error(problem.code, problem.reason)
                return
            body = self.rfile.read(length or 0)
            try:
                item = server.control(body)
            except ControlError as error:
                self._error(error.code, error.reason)
                return
            self._reply(202, json.dumps({"accepted": {"command": item.command.value,
                                                      "argument": item.argument}}).encode(), "application/json")

        def _admitted(self, query: str, limited: bool, control: bool = False) -> bool:
            """Rate limit (``limited``), token, and for the control where it may come from; replies if not."""
            client = str(self.client_address[0])
            authorised = server.authorised(self.headers.get("Authorization"), query)
            if (limited or not authorised) and not server.rate_limit.allow(client):
                server.count("rate_limited")
                self._error(429, f"too many requests: at most {CONTROL_RATE:g} a second", {"Retry-After": "1"})
                return False
            if not authorised:
                server.count("refused")
                self._error(401, "token required: send 'Authorization: Bearer TOKEN' (the --status-token)",
                            {"WWW-Authenticate": 'Bearer realm="myco"'})
                return False
            if control and not server.token_required and not (
                    is_loopback_client(client) and loopback_host_header(self.headers.get("Host") or "")):
                server.count("refused")
                self._error(403, "control from beyond this machine needs a token: start with --status-token TOKEN")
                return False
            origin = self.headers.get("Origin")
            if control and origin is not None and urlsplit(origin).netloc != (self.headers.get("Host") or ""):
                server.count("refused")
                self._error(403, "a page of another site cannot control this one")
                return False
            return True

        def _skip_body(self, length: int | None) -> None:
            """Read a refused body away (a little of it), so the client reads the answer, not a reset."""
            self.close_connection = True
            left = min(length or 0, SKIP_BODY_MAX)
            while left > 0:
                chunk = self.rfile.read(min(left, 4096))
                if not chunk:
                    return
                left -= len(chunk)

        def _error(self, code: int, reason: str, headers: Mapping[str, str] | None = None) -> None:
            self._reply(code, json.dumps({"error": reason}).encode() + b"\n", "application/json", headers)

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
