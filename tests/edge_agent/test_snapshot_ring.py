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


def test_redaction_runs_on_every_frame_before_it_is_kept() -> None:
    seen: list[int] = []

    def blank_left_half(rgb: np.ndarray) -> np.ndarray:
        seen.append(int(rgb[0, 0, 0]))
        out = rgb.copy()
        out[:, : rgb.shape[1] // 2] = 0
        return out

    ring = SnapshotRing(size=2, redact=blank_left_half)
    ring.put_frame(["a"], _frame(200))
    kept = ring.get("a")
    assert kept is not None and seen == [200]
    img = np.asarray(Image.open(io.BytesIO(kept[0])))
    assert img[24, 8, 0] <= 3 and img[24, 56, 0] >= 190


def test_answer_carries_the_event_and_its_jpeg_or_says_not_kept() -> None:
    from edge_agent.snapshots import answer
    from protocol import SnapshotRequest, uuid7

    ring = SnapshotRing(size=2)
    eid = uuid7()
    ring.put_frame([eid], _frame(90))
    ok = answer(ring, SnapshotRequest(req=uuid7(), ts=1, event=eid))
    assert ok.ok and ok.event == eid and ok.width == 64 and ok.data
    gone = answer(ring, SnapshotRequest(req=uuid7(), ts=1, event=uuid7()))
    assert not gone.ok and gone.error == "snapshot not kept"
