"""The broker's bounds: no client can park large payloads or unbounded queues in it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from protocol import MAX_BYTES, Channel, Topics
from provisioning.mosquitto import (
    BrokerConfig,
    MosquittoProcess,
    PlainListener,
    free_port,
    max_packet_bytes,
)
from tests.harness.mqtt import connect, queued_for_offline_subscriber, wait_for

QUEUE_BYTES = 64 * 1024


@pytest.fixture(scope="module")
def bounded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoProcess]:
    """A broker with the generated bounds and a small per-client queue byte bound."""
    wd: Path = tmp_path_factory.mktemp("bounded")
    cfg = BrokerConfig(wd, [PlainListener(free_port())], max_queued_bytes=QUEUE_BYTES)
    with MosquittoProcess(cfg).start() as proc:
        yield proc


def test_rendered_config_carries_the_bounds(tmp_path: Path) -> None:
    text = BrokerConfig(tmp_path, [PlainListener(1883)]).render()
    assert f"max_packet_size {max_packet_bytes()}" in text
    assert "max_queued_bytes " in text and "max_queued_messages " in text
    assert "set_tcp_nodelay true" in text
    # Above every payload the protocol allows, so no valid message is ever refused.
    assert max_packet_bytes() > max(MAX_BYTES.values())


def test_largest_protocol_payload_passes_and_an_oversized_packet_is_refused(
    bounded: MosquittoProcess,
) -> None:
    topics = Topics("cw/v1")
    topic = topics.device("cam-big", Channel.SNAPSHOT)
    sub = connect(bounded.ports[0], "centre-big")
    pub = connect(bounded.ports[0], "cam-big")
    try:
        sub.subscribe(topic)
        ok = b"x" * MAX_BYTES[Channel.SNAPSHOT]
        rc = pub.publish(topic, ok)
        assert rc is not None and not rc.is_failure
        assert len(sub.get(10).payload) == len(ok)
        # One byte past the bound: the broker drops the connection, nothing is delivered.
        pub.client.publish(topic, b"y" * (max_packet_bytes() + 1), qos=1)
        wait_for(pub.disconnected.is_set, 10, "broker closing the oversized publisher")
        with pytest.raises(AssertionError):
            sub.get(1.0)
    finally:
        pub.close()
        sub.close()


def test_an_offline_session_queue_is_bounded_in_bytes(bounded: MosquittoProcess) -> None:
    topics = Topics("cw/v1")
    topic = topics.device("cam-q", Channel.EVENT)
    n, size = 200, 1024
    got = queued_for_offline_subscriber(bounded.ports[0], topic, n, size, wait=1.5)
    queued = sum(len(m.payload) for m in got)
    assert 0 < queued <= QUEUE_BYTES + size, (len(got), queued)
    assert len(got) < n
