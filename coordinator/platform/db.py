"""SQLite (WAL) through sqlite-utils, with exactly one writer.

Every write runs on one writer thread (Datasette's ``execute_write_fn`` pattern). Writes
queued while a transaction runs are *group-committed*: the writer drains the queue into
one transaction, each task inside its own SAVEPOINT so one failing task rolls back alone,
and one fsync covers the group. Reads use per-thread read-only connections, which WAL
lets run beside the writer. Schema changes are numbered migrations per domain
(``sqlite_utils.migrations.Migrations``), applied by :meth:`Database.migrate`.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils
from sqlite_utils.migrations import Migrations

from .files import make_private, private_dir, private_file

T = TypeVar("T")
WriteFn = Callable[[sqlite_utils.Database], Any]

_STOP = object()
MAX_GROUP = 256  # tasks per group commit: bounds the latency a big burst adds to one task
#: Page cache of the writer (KiB). SQLite's default is 2 MiB; random-key indexes (keyed
#: hashes, UUIDv7 incidents) of a city's records are tens of MiB, and an index insert that
#: misses the cache costs a page read. 64 MiB keeps the hot index pages of millions of rows.
WRITER_CACHE_KIB = 64 * 1024
READER_CACHE_KIB = 16 * 1024
#: Reads map the file instead of copying pages through read() calls.
MMAP_BYTES = 1 << 30
#: The writer never checkpoints inside a commit (SQLite's default is to, every 1000 pages,
#: which stalls that commit on the checkpoint's writes and fsync): a checkpointer thread
#: folds the WAL into the database this often whenever something was committed.
CHECKPOINT_EVERY_S = 0.25
#: The writer checkpoints itself after a commit when the checkpointer left this many pages
#: behind, or the WAL holds this many pages without having restarted (see _checkpointer).
WAL_CATCH_UP_PAGES = 1000
WAL_RESTART_PAGES = 4000
#: After a burst the WAL file is trimmed back to this size when it restarts.
WAL_LIMIT_BYTES = 64 << 20


class DatabaseClosed(RuntimeError):
    """A write was attempted after :meth:`Database.close`."""


def _connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
    conn.execute("PRAGMA temp_store=MEMORY")
    if readonly:
        conn.execute("PRAGMA query_only=1")
        conn.execute(f"PRAGMA cache_size=-{READER_CACHE_KIB}")
    else:
        conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a commit survives a process crash (kill -9); only an OS
        # crash or power cut can lose the last transactions, never corrupt the file.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
        conn.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer thread does it
        conn.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
    return conn


class Database:
    """One SQLite file: a single writer thread plus per-thread read connections."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._closed = False
        self.commits = 0  # group commits done (for metrics)
        self.checkpoints = 0  # checkpoints run by the checkpointer (for metrics)
        self._ckpt_wake = threading.Event()
        self._writer_checkpoint = False  # set by the checkpointer when it cannot keep up
        self._ckpt_thread: threading.Thread | None = None

    # lifecycle ------------------------------------------------------------------------
    def open(self) -> Database:
        """Create the file (and folder) private to the owner and start the writer thread."""
        private_dir(self.path.parent)
        # SQLite gives the -wal and -shm files the database file's own mode: 0600 first.
        private_file(self.path)
        make_private(*self.companions())
        ready: Future[None] = Future()
        self._thread = threading.Thread(
            target=self._writer_loop, args=(ready,), name=f"db-writer:{self.path.name}", daemon=True
        )
        self._thread.start()
        ready.result(timeout=30)
        self._ckpt_thread = threading.Thread(
            target=self._checkpointer, name=f"db-checkpoint:{self.path.name}", daemon=True
        )
        self._ckpt_thread.start()
        return self

    def companions(self) -> list[Path]:
        """The database's -wal and -shm files (present while it is open in WAL mode)."""
        return [self.path.with_name(self.path.name + sfx) for sfx in ("-wal", "-shm")]

    def close(self) -> None:
        """Finish queued writes, stop the writer, close every connection."""
        if self._closed:
            return
        self._closed = True
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout=60)
        if self._ckpt_thread is not None:
            self._ckpt_wake.set()
            self._ckpt_thread.join(timeout=60)
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()

    def __enter__(self) -> Database:
        return self.open() if self._thread is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # writes ---------------------------------------------------------------------------
    def submit(self, fn: WriteFn) -> Future[Any]:
        """Queue ``fn(db)`` for the writer; the future resolves after its commit."""
        if self._closed or self._thread is None:
            raise DatabaseClosed(f"database {self.path} is not open")
        fut: Future[Any] = Future()
        self._queue.put((fn, fut))
        return fut

    def write(self, fn: Callable[[sqlite_utils.Database], T], timeout: float | None = 60) -> T:
        """Run ``fn(db)`` in a transaction on the writer thread and return its result."""
        return self.submit(fn).result(timeout=timeout)

    def execute_write(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> int:
        """Execute one statement on the writer; returns the rowcount."""
        return self.write(lambda db: db.execute(sql, params).rowcount)  # type: ignore[arg-type]

    def _writer_loop(self, ready: Future[None]) -> None:
        try:
            conn = _connect(self.path, readonly=False)
            db = sqlite_utils.Database(conn)
        except Exception as exc:  # report to open(), which raises it
            ready.set_exception(exc)
            return
        ready.set_result(None)
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    return
                if isinstance(item[0], _Untransacted):
                    self._run_alone(db, item)
                    continue
                group = [item]
                alone = None
                while len(group) < MAX_GROUP:
                    try:
                        nxt = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if nxt is _STOP:
                        self._queue.put(_STOP)
                        break
                    if isinstance(nxt[0], _Untransacted):
                        alone = nxt
                        break
                    group.append(nxt)
                self._run_group(conn, db, group)
                if alone is not None:
                    self._run_alone(db, alone)
        finally:
            conn.close()

    def _checkpointer(self) -> None:
        """Fold the WAL into the database beside the writer, never inside a commit.

        PASSIVE checkpoints neither wait for nor block the writer or readers. SQLite
        restarts the WAL from its start only when a write begins with everything in it
        checkpointed; a writer that never pauses (a bulk import) keeps appending while
        this thread copies, so the WAL could grow without end. When the WAL is left with
        more than WAL_CATCH_UP_PAGES after a round, the writer is asked to checkpoint
        once itself right after its next commit, with nothing appending meanwhile, as
        SQLite's automatic checkpoint would (``journal_size_limit`` then trims the file).
        """
        conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
        try:
            conn.execute("PRAGMA busy_timeout=1000")
            conn.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
            seen = self.commits
            while not self._closed:
                self._ckpt_wake.wait(CHECKPOINT_EVERY_S)
                self._ckpt_wake.clear()
                if self.commits == seen:
                    continue
                seen = self.commits
                try:
                    _busy, log, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    self.checkpoints += 1
                except sqlite3.Error:
                    continue  # busy or transient: the next round tries again
                if log - done > WAL_CATCH_UP_PAGES or log > WAL_RESTART_PAGES:
                    self._writer_checkpoint = True
        finally:
            conn.close()

    @staticmethod
    def _run_alone(db: sqlite_utils.Database, item: tuple[Any, Future[Any]]) -> None:
        task, fut = item
        try:
            fut.set_result(task.fn(db))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's future
            fut.set_exception(exc)

    def _run_group(
        self, conn: sqlite3.Connection, db: sqlite_utils.Database, group: list[Any]
    ) -> None:
        results: list[tuple[Future[Any], bool, Any]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for fn, fut in group:
                conn.execute("SAVEPOINT task")
                try:
                    value = fn(db)
                except BaseException as exc:  # noqa: BLE001 - handed to the caller's future
                    conn.execute("ROLLBACK TO task")
                    conn.execute("RELEASE task")
                    results.append((fut, False, exc))
                else:
                    conn.execute("RELEASE task")
                    results.append((fut, True, value))
            conn.execute("COMMIT")
            self.commits += 1
            if self._writer_checkpoint:
                self._writer_checkpoint = False
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except BaseException as exc:  # noqa: BLE001 - commit failed (disk full, I/O): all fail
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for _fn, fut in group:
                if not fut.done():
                    fut.set_exception(exc)
            return
        for fut, ok, value in results:
            if ok:
                fut.set_result(value)
            else:
                fut.set_exception(value)

    # reads ----------------------------------------------------------------------------
    def read(self) -> sqlite_utils.Database:
        """A read-only sqlite-utils handle for the calling thread (WAL snapshot reads)."""
        handle = getattr(self._local, "db", None)
        if handle is None:
            conn = _connect(self.path, readonly=True)
            with self._readers_lock:
                self._readers.append(conn)
            handle = sqlite_utils.Database(conn)
            self._local.db = handle
        return handle

    def query(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        """Run a read query and return rows as dicts."""
        return list(self.read().query(sql, params))  # type: ignore[arg-type]

    # schema ---------------------------------------------------------------------------
    def columns(self, table: str) -> set[str]:
        """The column names of ``table`` (empty when it does not exist).

        The only place outside the migrations that asks SQLite about its schema, so that
        the PRAGMA stays in this module.
        """
        rows = self.query("select name from pragma_table_info(?)", [table])
        return {r["name"] for r in rows}

    def migrate(self, *sets: Migrations) -> None:
        """Apply pending migrations of each set, in order, on the writer."""

        def apply(db: sqlite_utils.Database) -> None:
            for s in sets:
                s.apply(db)

        # Migrations manage their own transactions; run them outside the group BEGIN.
        if self._closed or self._thread is None:
            raise DatabaseClosed(f"database {self.path} is not open")
        fut: Future[None] = Future()
        self._queue.put((_Untransacted(apply), fut))
        fut.result(timeout=300)


class _Untransacted:
    """Marks a writer task that must run outside the group transaction (migrations)."""

    def __init__(self, fn: WriteFn) -> None:
        self.fn = fn
