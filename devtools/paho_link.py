"""A small stand-alone paho-mqtt v2 link for simulated patrol units and dispatch tests.

It satisfies :class:`coordinator.platform.bus.Publisher` and offers ``add_handler(channel, fn)``
like the centre's shared link (``coordinator/platform/mqtt.py``). Used by tests (real
Mosquitto), the unit simulator, the bench and the demo; the coordinator never uses it.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from coordinator.platform.bus import Handler
from protocol import Channel, ProtocolError, Topics

log = logging.getLogger(__name__)


class PahoLink:
    """One MQTT 5 connection: publish, subscribe per channel, dispatch to handlers."""

    def __init__(
        self,
        host: str,
        port: int,
        client_id: str,
        *,
        topics: Topics | None = None,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.topics = topics or Topics()
        self._handlers: dict[Channel, list[Handler]] = {}
        self._extra: dict[str, list[Any]] = {}
        self._connected = threading.Event()
        self._subs: dict[int, threading.Event] = {}
        self._sub_lock = threading.Lock()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        if username is not None:
            self.client.username_pw_set(username, password)
        self.client.on_connect = lambda c, u, f, rc, p: self._connected.set()
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.host, self.port = host, port

    def start(self, timeout: float = 10.0) -> PahoLink:
        """Connect and start the network thread; waits for the CONNACK."""
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()
        if not self._connected.wait(timeout):
            self.stop()
            raise ConnectionError(f"no CONNACK from {self.host}:{self.port}")
        return self

    def stop(self) -> None:
        """Disconnect and stop the network thread."""
        self.client.disconnect()
        self.client.loop_stop()

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        """Queue a message (paho keeps QoS 1 messages until their PUBACK)."""
        self.client.publish(topic, payload, qos=qos, retain=retain)

    def _subscribe(self, flt: str, qos: int, timeout: float) -> None:
        ev = threading.Event()
        # Held until the mid is registered: the SUBACK may arrive before subscribe() returns.
        with self._sub_lock:
            rc, mid = self.client.subscribe(flt, qos)
            if rc != mqtt.MQTT_ERR_SUCCESS:
                raise ConnectionError(f"subscribe to {flt} failed ({rc})")
            self._subs[int(mid or 0)] = ev
        if not ev.wait(timeout):
            raise ConnectionError(f"no SUBACK for {flt}")

    def add_handler(self, channel: Channel, handler: Handler, timeout: float = 10.0) -> None:
        """Subscribe to ``channel`` of every unit/device and call ``handler`` per message."""
        first = channel not in self._handlers
        self._handlers.setdefault(channel, []).append(handler)
        if first:
            self._subscribe(self.topics.filter(channel), 1, timeout)

    def subscribe_topic(self, topic: str, handler: Handler, timeout: float = 10.0) -> None:
        """Subscribe to one exact topic (a simulated unit's own dispatch topic)."""
        self._extra.setdefault(topic, []).append(handler)
        self._subscribe(topic, 1, timeout)

    def _on_subscribe(self, c: Any, u: Any, mid: int, rcs: Any, props: Any) -> None:
        with self._sub_lock:
            ev = self._subs.pop(mid, None)
        if ev is not None:
            ev.set()

    def _on_message(self, c: Any, u: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            parsed = self.topics.parse(msg.topic)
        except ProtocolError as exc:
            log.warning("ignored message on %s: %s", msg.topic, exc)
            return
        handlers = self._extra.get(msg.topic) or self._handlers.get(parsed.channel, [])
        for h in handlers:
            try:
                h(parsed, bytes(msg.payload))
            except Exception:  # noqa: BLE001 - a handler bug must not kill the network loop
                log.exception("handler failed for %s", msg.topic)
