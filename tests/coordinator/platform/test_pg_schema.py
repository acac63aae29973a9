"""Every domain's migrations applied to a fresh PostgreSQL database (``platform/pg_schema.py``)
give the tables and columns SQLite gets from the same migrations; the translated triggers
guard and count on PostgreSQL as they do on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import sqlite_utils

from coordinator.bootstrap import migration_sets
from coordinator.platform import pg_schema
from coordinator.platform.db import Database
from tests.harness.postgres import PostgresServer

#: FTS5 tables: PostgreSQL has a plain table with the document id beside the indexed text.
FTS5_TABLES = {"pop_name_fts", "pop_address_fts"}


@pytest.fixture(scope="module")
def sqlite_schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Each SQLite table of a file migrated as the coordinator does: its columns (name →
    (not null, primary key)), FTS5's shadow tables left out."""
    path = Path(tmp_path_factory.mktemp("sqlite")) / "citywatch.db"
    with Database(path) as db:
        db.migrate(*migration_sets())
    s = sqlite_utils.Database(path)
    try:
        shadows = {f"{v}_{x}" for v in FTS5_TABLES for x in pg_schema.pg_ddl.FTS5_SHADOWS}
        return {
            t: {c.name: (bool(c.notnull), bool(c.is_pk)) for c in s[t].columns}
            for t in s.table_names()
            if t not in shadows
        }
    finally:
        s.close()


@pytest.fixture(scope="module")
def migrated_template(postgres_server: PostgresServer) -> Iterator[tuple[str, pg_schema.Applied]]:
    """A database every migration was applied to once, copied for each test."""
    name = postgres_server.create_database()
    try:
        with psycopg.connect(postgres_server.dsn(name), autocommit=True) as conn:
            applied = pg_schema.apply(conn, migration_sets())
        yield name, applied
    finally:
        postgres_server.drop_database(name)


@dataclass(frozen=True)
class Migrated:
    """This test's copy of the migrated database, and what applying the migrations did."""

    dsn: str
    applied: pg_schema.Applied


@pytest.fixture
def migrated(
    postgres_server: PostgresServer, migrated_template: tuple[str, pg_schema.Applied]
) -> Iterator[Migrated]:
    name = postgres_server.create_database(template=migrated_template[0])
    try:
        yield Migrated(postgres_server.dsn(name), migrated_template[1])
    finally:
        postgres_server.drop_database(name)


@pytest.fixture
def pg(migrated: Migrated) -> Iterator[psycopg.Connection]:
    """A connection to this test's copy of the migrated database."""
    with psycopg.connect(migrated.dsn, autocommit=True) as conn:
        yield conn


def pg_columns(pg: psycopg.Connection) -> dict[str, dict[str, tuple[bool, bool]]]:
    rows = pg.execute(
        """select c.table_name, c.column_name, c.is_nullable = 'NO',
                  exists (select 1 from information_schema.key_column_usage k
                          join information_schema.table_constraints t
                            on t.constraint_name = k.constraint_name
                           and t.table_name = k.table_name and t.constraint_type = 'PRIMARY KEY'
                          where k.table_name = c.table_name and k.column_name = c.column_name)
           from information_schema.columns c
           where c.table_schema = current_schema()"""
    ).fetchall()
    out: dict[str, dict[str, tuple[bool, bool]]] = {}
    for table, col, notnull, pk in rows:
        out.setdefault(table, {})[col] = (notnull, pk)
    return out


def test_every_sqlite_table_exists_on_postgresql_with_the_same_columns(sqlite_schema, migrated, pg):
    have = pg_columns(pg)
    assert set(have) == set(sqlite_schema)
    for table, cols in sqlite_schema.items():
        got = dict(have[table])
        if table in FTS5_TABLES:
            assert got.pop("rowid") == (True, True)  # rowid: FTS5's document id, kept
        assert set(got) == set(cols), table
        for col, (notnull, pk) in cols.items():
            # PostgreSQL's primary keys are never null (SQLite's rowid alias is not either)
            assert got[col][1] == pk, (table, col)
            assert got[col][0] == (notnull or pk), (table, col)


def test_every_migration_is_recorded_once_and_applying_again_does_nothing(migrated, pg):
    expected = [f"{s.name}.{m.name}" for s in migration_sets() for m in s._migrations]
    assert migrated.applied.migrations == expected
    recorded = pg.execute(
        "select migration_set || '.' || name from _sqlite_migrations order by id"
    ).fetchall()
    assert [r[0] for r in recorded] == expected
    again = pg_schema.apply(pg, migration_sets())
    assert again.migrations == [] and again.statements == []


def test_the_audit_log_is_append_only_and_chained_on_postgresql(migrated, pg):
    genesis = "0" * 64
    insert = (
        "insert into audit_log (id, ts, actor, action, subject_type, prev_hash, hash) "
        "values (%s, 1.0, 'officer', 'view', 'person', %s, %s)"
    )
    pg.execute(insert, [1, genesis, "a" * 64])
    with pytest.raises(psycopg.IntegrityError, match="appended to the hash chain"):
        pg.execute(insert, [5, "a" * 64, "b" * 64])  # not the next id
    with pytest.raises(psycopg.IntegrityError, match="appended to the hash chain"):
        pg.execute(insert, [2, genesis, "b" * 64])  # not chained to the head
    pg.execute(insert, [2, "a" * 64, "b" * 64])
    with pytest.raises(psycopg.IntegrityError, match="append-only"):
        pg.execute("update audit_log set actor = 'someone else' where id = 1")
    with pytest.raises(psycopg.IntegrityError, match="append-only"):
        pg.execute("delete from audit_log where id = 2")
    assert pg.execute("select count(*) from audit_log").fetchone()[0] == 2


def test_the_population_counters_follow_updates_and_deletes(migrated, pg):
    pg.execute(
        "insert into pop_persons (id, name, zone, status, created_at, updated_at) "
        "values (1, 'Zhang Wei', 'north', 'active', 1, 1)"
    )
    # inserts are counted by the code that inserts (see population/schema.py)
    pg.execute("insert into pop_counts (dim, k, n) values ('zone', 'north', 1)")
    pg.execute("update pop_persons set zone = 'south' where id = 1")
    counts = dict(pg.execute("select k, n from pop_counts where dim = 'zone'").fetchall())
    assert counts == {"north": 0, "south": 1}
    pg.execute("delete from pop_persons where id = 1")
    counts = dict(pg.execute("select k, n from pop_counts where dim = 'zone'").fetchall())
    assert counts == {"north": 0, "south": 0}


def test_identity_ids_are_handed_out_like_sqlite_rowids(migrated, pg):
    ids = [
        pg.execute(
            "insert into device_alert_groups (dim, value) values ('zone', %s) returning id", [z]
        ).fetchone()[0]
        for z in ("north", "south")
    ]
    assert ids == [1, 2]


def test_the_name_search_placeholder_finds_by_trigram_similarity(migrated, pg):
    pg.execute("insert into pop_name_fts (rowid, text) values (7, 'zhang wei 张伟')")
    found = pg.execute("select rowid from pop_name_fts where text like '%张伟%'").fetchall()
    assert found == [(7,)]
    pg.execute("set enable_seqscan = off")  # a one-row table: make the planner show its index
    plan = pg.execute("explain select rowid from pop_name_fts where text like '%zhang%'")
    assert "pop_name_fts_text_search" in "\n".join(r[0] for r in plan.fetchall())
