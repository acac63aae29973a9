"""The encrypted file store on a real SQLite file and a real folder, read by two processes."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from coordinator.errors import Broken, Invalid, NotFound
from coordinator.identity import schema as identity_schema
from coordinator.identity.audit import AuditService
from coordinator.platform import filestore as fs
from coordinator.platform.db import Database
from coordinator.platform.filestore import FileGone, FileStore, FileTooLarge, FileTypeRefused

KEY = "k" * 40
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n" + b"passport page " * 50
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 300
DAY = 86400.0


class Clock:
    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database(tmp_path / "data" / "c.db") as d:
        d.migrate(identity_schema.audit, fs.migrations)
        yield d


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(db: Database, tmp_path: Path, clock: Clock) -> FileStore:
    return FileStore(db, tmp_path / "data" / "files", KEY, AuditService(db), clock=clock)


def _put(store: FileStore, data: bytes = PDF, **kw: object) -> fs.StoredFile:
    args: dict = {
        "owner_kind": "hall_case", "owner_id": 7, "filename": "passport.pdf",
        "actor": "clerk1", "retain_until": store.clock() + 30 * DAY,
    }  # fmt: skip
    args.update(kw)
    return store.put(data, **args)


@pytest.mark.parametrize(
    ("data", "ctype"), [(PDF, "application/pdf"), (JPEG, "image/jpeg"), (PNG, "image/png")]
)
def test_a_document_round_trips_encrypted_with_its_type_and_hash(store, data, ctype):
    meta = _put(store, data)
    assert meta.content_type == ctype
    assert meta.size == len(data)
    assert meta.sha256 == hashlib.sha256(data).hexdigest()
    body = store.body_path(meta.id).read_bytes()
    assert data[:16] not in body and len(body) == len(data) + 12 + 16  # nonce + GCM tag
    got, plain = store.read(meta.id, actor="clerk1", purpose="check the applicant's passport")
    assert plain == data and got == meta


def test_folders_and_bodies_are_private(store):
    meta = _put(store)
    path = store.body_path(meta.id)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(store.root.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left


def test_every_read_is_audited_with_actor_and_purpose(store, db):
    meta = _put(store)
    store.read(meta.id, actor="clerk2", purpose="decision on the permit")
    rows = db.query("select actor, action, subject_type, subject_id, purpose, detail "
                    "from audit_log order by id")  # fmt: skip
    assert [r["action"] for r in rows] == ["file.store", "file.read"]
    read = rows[1]
    assert (read["actor"], read["subject_type"], read["subject_id"]) == ("clerk2", "hall_case", "7")
    assert read["purpose"] == "decision on the permit"
    assert json.loads(read["detail"])["file"] == meta.id
    problems = AuditService(db).verify().problems
    assert [p for p in problems if "public key" not in p] == []  # the hash chain holds


def test_a_read_without_purpose_is_refused_and_not_audited(store, db):
    meta = _put(store)
    with pytest.raises(Invalid, match="purpose"):
        store.read(meta.id, actor="clerk1", purpose="  ")
    assert db.query("select count(*) n from audit_log where action = 'file.read'")[0]["n"] == 0


def test_a_read_through_the_wrong_owner_is_not_found(store):
    meta = _put(store)
    with pytest.raises(NotFound):
        store.read(meta.id, actor="c", purpose="p", owner_kind="hall_case", owner_id=8)
    with pytest.raises(NotFound):
        store.read(meta.id, actor="c", purpose="p", owner_kind="fraud_tip", owner_id=7)
    with pytest.raises(NotFound):
        store.read("../../etc/passwd", actor="c", purpose="p")


@pytest.mark.parametrize(
    ("data", "kw", "error", "message"),
    [
        (b"", {}, Invalid, "empty"),
        (PDF + b"x" * 2000, {"max_bytes": 1000}, FileTooLarge, "limit is 1000"),
        (b"MZ\x90\x00 an executable", {}, FileTypeRefused, "unknown"),
        (b"GIF89a" + b"\x00" * 40, {}, FileTypeRefused, "image/gif"),
        (PNG, {"declared_type": "application/pdf"}, FileTypeRefused, "declared"),
        (JPEG, {"allowed": ["application/pdf"]}, FileTypeRefused, "accepted"),
    ],
)
def test_bad_documents_are_refused_and_nothing_is_kept(store, db, data, kw, error, message):
    with pytest.raises(error, match=message):
        _put(store, data, **kw)
    assert db.query("select count(*) n from platform_files")[0]["n"] == 0
    assert not [p for p in store.root.rglob("*") if p.is_file()]


def test_the_store_wide_cap_applies(db, tmp_path):
    small = FileStore(db, tmp_path / "f2", KEY, AuditService(db), max_bytes=100)
    with pytest.raises(FileTooLarge):
        _put(small, PDF, max_bytes=10_000)  # a caller cannot raise the store's cap


def test_a_tampered_or_moved_body_fails_its_integrity_check(store):
    a, b = _put(store), _put(store, PNG)
    body = bytearray(store.body_path(a.id).read_bytes())
    body[-1] ^= 1
    store.body_path(a.id).write_bytes(bytes(body))
    with pytest.raises(Broken, match="integrity"):
        store.read(a.id, actor="c", purpose="p")
    # b's body copied under a's name: bound to b's id, so it does not open as a
    store.body_path(a.id).write_bytes(store.body_path(b.id).read_bytes())
    with pytest.raises(Broken):
        store.read(a.id, actor="c", purpose="p")


def test_a_failed_commit_leaves_no_body(store, db):
    db.execute_write("create trigger no_files before insert on platform_files "
                     "begin select raise(abort, 'disk says no'); end")  # fmt: skip
    with pytest.raises(Exception, match="disk says no"):
        _put(store)
    assert not [p for p in store.root.rglob("*.bin")]


def test_retention_purges_bodies_keeps_rows_and_refuses_reads(store, db, clock):
    short = _put(store, retain_until=clock.t + 1 * DAY)
    long = _put(store, PNG, retain_until=clock.t + 90 * DAY)
    assert store.purge_expired() == 0
    clock.t += 2 * DAY
    assert store.purge_expired() == 1
    assert not store.body_path(short.id).exists()
    assert store.meta(short.id).purged_at == clock.t
    assert store.meta(short.id).sha256 == short.sha256  # the record of what was kept stays
    with pytest.raises(FileGone):
        store.read(short.id, actor="c", purpose="p")
    assert store.read(long.id, actor="c", purpose="p")[1] == PNG
    assert [f.id for f in store.list_for("hall_case", 7)] == [long.id]
    store.set_expiry(long.id, clock.t + 3 * DAY)
    clock.t += 4 * DAY
    assert store.purge_expired() == 1 and not store.body_path(long.id).exists()


def test_the_purge_removes_orphan_bodies_after_a_grace_period(store, clock):
    live = _put(store)
    orphan = store.root / "ab" / ("ab" + "0" * 30 + ".bin")
    orphan.parent.mkdir(exist_ok=True)
    orphan.write_bytes(b"left by a crash")
    tmp = store.root / "ab" / ".x.tmp"
    tmp.write_bytes(b"half")
    store.purge_expired()  # young: a write may still be committing
    assert orphan.exists() and tmp.exists()
    aged = time.time() - fs.ORPHAN_GRACE_S - 5
    for p in (orphan, tmp, store.body_path(live.id)):
        os.utime(p, (aged, aged))
    store.purge_expired()
    assert not orphan.exists() and not tmp.exists()
    assert store.body_path(live.id).exists()


def test_erase_removes_the_body_with_a_reason(store, db):
    meta = _put(store)
    with pytest.raises(Invalid, match="reason"):
        store.erase(meta.id, actor="sup", reason=" ")
    store.erase(meta.id, actor="sup", reason="uploaded to the wrong case")
    assert not store.body_path(meta.id).exists()
    with pytest.raises(FileGone):
        store.read(meta.id, actor="c", purpose="p")
    last = db.query("select action, purpose from audit_log order by id desc limit 1")[0]
    assert last == {"action": "file.erase", "purpose": "uploaded to the wrong case"}


def test_key_rotation_rewraps_rows_without_rewriting_bodies(db, tmp_path, store):
    meta = _put(store)
    body = store.body_path(meta.id).read_bytes()
    new = "n" * 40
    rotated = FileStore(db, store.root, new, AuditService(db), retired_keys=[KEY])
    assert rotated.read(meta.id, actor="c", purpose="p")[1] == PDF
    with pytest.raises(Broken, match="not configured"):
        FileStore(db, store.root, new, AuditService(db)).read(meta.id, actor="c", purpose="p")
    assert rotated.rewrap() == 1 and rotated.rewrap() == 0
    assert store.body_path(meta.id).read_bytes() == body
    only_new = FileStore(db, store.root, new, AuditService(db))
    assert only_new.read(meta.id, actor="c", purpose="p")[1] == PDF


READER = """
import sys
from pathlib import Path
from coordinator.identity.audit import AuditService
from coordinator.platform.db import Database
from coordinator.platform.filestore import FileStore
with Database(Path(sys.argv[1])) as db:
    s = FileStore(db, Path(sys.argv[2]), sys.argv[3], AuditService(db))
    meta, data = s.read(sys.argv[4], actor="clerk-b", purpose="second counter")
    sys.stdout.write(meta.sha256 + " " + str(len(data)))
"""


def test_another_process_reads_what_one_process_stored(store, db):
    meta = _put(store, JPEG)
    out = subprocess.run(
        [sys.executable, "-c", READER, str(db.path), str(store.root), KEY, meta.id],
        capture_output=True, text=True, timeout=60, check=True, cwd=Path.cwd(),
    )  # fmt: skip
    assert out.stdout == f"{meta.sha256} {len(JPEG)}"
    who = db.query("select actor from audit_log where action = 'file.read'")
    assert who == [{"actor": "clerk-b"}]
