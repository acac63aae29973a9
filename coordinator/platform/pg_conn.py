"""What a write function (or a read) is handed on PostgreSQL: a thin stand-in for
``sqlite_utils.Database`` and its ``sqlite3`` connection, so the domains' SQL runs unchanged.

Supported, as the domains use them (see docs/scaling.md for what is not):

* ``db.execute(sql, params)``, ``db.conn.execute(...)``, ``db.conn.executemany(...)``: SQLite
  placeholders translated (:mod:`.pg_sql`); the cursor has ``fetchone``/``fetchall``/
  ``fetchmany``, iteration, ``rowcount``, ``description`` and ``lastrowid``;
* ``lastrowid``: a plain INSERT (no RETURNING) into a table with an identity ``id`` gets
  ``RETURNING id`` appended and reports the last id it returned (None when nothing was
  inserted, an ``ON CONFLICT DO NOTHING`` that met a conflict);
* explicit ids: an INSERT naming ``id`` of such a table moves the identity's sequence past the
  largest id, so a later INSERT without one does not collide (SQLite takes ``max + 1``);
* ``db.query(sql, params)`` → dicts; ``conn.in_transaction``;
* ``db.table(name)`` / ``db[name]``: ``insert`` (``last_pk``, ``last_rowid``), ``insert_all``,
  ``upsert`` (``pk=``), ``update(pk, values)`` and ``exists()``, values JSON-encoded as
  sqlite-utils does;
* results as SQLite gives them: ``numeric`` values (``sum`` of integers, NUMERIC columns) come
  back as ``int`` when whole, else ``float``, never ``Decimal``.
"""

from __future__ import annotations

import datetime
import decimal
import json
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import psycopg
from psycopg import pq
from psycopg.adapt import Loader
from psycopg.rows import dict_row

from . import pg_sql

Params = Sequence[Any] | Mapping[str, Any] | None


class NotFoundError(LookupError):
    """``table.update`` of a row that does not exist (as sqlite-utils raises)."""


class _SqliteNumeric(Loader):
    """``numeric`` → ``int`` when whole, else ``float`` (SQLite's NUMERIC affinity)."""

    def load(self, data: Any) -> int | float:
        text = bytes(data).decode()
        if text.lstrip("-").isdigit():
            return int(text)
        return float(text)


def configure(conn: psycopg.Connection[Any]) -> None:
    """Adapt a new connection to the domains' expectations (pool ``configure`` hook)."""
    conn.adapters.register_loader("numeric", _SqliteNumeric)


class Catalog:
    """Tables' identity ``id`` columns (and their sequences) and primary keys, read from
    PostgreSQL once and again after a migration."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sequences: dict[str, str] = {}
        self.keys: dict[str, tuple[str, ...]] = {}

    def load(self, conn: psycopg.Connection[Any]) -> None:
        ident = conn.execute(
            "SELECT table_name, pg_get_serial_sequence(quote_ident(table_name), 'id') "
            "FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND column_name = 'id' AND is_identity = 'YES'"
        ).fetchall()
        keys: dict[str, list[str]] = {}
        for table, column in conn.execute(
            "SELECT tc.table_name, k.column_name FROM information_schema.table_constraints tc "
            "JOIN information_schema.key_column_usage k ON k.constraint_name = tc.constraint_name "
            "AND k.table_schema = tc.table_schema AND k.table_name = tc.table_name "
            "WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = current_schema() "
            "ORDER BY tc.table_name, k.ordinal_position"
        ).fetchall():
            keys.setdefault(table, []).append(column)
        with self._lock:
            self.sequences = {t: s for t, s in ident if s}
            self.keys = {t: tuple(c) for t, c in keys.items()}


class PgCursor:
    """The rows of one statement, read eagerly (the connection may go back to the pool)."""

    def __init__(
        self, cur: psycopg.Cursor[Any] | None, lastrowid: int | None = None, rows: Any = None
    ) -> None:
        self.lastrowid = lastrowid
        self.rowcount = cur.rowcount if cur is not None else -1
        self.description = cur.description if cur is not None else None
        if rows is not None:
            self._rows = list(rows)
        elif cur is not None and cur.pgresult is not None and cur.description is not None:
            self._rows = cur.fetchall()
        else:
            self._rows = []
        self._at = 0

    def fetchone(self) -> Any:
        if self._at >= len(self._rows):
            return None
        self._at += 1
        return self._rows[self._at - 1]

    def fetchmany(self, size: int = 1) -> list[Any]:
        out = self._rows[self._at : self._at + size]
        self._at += len(out)
        return out

    def fetchall(self) -> list[Any]:
        out = self._rows[self._at :]
        self._at = len(self._rows)
        return out

    def __iter__(self) -> Iterator[Any]:
        while (row := self.fetchone()) is not None:
            yield row

    def close(self) -> None:
        self._rows = []


class PgConnection:
    """The ``sqlite3.Connection`` the domains use: execute, executemany, in_transaction."""

    def __init__(self, conn: psycopg.Connection[Any], catalog: Catalog) -> None:
        self.raw = conn
        self.catalog = catalog

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != pq.TransactionStatus.IDLE

    def execute(self, sql: str, params: Params = ()) -> PgCursor:
        t = pg_sql.translate(sql, params)
        ins = pg_sql.plain_insert(sql)
        seq = self.catalog.sequences.get(ins.table) if ins is not None else None
        if ins is None or seq is None or ins.returning:
            return PgCursor(self.raw.execute(t.sql, t.params))
        cur = self.raw.execute(pg_sql.with_returning_id(t.sql), t.params)
        ids = [r[0] for r in cur.fetchall()]
        if "id" in ins.columns and ids:
            self._advance(ins.table, seq)
        return PgCursor(cur, ids[-1] if ids else None, rows=[])

    def executemany(self, sql: str, seq_of_params: Iterable[Params]) -> PgCursor:
        rows = [pg_sql.translate(sql, p) for p in seq_of_params]
        if not rows:
            return PgCursor(None)
        with self.raw.cursor() as cur:
            cur.executemany(rows[0].sql, [r.params for r in rows])
            out = PgCursor(None)
            out.rowcount = cur.rowcount
        ins = pg_sql.plain_insert(sql)
        if ins is not None and "id" in ins.columns and ins.table in self.catalog.sequences:
            self._advance(ins.table, self.catalog.sequences[ins.table])
        return out

    def _advance(self, table: str, seq: str) -> None:
        """Move ``table``'s identity past its largest id (never back)."""
        self.raw.execute(
            f'SELECT setval(%s, GREATEST((SELECT max(id) FROM "{table}"), '
            f"(SELECT last_value FROM {seq})))",
            [seq],
        )

    def query(self, sql: str, params: Params = ()) -> Iterator[dict[str, Any]]:
        t = pg_sql.translate(sql, params)
        with self.raw.cursor(row_factory=dict_row) as cur:
            cur.execute(t.sql, t.params)
            rows = cur.fetchall() if cur.description is not None else []
        return iter(rows)


class PgHandle:
    """The ``sqlite_utils.Database`` a write function receives: ``conn``, ``execute``,
    ``query``, ``table``/``[]``."""

    def __init__(self, conn: PgConnection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Params = ()) -> PgCursor:
        return self.conn.execute(sql, params)

    def query(self, sql: str, params: Params = ()) -> Iterator[dict[str, Any]]:
        return self.conn.query(sql, params)

    def table(self, name: str) -> PgTable:
        return PgTable(self, name)

    def __getitem__(self, name: str) -> PgTable:
        return PgTable(self, name)


def jsonify(value: Any) -> Any:
    """A value as sqlite-utils stores it (containers as JSON text, times as ISO text)."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, default=repr, ensure_ascii=False)
    if isinstance(value, (datetime.time, datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, (datetime.timedelta, uuid.UUID)):
        return str(value)
    return value


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PgTable:
    """The few ``sqlite_utils.Table`` methods the domains' writes call."""

    def __init__(self, db: PgHandle, name: str) -> None:
        self.db = db
        self.name = name
        self.last_pk: Any = None
        self.last_rowid: int | None = None

    def _pks(self, pk: str | Sequence[str] | None) -> tuple[str, ...]:
        if pk is not None:
            return (pk,) if isinstance(pk, str) else tuple(pk)
        return self.db.conn.catalog.keys.get(self.name, ("id",))

    def exists(self) -> bool:
        row = self.db.execute("SELECT to_regclass(?) IS NOT NULL", [_q(self.name)]).fetchone()
        return bool(row[0])

    def insert(self, row: Mapping[str, Any], pk: str | Sequence[str] | None = None) -> PgTable:
        cols = list(row)
        cur = self.db.execute(
            f"INSERT INTO {_q(self.name)} ({', '.join(map(_q, cols))}) "
            f"VALUES ({', '.join('?' * len(cols))})",
            [jsonify(row[c]) for c in cols],
        )
        self.last_rowid = cur.lastrowid
        self._set_last_pk(row, pk)
        return self

    def _set_last_pk(self, row: Mapping[str, Any], pk: str | Sequence[str] | None) -> None:
        pks = self._pks(pk)
        if all(k in row for k in pks):
            self.last_pk = row[pks[0]] if len(pks) == 1 else tuple(row[k] for k in pks)
        else:
            self.last_pk = self.last_rowid

    def insert_all(
        self, rows: Iterable[Mapping[str, Any]], pk: str | Sequence[str] | None = None
    ) -> PgTable:
        for row in rows:
            self.insert(row, pk=pk)
        return self

    def upsert(self, row: Mapping[str, Any], pk: str | Sequence[str] | None = None) -> PgTable:
        """Insert ``row``, or update the columns it names in the row with its key."""
        pks = self._pks(pk)
        cols = list(row)
        rest = [c for c in cols if c not in pks]
        action = (
            "DO UPDATE SET " + ", ".join(f"{_q(c)} = excluded.{_q(c)}" for c in rest)
            if rest
            else "DO NOTHING"
        )
        cur = self.db.execute(
            f"INSERT INTO {_q(self.name)} ({', '.join(map(_q, cols))}) "
            f"VALUES ({', '.join('?' * len(cols))}) "
            f"ON CONFLICT ({', '.join(map(_q, pks))}) {action}",
            [jsonify(row[c]) for c in cols],
        )
        self.last_rowid = cur.lastrowid
        self._set_last_pk(row, pks)
        return self

    def update(self, pk_values: Any, updates: Mapping[str, Any] | None = None) -> PgTable:
        """Set ``updates`` in the row keyed ``pk_values``; :class:`NotFoundError` if none."""
        pks = self._pks(None)
        keys = list(pk_values) if isinstance(pk_values, (list, tuple)) else [pk_values]
        where = " AND ".join(f"{_q(k)} = ?" for k in pks)
        found = self.db.execute(f"SELECT 1 FROM {_q(self.name)} WHERE {where}", keys)
        if found.fetchone() is None:
            raise NotFoundError(f"{self.name}: no row {pk_values!r}")
        if updates:
            cols = list(updates)
            self.db.execute(
                f"UPDATE {_q(self.name)} SET {', '.join(_q(c) + ' = ?' for c in cols)} "
                f"WHERE {where}",
                [jsonify(updates[c]) for c in cols] + keys,
            )
        self.last_pk = pk_values
        return self
