"""Store-and-forward spool: every event is in SQLite before it is published.

Rows leave when the centre confirms they are committed (:meth:`Spool.commit_upto`, the
centre's end-to-end watermark) — or, with a centre that never sends one, on the broker's
PUBACK (:meth:`Spool.ack`). Once a watermark has arrived the spool remembers it (``e2e``)
and PUBACKs no longer delete anything: a broker can acknowledge and then crash. WAL with ``synchronous=FULL`` makes each
append durable on return, so kill -9 or a power cut loses nothing that was appended. The
per-device sequence number is allocated in the same transaction as the row, so it never
repeats after a restart. Past the bound (events or bytes) the oldest rows are dropped and
counted; a full disk refuses the *new* event (counted too) and keeps every spooled one.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS spool (seq INTEGER PRIMARY KEY, payload BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('next_seq', 1), ('drops', 0), ('disk_full', 0);
INSERT OR IGNORE INTO meta VALUES ('e2e', 0), ('committed', 0);
"""


class SpoolFull(RuntimeError):
    """The disk (or the file bound) is full: the new event was refused, none lost."""


class Spool:
    """SQLite spool of encoded events keyed by sequence number (thread-safe)."""

    def __init__(
        self,
        path: Path,
        max_events: int = 259_200,
        max_bytes: int = 256 * 1024 * 1024,
        synchronous: str = "FULL",
    ) -> None:
        """Open (creating) the spool at ``path`` with its bounds."""
        self.path = Path(path)
        # Events and their snapshots are the board's alone: folder 0700, file 0600 (SQLite
        # gives its -wal and -shm files the database file's mode).
        if not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, mode=0o700)
            os.chmod(self.path.parent, 0o700)
        os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        os.chmod(self.path, 0o600)
        self.max_events = max_events
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._unsaved_drops = 0
        self._unsaved_acks: set[int] = set()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        page = self._db.execute("PRAGMA page_size").fetchone()[0]
        # The byte bound is enforced by SQLite itself (SQLITE_FULL past it), which is also
        # exactly the failure a full disk produces: one code path for both.
        self._db.execute(f"PRAGMA max_page_count={max(16, max_bytes // page)}")
        self._db.executescript(SCHEMA)
        self._count = self._db.execute("SELECT count(*) FROM spool").fetchone()[0]

    def append(self, make: Callable[[int], bytes]) -> tuple[int, bytes]:
        """Allocate the next sequence number, build the payload with it, store it durably."""
        with self._lock:
            try:
                return self._append(make)
            except sqlite3.OperationalError as exc:
                if "full" not in str(exc):
                    raise
                # At our own byte bound: drop the oldest (counted) until the new one fits.
                # Pages are only reused once empty, so evict in batches of a few pages.
                for _ in range(8):
                    if not (self._at_byte_bound() and self._evict(max(32, self._count // 50))):
                        break
                    try:
                        return self._append(make)
                    except sqlite3.OperationalError as again:
                        if "full" not in str(again):
                            raise
                self._count_disk_full()
                raise SpoolFull(
                    f"spool {self.path}: disk full ({exc}); new event refused, "
                    f"all {self._count} spooled events kept"
                ) from None

    def _append(self, make: Callable[[int], bytes]) -> tuple[int, bytes]:
        try:
            self._db.execute("BEGIN IMMEDIATE")
            seq = self._db.execute("SELECT v FROM meta WHERE k='next_seq'").fetchone()[0]
            payload = make(seq)
            self._db.execute("INSERT INTO spool VALUES (?, ?)", (seq, payload))
            self._db.execute("UPDATE meta SET v=v+1 WHERE k='next_seq'")
            if self._unsaved_drops:
                self._db.execute("UPDATE meta SET v=v+? WHERE k='drops'", (self._unsaved_drops,))
            over = max(0, self._count + 1 - self.max_events)
            if over:
                self._drop_oldest(over)
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        self._count += 1 - over
        self._unsaved_drops = 0
        return seq, payload

    def _drop_oldest(self, n: int) -> None:
        self._db.execute(
            "DELETE FROM spool WHERE seq IN (SELECT seq FROM spool ORDER BY seq LIMIT ?)", (n,)
        )
        self._db.execute("UPDATE meta SET v=v+? WHERE k='drops'", (n,))

    def _at_byte_bound(self) -> bool:
        pages = self._db.execute("PRAGMA page_count").fetchone()[0]
        limit = self._db.execute("PRAGMA max_page_count").fetchone()[0]
        return bool(pages >= limit - 2)

    def _evict(self, n: int) -> bool:
        """Drop the ``n`` oldest events to stay within the byte bound (pages are reused)."""
        if self._count == 0:
            return False
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._drop_oldest(min(n, self._count))
            self._db.execute("COMMIT")
        except sqlite3.OperationalError:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            return False
        self._count -= min(n, self._count)
        return True

    def _count_disk_full(self) -> None:
        # A full disk may refuse even this tiny UPDATE (the WAL must grow): count in memory
        # and persist with the next append that succeeds.
        self._unsaved_drops += 1

    def pending(self, after: int = 0, limit: int = 100) -> list[tuple[int, bytes]]:
        """Spooled events with seq > ``after``, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, payload FROM spool WHERE seq > ? ORDER BY seq LIMIT ?",
                (after, limit + len(self._unsaved_acks)),
            ).fetchall()
        return [r for r in rows if r[0] not in self._unsaved_acks][:limit]

    def ack(self, seq: int) -> None:
        """Remove an event the broker acknowledged."""
        with self._lock:
            self._unsaved_acks.add(seq)
            try:
                for s in sorted(self._unsaved_acks):
                    cur = self._db.execute("DELETE FROM spool WHERE seq = ?", (s,))
                    self._count -= cur.rowcount
                    self._unsaved_acks.discard(s)
            except sqlite3.OperationalError as exc:
                # Full disk: remember the ack and retry later. At worst the event is sent
                # again after a restart (a duplicate the centre drops), never lost.
                if "full" not in str(exc):
                    raise

    def commit_upto(self, seq: int) -> int:
        """The centre committed every event up to ``seq``: delete them; returns rows deleted.

        The first call switches the spool to end-to-end mode for good (persisted): from then
        on only the centre's watermark deletes events. A watermark lower than one already
        seen (an old retained message) changes nothing.
        """
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                cur = self._db.execute("DELETE FROM spool WHERE seq <= ?", (seq,))
                self._db.execute("UPDATE meta SET v=1 WHERE k='e2e'")
                self._db.execute("UPDATE meta SET v=max(v, ?) WHERE k='committed'", (seq,))
                self._db.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                if "full" not in str(exc):
                    raise
                return 0  # full disk: the next watermark deletes them, nothing is lost
            self._count -= cur.rowcount
            self._unsaved_acks = {s for s in self._unsaved_acks if s > seq}
            return int(cur.rowcount)

    @property
    def end_to_end(self) -> bool:
        """True once the centre has sent a committed watermark (PUBACKs delete nothing)."""
        with self._lock:
            return bool(self._db.execute("SELECT v FROM meta WHERE k='e2e'").fetchone()[0])

    def committed(self) -> int:
        """The highest watermark the centre has confirmed (0 before the first)."""
        with self._lock:
            return int(self._db.execute("SELECT v FROM meta WHERE k='committed'").fetchone()[0])

    def first_seq(self) -> int:
        """Lowest sequence number still spooled (the next one when the spool is empty)."""
        with self._lock:
            row = self._db.execute("SELECT min(seq) FROM spool").fetchone()
            if row[0] is not None:
                return int(row[0])
            return int(self._db.execute("SELECT v FROM meta WHERE k='next_seq'").fetchone()[0])

    def depth(self) -> int:
        """Events not yet confirmed (committed, or PUBACKed with a centre of older firmware)."""
        return self._count - len(self._unsaved_acks)

    def count_on_disk(self) -> int:
        """Rows in the file right now (also those written by another process)."""
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM spool").fetchone()[0])

    def drops(self) -> int:
        """Events dropped since the spool was created (bound or full disk)."""
        with self._lock:
            saved = int(self._db.execute("SELECT v FROM meta WHERE k='drops'").fetchone()[0])
            return saved + self._unsaved_drops

    def next_seq(self) -> int:
        """The sequence number the next event will get."""
        with self._lock:
            return int(self._db.execute("SELECT v FROM meta WHERE k='next_seq'").fetchone()[0])

    def size_bytes(self) -> int:
        """Bytes used by the database pages (WAL excluded)."""
        with self._lock:
            pages = self._db.execute("PRAGMA page_count").fetchone()[0]
            size = self._db.execute("PRAGMA page_size").fetchone()[0]
        return int(pages * size)

    def close(self) -> None:
        """Checkpoint and close."""
        with self._lock:
            with contextlib.suppress(sqlite3.OperationalError):
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.close()
