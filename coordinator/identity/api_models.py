"""Response models of the identity routes (users and the audit log)."""

from __future__ import annotations

from ..http.answers import Answer


class UserRow(Answer):
    """A user account as administrators list them (roles and zones as stored, JSON text)."""

    id: int
    username: str
    roles: str
    zones: str | None
    merchant_id: str | None
    unit_id: str | None
    display_name: str | None
    active: int


class AuditEntry(Answer):
    """One audit-log entry: who did what to which record, and why."""

    id: int
    ts: float
    actor: str
    actor_roles: str | None
    action: str
    subject_type: str | None
    subject_id: str | None
    purpose: str | None
    detail: str | None
