"""End-to-end acknowledgement: the board keeps events until the centre says they are committed.

A broker acknowledges a publish and may then crash before saving it; only the centre's
committed watermark lets the board forget an event.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edge_agent import link as link_mod
from edge_agent.spool import Spool
from protocol import Channel, Committed, Event, Topics, decode, encode, uuid7
from provisioning.mosquitto import BrokerConfig, MosquittoProcess, PlainListener, free_port
from tests.harness.board_link import board_link
from tests.harness.mqtt import MqttTestClient, connect, wait_for

TOPICS = Topics()


def _event(dev: str, seq: int) -> bytes:
    return encode(
        Event(
            id=uuid7(),
            seq=seq,
            ts=1795840000000 + seq,
            dev=dev,
            kind="intrusion",
            phase="start",
            label="person",
            conf=0.9,
            track=seq,
            box=(100, 100, 200, 400),
        )
    )


def _committed(port: int, dev: str, seq: int) -> None:
    """Publish the centre's retained watermark for ``dev``."""
    c = connect(port, f"centre-mark-{uuid7()[-6:]}")
    try:
        c.publish(
            TOPICS.device(dev, Channel.COMMITTED), encode(Committed(seq=seq, ts=1)), retain=True
        )
    finally:
        c.close()


def _drain(c: MqttTestClient, seqs: set[int], timeout: float = 0.5) -> None:
    while True:
        try:
            m = c.get(timeout)
        except AssertionError:
            return
        seqs.add(decode(Channel.EVENT, m.payload).seq)


@pytest.fixture
def spool(tmp_path: Path) -> Iterator[Spool]:
    sp = Spool(tmp_path / "spool.db")
    yield sp
    sp.close()


def test_spool_watermark_deletes_up_to_it_and_switches_mode_for_good(tmp_path: Path) -> None:
    sp = Spool(tmp_path / "s.db")
    for _ in range(5):
        sp.append(lambda seq: b"e%d" % seq)
    assert not sp.end_to_end and sp.first_seq() == 1
    assert sp.commit_upto(3) == 3
    assert [s for s, _ in sp.pending(limit=10)] == [4, 5]
    assert sp.end_to_end and sp.committed() == 3 and sp.first_seq() == 4
    assert sp.commit_upto(2) == 0  # an older retained watermark changes nothing
    assert sp.committed() == 3 and sp.depth() == 2
    sp.close()
    again = Spool(tmp_path / "s.db")
    try:
        assert again.end_to_end and again.committed() == 3 and again.depth() == 2
        again.commit_upto(5)
        assert again.depth() == 0 and again.first_seq() == 6  # empty: the next number
    finally:
        again.close()


def test_broker_sigkill_with_the_centre_offline_loses_no_event(
    tmp_path: Path, spool: Spool
) -> None:
    dev, n = "cam-e2e", 400
    port = free_port()
    cfg = BrokerConfig(tmp_path / "broker", [PlainListener(port)], persistence=True)
    broker = MosquittoProcess(cfg).start()
    link = None
    try:
        _committed(port, dev, 0)  # this centre confirms commits
        centre = connect(port, "centre-e2e", clean_start=False)
        centre.subscribe(TOPICS.filter(Channel.EVENT))
        centre.close()  # the centre goes offline; the broker queues for its session
        link = board_link(port, dev, spool)
        link.start()
        wait_for(lambda: spool.end_to_end, 10, "the first watermark")
        for _ in range(n):
            spool.append(lambda seq: _event(dev, seq))
        link.kick()
        wait_for(lambda: link.published >= n, 30, "PUBACKs for every event")
        # The broker acknowledged everything, yet the board forgot nothing.
        assert spool.depth() == n
        broker.kill()
        broker.start()
        centre = connect(port, "centre-e2e", clean_start=False)
        try:
            centre.subscribe(TOPICS.filter(Channel.EVENT))
            seqs: set[int] = set()
            wait_for(lambda: _drain(centre, seqs) or len(seqs) >= n, 60, "every event again")
            assert seqs == set(range(1, n + 1))
        finally:
            centre.close()
        _committed(port, dev, n)
        wait_for(lambda: spool.depth() == 0, 10, "the spool emptied by the watermark")
    finally:
        if link is not None:
            link.stop()
        broker.stop()


def test_events_are_resent_when_the_watermark_stalls(
    tmp_path: Path, spool: Spool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(link_mod, "RESEND_FIRST_S", 0.5)
    dev = "cam-stall"
    port = free_port()
    broker = MosquittoProcess(BrokerConfig(tmp_path / "b", [PlainListener(port)])).start()
    link = None
    centre = connect(port, "centre-stall")
    try:
        centre.subscribe(TOPICS.filter(Channel.EVENT))
        _committed(port, dev, 0)
        link = board_link(port, dev, spool)
        link.start()
        wait_for(lambda: spool.end_to_end, 10, "the first watermark")
        for _ in range(3):
            spool.append(lambda seq: _event(dev, seq))
        link.kick()
        got: list[int] = []

        def received() -> list[int]:
            while True:
                try:
                    got.append(decode(Channel.EVENT, centre.get(0.05).payload).seq)
                except AssertionError:
                    return got

        # Never confirmed: every event arrives at least twice (the first send and a re-send).
        wait_for(lambda: all(received().count(s) >= 2 for s in (1, 2, 3)), 15, "re-sends")
        _committed(port, dev, 3)
        wait_for(lambda: spool.depth() == 0, 10, "confirmed")
    finally:
        if link is not None:
            link.stop()
        centre.close()
        broker.stop()


def test_without_a_watermark_the_puback_still_deletes(tmp_path: Path, spool: Spool) -> None:
    """A centre of older firmware never sends a watermark: boards behave as before."""
    dev = "cam-old-centre"
    port = free_port()
    broker = MosquittoProcess(BrokerConfig(tmp_path / "b", [PlainListener(port)])).start()
    link = board_link(port, dev, spool)
    try:
        link.start()
        wait_for(link.connected.is_set, 10, "connected")
        for _ in range(5):
            spool.append(lambda seq: _event(dev, seq))
        link.kick()
        wait_for(lambda: spool.depth() == 0, 10, "PUBACKs delete")
        assert not spool.end_to_end
    finally:
        link.stop()
        broker.stop()
