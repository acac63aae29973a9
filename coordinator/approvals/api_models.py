"""Response models of the approvals routes."""

from __future__ import annotations

from typing import Any

from ..http.answers import Answer


class ApprovalOut(Answer):
    """A request that needs a second person, with its decision and review."""

    id: int
    kind: str
    title: str
    subject_type: str
    subject_id: str | None
    scope: dict[str, Any]
    reason: str
    requested_by: str
    beneficiary: str | None
    requested_at: float
    duration_s: float | None
    state: str
    pending_until: float
    decided_by: str | None
    decided_at: float | None
    decision_note: str | None
    result: dict[str, Any] | None
    emergency: bool
    review_state: str | None
    reviewed_by: str | None
    reviewed_at: float | None
    review_note: str | None
    can_decide: bool
