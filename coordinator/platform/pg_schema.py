"""Every domain's migrations applied to a PostgreSQL database, from their SQLite originals.

The domains write their migrations once, for SQLite (``sqlite_utils.migrations.Migrations``:
Python functions over a ``sqlite_utils.Database``). To bring a PostgreSQL database to the same
schema, each migration runs first on a *twin*: an in-memory SQLite database taken through the
same migrations in the same order. What a migration changed in the twin's schema (its
``sqlite_master`` before and after) is translated by :mod:`.pg_ddl` and run on PostgreSQL in
one transaction with the record of the migration in ``_sqlite_migrations`` (sqlite-utils'
bookkeeping table, kept under its name so both backends answer "what is applied" alike).

Translated from the schema difference, mechanically: new tables (and FTS5 placeholders, see
:mod:`.pg_ddl`), tables a migration renamed, columns added or dropped, dropped tables, new,
changed and dropped indexes, new, changed and dropped triggers.

By hand: nothing yet. Every migration written so far goes through the mechanical path
(``tests/coordinator/platform/test_pg_schema.py`` proves it on a real server); a migration it
refuses gets its PostgreSQL statements written out and passed to :func:`apply` as
``by_hand={"set.migration": [...]}``, which then replaces the translation of that migration.

Not carried over (each a known gap, for the slices that follow):

* **data**: a migration's ``INSERT``/``UPDATE`` of existing rows (backfills, re-encryption,
  the audit chain's re-hashing) changes nothing in the empty twin, so nothing of it reaches
  PostgreSQL. A fresh database loses nothing by this (no migration seeds rows today, and
  :func:`apply` refuses one that does); a PostgreSQL database holding data needs such a
  migration ported by hand before it is upgraded.
* **changed columns**: a migration that changes a column's type, constraints or default, or a
  table's constraints (sqlite-utils ``transform``), raises :class:`SchemaNotPorted`: port it
  by hand when one is written.
* **concurrency of triggers**: the audit chain's guard reads the head (``max(id)``) in the
  trigger, which is exact with the coordinator's single writer; writers in parallel on
  PostgreSQL would need a lock around appends.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

from . import pg_ddl

BOOKKEEPING = Migrations.migrations_table
_REFERENCES = re.compile(r"\bREFERENCES\s+(\"[^\"]+\"|\[[^\]]+\]|`[^`]+`|\w+)", re.I)
#: Key of the advisory lock held while migrating: two coordinators starting together do not
#: both migrate.
MIGRATION_LOCK = 0x43_57_4D_49  # "CWMI"


class SchemaNotPorted(RuntimeError):
    """A migration changes the schema in a way :mod:`.pg_ddl` does not translate."""


@dataclass(frozen=True)
class Entry:
    """One row of ``sqlite_master``."""

    type: str
    name: str
    table: str
    sql: str


@dataclass
class Applied:
    """What :func:`apply` did: the migrations applied (``set.name``) and their statements."""

    migrations: list[str] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)


def shape(conn: sqlite3.Connection) -> dict[str, Entry]:
    """The twin's schema by name: tables, indexes, triggers and views with their SQL, less
    SQLite's own objects, FTS5's shadow tables and the migrations' bookkeeping table."""
    rows = conn.execute(
        "select type, name, tbl_name, sql from sqlite_master "
        "where sql is not null and name not like 'sqlite\\_%' escape '\\' order by type, name"
    ).fetchall()
    virtual = {r[1] for r in rows if r[0] == "table" and r[3].upper().startswith("CREATE VIRTUAL")}
    shadows = {f"{v}_{s}" for v in virtual for s in pg_ddl.FTS5_SHADOWS}
    return {
        name: Entry(kind, name, table, sql)
        for kind, name, table, sql in rows
        if name not in shadows and table != BOOKKEEPING
    }


def _order(entries: dict[str, Entry], names: set[str]) -> list[Entry]:
    """``names``' entries, a table after the tables its foreign keys reference."""
    chosen = {n: e for n, e in entries.items() if n in names}
    out: list[Entry] = []
    placed: set[str] = set()

    def place(e: Entry, seen: frozenset[str]) -> None:
        if e.name in placed or e.name in seen:
            return
        if e.type == "table":
            for ref in _REFERENCES.findall(e.sql):
                target = ref.strip('"[]`')
                if target in chosen and target != e.name:
                    place(chosen[target], seen | {e.name})
        placed.add(e.name)
        out.append(e)

    for e in chosen.values():
        place(e, frozenset())
    return out


def diff(before: dict[str, Entry], after: dict[str, Entry], where: str = "") -> list[str]:
    """PostgreSQL statements taking a database from ``before`` to ``after``."""
    out: list[str] = []
    gone, new = set(before) - set(after), set(after) - set(before)
    changed = {n for n in set(before) & set(after) if before[n].sql != after[n].sql}
    for e in _order(before, (gone | changed) - {n for n in before if before[n].type == "table"}):
        out += _drop(e)
    renames = _renames(before, after, gone, new)
    for old, nw in renames.items():
        out.append(f"ALTER TABLE {pg_ddl.quote(old)} RENAME TO {pg_ddl.quote(nw)}")
    for e in _order(before, gone - set(renames)):
        if e.type == "table":
            out.append(f"DROP TABLE IF EXISTS {pg_ddl.quote(e.name)}")
    for e in _order(after, (new - set(renames.values())) | changed):
        if e.type == "table" and e.name in changed:
            out += _alter(before[e.name], e, where)
        elif e.type == "table":
            out += pg_ddl.create_table(e.name, e.sql)
    for e in _order(after, new | changed):
        if e.type == "index":
            out.append(pg_ddl.create_index(e.sql))
        elif e.type == "trigger":
            out += pg_ddl.create_trigger(e.sql)
        elif e.type == "view":
            out.append(pg_ddl.expr(e.sql))
    return out


def _drop(e: Entry) -> list[str]:
    if e.type == "index":
        return [f"DROP INDEX IF EXISTS {pg_ddl.quote(e.name)}"]
    if e.type == "trigger":
        return pg_ddl.drop_trigger(e.name, e.table)
    return [f"DROP VIEW IF EXISTS {pg_ddl.quote(e.name)}"]


def _renames(
    before: dict[str, Entry], after: dict[str, Entry], gone: set[str], new: set[str]
) -> dict[str, str]:
    """Tables that went under one name and came back, column for column, under another."""
    out: dict[str, str] = {}
    for old in sorted(gone):
        if before[old].type != "table":
            continue
        for nw in sorted(new - set(out.values())):
            same = after[nw].type == "table" and pg_ddl.body(after[nw].sql) == pg_ddl.body(
                before[old].sql
            )
            if same:
                out[old] = nw
                break
    return out


def _alter(old: Entry, new: Entry, where: str) -> list[str]:
    """Columns added and dropped; anything else about a table is a change to port by hand."""
    if old.sql.upper().startswith("CREATE VIRTUAL") or new.sql.upper().startswith("CREATE VIRTUAL"):
        raise SchemaNotPorted(f"{where}: virtual table {new.name} changed")
    (cols_a, cons_a), (cols_b, cons_b) = pg_ddl.columns(old.sql), pg_ddl.columns(new.sql)
    kept = [c for c in cols_a if c in cols_b]
    if cons_a != cons_b or any(cols_a[c] != cols_b[c] for c in kept):
        raise SchemaNotPorted(
            f"{where}: table {new.name} changes a column's definition or its constraints; "
            "port this migration to PostgreSQL by hand"
        )
    t = pg_ddl.quote(new.name)
    out = [f"ALTER TABLE {t} DROP COLUMN {pg_ddl.quote(c)}" for c in cols_a if c not in cols_b]
    out += [pg_ddl.add_column(new.name, c, rest) for c, rest in cols_b.items() if c not in cols_a]
    return out


def _seeded(conn: sqlite3.Connection, entries: dict[str, Entry]) -> list[str]:
    """Tables of the twin holding rows (a migration that seeds data)."""
    return [
        e.name
        for e in entries.values()
        if e.type == "table"
        and not e.sql.upper().startswith("CREATE VIRTUAL")
        and conn.execute(f"select exists (select 1 from {pg_ddl.quote(e.name)})").fetchone()[0]
    ]


def _translated(
    before: dict[str, Entry], after: dict[str, Entry], seeded: set[str], where: str
) -> list[str]:
    """A migration's statements on PostgreSQL, from what it did to the twin (``seeded``: the
    tables it wrote rows into)."""
    if seeded:
        raise SchemaNotPorted(f"{where} writes rows ({', '.join(sorted(seeded))}): port it by hand")
    try:
        return diff(before, after, where)
    except pg_ddl.NotPortable as exc:
        raise SchemaNotPorted(f"{where}: {exc}") from exc


def _ensure_bookkeeping(pg: Any) -> set[tuple[str, str]]:
    pg.execute(
        f"CREATE TABLE IF NOT EXISTS {BOOKKEEPING} (id bigint GENERATED BY DEFAULT AS IDENTITY "
        "PRIMARY KEY, migration_set text, name text, applied_at text)"
    )
    pg.execute(
        f"CREATE UNIQUE INDEX IF NOT EXISTS idx_{BOOKKEEPING}_migration_set_name "
        f"ON {BOOKKEEPING} (migration_set, name)"
    )
    return {(r[0], r[1]) for r in pg.execute(f"SELECT migration_set, name FROM {BOOKKEEPING}")}


def apply(
    pg: Any, sets: Sequence[Migrations], by_hand: Mapping[str, Sequence[str]] | None = None
) -> Applied:
    """Bring the PostgreSQL database of ``pg`` (a psycopg connection, autocommit off or on)
    to the schema of ``sets``, migrations not yet recorded there only. Each migration is one
    transaction with its record; an error rolls that migration back and propagates.
    ``by_hand``: PostgreSQL statements of a migration (``"set.name"``) ported by hand, run
    instead of its translation."""
    twin = sqlite3.connect(":memory:", isolation_level=None)
    tdb = sqlite_utils.Database(twin)
    done = Applied()
    try:
        with pg.transaction():
            pg.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK])
        try:
            with pg.transaction():
                applied = _ensure_bookkeeping(pg)
            for s in sets:
                _apply_set(pg, tdb, s, applied, done, by_hand or {})
        finally:
            with pg.transaction():
                pg.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK])
    finally:
        twin.close()
    return done


def _apply_set(
    pg: Any,
    tdb: sqlite_utils.Database,
    s: Migrations,
    applied: set[tuple[str, str]],
    done: Applied,
    by_hand: Mapping[str, Sequence[str]],
) -> None:
    """Each pending migration of ``s``: on the twin, then its difference on PostgreSQL."""
    pending = [m.name for m in s.pending(tdb)]
    for i, name in enumerate(pending):
        before = shape(tdb.conn)
        had_rows = set(_seeded(tdb.conn, before))
        s.apply(tdb, stop_before=pending[i + 1 :])
        after = shape(tdb.conn)
        key = f"{s.name}.{name}"
        if (s.name, name) in applied:
            continue
        if key in by_hand:
            statements = list(by_hand[key])
        else:
            seeded = set(_seeded(tdb.conn, after)) - had_rows
            statements = _translated(before, after, seeded, f"migration {key}")
        with pg.transaction():
            for st in statements:
                pg.execute(st)
            pg.execute(
                f"INSERT INTO {BOOKKEEPING} (migration_set, name, applied_at) "
                "VALUES (%s, %s, now()::text)",
                [s.name, name],
            )
        done.migrations.append(key)
        done.statements += statements
