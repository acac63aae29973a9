"""The one MQTT link of the centre (paho-mqtt v2, MQTT 5).

Persistent session (clean start off, a session expiry), QoS 1, and *manual*
acknowledgement: a message is PUBACKed only after what it caused is committed to
SQLite, so a crash between receipt and commit makes the broker redeliver it.

Two ways to consume a channel:

* :meth:`MqttLink.add_sink` — the ingest path. The sink receives an :class:`Inbound`
  and acknowledges it later with :meth:`MqttLink.ack` (after its batch commits).
* :meth:`MqttLink.add_handler` — other domains (``bus.Handler``). Handlers run on one
  dispatcher thread, never on paho's network thread; the message is acked when the
  handler returns (handlers commit synchronously), or after it raised (a poison message
  must not be redelivered forever: the failure is reported to ``on_error``).

Acks carry the connection *generation*: a message received on a connection that has
since dropped is not acked on the new one (its packet id may now name another message);
the broker redelivers it and idempotent ingest absorbs the copy.
"""

from __future__ import annotations

import logging
import queue
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from protocol import Channel, ParsedTopic, ProtocolError, Topics

from ..settings import Settings
from .bus import Handler, Unsubscribe

log = logging.getLogger(__name__)

#: Channels the centre receives, and whether they are load-shared between workers.
#: Retained messages are never delivered on shared subscriptions, so ``state`` (retained
#: online/offline) is subscribed unshared: every worker sees every device's state.
SHAREABLE = frozenset({Channel.EVENT, Channel.HEALTH, Channel.POSITION, Channel.ACK})
#: Channels whose messages are retained by design (a board's state, its Last Will). A
#: retained message on any other channel is a stale copy the broker replays on every
#: subscribe; it was handled when it was first published, so it is acknowledged and skipped.
RETAINED_BY_DESIGN = frozenset({Channel.STATE})


@dataclass(frozen=True, slots=True)
class Inbound:
    """One received message, with what is needed to acknowledge it later."""

    topic: str
    parsed: ParsedTopic | None
    payload: bytes
    mid: int
    qos: int
    gen: int
    received: float


Sink = Callable[[Inbound], None]
ErrorHook = Callable[[Inbound, str], None]


class MqttLink:
    """Connect, subscribe, receive with manual ack, publish; reconnect with backoff."""

    def __init__(self, settings: Settings, topics: Topics | None = None) -> None:
        self.settings = settings
        self.topics = topics or Topics(settings.topic_root)
        self._sinks: dict[Channel, Sink] = {}
        self._handlers: dict[Channel, Handler] = {}
        self._gen = 0
        self._lock = threading.Lock()
        self.connected = threading.Event()
        self.on_error: ErrorHook | None = None
        self.received = 0
        self.retained_skipped = 0
        self.acked = 0
        self.connects = 0
        self._dispatch_q: queue.Queue[Inbound | None] = queue.Queue()
        self._dispatcher: threading.Thread | None = None
        self._client: mqtt.Client | None = None
        self._started = False

    # registration ------------------------------------------------------------------
    def add_sink(self, channel: Channel, sink: Sink) -> Unsubscribe:
        """Route ``channel`` to ``sink``, which must call :meth:`ack` after committing;
        returns its undo (later messages of the channel are reported to ``on_error``)."""
        self._register(channel)
        self._sinks[channel] = sink
        return lambda: self._unroute(channel)

    def add_handler(self, channel: Channel, handler: Handler) -> Unsubscribe:
        """Route ``channel`` to ``handler(parsed, payload)``; acked when it returns; returns
        its undo (later messages of the channel are reported to ``on_error``)."""
        self._register(channel)
        self._handlers[channel] = handler
        return lambda: self._unroute(channel)

    def _unroute(self, channel: Channel) -> None:
        self._sinks.pop(channel, None)
        self._handlers.pop(channel, None)

    def _register(self, channel: Channel) -> None:
        if self._started:
            raise RuntimeError("register handlers before MqttLink.start()")
        if channel in self._sinks or channel in self._handlers:
            raise ValueError(f"channel {channel.value!r} already has a consumer")

    # lifecycle --------------------------------------------------------------------
    def start(self) -> MqttLink:
        """Connect in the background (retrying with backoff) and start receiving."""
        s = self.settings
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=s.mqtt_client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        # Outgoing QoS 1 (configs, dispatch orders) queue while disconnected.
        client.max_inflight_messages_set(100)
        client.max_queued_messages_set(0)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        if s.mqtt_username:
            client.username_pw_set(s.mqtt_username, s.mqtt_password)
        if s.mqtt_ca is not None:
            ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(s.mqtt_ca))
            if s.mqtt_cert is not None:
                ctx.load_cert_chain(str(s.mqtt_cert), str(s.mqtt_key) if s.mqtt_key else None)
            client.tls_set_context(ctx)
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = s.mqtt_session_expiry_s
        props.ReceiveMaximum = s.mqtt_receive_maximum
        self._client = client
        self._started = True
        self._dispatcher = threading.Thread(
            target=self._dispatch_loop, name="mqtt-dispatch", daemon=True
        )
        self._dispatcher.start()
        client.connect_async(
            s.mqtt_host, s.mqtt_port, keepalive=30, clean_start=False, properties=props
        )
        client.loop_start()
        return self

    def stop(self) -> None:
        """Disconnect (the session and its queue stay on the broker) and stop threads."""
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
            self._client = None
        if self._dispatcher is not None:
            self._dispatch_q.put(None)
            self._dispatcher.join(timeout=10)
            self._dispatcher = None
        self.connected.clear()

    close = stop

    def wait_connected(self, timeout: float = 10.0) -> bool:
        """Block until the link is connected and subscribed (or the timeout passes)."""
        return self.connected.wait(timeout)

    # publishing (bus.Publisher) -------------------------------------------------------
    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        """Queue ``payload`` for ``topic``; QoS 1 is resent by paho after a reconnect."""
        if self._client is None:
            raise RuntimeError("MqttLink is not started")
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            raise RuntimeError(f"publish to {topic} failed: {mqtt.error_string(info.rc)}")

    # acknowledgement ------------------------------------------------------------------
    def ack(self, msg: Inbound) -> bool:
        """PUBACK ``msg`` if its connection is still the current one; True when sent."""
        if msg.qos == 0:
            return True
        client = self._client
        with self._lock:
            current = msg.gen == self._gen and self.connected.is_set()
        if client is None or not current:
            return False  # the broker redelivers it on the new connection
        client.ack(msg.mid, msg.qos)
        self.acked += 1
        return True

    # paho callbacks (network thread) --------------------------------------------------
    def _on_connect(self, client: mqtt.Client, _u: Any, flags: Any, rc: Any, _p: Any) -> None:
        if rc.is_failure:
            log.warning("broker refused the connection: %s", rc)
            return
        with self._lock:
            self._gen += 1
        self.connects += 1
        group = self.settings.mqtt_shared_group
        subs = []
        for ch in list(self._sinks) + list(self._handlers):
            shared = group if ch in SHAREABLE else None
            subs.append((self.topics.filter(ch, shared_group=shared), 1))
        if subs:
            client.subscribe(subs)
        log.info(
            "MQTT connected (session present: %s), subscribed %d filters",
            flags.session_present,
            len(subs),
        )
        self.connected.set()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        with self._lock:
            self.connected.clear()
        if rc.is_failure:
            log.warning("MQTT disconnected: %s (paho reconnects with backoff)", rc)
        else:
            log.info("MQTT disconnected: %s", rc)

    def _on_message(self, _c: mqtt.Client, _u: Any, m: mqtt.MQTTMessage) -> None:
        # Keep the network thread free: classify, hand over, return.
        self.received += 1
        try:
            parsed: ParsedTopic | None = self.topics.parse(m.topic)
        except ProtocolError:
            parsed = None
        msg = Inbound(m.topic, parsed, bytes(m.payload), m.mid, m.qos, self._gen, time.time())
        if parsed is None:
            self._report(msg, "bad topic")
            self.ack(msg)
            return
        if m.retain and parsed.channel not in RETAINED_BY_DESIGN:
            # Delivered only because we (re)subscribed: seen on first publish, never again.
            self.retained_skipped += 1
            self.ack(msg)
            return
        sink = self._sinks.get(parsed.channel)
        if sink is not None:
            sink(msg)
        else:
            self._dispatch_q.put(msg)

    def _report(self, msg: Inbound, reason: str) -> None:
        hook = self.on_error
        if hook is not None:
            try:
                hook(msg, reason)
            except Exception:  # noqa: BLE001 - reporting must never stop the link
                log.exception("dead-letter hook failed for %s", msg.topic)

    def _dispatch_loop(self) -> None:
        while True:
            msg = self._dispatch_q.get()
            if msg is None:
                return
            assert msg.parsed is not None
            handler = self._handlers.get(msg.parsed.channel)
            if handler is None:
                self._report(msg, f"no consumer for channel {msg.parsed.channel.value}")
            else:
                try:
                    handler(msg.parsed, msg.payload)
                except Exception as exc:  # noqa: BLE001 - one bad message never stops the link
                    log.exception("handler for %s failed", msg.topic)
                    self._report(msg, f"handler error: {type(exc).__name__}: {exc}")
            self.ack(msg)
