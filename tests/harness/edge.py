"""Helpers for edge-agent integration tests and benches: brokers and a centre listener."""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt

from protocol import Channel, Topics, decode
from protocol.errors import ProtocolError
from provisioning.mosquitto import BrokerConfig, MosquittoProcess, TlsListener, device_acl
from tests.harness.brokers import PkiFixture
from tests.harness.mqtt import MqttTestClient, connect


def tls_broker(
    workdir: Path, pki: PkiFixture, port: int, persistence: bool = False
) -> MosquittoProcess:
    """An mTLS + ACL + CRL broker on a chosen port (not started), optionally persistent."""
    workdir.mkdir(parents=True, exist_ok=True)
    acl = workdir / "acl"
    acl.write_text(device_acl(Topics(), {"coordinator": "centre"}))
    listener = TlsListener(
        port=port,
        cafile=pki.ca_bundle,
        certfile=pki.server_cert,
        keyfile=pki.server_key,
        crlfile=pki.crl,
        acl_file=acl,
    )
    return MosquittoProcess(BrokerConfig(workdir, [listener], persistence=persistence))


@dataclass
class Centre:
    """A centre-side subscriber that decodes everything boards send."""

    client: MqttTestClient
    topics: Topics = field(default_factory=Topics)
    events: list = field(default_factory=list)
    states: list = field(default_factory=list)
    health: list = field(default_factory=list)
    snapshots: list = field(default_factory=list)
    event_bytes: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Centre:
        """Subscribe to every board channel and decode in a background thread."""
        for ch in (Channel.EVENT, Channel.STATE, Channel.HEALTH, Channel.SNAPSHOT):
            self.client.subscribe(self.topics.filter(ch))
        self._thread = threading.Thread(target=self._run, name="centre", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                m = self.client.messages.get(timeout=0.1)
            except queue.Empty:
                continue
            try:
                ch = self.topics.parse(m.topic).channel
                msg = decode(ch, m.payload)
            except ProtocolError as exc:
                self.errors.append(str(exc))
                continue
            if ch is Channel.EVENT:
                self.events.append(msg)
                self.event_bytes.append(len(m.payload))
            elif ch is Channel.STATE:
                self.states.append(msg)
            elif ch is Channel.HEALTH:
                self.health.append(msg)
            elif ch is Channel.SNAPSHOT:
                self.snapshots.append(msg)

    def seqs(self, dev: str) -> list[int]:
        """Sequence numbers received from ``dev`` (with duplicates)."""
        return [e.seq for e in list(self.events) if e.dev == dev]

    def close(self) -> None:
        """Stop decoding and disconnect."""
        self._stop.set()
        if self._thread:
            self._thread.join(5)
        self.client.close()


def centre(port: int, pki: PkiFixture, persistent: bool = False) -> Centre:
    """Connect the coordinator identity and start decoding."""
    c = connect(port, "coordinator", tls=pki.client("coordinator"), clean_start=not persistent)
    return Centre(c).start()


def publish_retained(client: mqtt.Client, topic: str, payload: bytes) -> None:
    """Publish a retained QoS 1 message and wait for the PUBACK."""
    client.publish(topic, payload, qos=1, retain=True).wait_for_publish(5)
