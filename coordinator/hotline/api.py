"""The hotline's routes: calls, callbacks, follow-up and the monthly report."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query

from ..http.deps import HotlineDep, require, require_purpose
from ..identity.auth import Principal
from .api_models import (
    CallCallbackIn,
    CallerNumber,
    CallerRevealIn,
    CallIn,
    CallOutcomeIn,
    CallScoreIn,
    DueCallback,
    HotlineCall,
    HotlineCallDetail,
    HotlineCatalogueOut,
    MonthlyReport,
)
from .permissions import Perm

router = APIRouter(prefix="/api/hotline", tags=["hotline"])
Agent = Annotated[Principal, Depends(require(Perm.HOTLINE_WORK))]
Reporter = Annotated[Principal, Depends(require(Perm.HOTLINE_REPORT))]
Purpose = Annotated[str, Depends(require_purpose)]
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("/catalogue", response_model=HotlineCatalogueOut)
def catalogue(hotline: HotlineDep, _p: Agent) -> dict[str, Any]:
    """The categories of the migrants' service catalogue and their SLAs."""
    return hotline.catalogue_json()


@router.post("/calls", response_model=HotlineCall, status_code=201)
def log_call(body: CallIn, hotline: HotlineDep, p: Agent, purpose: Purpose) -> dict[str, Any]:
    """Log a call (the caller's number is stored encrypted)."""
    return hotline.log_call(p, body.model_dump(), purpose)


@router.get("/calls", response_model=list[HotlineCall])
def calls(
    hotline: HotlineDep, p: Agent, purpose: Purpose,
    status: Annotated[Literal["open", "resolved", "closed", "overdue"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> list[dict[str, Any]]:  # fmt: skip
    """Calls, newest first (numbers masked; audited)."""
    return hotline.calls(p, purpose, status=status, limit=limit)


@router.post("/calls/by-number", response_model=list[HotlineCall])
def by_number(
    body: CallerRevealIn, hotline: HotlineDep, p: Agent, purpose: Purpose,
    number: Annotated[str, Query(max_length=30)],
) -> list[dict[str, Any]]:  # fmt: skip
    """Earlier calls from one number (found by keyed hash; audited with the reason)."""
    return hotline.calls(p, f"{purpose}: {body.reason}", caller_number=number)


@router.get("/calls/{call_id}", response_model=HotlineCallDetail)
def get_call(call_id: Id, hotline: HotlineDep, p: Agent, purpose: Purpose) -> dict[str, Any]:
    """One call with its callbacks (audited)."""
    return hotline.get(p, call_id, purpose)


@router.post("/calls/{call_id}/reveal", response_model=CallerNumber)
def reveal(call_id: Id, body: CallerRevealIn, hotline: HotlineDep, p: Agent) -> dict[str, Any]:
    """The caller's full number (audited with the reason)."""
    return {"caller_number": hotline.reveal(p, call_id, body.reason)}


@router.post("/calls/{call_id}/callbacks", response_model=HotlineCallDetail)
def callback(call_id: Id, body: CallCallbackIn, hotline: HotlineDep, p: Agent) -> dict[str, Any]:
    """Promise a call back (by default within the category's SLA)."""
    return hotline.schedule_callback(p, call_id, body.due_at)


@router.post("/callbacks/{callback_id}/done", response_model=HotlineCallDetail)
def callback_done(
    callback_id: Id, body: CallOutcomeIn, hotline: HotlineDep, p: Agent
) -> dict[str, Any]:
    """Record a call back made, with its outcome."""
    return hotline.complete_callback(p, callback_id, body.text)


@router.get("/callbacks", response_model=list[DueCallback])
def callbacks_due(hotline: HotlineDep, p: Agent, purpose: Purpose) -> list[dict[str, Any]]:
    """Callbacks not yet made, earliest first."""
    return hotline.callbacks_due(p, purpose)


@router.post("/calls/{call_id}/resolve", response_model=HotlineCallDetail)
def resolve(call_id: Id, body: CallOutcomeIn, hotline: HotlineDep, p: Agent) -> dict[str, Any]:
    """Resolve the matter (a satisfaction follow-up becomes due)."""
    return hotline.resolve(p, call_id, body.text)


@router.post("/calls/{call_id}/satisfaction", response_model=HotlineCallDetail)
def satisfaction(call_id: Id, body: CallScoreIn, hotline: HotlineDep, p: Agent) -> dict[str, Any]:
    """The caller's rating from the follow-up call."""
    return hotline.satisfaction(p, call_id, body.score)


@router.get("/report", response_model=MonthlyReport)
def report(
    hotline: HotlineDep, _p: Reporter, month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")]
) -> dict[str, Any]:
    """The month's figures by category (counts only)."""
    return hotline.report(month)
