"""The append-only, tamper-evident audit log: who read, exported, merged or erased what,
when, and why.

Every service that touches personal data writes an entry *before* it returns the data, in
the same request. Every entry is appended through :func:`append`, which takes the chain's
head inside the caller's write transaction (``BEGIN IMMEDIATE`` holds SQLite's write lock,
so two processes writing at once still form one chain) and stores ``prev_hash`` and
``hash`` (``audit_chain``). Triggers refuse UPDATE, DELETE, and any INSERT that does not
extend the chain (an insert that replaces an entry included). Someone with the file can
drop the triggers and rewrite the chain; the periodic checkpoints, signed with an Ed25519
key kept outside the database (``AuditKey``), and ``coordinator audit verify`` detect it.
Reading the log is the auditor's (data-protection officer's) right, not the administrator's.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlite_utils
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from ..errors import Broken
from ..platform.db import Database
from . import audit_chain as chain
from .auth import Principal

#: Entries kept per subject in the "who accessed" index for one list read (a search or an
#: export of thousands of persons names each of them).
SUBJECT_INDEX_MAX = 100_000
#: Subjects whose entries are accesses to personal data (the volume report counts them).
GUARDS = ("audit_log_no_update", "audit_log_no_delete", "audit_log_chain")
PERSONAL_SUBJECTS = (
    "person", "service_request", "merchant", "import_job", "case", "company",
    "hall_case", "hotline_call",
)  # fmt: skip


def append(db: sqlite_utils.Database, row: dict[str, Any]) -> int:
    """Append one entry (from :meth:`AuditService.entry`) inside the caller's write
    transaction and return its id; opens one when the connection is in autocommit."""
    conn = db.conn
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN IMMEDIATE")
    try:
        head = conn.execute("select id, hash from audit_log order by id desc limit 1").fetchone()
        full = {**row, "id": (head[0] + 1) if head else 1,
                "prev_hash": (head[1] or chain.GENESIS) if head else chain.GENESIS}  # fmt: skip
        full["hash"] = chain.entry_hash(full)
        cols = list(full)
        conn.execute(
            f"insert into audit_log ({', '.join(cols)}) values ({', '.join('?' * len(cols))})",
            [full[c] for c in cols],
        )
        _index_subjects(conn, full)
        if own:
            conn.execute("COMMIT")
    except BaseException:
        if own and conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return int(full["id"])


def append_many(db: sqlite_utils.Database, rows: list[dict[str, Any]]) -> list[int]:
    """Append several entries in one statement inside the caller's write transaction (an
    export's one entry per person): the head is read once, the chain computed in order."""
    if not rows:
        return []
    conn = db.conn
    if not conn.in_transaction:
        return [append(db, r) for r in rows]
    head = conn.execute("select id, hash from audit_log order by id desc limit 1").fetchone()
    next_id, prev = (head[0] + 1, head[1] or chain.GENESIS) if head else (1, chain.GENESIS)
    full = []
    for i, row in enumerate(rows):
        f = {**row, "id": next_id + i, "prev_hash": prev}
        prev = f["hash"] = chain.entry_hash(f)
        full.append(f)
    cols = list(full[0])
    conn.executemany(
        f"insert into audit_log ({', '.join(cols)}) values ({', '.join('?' * len(cols))})",
        [[f[c] for c in cols] for f in full],
    )
    for f in full:
        _index_subjects(conn, f)
    return [f["id"] for f in full]


def _index_subjects(conn: Any, row: dict[str, Any]) -> None:
    """Entries naming many subjects (``detail.ids``) are indexed per subject, so "who
    accessed this person" never scans the log."""
    if not row.get("detail") or '"ids"' not in row["detail"]:
        return
    ids = json.loads(row["detail"]).get("ids")
    if not isinstance(ids, list) or not ids:
        return
    conn.executemany(
        "insert into audit_subjects (subject_type, subject_id, entry_id) values (?, ?, ?)",
        [(row["subject_type"], str(i), row["id"]) for i in ids[:SUBJECT_INDEX_MAX]],
    )


class AuditTampered(Broken):
    """The entries since the last checkpoint do not verify: nothing is signed over them."""


def _check_since(r: sqlite_utils.Database, upto: int, signed_hash: str, head: int) -> None:
    """Verify the entries from the last checkpoint's up to ``head`` (bounded memory)."""
    report = chain.Report()
    cols = ", ".join(chain.HASHED) + ", hash"
    first = r.execute("select id, hash from audit_log where id = ?", [upto]).fetchone()
    if first is None or first[1] != signed_hash:
        chain._add(report, f"entry {upto} differs from what the last checkpoint signed, or is gone")
    prev, expected = signed_hash, upto + 1
    for row in r.query(f"select {cols} from audit_log where id > ? and id <= ? order by id",
                       [upto, head]):  # fmt: skip
        if (
            row["id"] != expected
            or row["prev_hash"] != prev
            or row["hash"] != chain.entry_hash(row)
        ):
            chain._add(report, f"entry {row['id']} does not verify")
        prev, expected = row["hash"], row["id"] + 1
    if report.problems:
        raise AuditTampered("the audit log changed since its last checkpoint: "
                            + "; ".join(report.problems[:3]) + " (run coordinator audit verify)")  # fmt: skip


class AuditKey:
    """The Ed25519 key that signs checkpoints: a file outside the database (0600 in a 0700
    folder), created on first use; the public half beside it, to export to the auditor."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._private: Ed25519PrivateKey | None = None

    @property
    def public_path(self) -> Path:
        """Where the public key (PEM) is written."""
        return self.path.with_suffix(".pub")

    def private(self) -> Ed25519PrivateKey:
        """The signing key, created (private, 0600) when it does not exist yet."""
        if self._private is None:
            if not self.path.exists():
                self._create()
            key = serialization.load_pem_private_key(self.path.read_bytes(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ValueError(f"{self.path} is not an Ed25519 private key")
            self._private = key
        return self._private

    def public(self) -> Ed25519PublicKey:
        """The verifying key."""
        return self.private().public_key()

    def _create(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.path.parent, 0o700)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        self.public_path.write_bytes(public_pem(key.public_key()))


def public_pem(public: Ed25519PublicKey) -> bytes:
    """A public key as PEM (SubjectPublicKeyInfo)."""
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_public(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file (the copy the auditor keeps)."""
    key = serialization.load_pem_public_key(Path(path).read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} is not an Ed25519 public key")
    return key


class AuditService:
    """Writes, checkpoints, verifies and reads audit entries."""

    def __init__(self, db: Database, key: AuditKey | None = None) -> None:
        self.db = db
        self.key = key

    @property
    def checkpoint_file(self) -> Path | None:
        """The copy of every checkpoint kept outside the database (JSON lines, 0600)."""
        return None if self.key is None else self.key.path.with_name("audit-checkpoints.jsonl")

    def record(
        self,
        actor: Principal | str,
        action: str,
        subject_type: str,
        subject_id: str | int | None = None,
        purpose: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> int:
        """Append one entry and return its id (committed when this returns)."""
        row = self.entry(actor, action, subject_type, subject_id, purpose, detail)
        return self.db.write(lambda db: append(db, row))

    #: Append a row inside the caller's write transaction (see :func:`append`).
    append = staticmethod(append)
    #: Append rows (same columns) inside the caller's write transaction.
    append_many = staticmethod(append_many)

    @staticmethod
    def entry(
        actor: Principal | str,
        action: str,
        subject_type: str,
        subject_id: str | int | None = None,
        purpose: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Build a row, for services that :func:`append` it inside their own transaction."""
        if isinstance(actor, Principal):
            name, roles = actor.username, json.dumps(actor.role_names)
        else:
            name, roles = actor, "[]"
        return {
            "ts": time.time(),
            "actor": name,
            "actor_roles": roles,
            "action": action,
            "subject_type": subject_type,
            "subject_id": None if subject_id is None else str(subject_id),
            "purpose": purpose,
            "detail": json.dumps(detail, ensure_ascii=False, default=str) if detail else None,
        }

    # checkpoints ------------------------------------------------------------------------
    def checkpoint(self, *, force: bool = False) -> dict[str, Any] | None:
        """Sign the chain's head (when it moved since the last checkpoint, or ``force``)
        and keep the checkpoint in the database and in the file outside it.

        The entries since the last checkpoint are verified first, on a reader snapshot
        (never inside the writer's transaction): a checkpoint never vouches for a log
        altered in between (:class:`AuditTampered`)."""
        if self.key is None:
            raise RuntimeError("no audit signing key configured")
        private = self.key.private()
        kid = chain.key_id(private.public_key())
        r = self.db.read()
        r.conn.execute("begin")
        try:
            head = r.execute("select id, hash from audit_log order by id desc limit 1").fetchone()
            last = r.execute("select upto_id, head_hash from audit_checkpoints "
                             "order by id desc limit 1").fetchone()  # fmt: skip
            if head is None or (last is not None and last[0] >= head[0] and not force):
                return None
            if last is not None:  # the first checkpoint has nothing signed to compare with
                _check_since(r, last[0], last[1], head[0])
        finally:
            r.conn.execute("commit")

        def write(db: sqlite_utils.Database) -> dict[str, Any] | None:
            x = db.conn.execute
            now = x("select upto_id, signature from audit_checkpoints "
                    "order by id desc limit 1").fetchone()  # fmt: skip
            if now is not None and now[0] >= head[0] and not force:
                return None  # another process signed meanwhile
            if x("select hash from audit_log where id = ?", [head[0]]).fetchone() != (head[1],):
                raise AuditTampered(f"entry {head[0]} changed while it was being checkpointed")
            ts, prev_sig = time.time(), now[1] if now else None
            sig = private.sign(chain.checkpoint_message(head[0], head[1], ts, prev_sig))
            row = {"upto_id": head[0], "head_hash": head[1], "ts": ts, "prev_sig": prev_sig,
                   "signature": base64.b64encode(sig).decode(), "key_id": kid}  # fmt: skip
            cur = x("insert into audit_checkpoints (upto_id, head_hash, ts, prev_sig, signature, "
                    "key_id) values (:upto_id, :head_hash, :ts, :prev_sig, :signature, :key_id)",
                    row)  # fmt: skip
            return {"id": cur.lastrowid, **row}

        cp = self.db.write(write)
        if cp is not None:
            self._keep_outside(cp)
        return cp

    def _keep_outside(self, cp: dict[str, Any]) -> None:
        path = self.checkpoint_file
        assert path is not None
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as f:
            f.write(json.dumps(cp, separators=(",", ":")) + "\n")

    def checkpoints(self) -> list[dict[str, Any]]:
        """Every checkpoint, oldest first (to export)."""
        return self.db.query("select * from audit_checkpoints order by id")

    def verify(
        self, public: Ed25519PublicKey | None = None, exported: list[dict[str, Any]] | None = None
    ) -> chain.Report:
        """Walk the whole chain and every checkpoint (bounded memory per entry: one hash).

        ``public`` defaults to the key file's public half; give the auditor's own copy to
        catch a replaced key. ``exported`` defaults to the checkpoint file outside the
        database."""
        report = chain.Report()
        if exported is None and self.checkpoint_file and self.checkpoint_file.exists():
            # read before the database's snapshot: every checkpoint in it must be in there
            with self.checkpoint_file.open(encoding="utf-8") as f:
                exported = list(chain.read_jsonl(f))
        if public is None and self.key is not None and self.key.path.exists():
            public = self.key.public()
        r = self.db.read()
        r.conn.execute("begin")  # one snapshot for the entries and the checkpoints
        try:
            cps = [dict(c) for c in r.query("select * from audit_checkpoints order by id")]
            wanted = {int(c["upto_id"]) for c in cps}
            stored = chain.verify_entries(self._entries(r), report, wanted)
            triggers = {t["name"] for t in r.query(
                "select name from sqlite_master where type = 'trigger'")}  # fmt: skip
        finally:
            r.conn.execute("commit")
        if public is None:
            chain._add(report, "no audit public key: checkpoints cannot be verified")
        else:
            chain.verify_checkpoints(cps, stored, public, report)
        if exported:
            chain.compare_exported(exported, {c["id"]: c for c in cps}, report)
        for trig in GUARDS:
            if trig not in triggers:
                chain._add(report, f"the guard trigger {trig} is missing")
        return report

    @staticmethod
    def _entries(r: sqlite_utils.Database) -> Iterator[dict[str, Any]]:
        cols = ", ".join(chain.HASHED) + ", hash"
        last = 0
        while True:  # pages by id, so the walk never holds the whole log
            rows = list(r.query(
                f"select {cols} from audit_log where id > ? order by id limit 5000", [last]))  # fmt: skip
            if not rows:
                return
            yield from rows
            last = rows[-1]["id"]

    # reads (the auditor's) --------------------------------------------------------------
    def search(
        self,
        *,
        actor: str | None = None,
        subject_type: str | None = None,
        subject_id: str | None = None,
        action: str | None = None,
        since: float | None = None,
        limit: int = 200,
    ) -> list[dict[str, Any]]:
        """Entries matching every given filter, newest first."""
        where: list[str] = []
        params: list[Any] = []
        for col, val in (
            ("actor", actor),
            ("subject_type", subject_type),
            ("subject_id", subject_id),
            ("action", action),
        ):
            if val is not None:
                where.append(f"{col} = ?")
                params.append(val)
        if since is not None:
            where.append("ts >= ?")
            params.append(since)
        sql = "select * from audit_log"
        if where:
            sql += " where " + " and ".join(where)
        sql += " order by id desc limit ?"
        params.append(max(1, min(limit, 5000)))
        return self.db.query(sql, params)

    def accessed(
        self, subject_type: str, subject_id: str, limit: int = 500
    ) -> list[dict[str, Any]]:
        """Who accessed one subject (a person): entries naming it alone or in a list."""
        lim = max(1, min(limit, 5000))
        return self.db.query(
            "select * from audit_log where id in ("
            " select id from (select id from audit_log where subject_type = ? and subject_id = ?"
            "  order by id desc limit ?)"
            " union select entry_id from (select entry_id from audit_subjects"
            "  where subject_type = ? and subject_id = ? order by entry_id desc limit ?)"
            ") order by id desc limit ?",
            [subject_type, subject_id, lim, subject_type, subject_id, lim, lim],
        )

    def unusual_volumes(
        self, *, days: int = 1, baseline_days: int = 28, factor: float = 3.0,
        minimum: int = 50, now: float | None = None,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Actors whose daily personal-data accesses in the last ``days`` exceed ``factor``
        × their mean over the ``baseline_days`` before (and at least ``minimum``)."""
        now = time.time() if now is None else now
        today = int(now // 86400)
        first = today - days + 1
        marks = ",".join("?" * len(PERSONAL_SUBJECTS))
        rows = self.db.query(
            f"select actor, cast(ts / 86400 as integer) as day, count(*) as n from audit_log "
            f"where ts >= ? and subject_type in ({marks}) group by actor, day",
            [(first - baseline_days) * 86400.0, *PERSONAL_SUBJECTS],
        )
        base: dict[str, int] = {}
        for r in rows:
            if r["day"] < first:
                base[r["actor"]] = base.get(r["actor"], 0) + r["n"]
        out = []
        for r in rows:
            if r["day"] < first:
                continue
            mean = base.get(r["actor"], 0) / baseline_days
            if r["n"] >= minimum and r["n"] > factor * mean:
                out.append({"actor": r["actor"], "day": _day(r["day"]), "count": r["n"],
                            "baseline_per_day": round(mean, 2),
                            "ratio": None if mean == 0 else round(r["n"] / mean, 1)})  # fmt: skip
        return sorted(out, key=lambda r: (-r["count"], r["actor"]))


def _day(day: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(day * 86400))
