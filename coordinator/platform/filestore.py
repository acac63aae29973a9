"""The encrypted file store: documents kept outside the database, their metadata inside it.

A stored file is two things:

- its **body**, a plain file under ``<data_dir>/files/<aa>/<id>.bin`` (folders 0700, files
  0600), written atomically (a temporary file in the same folder, fsync, ``os.replace``,
  fsync of the folder), so every API process on the host reads the same bodies and a
  crash never leaves half a file under a real name;
- its **row** in ``platform_files``: who owns it (a domain's kind and id), the type found
  by its magic bytes, size, SHA-256 of the plaintext, when it expires, and its key.

Each body is encrypted with its own random 256-bit key (AES-256-GCM, the file id and its
owner bound as associated data, so a body copied under another id or owner fails to
decrypt). That file key is itself encrypted ("wrapped") with a key derived (HKDF-SHA256)
from the centre's ``data_key`` under a label of its own; the row keeps the wrapping key's
id, so a key rotation re-wraps rows and never rewrites bodies, and a retired key still
opens what it wrapped until it is re-wrapped.

Every read names an actor and a purpose and appends an entry to the audit log in the same
transaction as nothing else — a read without its audit entry never returns data. This
module is infrastructure: it imports no domain; the audit log is handed in (anything with
``entry`` and ``append`` shaped like the identity domain's ``AuditService``).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import sqlite_utils
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlite_utils.migrations import Migrations

from ..errors import Broken, Invalid, NotFound
from .db import Database
from .files import FILE_MODE, private_dir

KID_LEN = 4
NONCE_LEN = 12
#: Default cap on one document (a scanned passport page or a PDF form is well below it).
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
#: A body on disk without a row, older than this, is the trace of a crash between the
#: body's write and the row's commit: the purge removes it.
ORPHAN_GRACE_S = 3600.0
PURGE_BATCH = 500

#: Magic bytes → the type they prove. Order matters only where one prefixes another.
MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
#: The types a document may have unless the caller narrows them.
DOCUMENT_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png"})

migrations = Migrations("platform_filestore")


@migrations()
def m001_platform_files(db: sqlite_utils.Database) -> None:
    """Metadata of the encrypted file store (bodies live outside the database)."""
    db.execute(
        """create table platform_files (
            id text primary key,
            owner_kind text not null,
            owner_id text not null,
            filename text not null,
            content_type text not null,
            size integer not null,
            sha256 text not null,
            kid blob not null,
            wrapped_key blob not null,
            created_at real not null,
            created_by text not null,
            expires_at real not null,
            purged_at real
        )"""
    )
    db.execute("create index platform_files_owner on platform_files(owner_kind, owner_id)")
    db.execute("create index platform_files_expiry on platform_files(expires_at)")


class AuditLog(Protocol):
    """What the store needs of the audit log (the identity domain's AuditService fits)."""

    def entry(
        self,
        actor: Any,
        action: str,
        subject_type: str,
        subject_id: str | int | None = None,
        purpose: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Build one audit row."""
        ...

    def append(self, db: sqlite_utils.Database, row: dict[str, Any]) -> int:
        """Append a row inside the caller's write transaction."""
        ...


class FileTooLarge(Invalid):
    """The document is over the store's (or the caller's) size cap."""


class FileTypeRefused(Invalid):
    """The document's magic bytes prove no accepted type, or contradict the declared one."""


class FileGone(NotFound):
    """The file existed but was purged (its retention ended) or erased."""


@dataclass(frozen=True)
class StoredFile:
    """A stored file's metadata (never its body)."""

    id: str
    owner_kind: str
    owner_id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: float
    created_by: str
    expires_at: float
    purged_at: float | None

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> StoredFile:
        """From a ``platform_files`` row."""
        return cls(**{k: r[k] for k in cls.__dataclass_fields__})


def sniff(data: bytes) -> str | None:
    """The type ``data`` is by its magic bytes, or None (pure)."""
    for magic, ctype in MAGIC:
        if data.startswith(magic):
            return ctype
    return None


def check_document(
    data: bytes,
    *,
    max_bytes: int,
    allowed: Iterable[str] = DOCUMENT_TYPES,
    declared: str | None = None,
) -> str:
    """Refuse an empty, oversized or wrongly typed document; return its proven type."""
    if not data:
        raise Invalid("the file is empty")
    if len(data) > max_bytes:
        raise FileTooLarge(f"the file is {len(data)} bytes; the limit is {max_bytes} bytes")
    ctype = sniff(data)
    allowed = frozenset(allowed)
    if ctype is None or ctype not in allowed:
        raise FileTypeRefused(
            f"the file is not one of the accepted types ({', '.join(sorted(allowed))}); "
            f"its content was recognised as {ctype or 'unknown'}"
        )
    if declared and declared.split(";")[0].strip().lower() != ctype:
        raise FileTypeRefused(f"the file was declared {declared} but its content is {ctype}")
    return ctype


def clean_filename(name: str) -> str:
    """A display name without folders or control characters, at most 120 characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip() or "document"
    return base[:120]


def _derive(secret: str, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(secret.encode())


class _WrapKey:
    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("data_key is empty")
        self.kid = _derive(secret, b"citywatch/filestore/kid/v1")[:KID_LEN]
        self.aead = AESGCM(_derive(secret, b"citywatch/filestore/wrap/v1"))

    def wrap(self, file_key: bytes, file_id: str) -> bytes:
        nonce = os.urandom(NONCE_LEN)
        return nonce + self.aead.encrypt(nonce, file_key, file_id.encode())

    def unwrap(self, blob: bytes, file_id: str) -> bytes:
        return self.aead.decrypt(blob[:NONCE_LEN], blob[NONCE_LEN:], file_id.encode())


def _aad(file_id: str, owner_kind: str, owner_id: str) -> bytes:
    return f"{file_id}\x00{owner_kind}\x00{owner_id}".encode()


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (0600) so a reader sees the whole file or none of it."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def mirror_bodies(src: Path, dst: Path) -> int:
    """Copy every stored body of ``src`` that ``dst`` lacks (bodies never change once
    written, so a copy by name is a complete, incremental backup of the folder); returns
    how many were copied. ``dst`` is private like the store itself."""
    if not src.is_dir():
        return 0
    copied = 0
    for body in sorted(src.glob("??/*.bin")):
        target = dst / body.parent.name / body.name
        if target.exists():
            continue
        private_dir(target.parent)
        atomic_write(target, body.read_bytes())
        copied += 1
    return copied


class FileStore:
    """Encrypted documents: bodies in a private folder, metadata and audit in the database."""

    def __init__(
        self,
        db: Database,
        root: Path,
        data_key: str,
        audit: AuditLog,
        *,
        retired_keys: Iterable[str] = (),
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.root = private_dir(Path(root))
        self.audit = audit
        self.max_bytes = max_bytes
        self.clock = clock
        self._current = _WrapKey(data_key)
        self._keys = {self._current.kid: self._current}
        for s in retired_keys:
            k = _WrapKey(s)
            self._keys.setdefault(k.kid, k)

    # paths ------------------------------------------------------------------------------
    def body_path(self, file_id: str) -> Path:
        """Where a file's encrypted body lives (two-hex-digit fan-out folders)."""
        if len(file_id) != 32 or any(c not in "0123456789abcdef" for c in file_id):
            raise NotFound("no such file")
        return self.root / file_id[:2] / f"{file_id}.bin"

    # writes -----------------------------------------------------------------------------
    def put(
        self,
        data: bytes,
        *,
        owner_kind: str,
        owner_id: str | int,
        filename: str,
        actor: Any,
        retain_until: float,
        declared_type: str | None = None,
        allowed: Iterable[str] = DOCUMENT_TYPES,
        max_bytes: int | None = None,
    ) -> StoredFile:
        """Check, encrypt and keep a document; returns its metadata (committed).

        The body is on disk before its row commits; if the commit fails the body is
        removed (and a crash in between leaves an orphan the purge removes)."""
        cap = min(self.max_bytes, max_bytes) if max_bytes else self.max_bytes
        ctype = check_document(data, max_bytes=cap, allowed=allowed, declared=declared_type)
        now = self.clock()
        if retain_until <= now:
            raise Invalid("the retention date must be in the future")
        file_id = secrets.token_hex(16)
        owner = str(owner_id)
        file_key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(NONCE_LEN)
        body = nonce + AESGCM(file_key).encrypt(nonce, data, _aad(file_id, owner_kind, owner))
        path = self.body_path(file_id)
        private_dir(path.parent)
        atomic_write(path, body)
        row = {
            "id": file_id,
            "owner_kind": owner_kind,
            "owner_id": owner,
            "filename": clean_filename(filename),
            "content_type": ctype,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "kid": self._current.kid,
            "wrapped_key": self._current.wrap(file_key, file_id),
            "created_at": now,
            "created_by": getattr(actor, "username", None) or str(actor),
            "expires_at": float(retain_until),
            "purged_at": None,
        }
        entry = self.audit.entry(
            actor, "file.store", owner_kind, owner,
            detail={"file": file_id, "type": ctype, "size": len(data)},
        )  # fmt: skip

        def write(w: sqlite_utils.Database) -> None:
            w.table("platform_files").insert(row)
            self.audit.append(w, entry)

        try:
            self.db.write(write)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return StoredFile.from_row(row)

    def set_expiry(self, file_id: str, retain_until: float) -> None:
        """Move a live file's retention date (a case reopened, a hold placed)."""
        n = self.db.execute_write(
            "update platform_files set expires_at = ? where id = ? and purged_at is null",
            [float(retain_until), file_id],
        )
        if n == 0:
            raise NotFound("no such file")

    def erase(self, file_id: str, *, actor: Any, reason: str) -> None:
        """Remove a file's body now (erasure, a wrong upload); its row stays as a record."""
        if not reason.strip():
            raise Invalid("a reason is required to erase a file")
        meta = self.meta(file_id)
        if meta.purged_at is not None:
            raise FileGone("the file was already removed")
        self.body_path(file_id).unlink(missing_ok=True)
        entry = self.audit.entry(
            actor, "file.erase", meta.owner_kind, meta.owner_id, reason, {"file": file_id}
        )

        def write(w: sqlite_utils.Database) -> None:
            w.execute(
                "update platform_files set purged_at = ?, wrapped_key = ? where id = ?",
                [self.clock(), b"", file_id],
            )
            self.audit.append(w, entry)

        self.db.write(write)

    # reads ------------------------------------------------------------------------------
    def meta(self, file_id: str) -> StoredFile:
        """A file's metadata (no personal data in it; no audit entry)."""
        rows = self.db.query("select * from platform_files where id = ?", [file_id])
        if not rows:
            raise NotFound("no such file")
        return StoredFile.from_row(rows[0])

    def list_for(self, owner_kind: str, owner_id: str | int) -> list[StoredFile]:
        """The live files of one owner, oldest first."""
        rows = self.db.query(
            "select * from platform_files where owner_kind = ? and owner_id = ? "
            "and purged_at is null order by created_at, id",
            [owner_kind, str(owner_id)],
        )
        return [StoredFile.from_row(r) for r in rows]

    def read(
        self,
        file_id: str,
        *,
        actor: Any,
        purpose: str,
        owner_kind: str | None = None,
        owner_id: str | int | None = None,
    ) -> tuple[StoredFile, bytes]:
        """A document's metadata and plaintext, after its audit entry is committed.

        ``owner_kind``/``owner_id``, when given, must match (a route reading a case's
        document cannot be handed another case's file id)."""
        if not purpose or not purpose.strip():
            raise Invalid("a purpose is required to read a document")
        rows = self.db.query("select * from platform_files where id = ?", [file_id])
        if not rows:
            raise NotFound("no such file")
        row = rows[0]
        if (owner_kind is not None and row["owner_kind"] != owner_kind) or (
            owner_id is not None and row["owner_id"] != str(owner_id)
        ):
            raise NotFound("no such file")
        meta = StoredFile.from_row(row)
        if meta.purged_at is not None:
            raise FileGone("the file's retention ended; it was removed")
        data = self._decrypt(row)
        entry = self.audit.entry(
            actor, "file.read", meta.owner_kind, meta.owner_id, purpose.strip(),
            {"file": file_id, "sha256": meta.sha256},
        )  # fmt: skip
        self.db.write(lambda w: self.audit.append(w, entry))
        return meta, data

    def _decrypt(self, row: dict[str, Any]) -> bytes:
        key = self._keys.get(bytes(row["kid"]))
        if key is None:
            raise Broken(
                f"document {row['id']} was stored under key {bytes(row['kid']).hex()}, which "
                "is not configured: add it to the retired keys"
            )
        try:
            body = self.body_path(row["id"]).read_bytes()
        except FileNotFoundError:
            raise Broken(f"the body of document {row['id']} is missing from the store") from None
        try:
            file_key = key.unwrap(bytes(row["wrapped_key"]), row["id"])
            aad = _aad(row["id"], row["owner_kind"], row["owner_id"])
            data = AESGCM(file_key).decrypt(body[:NONCE_LEN], body[NONCE_LEN:], aad)
        except InvalidTag:
            raise Broken(f"document {row['id']} fails its integrity check") from None
        if hashlib.sha256(data).hexdigest() != row["sha256"]:
            raise Broken(f"document {row['id']} does not match its SHA-256")
        return data

    # keys and retention -----------------------------------------------------------------
    def rewrap(self, limit: int = PURGE_BATCH) -> int:
        """Re-wrap up to ``limit`` file keys made under a retired key with the current one
        (bodies are not rewritten); returns how many were re-wrapped."""
        rows = self.db.query(
            "select id, kid, wrapped_key from platform_files where kid != ? "
            "and purged_at is null limit ?",
            [self._current.kid, limit],
        )
        done = 0
        for r in rows:
            old = self._keys.get(bytes(r["kid"]))
            if old is None:
                continue
            fk = old.unwrap(bytes(r["wrapped_key"]), r["id"])
            self.db.execute_write(
                "update platform_files set kid = ?, wrapped_key = ? where id = ?",
                [self._current.kid, self._current.wrap(fk, r["id"]), r["id"]],
            )
            done += 1
        return done

    def purge_expired(self, now: float | None = None, *, limit: int = PURGE_BATCH) -> int:
        """Remove the bodies of files whose retention has ended (rows stay, marked purged,
        their keys dropped), and orphan bodies left by a crash; returns files purged.
        Bounded per call; the scheduler runs it periodically."""
        now = self.clock() if now is None else now
        rows = self.db.query(
            "select id from platform_files where purged_at is null and expires_at <= ? "
            "order by expires_at limit ?",
            [now, limit],
        )
        for r in rows:
            self.body_path(r["id"]).unlink(missing_ok=True)
        if rows:
            ids = [r["id"] for r in rows]

            def write(w: sqlite_utils.Database) -> None:
                w.execute(
                    "update platform_files set purged_at = ?, wrapped_key = ? "
                    f"where id in ({', '.join('?' * len(ids))})",
                    [now, b"", *ids],
                )

            self.db.write(write)
        # bodies' ages are file times: compared with the wall clock, not the injected one
        self._purge_orphans(time.time())
        return len(rows)

    def _purge_orphans(self, now: float) -> None:
        for sub in self.root.iterdir():
            if not sub.is_dir():
                continue
            old: dict[str, Path] = {}
            for p in sub.iterdir():
                try:
                    if now - p.stat().st_mtime <= ORPHAN_GRACE_S:
                        continue
                except FileNotFoundError:
                    continue
                old[p.name[:-4] if p.name.endswith(".bin") else p.name] = p
            for i in range(0, len(old), PURGE_BATCH):
                chunk = list(old)[i : i + PURGE_BATCH]
                live = {
                    r["id"]
                    for r in self.db.query(
                        "select id from platform_files where purged_at is null and id in "
                        f"({', '.join('?' * len(chunk))})",
                        chunk,
                    )
                }
                for fid in chunk:
                    if fid not in live:
                        old[fid].unlink(missing_ok=True)
