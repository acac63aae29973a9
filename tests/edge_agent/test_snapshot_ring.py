"""The board's snapshot ring: every event phase keeps its frame, bounded by frames."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from edge_agent.snapshots import SnapshotRing


def _frame(value: int) -> np.ndarray:
    return np.full((48, 64, 3), value, dtype=np.uint8)


def _pixel(jpeg: bytes) -> int:
    return int(np.asarray(Image.open(io.BytesIO(jpeg)))[24, 32, 0])


def test_events_of_one_frame_share_one_jpeg() -> None:
    ring = SnapshotRing(size=4)
    ring.put_frame(["a-start", "b-update", "c-end"], _frame(200))
    got = [ring.get(e) for e in ("a-start", "b-update", "c-end")]
    assert all(g is not None for g in got)
    assert got[0] is got[1] is got[2]
    assert len(ring) == 1


def test_bound_counts_frames_and_evicts_oldest_events() -> None:
    ring = SnapshotRing(size=3)
    for i in range(5):
        ring.put_frame([f"e{i}-x", f"e{i}-y"], _frame(40 * i))
    assert len(ring) == 3
    assert ring.get("e0-x") is None and ring.get("e1-y") is None
    kept = ring.get("e4-y")
    assert kept is not None and abs(_pixel(kept[0]) - 160) <= 3
    latest = ring.get(None)
    assert latest is not None and latest[0] == kept[0]


def test_unknown_event_and_disabled_ring() -> None:
    ring = SnapshotRing(size=0)
    ring.put_frame(["a"], _frame(1))
    assert ring.get("a") is None and ring.get(None) is None
    assert SnapshotRing(size=2).get("nope") is None
