"""The remote control over real HTTP on loopback: POST /control, GET /log, the page at /, and refusals."""

from __future__ import annotations

import http.client
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from installation.app import status as status_module
from installation.app.status import (
    CONTROL_BURST,
    CONTROL_COMMANDS,
    CONTROL_MAX_BODY,
    ControlError,
    RateLimit,
    StatusServer,
    is_loopback_client,
    parse_control,
)
from installation.core.commands import SPECS, Command
from installation.core.events import CommandInput

TOKEN = "s3cret-venue-token"


class Engine:
    """The control and log callbacks as the runtime hands them: what was posted, and a log."""

    def __init__(self) -> None:
        self.posted: list[CommandInput] = []
        self.full = False
        self.log = [{"time": f"2026-01-01T00:00:{i:02d}", "t": float(i), "source": "engine", "message": f"line {i}"}
                    for i in range(60)]

    def put(self, item: CommandInput) -> bool:
        if self.full:
            return False
        self.posted.append(item)
        return True

    def last(self, count: int) -> list[dict[str, Any]]:
        return self.log[-count:]


def call(url: str, method: str = "GET", body: bytes | dict[str, Any] | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, Any, Any]:
    """(status, headers, JSON or text body) of one request."""
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    sent = {"Content-Type": "application/json"} if data is not None else {}
    sent.update(headers or {})
    request = urllib.request.Request(url, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            code, got, raw = reply.status, reply.headers, reply.read()
    except urllib.error.HTTPError as error:
        code, got, raw = error.code, error.headers, error.read()
    text = raw.decode()
    return code, got, json.loads(text) if got.get("Content-Type") == "application/json" else text


@pytest.fixture
def engine() -> Engine:
    return Engine()


@pytest.fixture
def server(engine: Engine) -> Iterator[StatusServer]:
    running = StatusServer("127.0.0.1", 0, control=engine.put, log_lines=engine.last).start()
    running.publish({"act": "The living city"})
    yield running
    running.stop()


@pytest.fixture
def guarded(engine: Engine) -> Iterator[StatusServer]:
    running = StatusServer("127.0.0.1", 0, token=TOKEN, control=engine.put, log_lines=engine.last).start()
    yield running
    running.stop()


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_command_reaches_the_engine_with_its_parsed_argument(server: StatusServer, engine: Engine) -> None:
    code, _, body = call(server.url + "/control", "POST", {"command": "blackout", "argument": "on"})
    assert code == 202 and body == {"accepted": {"command": "blackout", "argument": "on"}}
    # parsed as OSC parses /myco/command/NAME: numbers and booleans too
    assert call(server.url + "/control", "POST", {"command": "jump_act", "argument": 2})[0] == 202
    assert call(server.url + "/control", "POST", {"command": "loop", "argument": True})[0] == 202
    assert call(server.url + "/control", "POST", {"command": "pause", "argument": 0.0})[0] == 202
    assert call(server.url + "/control", "POST", {"command": "next_act"})[0] == 202
    assert call(server.url + "/control", "POST", {"command": "preset", "argument": "elara-2-unveiled"})[0] == 202
    assert [(item.command, item.argument, item.source) for item in engine.posted] == [
        (Command.BLACKOUT, "on", "http"), (Command.JUMP_ACT, "2", "http"), (Command.LOOP, "on", "http"),
        (Command.PAUSE, "off", "http"), (Command.NEXT_ACT, "", "http"), (Command.PRESET, "elara-2-unveiled", "http")]
    assert call(server.url + "/status")[2]["act"] == "The living city"
    server.publish({"act": "The living city"})  # the counters go out with the next snapshot
    assert call(server.url + "/status")[2]["status_server"]["accepted"] == 6


def test_every_command_but_the_midi_only_ones_is_offered() -> None:
    assert set(CONTROL_COMMANDS) == {c.value for c, spec in SPECS.items() if not spec.midi_only}
    assert "tap_tempo" not in CONTROL_COMMANDS and "learn" not in CONTROL_COMMANDS
    assert {"blackout", "next_act", "previous_act", "jump_act", "preset", "pause", "loop", "panic"} <= set(
        CONTROL_COMMANDS)


@pytest.mark.parametrize("body, reason", [
    ({"command": "tap_tempo"}, "unknown command 'tap_tempo'"),
    ({"command": "self_destruct"}, "unknown command"),
    ({"argument": "on"}, "unknown command None"),
    ({"command": "blackout", "argument": "maybe"}, "bad argument for blackout"),
    ({"command": "jump_act", "argument": "third"}, "bad argument for jump_act"),
    ({"command": "jump_act"}, "bad argument for jump_act"),
    ({"command": "preset"}, "bad argument for preset"),
    ({"command": "blackout", "argument": ["on"]}, "a string, a number or a boolean"),
    ({"command": "blackout", "value": "on"}, "unknown field 'value'"),
    (b'{"command": "blackout",', "not JSON"),
    (b'{"command": "jump_act", "argument": NaN}', "not JSON"),
    (b'["blackout"]', "must be a JSON object"),
    (b"\xff\xfe", "not JSON"),
])
def test_a_bad_command_argument_or_body_is_400_with_the_reason(server: StatusServer, engine: Engine,
                                                              body: bytes | dict[str, Any], reason: str) -> None:
    code, _, reply = call(server.url + "/control", "POST", body)
    assert code == 400 and reason in reply["error"], reply
    assert engine.posted == []
    assert server.rejected == 1


def test_the_body_must_be_json_and_small(server: StatusServer, engine: Engine) -> None:
    # a form of another site can post text/plain or form data without asking first; never JSON
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    code, _, reply = call(server.url + "/control", "POST", b"command=blackout&argument=on", form)
    assert code == 415 and "application/json" in reply["error"]
    code, _, reply = call(server.url + "/control", "POST", b'{"command":"blackout"}', {"Content-Type": "text/plain"})
    assert code == 415
    padded = {"command": "blackout", "argument": "on " + " " * CONTROL_MAX_BODY}
    code, _, reply = call(server.url + "/control", "POST", padded)
    assert code == 413 and "4096 bytes" in reply["error"]
    assert engine.posted == []
    # a missing Content-Length is refused rather than waited on
    connection = http.client.HTTPConnection(*server.address, timeout=5)
    connection.putrequest("POST", "/control")
    connection.putheader("Content-Type", "application/json")
    connection.endheaders()
    assert connection.getresponse().status == 411
    connection.close()


def test_get_on_control_is_405_and_post_elsewhere_too(server: StatusServer) -> None:
    code, headers, _ = call(server.url + "/control")
    assert code == 405 and headers["Allow"] == "POST"
    code, headers, _ = call(server.url + "/status", "POST", {"command": "blackout"})
    assert code == 405 and headers["Allow"] == "GET"


def test_the_token_is_required_and_compared(guarded: StatusServer, engine: Engine) -> None:
    order = {"command": "blackout", "argument": "on"}
    code, headers, reply = call(guarded.url + "/control", "POST", order)
    assert code == 401 and headers["WWW-Authenticate"] == 'Bearer realm="myco"' and "token" in reply["error"]
    assert call(guarded.url + "/control", "POST", order, bearer("wrong"))[0] == 401
    assert call(guarded.url + "/control", "POST", order, bearer(TOKEN[:-1]))[0] == 401  # a prefix is not it
    assert call(guarded.url + "/control", "POST", order, bearer(TOKEN + "x"))[0] == 401
    assert engine.posted == []
    assert call(guarded.url + "/control", "POST", order, bearer())[0] == 202
    assert [item.command for item in engine.posted] == [Command.BLACKOUT]
    assert call(guarded.url + "/log", headers=bearer("wrong"))[0] == 401
    assert call(guarded.url + "/log", headers=bearer())[0] == 200
    assert guarded.refused == 5
    # the page itself holds nothing and is served to anyone; the data it asks for is guarded
    code, headers, page = call(guarded.url + "/")
    assert code == 200 and headers["Content-Type"] == "text/html; charset=utf-8" and "<title>Myco" in page


def test_the_token_check_is_constant_time(monkeypatch: pytest.MonkeyPatch, guarded: StatusServer) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = status_module.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(status_module.hmac, "compare_digest", spy)
    assert not guarded.authorised("Bearer x", "") and guarded.authorised(f"Bearer {TOKEN}", "")
    assert len(compared) == 2 and all(len(a) == len(b) == 32 for a, b in compared)  # digests: length hidden too


def test_the_rate_limit_per_client(server: StatusServer, engine: Engine) -> None:
    order = {"command": "next_act"}
    replies = [call(server.url + "/control", "POST", order) for _ in range(CONTROL_BURST)]
    assert [code for code, _, _ in replies] == [202] * CONTROL_BURST  # the burst
    for _ in range(40):  # 5 a second come back: a slow machine may see one of them go through
        code, headers, reply = call(server.url + "/control", "POST", order)
        if code == 429:
            break
    assert code == 429 and headers["Retry-After"] == "1" and "too many" in reply["error"]
    assert server.rate_limited == 1 and len(engine.posted) == server.accepted
    server.publish({})
    assert call(server.url + "/status")[2]["status_server"]["rate_limited"] == server.rate_limited  # not limited


def test_the_token_bucket_refills() -> None:
    limit = RateLimit(rate=5.0, burst=10)
    assert all(limit.allow("a", now=100.0) for _ in range(10))
    assert not limit.allow("a", now=100.0)
    assert limit.allow("b", now=100.0)  # each client address has its own
    assert limit.allow("a", now=100.2) and not limit.allow("a", now=100.2)  # 5 a second
    assert sum(limit.allow("a", now=200.0) for _ in range(20)) == 10  # refilled, never beyond the burst


def test_wrong_tokens_are_rate_limited_too(guarded: StatusServer) -> None:
    codes = [call(guarded.url + "/status", headers=bearer("guess"))[0] for _ in range(CONTROL_BURST + 10)]
    assert codes[:CONTROL_BURST] == [401] * CONTROL_BURST and 429 in codes[CONTROL_BURST:]


def non_loopback_address() -> str | None:
    """This machine's address on its network (no packet is sent), or None where it has none."""
    for target in ("10.255.255.255", "192.0.2.1", "203.0.113.1"):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.connect((target, 9))
            except OSError:
                continue
            address = str(probe.getsockname()[0])
        if not is_loopback_client(address):
            return address
    return None


def test_control_from_beyond_loopback_without_a_token_is_403(monkeypatch: pytest.MonkeyPatch,
                                                              engine: Engine) -> None:
    address = non_loopback_address()
    # the policy refuses to bind beyond loopback without a token; force it, to see the control refuse too
    monkeypatch.setattr(status_module, "check_policy", lambda host, token: None)
    running = StatusServer("0.0.0.0", 0, control=engine.put, log_lines=engine.last).start()
    try:
        port = running.address[1]
        if address is not None:
            assert call(f"http://127.0.0.1:{port}/control", "POST", {"command": "blackout"})[0] == 202
        else:  # a machine on no network: the loopback client taken for a distant one
            address = "127.0.0.1"
            monkeypatch.setattr(status_module, "is_loopback_client", lambda client: False)
        code, _, reply = call(f"http://{address}:{port}/control", "POST", {"command": "blackout"})
        assert code == 403 and "--status-token" in reply["error"]
        assert running.refused == 1 and len(engine.posted) <= 1
    finally:
        running.stop()


def test_control_refuses_other_sites_pages(server: StatusServer, engine: Engine) -> None:
    order = {"command": "blackout", "argument": "on"}
    own = server.url
    assert call(server.url + "/control", "POST", order, {"Origin": own})[0] == 202
    code, _, reply = call(server.url + "/control", "POST", order, {"Origin": "http://evil.example"})
    assert code == 403 and "another site" in reply["error"]
    assert call(server.url + "/control", "POST", order, {"Origin": "null"})[0] == 403  # a sandboxed frame
    # a page of a DNS name rebound to 127.0.0.1 names its own host: without a token, refused
    assert call(server.url + "/control", "POST", order, {"Host": f"evil.example:{server.address[1]}"})[0] == 403
    assert len(engine.posted) == 1


def test_a_full_engine_queue_is_503(server: StatusServer, engine: Engine) -> None:
    engine.full = True
    code, _, reply = call(server.url + "/control", "POST", {"command": "panic"})
    assert code == 503 and "queue is full" in reply["error"]


def test_a_server_without_control_takes_no_commands() -> None:
    running = StatusServer("127.0.0.1", 0).start()
    try:
        code, _, reply = call(running.url + "/control", "POST", {"command": "panic"})
        assert code == 503 and "no commands" in reply["error"]
        assert call(running.url + "/log")[2] == {"lines": []}
    finally:
        running.stop()


def test_log_gives_the_last_lines(server: StatusServer) -> None:
    code, _, reply = call(server.url + "/log")
    assert code == 200 and len(reply["lines"]) == 50 and reply["lines"][-1]["message"] == "line 59"
    lines = call(server.url + "/log?lines=3")[2]["lines"]
    assert [line["message"] for line in lines] == ["line 57", "line 58", "line 59"]
    assert call(server.url + "/log?lines=200")[0] == 200
    for bad in ("201", "0", "-1", "many"):
        code, _, reply = call(server.url + f"/log?lines={bad}")
        assert code == 400 and "1 to 200" in reply["error"]


def test_the_page_is_served_with_its_guards(server: StatusServer) -> None:
    code, headers, page = call(server.url + "/")
    assert code == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"] and headers["X-Frame-Options"] == "DENY"
    assert 'name="viewport"' in page and "localStorage" in page and "Bearer" in page
    assert "http://" not in page and "https://" not in page  # nothing from elsewhere
    assert call(server.url + "/status")[1]["Content-Type"] == "application/json"  # /status stays JSON


def test_parse_control_is_osc_parsing() -> None:
    assert parse_control(b'{"command": "blackout", "argument": 1}') == CommandInput(Command.BLACKOUT, "on", "http")
    assert parse_control(b'{"command": "jump_act", "argument": "1"}') == CommandInput(Command.JUMP_ACT, "1", "http")
    with pytest.raises(ControlError):
        parse_control(b'{"command": "jump_act", "argument": 1e999}')


@pytest.mark.parametrize("address, local", [("127.0.0.1", True), ("::1", True), ("::ffff:127.0.0.1", True),
                                            ("192.0.2.7", False), ("::ffff:192.0.2.7", False), ("x", False)])
def test_is_loopback_client(address: str, local: bool) -> None:
    assert is_loopback_client(address) is local
