"""End-to-end acknowledgement, centre side: the committed watermark each board is sent.

The centre publishes, per board, the highest contiguous sequence it has committed (numbers
the board declared dropped count as done). A board that has seen one keeps its events until
the watermark covers them, so a broker that PUBACKs and then crashes loses nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from coordinator.ingest.sequence import committed_watermark
from edge_agent.spool import Spool
from protocol import Channel, Committed, Health, Topics, decode, encode
from tests.harness.board_link import board_link
from tests.harness.brokers import start_plain
from tests.harness.core import (
    core_settings,
    count,
    event,
    publish_events,
    register,
    running_core,
    wait_count,
)
from tests.harness.mqtt import connect, wait_for

TOPICS = Topics()


@pytest.mark.parametrize(
    ("last", "floor", "gaps", "mark"),
    [
        (None, 0, [], 0),  # nothing heard yet
        (10, 0, [], 10),
        (100, 0, [(20, 30)], 19),  # a missing range stops the watermark
        (100, 25, [(20, 30)], 24),  # the board dropped 20..24: only 25..30 are waited for
        (100, 31, [(20, 30)], 100),  # the whole gap was dropped at the board
        (10, 50, [], 49),  # dropped beyond the last number seen
        (100, 0, [(40, 45), (20, 30)], 19),  # the lowest gap decides
        (5, 0, [(200, 210)], 5),  # gaps of an earlier numbering run (board re-flashed)
    ],
)
def test_committed_watermark(last, floor, gaps, mark) -> None:
    assert committed_watermark(last, floor, gaps) == mark


class _Marks:
    """The watermarks a subscriber has seen for one board, latest last."""

    def __init__(self, client) -> None:
        self.client, self.seen = client, [0]

    def latest(self) -> int:
        while True:
            try:
                self.seen.append(decode(Channel.COMMITTED, self.client.get(0.05).payload).seq)
            except AssertionError:
                return self.seen[-1]


def test_gap_holds_the_watermark_until_the_board_declares_it_dropped(tmp_path: Path) -> None:
    broker = start_plain(tmp_path / "broker")
    try:
        with running_core(core_settings(tmp_path / "c", broker.ports[0])) as svc:
            register(svc)
            watch = connect(broker.ports[0], "watch")
            board = connect(broker.ports[0], "cam-0")
            try:
                watch.subscribe(TOPICS.device("cam-0", Channel.COMMITTED))
                publish_events(board, [event("cam-0", s, track=s) for s in (1, 2, 5)])
                wait_count(svc, "select count(*) from events where dev = 'cam-0'", 3)
                marks = _Marks(watch)
                wait_for(lambda: marks.latest() == 2, 10, "watermark 2 (3 and 4 missing)")
                # The board's health says it holds nothing below 5: 3 and 4 were dropped.
                board.publish(
                    TOPICS.device("cam-0", Channel.HEALTH),
                    encode(Health(ts=1795840000000, fps=5.0, inference_ms=20.0, spool_first=6)),
                )
                wait_for(lambda: marks.latest() == 5, 10, "watermark 5 past the drop")
                assert marks.seen[-2:] == [2, 5]  # it never ran ahead of the missing events
                # The lost-events view still shows them: dropped is lost, only not awaited.
                assert count(svc, "select count(*) from seq_gaps where dev = 'cam-0'") == 1
            finally:
                board.close()
                watch.close()
    finally:
        broker.stop()


def test_broker_sigkill_with_the_centre_offline_loses_no_event(tmp_path: Path) -> None:
    """The scenario that lost events before: centre down, broker PUBACKs, broker killed."""
    broker = start_plain(tmp_path / "broker", persistence=True)
    port = broker.ports[0]
    spool = Spool(tmp_path / "board-spool.db")
    link = board_link(port, "cam-1", spool)
    settings = core_settings(tmp_path / "c", port, mqtt_client_id="coord-e2e")
    n_before, n_offline = 5, 300
    try:
        with running_core(settings) as svc:
            register(svc)
            link.start()
            for _ in range(n_before):
                spool.append(lambda seq: encode(event("cam-1", seq, track=seq)))
            link.kick()
            # The first watermark switches the board to end-to-end mode.
            wait_for(lambda: spool.committed() == n_before, 20, "first watermark")
            assert spool.end_to_end and spool.depth() == 0
        # The centre is offline. The board goes on; the broker acknowledges every event.
        for _ in range(n_offline):
            spool.append(lambda seq: encode(event("cam-1", seq, track=seq)))
        link.kick()
        total = n_before + n_offline
        wait_for(lambda: link.published >= total, 30, "PUBACKs for every event")
        assert spool.depth() == n_offline  # acknowledged by the broker, still kept
        broker.kill()  # before Mosquitto's periodic save
        broker.start()
        with running_core(settings) as svc:
            wait_count(svc, "select count(*) from events where dev = 'cam-1'", total, 60)
            wait_for(lambda: spool.depth() == 0, 30, "the board's spool emptied by the centre")
            assert spool.committed() == total
            assert count(svc, "select count(distinct seq) from events where dev = 'cam-1'") == total
            assert count(svc, "select count(*) from seq_gaps where dev = 'cam-1'") == 0
            assert svc.ingest.committed_marks()["cam-1"] == total
    finally:
        link.stop()
        spool.close()
        broker.stop()


def test_a_board_on_older_firmware_ignores_the_watermark(tmp_path: Path) -> None:
    """Boards that never subscribe keep working: events stored, a retained mark waits unread."""
    broker = start_plain(tmp_path / "broker")
    try:
        with running_core(core_settings(tmp_path / "c", broker.ports[0])) as svc:
            register(svc)
            old = connect(broker.ports[0], "cam-2")
            try:
                publish_events(old, [event("cam-2", s, track=s) for s in (1, 2, 3)])
                wait_count(svc, "select count(*) from events where dev = 'cam-2'", 3)
                wait_for(lambda: svc.ingest.committed_marks().get("cam-2") == 3, 10, "mark")
            finally:
                old.close()
            late = connect(broker.ports[0], "reader")
            try:
                late.subscribe(TOPICS.device("cam-2", Channel.COMMITTED))
                mark = decode(Channel.COMMITTED, late.get(5).payload)
                assert isinstance(mark, Committed) and mark.seq == 3
            finally:
                late.close()
    finally:
        broker.stop()
