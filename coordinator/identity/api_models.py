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
    prev_hash: str | None = None
    hash: str | None = None


class UnusualVolume(Answer):
    """An actor whose personal-data accesses on a day stand out against their own baseline."""

    actor: str
    day: str
    count: int
    baseline_per_day: float
    ratio: float | None


class AuditReport(Answer):
    """The verification of the audit chain and its signed checkpoints."""

    ok: bool
    entries: int
    checkpoints: int
    head_id: int
    problems: list[str]


class AuditCheckpoint(Answer):
    """A signed checkpoint of the chain's head."""

    id: int
    upto_id: int
    head_hash: str
    ts: float
    prev_sig: str | None
    signature: str
    key_id: str
