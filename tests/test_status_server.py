"""The status server over real HTTP on loopback: JSON, Prometheus text, tokens, refusals."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from installation.app.metrics import to_prometheus
from installation.app.status import StatusConfigError, StatusServer, check_policy, parse_address

STATUS = {
    "show": "kai-festival", "act": "The living city", "act_index": 0, "position_s": 12.5,
    "preset": "living-city", "fps": 59.8, "frame_ms": {"p50": 4.2, "p99": 9.9},
    "audio": {"running": True, "load": 0.12, "underflows": 3, "device": "system"},
    "params": {"sim.growth": 0.4, "render.tint": [0.1, 0.2, 0.3], "render.look": "bio", "synth.on": True},
    "nodes": {"n1": {"live": True, "last": {"potential_mv": 0.8, "toxin": 0.1, "waste": 0.2, "moisture": 0.5}},
              "sim-3": {"live": False, "last": {"potential_mv": -0.2, "toxin": 0.0, "waste": 0.1, "moisture": 0.4}}},
    "inputs": {"osc": {"received": 10, "dropped": {"malformed": 2, 'odd "reason"': 1}}},
    "errors": [{"time": "2026-01-01T00:00:00", "source": "x", "message": "boom"}], "errors_total": 1,
}


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return reply.status, reply.headers["Content-Type"], reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


@pytest.fixture
def server() -> Iterator[StatusServer]:
    running = StatusServer("127.0.0.1", 0).start()
    running.publish(STATUS)
    yield running
    running.stop()


def test_status_json_round_trips(server: StatusServer) -> None:
    code, kind, body = get(server.url + "/status")
    assert code == 200 and kind == "application/json"
    document = json.loads(body)
    assert document.pop("status_server")["refused"] == 0  # the server's own figures join the app's
    assert document == STATUS


def test_publish_replaces_the_snapshot(server: StatusServer) -> None:
    server.publish({**STATUS, "act": "Clusters feeding on poison", "act_index": 1})
    assert json.loads(get(server.url + "/status")[2])["act_index"] == 1


def test_metrics_in_prometheus_text(server: StatusServer) -> None:
    code, kind, body = get(server.url + "/metrics")
    assert code == 200 and kind.startswith("text/plain; version=0.0.4")
    lines = body.splitlines()
    assert "myco_fps 59.8" in lines
    assert 'myco_frame_ms{quantile="0.99"} 9.9' in lines
    assert 'myco_audio_underflows_total{device="system"} 3' in lines
    assert 'myco_param{name="render.tint",channel="g"} 0.2' in lines
    assert 'myco_param{name="synth.on"} 1' in lines
    assert not any('name="render.look"' in line for line in lines)  # enums live in /status only
    assert 'myco_node_live{node="sim-3"} 0' in lines
    assert 'myco_input_dropped_total{source="osc",reason="odd \\"reason\\""} 1' in lines
    assert 'myco_info{show="kai-festival",act="The living city",preset="living-city"} 1' in lines
    # every sample line belongs to a declared family
    declared = {line.split()[2] for line in lines if line.startswith("# TYPE")}
    for line in lines:
        if not line.startswith("#"):
            assert line.split("{")[0].split(" ")[0] in declared


def test_unknown_path_is_404(server: StatusServer) -> None:
    assert get(server.url + "/etc/passwd")[0] == 404


def test_token_checked_on_every_request() -> None:
    guarded = StatusServer("127.0.0.1", 0, token="s3cret").start()
    try:
        guarded.publish(STATUS)
        assert get(guarded.url + "/status")[0] == 401
        assert get(guarded.url + "/status?token=wrong")[0] == 401
        assert get(guarded.url + "/metrics", {"Authorization": "Bearer nope"})[0] == 401
        assert get(guarded.url + "/status?token=s3cret")[0] == 200
        assert get(guarded.url + "/metrics", {"Authorization": "Bearer s3cret"})[0] == 200
        assert guarded.refused == 3
    finally:
        guarded.stop()


def test_non_loopback_needs_a_token() -> None:
    with pytest.raises(StatusConfigError, match="--status-token"):
        check_policy("0.0.0.0", None)
    with pytest.raises(StatusConfigError, match="--status-token"):
        StatusServer("0.0.0.0", 0)
    check_policy("::1", None)
    check_policy("localhost", None)
    check_policy("0.0.0.0", "tok")


@pytest.mark.parametrize("text, expected", [("127.0.0.1:8765", ("127.0.0.1", 8765)),
                                            ("[::1]:9000", ("::1", 9000)), ("localhost:0", ("localhost", 0))])
def test_parse_address(text: str, expected: tuple[str, int]) -> None:
    assert parse_address(text) == expected


@pytest.mark.parametrize("text", ["8765", ":80", "host:port", "127.0.0.1:70000"])
def test_parse_address_rejects(text: str) -> None:
    with pytest.raises(StatusConfigError):
        parse_address(text)


def test_port_in_use_is_a_clear_error(server: StatusServer) -> None:
    with pytest.raises(StatusConfigError, match="cannot serve status"):
        StatusServer("127.0.0.1", server.address[1])


def test_stop_joins_the_thread() -> None:
    running = StatusServer("127.0.0.1", 0).start()
    running.stop()
    assert not any(t.name == "myco-status" for t in threading.enumerate())


def test_metrics_of_an_empty_status() -> None:
    text = to_prometheus({})
    assert text.startswith("# HELP myco_info")


def test_metrics_tell_the_world_and_each_output_apart() -> None:
    outputs = [{"name": "output 1", "screen": "HDMI-1", "fps": 60.0, "frame_ms": {"p50": 0.8, "p99": 2.0}},
               {"name": "output 2", "screen": "HDMI-2", "fps": 30.0, "frame_ms": {"p50": 1.1, "p99": 30.5}}]
    text = to_prometheus({**STATUS, "outputs": outputs})
    assert "myco_fps 59.8" in text  # the world's
    assert 'myco_output_fps{output="output 2",screen="HDMI-2"} 30' in text
    assert 'myco_output_frame_ms{output="output 2",quantile="0.99"} 30.5' in text
