"""The one MQTT communicator of the board (paho-mqtt v2 API, MQTT 5, mutual TLS).

Events are never published from memory: a sender thread reads them from the spool and
publishes at QoS 1 with a bounded in-flight window. Rows leave the spool when the centre's
retained ``committed`` watermark covers them (end to end: a broker may PUBACK and then
crash); with a centre that has never sent a watermark, a PUBACK deletes its row as before.
Events the watermark has not covered are sent again after every reconnect and, with
backoff, when the watermark stops moving — duplicates are possible, losses are not; the
centre dedupes by event id. The retained ``state`` doubles as Last Will.
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
from protocol.messages import (
    Committed,
    Config,
    Health,
    SnapshotRequest,
    SnapshotResponse,
    State,
)

from .config import BrokerSection
from .rules import validate_rules
from .spool import Spool

Log = Callable[[str], None]

#: Re-send events the centre has not confirmed after this long without progress, doubling
#: up to RESEND_MAX_S while the centre stays silent (a centre that is down for an hour is
#: not flooded with re-sends, a broker that lost messages is caught up within a minute).
RESEND_FIRST_S = 30.0
RESEND_MAX_S = 900.0


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
        # Re-sending what the centre has not confirmed: when the watermark last moved, and
        # how long to wait before re-sending (doubles while the centre stays silent).
        self._progress_t = time.monotonic()
        self._resend_after = RESEND_FIRST_S
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
        c.subscribe(
            [
                (self._topic(Channel.CONFIG), 1),
                (self._topic(Channel.SNAPSHOT_REQ), 1),
                (self._topic(Channel.COMMITTED), 1),
            ]
        )
        if self.spool.end_to_end:
            # The broker may have lost what it acknowledged (a crash, a lost session): send
            # again everything the centre has not confirmed; it dedupes by event id.
            self._rewind()
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
        elif not self.spool.end_to_end:
            self.spool.ack(seq)  # a centre without watermarks: the PUBACK is all there is
        self.published += 1
        self._kick.set()

    def _on_message(self, c: mqtt.Client, u: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            ch = self.topics.parse(msg.topic).channel
        except ProtocolError:
            return
        if ch is Channel.CONFIG:
            self._apply_config(bytes(msg.payload))
        elif ch is Channel.COMMITTED:
            self._apply_committed(bytes(msg.payload))
        elif ch is Channel.SNAPSHOT_REQ:
            try:
                req = decode(Channel.SNAPSHOT_REQ, msg.payload)
            except ProtocolError as exc:
                self.log(f"ignored malformed snapshot request: {exc}")
                return
            resp = self.on_snapshot(req)
            c.publish(self._topic(Channel.SNAPSHOT), encode(resp), qos=1)

    def _apply_committed(self, payload: bytes) -> None:
        if not payload:
            return
        try:
            mark: Committed = decode(Channel.COMMITTED, payload)
        except ProtocolError as exc:
            self.log(f"ignored malformed committed watermark: {exc}")
            return
        before = self.spool.committed()
        self.spool.commit_upto(mark.seq)
        if mark.seq > before:
            with self._lock:
                self._progress_t = time.monotonic()
                self._resend_after = RESEND_FIRST_S
        self._kick.set()

    def _rewind(self) -> None:
        """Send again, from the centre's watermark on, everything not yet confirmed."""
        with self._lock:
            self._last_sent = min(self._last_sent, self.spool.committed())
            self._progress_t = time.monotonic()

    def _resend_if_stalled(self) -> None:
        """Re-send unconfirmed events when the watermark has not moved for a while."""
        if not self.spool.end_to_end or self.spool.depth() == 0:
            with self._lock:
                self._progress_t = time.monotonic()
            return
        with self._lock:
            stalled = time.monotonic() - self._progress_t > self._resend_after
            if stalled and not self._inflight:
                self._resend_after = min(RESEND_MAX_S, self._resend_after * 2)
        if stalled and not self._inflight:
            self.log("the centre has not confirmed recent events: sending them again")
            self._rewind()

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
            self._resend_if_stalled()
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

    def publish_state(self) -> None:
        """Publish the retained ``online`` state again (after a field changed)."""
        if self.connected.is_set():
            self.client.publish(
                self._topic(Channel.STATE), self._state("online"), qos=1, retain=True
            )
