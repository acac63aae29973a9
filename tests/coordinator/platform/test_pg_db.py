"""The data layer on PostgreSQL (``platform/pg_db.py``): the writer's group commit and its
guarantees on a real server, the SQLite placeholders translated, ``lastrowid`` and
sqlite-utils' table helpers, and real domains' write functions giving the same rows on
SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlite_utils
from sqlite_utils.migrations import Migrations

from coordinator.identity import audit
from coordinator.identity import schema as identity_schema
from coordinator.ingest import schema as ingest_schema
from coordinator.platform import pg_sql
from coordinator.platform.db import Database, DatabaseClosed
from coordinator.platform.pg_conn import NotFoundError
from coordinator.platform.pg_db import PgDatabase, open_database
from coordinator.settings import Settings

things = Migrations("pg_db_test")


@things()
def m001_things(db: sqlite_utils.Database) -> None:
    """A table with the row id alias (an identity on PostgreSQL) and one keyed by text."""
    db.execute(
        "create table things (id integer primary key, name text unique, n integer, "
        "price numeric, flag integer)"
    )
    db.table("kv").create({"k": str, "v": str}, pk="k")


@pytest.fixture
def pgdb(pg_dsn: str) -> Iterator[PgDatabase]:
    db = PgDatabase(pg_dsn).open()
    try:
        db.migrate(things)
        yield db
    finally:
        db.close()


def gate(db: PgDatabase) -> threading.Event:
    """Hold the writer on a task until the event is set, so what is queued meanwhile forms
    one group; returns the event once the writer is inside the task."""
    inside, release = threading.Event(), threading.Event()

    def hold(_db: Any) -> None:
        inside.set()
        assert release.wait(30)

    db.submit(hold)
    assert inside.wait(30)
    return release


def insert_thing(name: str, fail: bool = False) -> Callable[[Any], int]:
    def fn(db: Any) -> int:
        cur = db.execute("insert into things (name, n) values (?, ?)", [name, 1])
        if fail:
            raise RuntimeError(f"{name} fails after its insert")
        return int(cur.lastrowid)

    return fn


def names(db: PgDatabase) -> list[str]:
    return [r["name"] for r in db.query("select name from things order by name")]


# --- placeholders (pure) -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sql", "params", "want_sql", "want_params"),
    [
        ("select ? , '?' , \"a?\"", [1], "select %s , '?' , \"a?\"", [1]),
        ("select 'it''s ?', ?", [2], "select 'it''s ?', %s", [2]),
        ("select ? -- why?\n, ?", [1, 2], "select %s -- why?\n, %s", [1, 2]),
        ("select /* ? */ ?", [1], "select /* ? */ %s", [1]),
        ("select a ?? 'k' from t where x = ?", [1], "select a ? 'k' from t where x = %s", [1]),
        ("select ?2, ?1, ?1, ?", ["a", "b", "c"], "select %s, %s, %s, %s", ["b", "a", "a", "c"]),
        ("select 5 % 2, 'x%y' like ?", ["%"], "select 5 %% 2, 'x%%y' like %s", ["%"]),
        (
            "select :a, x::text, ':b' from t where y = :a",
            {"a": True},
            "select %(a)s, x::text, ':b' from t where y = %(a)s",
            {"a": 1},
        ),  # fmt: skip
        ("BEGIN IMMEDIATE", (), "BEGIN", ()),
        ("select :a", [], "select :a", []),  # a list of parameters: no named ones
    ],
)
def test_placeholders_are_translated_outside_literals_and_comments(
    sql: str, params: Any, want_sql: str, want_params: Any
) -> None:
    t = pg_sql.translate(sql, params)
    assert (t.sql, t.params) == (want_sql, want_params)


@pytest.mark.parametrize(
    ("sql", "params"),
    [("select ?, ?", [1]), ("select ?", [1, 2]), ("select :a", {"b": 1}), ("select ?", {"a": 1})],
)
def test_placeholders_that_do_not_match_their_parameters_are_refused(sql: str, params: Any) -> None:
    with pytest.raises(pg_sql.NotTranslated):
        pg_sql.translate(sql, params)


@pytest.mark.parametrize(
    ("sql", "want"),
    [
        ("insert into things (id, name) values (?, ?)", ("things", ("id", "name"), False)),
        ('INSERT INTO "kv" ("k") SELECT 1', ("kv", ("k",), False)),
        ("insert into t (a) values (?) returning a", ("t", ("a",), True)),
        ("insert into t (a) values ('x; returning')", ("t", ("a",), False)),
        ("insert into t (a) values (1); delete from t", None),
        ("update t set a = 1", None),
    ],
)
def test_plain_inserts_are_recognised(sql: str, want: Any) -> None:
    got = pg_sql.plain_insert(sql)
    assert (None if got is None else (got.table, got.columns, got.returning)) == want


@pytest.mark.parametrize(
    ("sql", "want"),
    [
        ("insert into t (a) values (?)", "insert into t (a) values (?)"),
        ("insert into t (a) values (?) ;  ", "insert into t (a) values (?)"),
        ("insert into t (a) values (?); -- a; note\n", "insert into t (a) values (?)"),
        ("insert into t (a) values (?) /* why */", "insert into t (a) values (?)"),
        ("insert into t (a) values ('x;') -- why", "insert into t (a) values ('x;')"),
    ],
)
def test_returning_goes_after_the_statement_not_into_a_comment(sql: str, want: str) -> None:
    assert pg_sql.with_returning_id(sql) == want + "\nRETURNING id"


def test_translated_statements_mean_on_postgresql_what_they_mean_on_sqlite(
    pgdb: PgDatabase,
) -> None:
    sql = "select ? as a, '?' as q, 'x%' like ? as l, 7 % 3 as m, ?2 as b -- ?\n"
    assert pgdb.query(sql, ["one", "x%"]) == [{"a": "one", "q": "?", "l": True, "m": 1, "b": "x%"}]
    assert pgdb.query("select :v as v, 'a:v' as t", {"v": 5}) == [{"v": 5, "t": "a:v"}]


# --- the writer --------------------------------------------------------------------------------
def test_concurrent_writers_are_group_committed(pgdb: PgDatabase) -> None:
    release = gate(pgdb)
    before = pgdb.commits
    futs: list[Future[Any]] = []
    lock = threading.Lock()

    def writer(k: int) -> None:
        for i in range(25):
            f = pgdb.submit(insert_thing(f"w{k}-{i:02d}"))
            with lock:
                futs.append(f)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    release.set()
    ids = [f.result(timeout=30) for f in futs]
    assert len(set(ids)) == 200
    assert len(names(pgdb)) == 200
    # the held task's group, then the 200 queued meanwhile in one group (MAX_GROUP is 256)
    assert pgdb.commits - before == 2


def test_a_failing_task_rolls_back_alone(pgdb: PgDatabase) -> None:
    pgdb.write(insert_thing("taken"))
    release = gate(pgdb)
    before = pgdb.commits
    ok1 = pgdb.submit(insert_thing("a"))
    raises = pgdb.submit(insert_thing("b", fail=True))
    violates = pgdb.submit(insert_thing("taken"))  # a unique constraint: a server error
    ok2 = pgdb.submit(insert_thing("d"))
    release.set()
    assert ok1.result(30) and ok2.result(30)
    with pytest.raises(RuntimeError, match="b fails"):
        raises.result(30)
    with pytest.raises(psycopg.errors.UniqueViolation):
        violates.result(30)
    assert names(pgdb) == ["a", "d", "taken"]
    assert pgdb.commits - before == 2


def test_alone_tasks_run_in_a_transaction_of_their_own(pgdb: PgDatabase) -> None:
    def txid(db: Any) -> int:
        return int(db.execute("select txid_current()").fetchone()[0])

    release = gate(pgdb)
    a1, a2 = pgdb.submit(txid), pgdb.submit(txid)
    alone = pgdb.submit(txid, alone=True)
    c1, c2 = pgdb.submit(txid), pgdb.submit(txid)
    release.set()
    a, b, c = a1.result(30), alone.result(30), c1.result(30)
    assert a == a2.result(30) and c == c2.result(30)
    assert len({a, b, c}) == 3


def test_reads_see_committed_writes_from_other_threads(pgdb: PgDatabase) -> None:
    seen: list[Any] = []
    rid = pgdb.write(insert_thing("seen"))
    t = threading.Thread(target=lambda: seen.append(pgdb.query("select id, name from things")))
    t.start()
    t.join()
    assert seen == [[{"id": rid, "name": "seen"}]]
    row = pgdb.read().execute("select name, n from things where id = ?", [rid]).fetchone()
    assert row == ("seen", 1)
    assert [r["name"] for r in pgdb.read().query("select name from things")] == ["seen"]


def test_an_uncommitted_write_is_not_read(pgdb: PgDatabase) -> None:
    inside, release = threading.Event(), threading.Event()

    def slow(db: Any) -> None:
        db.execute("insert into things (name) values ('pending')")
        inside.set()
        assert release.wait(30)

    fut = pgdb.submit(slow)
    assert inside.wait(30)
    assert names(pgdb) == []
    release.set()
    fut.result(30)
    assert names(pgdb) == ["pending"]


def test_the_writer_reconnects_after_its_connection_is_lost(pgdb: PgDatabase, pg_dsn: str) -> None:
    pid = pgdb.write(lambda db: db.execute("select pg_backend_pid()").fetchone()[0])
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        admin.execute("select pg_terminate_backend(%s, 10000)", [pid])  # waits for it
    with pytest.raises(psycopg.OperationalError):
        pgdb.write(insert_thing("lost"))  # in flight when the connection went
    assert pgdb.write(insert_thing("after")) >= 1
    assert names(pgdb) == ["after"]


# --- the handle: lastrowid, executemany, table helpers, types ---------------------------------
def test_lastrowid_follows_the_identity_and_explicit_ids(pgdb: PgDatabase) -> None:
    def run(db: Any) -> list[Any]:
        x = db.conn.execute
        out = [x("insert into things (name) values (?)", ["a"]).lastrowid]
        out.append(x("insert into things (name) values (?);", ["b"]).lastrowid)
        out.append(x("insert into things (id, name) values (?, ?)", [10, "c"]).lastrowid)
        out.append(x("insert into things (name) values (?)", ["d"]).lastrowid)
        out.append(
            x("insert into things (name) values (?) on conflict do nothing", ["d"]).lastrowid
        )
        out.append(x("insert into kv (k, v) values (?, ?)", ["k", "v"]).lastrowid)
        return out

    assert pgdb.write(run) == [1, 2, 10, 11, None, None]


def test_executemany_inserts_and_advances_the_identity(pgdb: PgDatabase) -> None:
    def run(db: Any) -> tuple[int, int]:
        cur = db.conn.executemany(
            "insert into things (id, name, n) values (?, ?, ?)",
            [(i, f"n{i:03d}", i * 2) for i in range(1, 101)],
        )
        return cur.rowcount, db.execute("insert into things (name) values ('next')").lastrowid

    assert pgdb.write(run) == (100, 101)
    got = pgdb.query("select count(*) c, sum(n) s, avg(n) a from things where id <= 100")
    assert got == [{"c": 100, "s": 10100, "a": 101.0}]
    # as SQLite gives them: a sum of integers is an int, an average a float (no Decimal)
    assert [type(v) for v in got[0].values()] == [int, int, float]


def test_table_helpers_insert_upsert_update(pgdb: PgDatabase) -> None:
    def run(db: Any) -> list[Any]:
        t = db.table("things")
        out = [t.insert({"name": "a", "n": 1, "flag": True}).last_pk]
        out.append(db["kv"].insert({"k": "x", "v": {"j": [1]}}).last_pk)
        db["kv"].upsert({"k": "x", "v": "changed"}, pk="k")
        db["kv"].upsert({"k": "y", "v": "new"}, pk="k")
        t.update(out[0], {"n": 5, "price": 2.5})
        with pytest.raises(NotFoundError):
            t.update(999, {"n": 1})
        out += [t.exists(), db.table("nope").exists()]
        return out

    assert pgdb.write(run) == [1, "x", True, False]
    assert pgdb.query("select k, v from kv order by k") == [
        {"k": "x", "v": "changed"},
        {"k": "y", "v": "new"},
    ]
    got = pgdb.query("select n, price, flag from things")
    assert got == [{"n": 5, "price": 2.5, "flag": 1}]
    assert [type(v) for v in got[0].values()] == [int, float, int]
    assert pgdb.columns("kv") == {"k", "v"} and pgdb.columns("nope") == set()


def test_in_transaction_and_execute_write(pgdb: PgDatabase) -> None:
    assert pgdb.write(lambda db: db.conn.in_transaction) is True
    assert pgdb.execute_write("insert into things (name) values (?)", ["w"]) == 1
    assert pgdb.execute_write("update things set n = :n where name = :m", {"n": 3, "m": "w"}) == 1
    assert pgdb.query("select n from things") == [{"n": 3}]


def test_close_refuses_writes_and_a_reopened_database_keeps_the_data(pg_dsn: str) -> None:
    db = PgDatabase(pg_dsn).open()
    db.migrate(things)
    db.write(insert_thing("kept"))
    db.close()
    db.close()  # twice is harmless
    with pytest.raises(DatabaseClosed):
        db.submit(insert_thing("late"))
    with pytest.raises(DatabaseClosed):
        db.query("select 1")
    with PgDatabase(pg_dsn) as again:
        again.migrate(things)  # already applied: nothing to do
        assert names(again) == ["kept"]  # type: ignore[arg-type]
        assert again.write(insert_thing("more")) == 2
        assert again.quick_check() == []


def test_open_database_picks_the_backend_by_database_url(tmp_path: Path, pg_dsn: str) -> None:
    settings = Settings(data_dir=tmp_path, secret_key="s" * 40, data_key="d" * 40)
    lite = open_database(settings)
    try:
        assert isinstance(lite, Database) and lite.path == settings.db_path
    finally:
        lite.close()
    pg = open_database(settings.model_copy(update={"database_url": pg_dsn}))
    try:
        assert isinstance(pg, PgDatabase) and pg.query("select 1 as one") == [{"one": 1}]
    finally:
        pg.close()


# --- parity with SQLite on real domains' write functions --------------------------------------
DOMAIN_SETS = [identity_schema.auth, identity_schema.audit, ingest_schema.migrations]


def _entry(i: int, detail: str | None = None) -> dict[str, Any]:
    return {"ts": 1_700_000_000.5 + i, "actor": "auditor1", "actor_roles": '["auditor"]',
            "action": "read", "subject_type": "person", "subject_id": str(i), "purpose": "case",
            "detail": detail}  # fmt: skip


def _event(i: int, incident: str | None) -> list[Any]:
    return [f"ev-{i}", "cam-1", i, 1_700_000_000_000 + i, 1_700_000_000.0 + i, 1.7e9 + i,
            "person", "start", "person", 0.5 + i / 100, i, "[0,0,1,1]", "gate", 1, None, None, 0,
            incident, None]  # fmt: skip


EVENT_SQL = (
    "insert into events (id, dev, seq, ts, t, recv, kind, phase, label, conf, track, box, zone, "
    "count, direction, dwell, skewed, incident_id, share) values "
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (id) do nothing"
)


def _domain_writes(db: Any) -> list[Any]:
    """What the audit, ingest and identity domains do in their write functions."""
    out = [audit.append(db, _entry(1)), audit.append(db, _entry(2, '{"ids": [7, 8]}'))]
    out.append(audit.append_many(db, [_entry(3), _entry(4)]))
    rows = [_event(i, "inc-1" if i % 2 else None) for i in range(6)]
    db.conn.executemany(EVENT_SQL, rows)
    db.conn.executemany(EVENT_SQL, rows[:3])  # replayed: nothing new
    ingest_schema.count_events(
        db, [{"incident_id": "inc-1", "kind": "person", "dev": "cam-1", "conf": 0.5}] * 2
    )
    db.conn.executemany(
        "insert into seq_state (dev, last_seq, updated_at) values (?, ?, ?) "
        "on conflict(dev) do update set last_seq = excluded.last_seq, "
        "updated_at = excluded.updated_at",
        [["cam-1", 5, 1.0], ["cam-2", 1, 1.0], ["cam-1", 6, 2.0]],
    )
    uid = db.table("users").insert({"username": "u", "password_hash": "h", "roles": "[]"}).last_pk
    db.table("users").update(uid, {"display_name": "U"})
    out.append(uid)
    return out


PARITY_QUERIES = [
    "select id, actor, subject_id, detail, prev_hash, hash from audit_log order by id",
    "select subject_type, subject_id, entry_id from audit_subjects order by subject_id",
    "select id, seq, conf, incident_id from events order by id",
    "select incident_id, kind, dev, n, conf from incident_mix order by incident_id",
    "select dev, last_seq, updated_at, floor from seq_state order by dev",
    "select id, username, active, zones, display_name from users order by id",
]


def _rows(db: Any, failing: Callable[[Any], Any]) -> list[Any]:
    db.migrate(*DOMAIN_SETS)
    results = db.write(_domain_writes)
    with pytest.raises(Exception, match="hash chain"):  # the chain's guard, on both
        db.write(failing)
    return [results] + [db.query(q) for q in PARITY_QUERIES]


def _forged(db: Any) -> None:
    db.execute(
        "insert into audit_log (id, ts, actor, action, subject_type, prev_hash, hash) "
        "values (9, 1.0, 'x', 'read', 'person', 'bad', 'bad')"
    )


def test_domain_writes_give_the_same_rows_on_sqlite_and_postgresql(
    tmp_path: Path, pg_dsn: str
) -> None:
    with Database(tmp_path / "parity.db") as lite:
        want = _rows(lite, _forged)
    with PgDatabase(pg_dsn) as pg:
        got = _rows(pg, _forged)
    assert want[0] == [1, 2, [3, 4], 1]
    assert [len(rows) for rows in want[1:]] == [4, 2, 6, 1, 2, 1]
    assert want[4][0]["n"] == 2 and want[5][0]["last_seq"] == 6
    assert got == want
