"""Small synchronous helpers around paho-mqtt v2 for tests (real broker only)."""

from __future__ import annotations

import queue
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode


def wait_for(cond: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll ``cond`` until truthy; return its value or raise AssertionError after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.01)


@dataclass
class TlsFiles:
    """Client-side TLS material."""

    ca: Path
    cert: Path | None = None
    key: Path | None = None


@dataclass
class MqttTestClient:
    """A connected paho client plus the messages and events it observed."""

    client: mqtt.Client
    messages: queue.Queue[mqtt.MQTTMessage] = field(default_factory=queue.Queue)
    connect_rc: ReasonCode | None = None
    disconnect_rc: ReasonCode | None = None
    subacks: dict[int, list[ReasonCode]] = field(default_factory=dict)
    pubacks: dict[int, ReasonCode] = field(default_factory=dict)
    connected: threading.Event = field(default_factory=threading.Event)
    disconnected: threading.Event = field(default_factory=threading.Event)

    def subscribe(self, topic: str, qos: int = 1, timeout: float = 5.0) -> list[ReasonCode]:
        """Subscribe and wait for the SUBACK; return its reason codes."""
        rc, mid = self.client.subscribe(topic, qos)
        assert rc == mqtt.MQTT_ERR_SUCCESS, f"subscribe failed: {rc}"
        return wait_for(lambda: self.subacks.get(mid), timeout, f"SUBACK for {topic}")

    def publish(
        self, topic: str, payload: bytes, qos: int = 1, retain: bool = False, timeout: float = 5.0
    ) -> ReasonCode | None:
        """Publish; for QoS 1 wait for the PUBACK and return its reason code."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if qos == 0:
            return None
        wait_for(
            lambda: info.mid in self.pubacks or self.disconnected.is_set(),
            timeout,
            f"PUBACK on {topic}",
        )
        return self.pubacks.get(info.mid)

    def get(self, timeout: float = 5.0) -> mqtt.MQTTMessage:
        """Next received message, or AssertionError on timeout."""
        try:
            return self.messages.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no message within {timeout}s") from None

    def close(self) -> None:
        """Disconnect, stop the network thread and close every socket paho opened."""
        self.client.disconnect()
        self.client.loop_stop()
        close_sockets(self.client)


def close_sockets(client: mqtt.Client) -> None:
    """Close paho's socket and its internal wake-up socket pair.

    paho 2.x leaves the socket pair that ``loop_start`` creates open after ``loop_stop``;
    it is only closed when the client is garbage-collected, which under
    warnings-as-errors surfaces as a ResourceWarning in some later test.
    """
    reset = getattr(client, "_reset_sockets", None)
    if callable(reset):
        reset()


def connect(
    port: int,
    client_id: str = "",
    *,
    username: str | None = None,
    password: str | None = None,
    tls: TlsFiles | None = None,
    clean_start: bool = True,
    expect_success: bool = True,
    timeout: float = 10.0,
    will: tuple[str, bytes, int, bool] | None = None,
) -> MqttTestClient:
    """Connect an MQTT 5 client, start its loop, wait for CONNACK (or refusal)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    tc = MqttTestClient(client)

    def on_connect(c: mqtt.Client, u: Any, flags: Any, rc: ReasonCode, props: Any) -> None:
        tc.connect_rc = rc
        if not rc.is_failure:
            tc.connected.set()
        else:
            tc.disconnected.set()

    def on_disconnect(c: mqtt.Client, u: Any, flags: Any, rc: ReasonCode, props: Any) -> None:
        tc.disconnect_rc = rc
        tc.connected.clear()
        tc.disconnected.set()

    def on_subscribe(c: mqtt.Client, u: Any, mid: int, rcs: list[ReasonCode], props: Any) -> None:
        tc.subacks[mid] = rcs

    def on_publish(c: mqtt.Client, u: Any, mid: int, rc: ReasonCode, props: Any) -> None:
        tc.pubacks[mid] = rc

    client.on_connect = on_connect
    client.on_disconnect = on_disconnect
    client.on_subscribe = on_subscribe
    client.on_publish = on_publish
    client.on_message = lambda c, u, m: tc.messages.put(m)
    if username is not None:
        client.username_pw_set(username, password)
    if will:
        client.will_set(will[0], will[1], qos=will[2], retain=will[3])
    if tls is not None:
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(tls.ca))
        if tls.cert is not None:
            ctx.load_cert_chain(str(tls.cert), str(tls.key))
        client.tls_set_context(ctx)
    props = Properties(mqtt.PacketTypes.CONNECT)
    props.SessionExpiryInterval = 0 if clean_start else 3600
    try:
        client.connect("127.0.0.1", port, keepalive=30, clean_start=clean_start, properties=props)
    except (ssl.SSLError, OSError):
        client.loop_stop()
        close_sockets(client)
        if expect_success:
            raise
        tc.disconnected.set()
        return tc
    client.loop_start()
    wait_for(lambda: tc.connected.is_set() or tc.disconnected.is_set(), timeout, "CONNACK")
    if expect_success and not tc.connected.is_set():
        tc.close()
        raise AssertionError(f"connection refused: {tc.connect_rc}")
    return tc


def queued_for_offline_subscriber(
    port: int, topic: str, n: int, size: int, wait: float
) -> list[Any]:
    """What a broker keeps for an offline persistent session: ``centre-q`` subscribes to
    ``topic`` and goes offline, ``cam-q`` publishes ``n`` messages of ``size`` bytes, then
    ``centre-q`` comes back and takes what it is given (at most ``n``, until ``wait`` seconds
    pass without one)."""
    centre = connect(port, "centre-q", clean_start=False)
    centre.subscribe(topic)
    centre.close()  # offline, session kept: the broker queues for it
    pub = connect(port, "cam-q")
    try:
        for i in range(n):
            pub.publish(topic, i.to_bytes(4, "big") + b"e" * (size - 4))
    finally:
        pub.close()
    back = connect(port, "centre-q", clean_start=False)
    got: list[Any] = []
    try:
        while len(got) < n:
            try:
                got.append(back.get(wait))
            except AssertionError:
                break
    finally:
        back.close()
    return got
