"""``myco nodes``: record live node readings (OSC, MQTT) to a file, replay a recording into the
mux, or send it over OSC or MQTT as live nodes would (to test an installation without them)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from installation.core.frames import NodeReading
    from installation.inputs.mqtt import MqttListener
    from installation.inputs.osc import OscListener
    from installation.nodes.mux import NodeMux


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("nodes", help="record or replay live node readings")
    actions = parser.add_subparsers(dest="nodes_command", metavar="ACTION", required=True)
    record = actions.add_parser("record", help="record live readings from OSC and/or MQTT to a file")
    record.add_argument("--out", type=Path, required=True, help="file to write (JSON Lines)")
    record.add_argument("--osc", default="127.0.0.1:9000", help="OSC HOST:PORT to listen on ('off' for none)")
    record.add_argument("--mqtt", default=None, help="MQTT broker URL, e.g. mqtt://user:pass@host:1883")
    record.add_argument("--seconds", type=float, default=None, help="stop after this long (default: Ctrl-C)")
    record.set_defaults(func=run_record)
    replay = actions.add_parser("replay", help="play a recording into the live-node mux and report")
    replay.add_argument("file", type=Path)
    replay.add_argument("--seconds", type=float, default=None, help="how long (default: the recording's length)")
    replay.add_argument("--loop", action="store_true", help="start again at the end")
    replay.add_argument("--out", type=Path, default=None, help="also write the resulting world as a recording")
    replay.set_defaults(func=run_replay)
    send = actions.add_parser("send", help="send a recording's readings over OSC or MQTT, as live nodes would")
    send.add_argument("file", type=Path)
    target = send.add_mutually_exclusive_group(required=True)
    target.add_argument("--osc", help="OSC HOST:PORT to send to, e.g. 127.0.0.1:9000")
    target.add_argument("--mqtt", help="MQTT broker URL to publish to, e.g. mqtt://user:pass@host:1883")
    send.add_argument("--loop", action="store_true", help="start again at the end")
    send.add_argument("--seconds", type=float, default=None, help="stop after this long")
    send.set_defaults(func=run_send)


def parse_host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)


def _mux() -> NodeMux:
    from installation.nodes.mux import NodeMux
    from installation.sim.defaults import demo_seed
    from installation.sim.kernel import Kernel

    return NodeMux(Kernel(demo_seed(nodes=0), grid=(18, 32)))


def run_record(args: argparse.Namespace) -> int:
    from installation.core.events import InputQueue
    from installation.nodes.recording import RecordingWriter

    mux = _mux()
    listeners: list[OscListener | MqttListener] = []
    try:
        if args.osc != "off":
            from installation.inputs.osc import OscListener

            host, port = parse_host_port(args.osc)
            listeners.append(OscListener(mux, InputQueue(), host, port))
        if args.mqtt:
            from installation.inputs.mqtt import MqttListener

            listeners.append(MqttListener(mux, args.mqtt))
    except ValueError as error:
        print(f"myco nodes record: {error}", file=sys.stderr)
        return 2
    if not listeners:
        print("myco nodes record: nothing to listen to (--osc off and no --mqtt)", file=sys.stderr)
        return 2
    count = 0
    with RecordingWriter(args.out, "record") as out:
        def tap(reading: NodeReading, t: float) -> None:
            nonlocal count
            out.reading(reading, t)
            count += 1

        mux.taps.append(tap)
        try:
            for listener in listeners:
                listener.start()
        except OSError as error:
            print(f"myco nodes record: cannot listen: {error}", file=sys.stderr)
            return 1
        start = time.monotonic()
        try:
            while args.seconds is None or time.monotonic() - start < args.seconds:
                mux.step(1 / 60, (), {})
                time.sleep(max(0.0, start + mux.t - time.monotonic()))
        except KeyboardInterrupt:
            pass
        finally:
            for listener in listeners:
                listener.stop()
            mux.step(1 / 60, (), {})  # take what arrived last
    print(f"recorded {count} readings to {args.out}", file=sys.stderr)
    for source, counts in mux.counters.snapshot().items():
        print(f"  {source}: {counts}", file=sys.stderr)
    return 0


def run_replay(args: argparse.Namespace) -> int:
    from installation.core.errors import LoadError
    from installation.core.events import EventKind
    from installation.nodes.recording import RecordingWriter, open_replay

    try:
        replay = open_replay(args.file, loop=args.loop)
    except LoadError as error:
        print(f"myco nodes replay: {error}", file=sys.stderr)
        return 1
    for problem in replay.recording.problems[:10]:
        print(f"skipped {problem}", file=sys.stderr)
    mux = _mux()
    mux.replays.append(replay)
    seconds = args.seconds if args.seconds is not None else replay.recording.duration_s + 1.0
    spikes = 0
    out = RecordingWriter(args.out, "replay", recording=str(args.file)) if args.out else None
    try:
        for _ in range(round(seconds * 60)):
            frame = mux.step(1 / 60, (), {})
            spikes += sum(1 for e in frame.events if e.kind is EventKind.SPIKE and e.source != "sim")
            if out:
                out.frame(frame)
    finally:
        if out:
            out.close()
    status = mux.status()
    print(f"replayed {len(replay.recording.readings)} readings over {seconds:.1f} s: "
          f"{len(mux.live)} nodes, {spikes} live spikes", file=sys.stderr)
    print(f"  {status['sources']}", file=sys.stderr)
    return 0


def run_send(args: argparse.Namespace) -> int:
    from installation.core.errors import LoadError
    from installation.nodes.recording import open_replay

    try:
        replay = open_replay(args.file, loop=args.loop)
        send: _OscSender | _MqttSender = _OscSender(args.osc) if args.osc else _MqttSender(args.mqtt)
    except (LoadError, ValueError, OSError) as error:
        print(f"myco nodes send: {error}", file=sys.stderr)
        return 1
    start = time.monotonic()
    sent = 0
    try:
        while not replay.finished and (args.seconds is None or time.monotonic() - start < args.seconds):
            for reading in replay.due(time.monotonic() - start):
                send(reading)
                sent += 1
            time.sleep(0.005)
    except KeyboardInterrupt:
        pass
    finally:
        send.close()
    print(f"sent {sent} readings", file=sys.stderr)
    return 0


class _OscSender:
    def __init__(self, target: str) -> None:
        from pythonosc.udp_client import SimpleUDPClient

        self._client = SimpleUDPClient(*parse_host_port(target))

    def __call__(self, reading: NodeReading) -> None:
        from installation.nodes.codec import encode_osc

        self._client.send_message(*encode_osc(reading))

    def close(self) -> None:
        self._client.close()


class _MqttSender:
    def __init__(self, url: str) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        from installation.inputs.mqtt import BrokerUrl

        broker = BrokerUrl.parse(url)
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="myco-nodes-send")
        if broker.username:
            self._client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            self._client.tls_set()
        self._client.connect(broker.host, broker.port)
        self._client.loop_start()
        self._last: mqtt.MQTTMessageInfo | None = None

    def __call__(self, reading: NodeReading) -> None:
        from installation.nodes.codec import encode_mqtt

        self._last = self._client.publish(*encode_mqtt(reading))

    def close(self) -> None:
        if self._last is not None:
            self._last.wait_for_publish(5)  # everything queued before it has gone too
        self._client.disconnect()
        self._client.loop_stop()

