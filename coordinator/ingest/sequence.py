"""Per-device sequence numbers: gaps are lost events, late arrivals fill them.

Every board numbers its events 1, 2, 3… (persisted in its spool). The centre keeps the
highest number seen per device; a jump records the missing range in ``seq_gaps`` (lost
events, shown per device), and a late event (a spool replay after an outage) removes its
number from its gap. A board whose numbering restarts at 1 (re-flashed, spool wiped) starts
a new run instead of looking "late" forever.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

Step = Literal["first", "next", "gap", "late", "reset"]


def seq_step(last: int | None, seq: int) -> tuple[Step, int]:
    """Classify ``seq`` after ``last`` and return (kind, new last)."""
    if last is None:
        return "first", seq
    if seq == last + 1:
        return "next", seq
    if seq > last + 1:
        return "gap", seq
    if seq == 1 and last > 1:
        return "reset", 1
    return "late", last


def apply_sequence(
    conn: Any, cache: dict[str, int], new: list[dict[str, Any]], now: float
) -> tuple[int, int, set[str]]:
    """Inside the ingest transaction: update gaps for ``new`` events; (lost, late, devices)."""
    lost = late = 0
    touched: set[str] = set()
    for e in new:
        dev, seq = e["dev"], e["seq"]
        last = cache.get(dev)
        if last is None:
            row = conn.execute("select last_seq from seq_state where dev = ?", [dev]).fetchone()
            last = row[0] if row else None
        touched.add(dev)
        kind, cache[dev] = seq_step(last, seq)
        if kind == "gap":
            assert last is not None
            conn.execute(
                "insert into seq_gaps (dev, first_seq, last_seq, detected_at) values (?,?,?,?)",
                [dev, last + 1, seq - 1, now],
            )
            lost += seq - 1 - last
        elif kind == "late":
            late += 1
            gap = conn.execute(
                "select id, first_seq, last_seq from seq_gaps where dev = ? and first_seq <= ? "
                "and last_seq >= ?",
                [dev, seq, seq],
            ).fetchone()
            if gap is not None:  # a spooled event arriving late fills part of its gap
                gid, lo, hi = gap
                conn.execute("delete from seq_gaps where id = ?", [gid])
                for a, z in ((lo, seq - 1), (seq + 1, hi)):
                    if a <= z:
                        conn.execute(
                            "insert into seq_gaps (dev, first_seq, last_seq, detected_at) "
                            "values (?,?,?,?)",
                            [dev, a, z, now],
                        )
                lost -= 1
    return lost, late, touched


def committed_watermark(last_seq: int | None, floor: int, gaps: Iterable[tuple[int, int]]) -> int:
    """Highest ``n`` such that every number 1..n is committed here or was dropped by the board.

    ``last_seq`` is the highest number stored, ``gaps`` the missing ranges below it, and
    ``floor`` the lowest number the board still holds: anything under it that never arrived
    was dropped at the board's spool bound and will never come. The board deletes its
    spooled events up to this watermark, so it must never run ahead of a missing event.
    """
    starts = [max(lo, floor) for lo, hi in gaps if hi >= max(lo, floor)]
    starts.append(max((last_seq or 0) + 1, floor))
    return max(0, min(starts) - 1)


def watermarks(conn: Any, devices: Iterable[str]) -> dict[str, int]:
    """Inside the ingest transaction, after ``seq_state`` is written: each device's watermark."""
    out: dict[str, int] = {}
    for dev in devices:
        row = conn.execute("select last_seq, floor from seq_state where dev = ?", [dev]).fetchone()
        last = row[0] if row else None
        floor = int(row[1] or 0) if row else 0
        gaps = conn.execute(
            "select first_seq, last_seq from seq_gaps where dev = ? and last_seq >= ?",
            [dev, floor],
        ).fetchall()
        out[dev] = committed_watermark(last, floor, [(g[0], g[1]) for g in gaps])
    return out
