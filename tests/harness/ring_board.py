"""A camera board for snapshot tests and benches: the real edge Link answering from the
real snapshot ring (``edge_agent.snapshots.answer``), fed with real JPEG frames."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edge_agent.link import Link
from edge_agent.snapshots import SnapshotRing, answer
from edge_agent.spool import Spool
from protocol import Event, SnapshotRequest, SnapshotResponse, encode, uuid7
from tests.harness.board_link import board_link


@dataclass
class RingBoard:
    """A board whose events each keep a distinct frame in its ring."""

    dev: str
    link: Link
    spool: Spool
    ring: SnapshotRing
    asked: list[str] = field(default_factory=list)
    _tracks: int = 0
    _rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(7))

    def emit(
        self, n: int, *, kind: str = "intrusion", phase: str = "start", track: int | None = None
    ) -> list[str]:
        """Keep a frame for and publish ``n`` events (one new track each, or ``track``)."""
        ids = []
        for i in range(n):
            eid = uuid7()
            rgb = self._rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
            self.ring.put_frame([eid], rgb)
            ts = int(time.time() * 1000)
            box = (100 + i % 50, 100, 300, 800)
            self._tracks += 1
            tr = self._tracks if track is None else track

            def make(
                seq: int, eid: str = eid, ts: int = ts, box: tuple = box, tr: int = tr
            ) -> bytes:
                return encode(
                    Event(
                        id=eid,
                        seq=seq,
                        ts=ts,
                        dev=self.dev,
                        kind=kind,
                        phase=phase,
                        label="person",
                        conf=0.9,
                        track=tr,
                        box=box,
                    )
                )

            self.spool.append(make)
            ids.append(eid)
        self.link.kick()
        return ids

    def jpeg(self, event_id: str) -> bytes:
        """The JPEG the ring holds for an event."""
        got = self.ring.get(event_id)
        assert got is not None, f"the ring lost {event_id}"
        return got[0]


@contextmanager
def ring_board(workdir: Path, port: int, dev: str, *, ring: int = 256) -> Iterator[RingBoard]:
    """A connected board on a plain broker, stopped on exit."""
    workdir.mkdir(parents=True, exist_ok=True)
    spool = Spool(workdir / f"{dev}-spool.db")
    snaps = SnapshotRing(size=ring)
    board: RingBoard | None = None

    def on_snapshot(req: SnapshotRequest) -> SnapshotResponse:
        assert board is not None
        board.asked.append(req.req)
        return answer(snaps, req)

    link = board_link(port, dev, spool, on_snapshot=on_snapshot)
    board = RingBoard(dev, link, spool, snaps)
    link.start()
    try:
        assert link.connected.wait(10), "board did not connect"
        yield board
    finally:
        link.stop()
        spool.close()
