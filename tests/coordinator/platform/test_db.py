"""The single-writer Database on a real SQLite file."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlite_utils.migrations import Migrations

from coordinator.platform.db import Database, DatabaseClosed


def test_writes_commit_and_reads_see_them(tmp_path: Path):
    with Database(tmp_path / "a.db") as db:
        db.write(lambda d: d.table("t").insert({"id": 1, "v": "x"}, pk="id"))
        assert db.query("select v from t") == [{"v": "x"}]
        assert db.query("pragma journal_mode")[0]["journal_mode"] == "wal"


def test_a_failing_task_rolls_back_alone_in_a_group_commit(tmp_path: Path):
    with Database(tmp_path / "a.db") as db:
        db.write(lambda d: d.table("t").create({"id": int}, pk="id"))
        gate = threading.Event()
        blocker = db.submit(lambda d: gate.wait(5))  # holds the writer so the rest group up
        futs = [db.submit(lambda d, i=i: d.table("t").insert({"id": i})) for i in range(10)]
        bad = db.submit(lambda d: d.table("t").insert({"id": 3}))  # duplicate key
        more = db.submit(lambda d: d.table("t").insert({"id": 99}))
        gate.set()
        blocker.result(5)
        for f in futs + [more]:
            f.result(5)
        with pytest.raises(sqlite3.IntegrityError):
            bad.result(5)
        ids = [r["id"] for r in db.query("select id from t order by id")]
        assert ids == list(range(10)) + [99]


def test_reads_are_read_only(tmp_path: Path):
    with Database(tmp_path / "a.db") as db:
        db.write(lambda d: d.table("t").insert({"id": 1}, pk="id"))
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            db.read().execute("insert into t values (2)")


def test_writes_after_close_are_refused(tmp_path: Path):
    db = Database(tmp_path / "a.db").open()
    db.close()
    with pytest.raises(DatabaseClosed):
        db.write(lambda d: None)


def test_migrations_apply_once_and_survive_reopen(tmp_path: Path):
    m = Migrations("test")
    calls = []

    @m()
    def m001(d):
        calls.append(1)
        d.table("x").create({"id": int}, pk="id")

    for _ in range(2):
        with Database(tmp_path / "a.db") as db:
            db.migrate(m)
    assert calls == [1]


def test_commits_never_checkpoint_and_the_checkpointer_keeps_the_wal_bounded(tmp_path: Path):
    """The writer has automatic checkpoints off (a commit never waits for one); the
    checkpointer thread folds the WAL back so it restarts instead of growing: 8 rounds of
    2 MiB leave a WAL far smaller than the 16 MiB written."""
    import time

    with Database(tmp_path / "a.db") as db:
        assert db.write(lambda d: d.execute("pragma wal_autocheckpoint").fetchone()[0]) == 0
        db.write(lambda d: d.execute("create table blobs (id integer primary key, b blob)"))
        for _ in range(8):
            before = db.checkpoints
            db.write(
                lambda d: d.conn.executemany(
                    "insert into blobs (b) values (?)", [(bytes(8192),) for _ in range(256)]
                )
            )
            deadline = time.monotonic() + 10
            while db.checkpoints == before and time.monotonic() < deadline:
                time.sleep(0.02)
            assert db.checkpoints > before, "the checkpointer did not run within 10 s"
        wal = tmp_path / "a.db-wal"
        assert wal.stat().st_size < 6 << 20, wal.stat().st_size
        assert db.query("select count(*) n from blobs")[0]["n"] == 8 * 256
    # closing folds everything in: the data is in the main file
    conn = sqlite3.connect(tmp_path / "a.db")
    assert conn.execute("select count(*) from blobs").fetchone()[0] == 8 * 256
    conn.close()
