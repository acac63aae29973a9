"""Approvals routes: the queue of requests, their decision, withdrawal and review.

Requests are filed by the domain routes that need them (break-the-glass, staff
administration …); here they are listed and decided. Who may decide which kind is the
kind's approve permission, checked by the service (as is requester ≠ approver).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from ..http.deps import ApprovalsDep, get_principal
from ..identity.auth import Principal
from .api_models import ApprovalOut
from .service import Review, State

router = APIRouter(prefix="/api/approvals", tags=["approvals"])
Caller = Annotated[Principal, Depends(get_principal)]
RequestId = Annotated[int, Path(ge=1, le=2**63 - 1)]


class DecisionIn(BaseModel):
    """An approver's decision, with an optional note (a rejection should say why)."""

    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(None, max_length=500)


class ReviewIn(BaseModel):
    """An approver's verdict on an emergency grant after the fact."""

    model_config = ConfigDict(extra="forbid")
    verdict: Review
    note: str = Field("", max_length=500)


@router.get("", response_model=list[ApprovalOut])
def list_requests(
    approvals: ApprovalsDep, p: Caller,
    state: State | None = None,
    kind: Annotated[str | None, Query(max_length=64)] = None,
    mine: bool = False,
    review: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:  # fmt: skip
    """Requests you made or may decide (``review=true``: emergency grants awaiting review)."""
    return approvals.search(p, state=state, kind=kind, mine=mine, review=review, limit=limit)


@router.get("/{request_id}", response_model=ApprovalOut)
def get_request(request_id: RequestId, approvals: ApprovalsDep, p: Caller) -> dict[str, Any]:
    """One request you made or may decide."""
    return approvals.get(p, request_id)


@router.post("/{request_id}/approve", response_model=ApprovalOut)
def approve(
    request_id: RequestId, body: DecisionIn, approvals: ApprovalsDep, p: Caller
) -> dict[str, Any]:
    """Approve a pending request (a second person: never its requester); its effect applies."""
    return approvals.approve(p, request_id, body.note)


@router.post("/{request_id}/reject", response_model=ApprovalOut)
def reject(
    request_id: RequestId, body: DecisionIn, approvals: ApprovalsDep, p: Caller
) -> dict[str, Any]:
    """Refuse a pending request."""
    return approvals.reject(p, request_id, body.note)


@router.post("/{request_id}/withdraw", response_model=ApprovalOut)
def withdraw(request_id: RequestId, approvals: ApprovalsDep, p: Caller) -> dict[str, Any]:
    """Take back your own pending request."""
    return approvals.withdraw(p, request_id)


@router.post("/{request_id}/review", response_model=ApprovalOut)
def review(
    request_id: RequestId, body: ReviewIn, approvals: ApprovalsDep, p: Caller
) -> dict[str, Any]:
    """Judge an emergency grant after the fact (justified, or unjustified with a reason)."""
    return approvals.review(p, request_id, body.verdict, body.note)
