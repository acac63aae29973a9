"""The one MQTT communicator of the board (paho-mqtt v2 API, MQTT 5, mutual TLS).

Events are never published from memory: a sender thread reads them from the spool and
publishes at QoS 1 with a bounded in-flight window; each PUBACK deletes its row. After a
reconnect paho re-sends the in-flight window itself (same message ids), and after a
restart everything still in the spool is sent again — duplicates are possible, losses
are not; the centre dedupes by event id. The retained ``state`` doubles as Last Will.
"""

from __future__ import annotations

import contextlib
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from protocol import Channel, Topics, decode, encode
from protocol.errors import ProtocolError
from protocol.messages import Config, Health, SnapshotRequest, SnapshotResponse, State

from .config import BrokerSection
from .rules import validate_rules
from .spool import Spool

Log = Callable[[str], None]


def now_ms() -> int:
    """Wall-clock milliseconds (event and message timestamps)."""
    return int(time.time() * 1000)


class Link:
    """Connects, keeps the spool flowing, reports state/health, receives config/snapshots."""

    def __init__(
        self,
        broker: BrokerSection,
        device_id: str,
        spool: Spool,
        *,
        state_fields: dict[str, Any],
        on_config: Callable[[Config], None],
        on_snapshot: Callable[[SnapshotRequest], SnapshotResponse],
        log: Log,
    ) -> None:
        """Prepare the client; nothing connects until :meth:`start`."""
        self.broker = broker
        self.dev = device_id
        self.spool = spool
        self.topics = Topics(broker.topic_root)
        self.state_fields = dict(state_fields)
        self.on_config = on_config
        self.on_snapshot = on_snapshot
        self.log = log
        self.connected = threading.Event()
        self.last_error = ""
        self.config_rev: int | None = None
        self.config_error: str | None = None
        self.published = 0
        self._stop = threading.Event()
        self._kick = threading.Event()
        self._lock = threading.Lock()
        self._inflight: dict[int, int] = {}  # mid -> seq
        self._early: set[int] = set()  # PUBACKs that beat us to recording their mid
        self._last_sent = 0
        self._threads: list[threading.Thread] = []
        self.client = self._make_client()

    def _make_client(self) -> mqtt.Client:
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.dev, protocol=mqtt.MQTTv5)
        c.max_inflight_messages_set(self.broker.inflight)
        if self.broker.tls is not None:
            t = self.broker.tls
            ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(t.ca))
            ctx.load_cert_chain(str(t.cert), str(t.key))
            c.tls_set_context(ctx)
        # The will is set before connect: a board that dies shows as offline, retained.
        c.will_set(self._topic(Channel.STATE), self._state("offline"), qos=1, retain=True)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_publish = self._on_publish
        c.on_message = self._on_message
        c.on_connect_fail = self._on_connect_fail
        return c

    def _topic(self, ch: Channel) -> str:
        return self.topics.device(self.dev, ch)

    def _state(self, status: str) -> bytes:
        return encode(
            State(
                status=status,  # type: ignore[arg-type]
                ts=now_ms(),
                config_rev=self.config_rev,
                config_error=self.config_error,
                **self.state_fields,
            )
        )

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        """Start the network and sender threads (connection failures are retried)."""
        self._connect()
        th = threading.Thread(target=self._send_main, name="cw-link-send", daemon=True)
        th.start()
        self._threads.append(th)

    def stop(self, timeout: float = 5.0) -> None:
        """Publish ``offline`` (retained), disconnect cleanly, join the threads."""
        if self.connected.is_set():
            info = self.client.publish(
                self._topic(Channel.STATE), self._state("offline"), qos=1, retain=True
            )
            deadline = time.monotonic() + 2.0
            while (
                not info.is_published() and time.monotonic() < deadline and self.connected.is_set()
            ):
                time.sleep(0.01)
        self._stop.set()
        self._kick.set()
        with contextlib.suppress(Exception):  # a broken peer/device may fail to close
            self.client.disconnect()
        self.client.loop_stop()
        for th in self._threads:
            th.join(timeout)

    def _connect(self) -> None:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 0
        self.client.reconnect_delay_set(1, 30)
        self.client.connect_async(
            self.broker.host,
            self.broker.port,
            keepalive=self.broker.keepalive_s,
            clean_start=True,
            properties=props,
        )
        # paho's own network thread: publishing from our threads is only safe with it.
        self.client.loop_start()

    def _fail(self, msg: str) -> None:
        if msg != self.last_error:
            self.log(msg)
        self.last_error = msg

    # -- callbacks (network thread) ------------------------------------------------------
    def _on_connect(self, c: mqtt.Client, u: Any, flags: Any, rc: Any, props: Any) -> None:
        if rc.is_failure:
            self._fail(f"broker refused the connection: {rc}")
            return
        self.last_error = ""
        c.subscribe([(self._topic(Channel.CONFIG), 1), (self._topic(Channel.SNAPSHOT_REQ), 1)])
        c.publish(self._topic(Channel.STATE), self._state("online"), qos=1, retain=True)
        self.connected.set()
        self.log(f"connected to {self.broker.host}:{self.broker.port} as {self.dev}")
        self._kick.set()

    def _on_connect_fail(self, c: mqtt.Client, u: Any) -> None:
        self._fail(
            f"cannot connect to {self.broker.host}:{self.broker.port} (broker down, or the TLS "
            "handshake failed: check the certificate and CA); retrying with backoff"
        )

    def _on_disconnect(self, c: mqtt.Client, u: Any, flags: Any, rc: Any, props: Any) -> None:
        if self.connected.is_set():
            self._fail(f"disconnected from broker: {rc}")
        elif rc is not None and getattr(rc, "is_failure", False):
            # A TLS peer that rejects our certificate drops the link right after the
            # handshake: say so, it is the usual cause at a new installation.
            self._fail(f"broker closed the connection ({rc}): certificate refused or revoked?")
        self.connected.clear()

    def _on_publish(self, c: mqtt.Client, u: Any, mid: int, rc: Any, props: Any) -> None:
        with self._lock:
            seq = self._inflight.pop(mid, None)
            if seq is None:
                self._early.add(mid)
                return
        self._acked(seq, rc)

    def _acked(self, seq: int, rc: Any) -> None:
        if rc is not None and getattr(rc, "is_failure", False):
            # The broker will never take this one (e.g. ACL): keep nothing we cannot send.
            self.log(f"broker rejected event seq {seq}: {rc}; dropping it")
        self.spool.ack(seq)
        self.published += 1
        self._kick.set()

    def _on_message(self, c: mqtt.Client, u: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            ch = self.topics.parse(msg.topic).channel
        except ProtocolError:
            return
        if ch is Channel.CONFIG:
            self._apply_config(bytes(msg.payload))
        elif ch is Channel.SNAPSHOT_REQ:
            try:
                req = decode(Channel.SNAPSHOT_REQ, msg.payload)
            except ProtocolError as exc:
                self.log(f"ignored malformed snapshot request: {exc}")
                return
            resp = self.on_snapshot(req)
            c.publish(self._topic(Channel.SNAPSHOT), encode(resp), qos=1)

    def _apply_config(self, payload: bytes) -> None:
        if not payload:
            return  # retained config cleared: keep the running one
        try:
            cfg: Config = decode(Channel.CONFIG, payload)
            problems = validate_rules(cfg)
            if problems:
                raise ProtocolError("config", "; ".join(problems))
        except ProtocolError as exc:
            self.config_error = f"rejected config: {exc}"[:2000]
            self.log(f"{self.config_error} (keeping rev {self.config_rev})")
        else:
            self.on_config(cfg)
            self.config_rev, self.config_error = cfg.rev, None
            self.log(f"applied config rev {cfg.rev}")
        self.client.publish(self._topic(Channel.STATE), self._state("online"), qos=1, retain=True)

    # -- sender --------------------------------------------------------------------------
    def _send_main(self) -> None:
        while not self._stop.is_set():
            self._kick.wait(0.5)
            self._kick.clear()
            if not self.connected.is_set():
                continue
            room = self.broker.inflight - len(self._inflight)
            if room <= 0:
                continue
            for seq, payload in self.spool.pending(after=self._last_sent, limit=room):
                if not self.connected.is_set() or self._stop.is_set():
                    break
                info = self.client.publish(self._topic(Channel.EVENT), payload, qos=1)
                self._last_sent = seq
                with self._lock:
                    if info.mid in self._early:
                        self._early.discard(info.mid)
                        early = True
                    else:
                        self._inflight[info.mid] = seq
                        early = False
                if early:
                    self._acked(seq, None)

    def kick(self) -> None:
        """New events are in the spool."""
        self._kick.set()

    def inflight(self) -> int:
        """Events published and awaiting PUBACK."""
        return len(self._inflight)

    def publish_health(self, health: Health) -> None:
        """Health at QoS 0 (a missed one is replaced by the next)."""
        if self.connected.is_set():
            self.client.publish(self._topic(Channel.HEALTH), encode(health), qos=0)

    def set_state_fields(self, **fields: Any) -> None:
        """Update fields reported in ``state`` (e.g. the model version)."""
        self.state_fields.update(fields)
