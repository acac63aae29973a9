"""The append-only audit log: who read, exported, merged or erased what, when, and why.

Every service that touches personal data calls :meth:`AuditService.record` *before* it
returns the data, in the same request. SQLite triggers refuse UPDATE and DELETE on the
table, so an entry cannot be altered through the application's own connection.
"""

from __future__ import annotations

import json
import time
from typing import Any

from ..platform.db import Database
from .auth import Principal


class AuditService:
    """Writes and reads audit entries."""

    def __init__(self, db: Database) -> None:
        self.db = db

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
        return self.db.write(lambda db: int(db.table("audit_log").insert(row).last_pk))  # type: ignore[arg-type]

    @staticmethod
    def entry(
        actor: Principal | str,
        action: str,
        subject_type: str,
        subject_id: str | int | None = None,
        purpose: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Build a row, for services that insert it inside their own write transaction."""
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
