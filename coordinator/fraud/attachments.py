"""Tips' attachments (contracts, chat screenshots, bank slips), kept encrypted in the centre's
file store: bodies outside the database, encrypted per file; here only which tip a file
belongs to. The type is proven by the file's magic bytes (PDF, JPEG, PNG), each file and
each tip have a size cap, and every download is audited with its purpose by the store.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import sqlite_utils

from ..errors import Forbidden, Invalid, NotFound, Unavailable
from ..platform.filestore import DOCUMENT_TYPES, FileStore, clean_filename

if TYPE_CHECKING:
    from ..identity.audit import AuditService
    from ..identity.auth import Principal
    from ..platform.db import Database

__all__ = ["MAX_FILE_BYTES", "MAX_FILES_PER_TIP", "Attachments", "FileStore"]

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES_PER_TIP = 10
MAX_TIP_BYTES = 30 * 1024 * 1024
#: A tip's evidence is kept five years (a fraud case's limitation period), then purged.
RETENTION_S = 5 * 365 * 86400.0
#: A reporter may add files to their own tip for a day; later ones go through an
#: investigator (who may add to any tip).
REPORTER_WINDOW_S = 86400.0
OWNER_KIND = "fraud_tip"


class Attachments:
    """Upload to a tip, list a tip's files, audited download."""

    def __init__(self, db: Database, audit: AuditService, files: FileStore | None) -> None:
        self.db = db
        self.audit = audit
        self.files = files

    def _store(self) -> FileStore:
        if self.files is None:
            raise Unavailable("the centre's file store is not configured: attachments are off")
        return self.files

    def add(
        self, actor: Principal, tip_id: int, filename: str, declared: str | None, data: bytes
    ) -> dict[str, Any]:
        """Keep a file with a tip: its reporter within a day, or an investigator."""
        store = self._store()
        tips = self.db.query("SELECT id, reporter, ts FROM fraud_tips WHERE id = ?", [tip_id])
        if not tips:
            raise NotFound(f"unknown tip {tip_id}")
        tip = tips[0]
        if not actor.can("fraud:write"):
            if tip["reporter"] != actor.username:
                raise NotFound(f"unknown tip {tip_id}")  # another reporter's tip is not shown
            if time.time() - tip["ts"] > REPORTER_WINDOW_S:
                raise Forbidden("files are added to a tip within a day: send a new tip")
        if len(data) > MAX_FILE_BYTES:
            raise Invalid(f"the file is {len(data):,} bytes; the limit is {MAX_FILE_BYTES:,}")
        have = self.db.query(
            "SELECT count(*) n, coalesce(sum(size), 0) s FROM fraud_attachments WHERE tip_id = ?",
            [tip_id],
        )[0]
        if have["n"] >= MAX_FILES_PER_TIP:
            raise Invalid(f"a tip holds at most {MAX_FILES_PER_TIP} files")
        if have["s"] + len(data) > MAX_TIP_BYTES:
            raise Invalid(f"a tip's files total at most {MAX_TIP_BYTES:,} bytes")
        meta = store.put(
            data, owner_kind=OWNER_KIND, owner_id=tip_id, filename=filename, actor=actor,
            retain_until=time.time() + RETENTION_S, declared_type=declared,
            allowed=DOCUMENT_TYPES, max_bytes=MAX_FILE_BYTES,
        )  # fmt: skip
        row = {
            "tip_id": tip_id, "name": clean_filename(filename), "mime": meta.content_type,
            "size": meta.size, "sha256": meta.sha256, "store_key": meta.id,
            "uploaded_by": actor.username, "ts": meta.created_at,
        }  # fmt: skip

        def tx(db: sqlite_utils.Database) -> int:
            aid = int(db.table("fraud_attachments").insert(row).last_pk or 0)
            self.audit.append(db, self.audit.entry(
                actor, "fraud.tip.attachment", "tip", tip_id, None,
                {"attachment": aid, "type": meta.content_type, "size": meta.size}))  # fmt: skip
            return aid

        aid = self.db.write(tx)
        return {"id": aid, **{k: v for k, v in row.items() if k != "store_key"}}

    def of_tip(self, tip_id: int) -> list[dict[str, Any]]:
        """A tip's files (metadata only)."""
        return self.db.query(
            "SELECT id, tip_id, name, mime, size, sha256, uploaded_by, ts FROM fraud_attachments "
            "WHERE tip_id = ? ORDER BY id",
            [tip_id],
        )

    def my_tips(self, actor: Principal, limit: int = 100) -> list[dict[str, Any]]:
        """The tips ``actor`` sent, newest first, with their files (metadata)."""
        rows = self.db.query(
            "SELECT id, company_id, text, status, ts FROM fraud_tips WHERE reporter = ? "
            "ORDER BY id DESC LIMIT ?",
            [actor.username, limit],
        )
        return [{**r, "files": self.of_tip(r["id"])} for r in rows]

    def download(
        self, actor: Principal, attachment_id: int, purpose: str
    ) -> tuple[dict[str, Any], bytes]:
        """A file's metadata and content; the store audits the read with its purpose."""
        rows = self.db.query("SELECT * FROM fraud_attachments WHERE id = ?", [attachment_id])
        if not rows:
            raise NotFound(f"unknown attachment {attachment_id}")
        a = rows[0]
        _, data = self._store().read(
            a["store_key"], actor=actor, purpose=purpose, owner_kind=OWNER_KIND,
            owner_id=a["tip_id"],
        )  # fmt: skip
        return a, data
