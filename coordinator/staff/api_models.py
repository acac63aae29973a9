"""Response models of the staff-administration routes."""

from __future__ import annotations

from ..http.answers import Answer


class UserRow(Answer):
    """An account as administrators see it: access, state, second factor (never a secret).

    ``roles`` and ``zones`` keep their stored JSON text (installed clients read them);
    ``role_list`` and ``zone_list`` are the same as lists."""

    id: int
    username: str
    roles: str
    zones: str | None
    merchant_id: str | None
    unit_id: str | None
    display_name: str | None
    active: int
    state: str
    role_list: list[str]
    zone_list: list[str]
    created_at: float | None
    expires_at: float | None
    pending_request: int | None
    """The approval request this account waits for (``/api/approvals/{id}``)."""
    disabled_at: float | None
    disabled_by: str | None
    disabled_reason: str | None
    password_changed_at: float | None
    second_factor: str
    live_sessions: int


class AccessOutcome(Answer):
    """What a change of access did: applied now, or waiting for a second administrator."""

    id: int
    state: str
    request: int | None
    """The approval request that waits for a second administrator, if any."""
