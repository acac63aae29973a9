"""PostgreSQL behind the same interface and guarantees as :class:`.db.Database`.

One writer thread owns one connection (autocommit; it issues ``BEGIN``/``COMMIT`` itself) and
group-commits what is queued while a transaction runs: each task inside its own SAVEPOINT, so a
task that fails (a constraint, an exception of its own) rolls back alone and its neighbours
commit. ``alone=True`` tasks run in a transaction of their own; migrations outside any
(:mod:`.pg_schema` makes one per migration). Reads borrow a connection from a
``psycopg_pool`` pool, one statement at a time, each seeing what was committed before it.

Write functions receive a :class:`.pg_conn.PgHandle`, which runs the domains' SQLite-flavoured
SQL (placeholders, ``lastrowid``, sqlite-utils' table helpers): see :mod:`.pg_conn`.

Not the same as on SQLite: :meth:`PgDatabase.backup` (``pg_dump``'s job, refused here),
:meth:`PgDatabase.quick_check` (answers whether the server answers), no file ``path``.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import psycopg
from psycopg_pool import ConnectionPool
from sqlite_utils.migrations import Migrations

from . import pg_schema
from .db import MAX_GROUP, Database, DatabaseClosed
from .pg_conn import Catalog, PgConnection, PgHandle, configure

if TYPE_CHECKING:
    from ..settings import Settings

T = TypeVar("T")
PgWriteFn = Callable[[PgHandle], Any]
_STOP = object()
#: Read connections kept open (the pool opens more, up to READ_POOL_MAX, under load).
READ_POOL_MIN = 1
READ_POOL_MAX = 8


class PgDatabase:
    """One PostgreSQL database: a single writer thread plus a pool of read connections."""

    def __init__(self, dsn: str, *, read_pool_max: int = READ_POOL_MAX) -> None:
        self.dsn = dsn
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._pool: ConnectionPool[Any] | None = None
        self._read_pool_max = read_pool_max
        self._closed = False
        self.catalog = Catalog()
        self.commits = 0  # group commits done (for metrics)
        self.checkpoints = 0  # PostgreSQL checkpoints itself; kept for the metrics' shape
        #: Called on the writer inside each group transaction just before its COMMIT.
        self.before_commit: Callable[[PgConnection], None] | None = None

    # lifecycle ------------------------------------------------------------------------
    def open(self) -> PgDatabase:
        """Connect the writer and the read pool (raises when the server cannot be reached)."""
        ready: Future[None] = Future()
        self._thread = threading.Thread(
            target=self._writer_loop, args=(ready,), name="db-writer:postgresql", daemon=True
        )
        self._thread.start()
        ready.result(timeout=60)
        self._pool = ConnectionPool(
            self.dsn,
            min_size=READ_POOL_MIN,
            max_size=self._read_pool_max,
            kwargs={"autocommit": True},
            configure=configure,
            name="citywatch-read",
            open=False,
        )
        self._pool.open(wait=True, timeout=30)
        return self

    def close(self) -> None:
        """Finish queued writes, stop the writer, close every connection."""
        if self._closed:
            return
        self._closed = True
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout=60)
        if self._pool is not None:
            self._pool.close()

    def __enter__(self) -> PgDatabase:
        return self.open() if self._thread is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def companions(self) -> list[Path]:
        """No files beside a server database."""
        return []

    # writes ---------------------------------------------------------------------------
    def submit(self, fn: PgWriteFn, *, alone: bool = False) -> Future[Any]:
        """Queue ``fn(db)`` for the writer; the future resolves after its commit
        (``alone``: in a transaction of its own, as :meth:`.db.Database.submit`)."""
        if self._closed or self._thread is None:
            raise DatabaseClosed("the PostgreSQL database is not open")
        fut: Future[Any] = Future()
        self._queue.put((_Alone(fn) if alone else fn, fut))
        return fut

    def write(self, fn: Callable[[PgHandle], T], timeout: float | None = 60) -> T:
        """Run ``fn(db)`` in a transaction on the writer thread and return its result."""
        return self.submit(fn).result(timeout=timeout)

    def execute_write(self, sql: str, params: Iterable[Any] | Mapping[str, Any] = ()) -> int:
        """Execute one statement on the writer; returns the rowcount."""
        return self.write(lambda db: db.execute(sql, params).rowcount)  # type: ignore[arg-type]

    def _connect(self) -> psycopg.Connection[Any]:
        conn = psycopg.connect(self.dsn, autocommit=True)
        configure(conn)
        return conn

    def _writer_loop(self, ready: Future[None]) -> None:
        try:
            conn = self._connect()
            self.catalog.load(conn)
        except Exception as exc:  # report to open(), which raises it
            ready.set_exception(exc)
            return
        ready.set_result(None)
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    return
                if conn.broken:  # the server went away: a new connection for what follows
                    conn.close()
                    conn = self._connect()
                self._dispatch(conn, item)
        finally:
            conn.close()

    def _dispatch(self, conn: psycopg.Connection[Any], item: tuple[Any, Future[Any]]) -> None:
        """Run ``item`` and, unless it must run apart, what is queued behind it."""
        if isinstance(item[0], _Untransacted):
            self._run_untransacted(conn, item)
            return
        if isinstance(item[0], _Alone):
            self._run_group(conn, [(item[0].fn, item[1])])
            return
        group = [item]
        apart = None
        while len(group) < MAX_GROUP:
            try:
                nxt = self._queue.get_nowait()
            except queue.Empty:
                break
            if nxt is _STOP:
                self._queue.put(_STOP)
                break
            if isinstance(nxt[0], (_Untransacted, _Alone)):
                apart = nxt
                break
            group.append(nxt)
        self._run_group(conn, group)
        if apart is not None:
            self._dispatch(conn, apart)

    def _run_untransacted(
        self, conn: psycopg.Connection[Any], item: tuple[Any, Future[Any]]
    ) -> None:
        task, fut = item
        try:
            fut.set_result(task.fn(conn))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's future
            fut.set_exception(exc)

    def _run_group(self, conn: psycopg.Connection[Any], group: list[Any]) -> None:
        facade = PgConnection(conn, self.catalog)
        handle = PgHandle(facade)
        results: list[tuple[Future[Any], bool, Any]] = []
        try:
            conn.execute("BEGIN")
            for fn, fut in group:
                conn.execute("SAVEPOINT task")
                try:
                    value = fn(handle)
                except BaseException as exc:  # noqa: BLE001 - handed to the caller's future
                    conn.execute("ROLLBACK TO SAVEPOINT task")
                    conn.execute("RELEASE SAVEPOINT task")
                    results.append((fut, False, exc))
                else:
                    conn.execute("RELEASE SAVEPOINT task")
                    results.append((fut, True, value))
            if self.before_commit is not None:
                self.before_commit(facade)
            conn.execute("COMMIT")
            self.commits += 1
        except BaseException as exc:  # noqa: BLE001 - commit failed (server gone): all fail
            if not conn.broken and facade.in_transaction:
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
    def read(self) -> _Reader:
        """A read handle (``execute``, ``query``, ``conn.execute``) over the pool."""
        return _Reader(self)

    def query(
        self, sql: str, params: Iterable[Any] | Mapping[str, Any] = ()
    ) -> list[dict[str, Any]]:
        """Run a read query and return rows as dicts."""
        with self._borrow() as conn:
            return list(PgConnection(conn, self.catalog).query(sql, params))  # type: ignore[arg-type]

    def _borrow(self) -> Any:
        if self._pool is None or self._closed:
            raise DatabaseClosed("the PostgreSQL database is not open")
        return self._pool.connection(timeout=30)

    # integrity, backups, schema -----------------------------------------------------------
    def quick_check(self, max_errors: int = 20) -> list[str]:
        """``[]`` when the server answers, else the error it gave (the server checks its
        own pages; ``amcheck`` is an operator's tool)."""
        try:
            with psycopg.connect(self.dsn, connect_timeout=10) as conn:
                conn.execute("SELECT 1").fetchone()
        except psycopg.Error as exc:
            return [f"{type(exc).__name__}: {exc}"][:max_errors]
        return []

    def truncate_wal(self) -> None:
        """Nothing to fold on PostgreSQL; waits for what is queued, as on SQLite."""
        self.write(lambda db: None)

    def backup(self, dest: Path, pages_per_step: int = 1024) -> None:
        """Refused: a PostgreSQL database is backed up with ``pg_dump`` or base backups."""
        raise NotImplementedError("back up a PostgreSQL database with pg_dump or a base backup")

    def columns(self, table: str) -> set[str]:
        """The column names of ``table`` (empty when it does not exist)."""
        rows = self.query(
            "select column_name from information_schema.columns "
            "where table_schema = current_schema() and table_name = ?",
            [table],
        )
        return {r["column_name"] for r in rows}

    def migrate(self, *sets: Migrations) -> None:
        """Apply pending migrations of each set (translated by :mod:`.pg_schema`) on the
        writer, then re-read the tables' identities and keys."""

        def apply(conn: psycopg.Connection[Any]) -> None:
            pg_schema.apply(conn, sets)
            self.catalog.load(conn)

        if self._closed or self._thread is None:
            raise DatabaseClosed("the PostgreSQL database is not open")
        fut: Future[None] = Future()
        self._queue.put((_Untransacted(apply), fut))
        fut.result(timeout=300)


class _Reader:
    """``Database.read()``'s handle on PostgreSQL: each call borrows a pool connection."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db
        self.conn = self

    def execute(self, sql: str, params: Any = ()) -> Any:
        with self._db._borrow() as conn:
            return PgConnection(conn, self._db.catalog).execute(sql, params)

    def query(self, sql: str, params: Any = ()) -> Any:
        return iter(self._db.query(sql, params))


class _Untransacted:
    """A writer task run on the bare connection, outside any group (migrations)."""

    def __init__(self, fn: Callable[[psycopg.Connection[Any]], Any]) -> None:
        self.fn = fn


class _Alone:
    """A writer task in a transaction of its own."""

    def __init__(self, fn: PgWriteFn) -> None:
        self.fn = fn


def open_database(settings: Settings) -> Database | PgDatabase:
    """The database ``settings`` name, opened: PostgreSQL when ``database_url`` is set, else
    the SQLite file exactly as before (``Database(settings.db_path).open()``)."""
    if settings.database_url:
        return PgDatabase(settings.database_url).open()
    return Database(settings.db_path).open()
