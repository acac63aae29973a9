"""The alarm queue and alarm handling: acknowledge, claim, assign, hold, close — one
incident or a group of related alarms at a time; filters by zone, kind, priority, state."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from ..http.deps import AuthDep, DbDep, IncidentInScope, IncidentsDep, ScopeDep, require
from ..identity.auth import Principal
from .api_models import AlarmQueue, Assignee, GroupActionResult, Incident, IncidentGroupDetail
from .handling import assignees
from .permissions import Perm

router = APIRouter(prefix="/api", tags=["alarms"])
Reader = Annotated[Principal, Depends(require(Perm.INCIDENTS_READ))]
Actor = Annotated[Principal, Depends(require(Perm.INCIDENTS_ACT))]
Handling = Literal["new", "acknowledged", "in_progress", "on_hold", "closed"]
Status = Literal[
    "new", "confirmed", "dismissed", "dispatched", "en_route", "on_scene", "resolved", "merged"
]


class HandlingBody(BaseModel):
    """One handling step on an incident."""

    model_config = ConfigDict(extra="forbid")
    action: Literal["acknowledge", "claim", "assign", "start", "hold", "resume", "close", "reopen"]
    assignee: str | None = Field(
        None, max_length=64, description="assign: the operator who takes the alarm over"
    )
    note: str | None = Field(
        None,
        max_length=2000,
        description="hold: the reason (required); close: what was done (the narrative)",
    )
    disposition: str | None = Field(
        None,
        max_length=64,
        description="close: how the incident ended, a code of GET /api/dispositions (required)",
    )


class GroupHandlingBody(BaseModel):
    """One step on every member of a group of related alarms."""

    model_config = ConfigDict(extra="forbid")
    action: Literal["acknowledge", "close", "dismiss"]
    reason: str | None = Field(
        None,
        max_length=2000,
        description="dismiss: why these are false alarms (required); close: the narrative",
    )
    disposition: str | None = Field(
        None,
        max_length=64,
        description="close: how the incidents ended, a code of GET /api/dispositions (required)",
    )


@router.get("/alarm-queue", response_model=AlarmQueue)
def alarm_queue(
    incidents: IncidentsDep,
    _who: Reader,
    scope: ScopeDep,
    status: Annotated[list[Status] | None, Query(description="default: still open")] = None,
    zone: str | None = None,
    kind: Annotated[list[str] | None, Query(max_length=20)] = None,
    priority: Annotated[list[Annotated[int, Field(ge=1, le=5)]] | None, Query()] = None,
    handling: Annotated[list[Handling] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=2000)] = 300,
) -> dict[str, Any]:
    """The alarm queue: most urgent first, then longest waiting; a group is one row."""
    return incidents.queue(
        status=status,
        zone=zone,
        kind=kind,
        priority=priority,
        handling=handling,
        limit=limit,
        scope=scope,
    )


@router.post(
    "/incidents/{incident_id}/handling", response_model=Incident, dependencies=[IncidentInScope]
)
def handle(
    incident_id: str,
    body: HandlingBody,
    incidents: IncidentsDep,
    auth: AuthDep,
    db: DbDep,
    who: Actor,
) -> dict[str, Any]:
    """One handling step (409 when it does not apply; 422 for an unknown assignee)."""
    if body.action == "assign":
        allowed = {a["username"] for a in assignees(db, auth.role_permissions, Perm.INCIDENTS_ACT)}
        if body.assignee not in allowed:
            raise HTTPException(
                422, f"{body.assignee!r} is not an active user who may handle incidents"
            )
    return incidents.handle(
        incident_id,
        body.action,
        who.username,
        assignee=body.assignee,
        note=body.note,
        disposition=body.disposition,
        by_operator=True,
    )


@router.get("/alarm-assignees", response_model=list[Assignee])
def alarm_assignees(auth: AuthDep, db: DbDep, _who: Reader) -> list[dict[str, str]]:
    """Who an alarm may be assigned to: active users whose roles may handle incidents."""
    return assignees(db, auth.role_permissions, Perm.INCIDENTS_ACT)


@router.get("/alarm-groups/{group_id}", response_model=IncidentGroupDetail)
def get_group(
    group_id: str,
    incidents: IncidentsDep,
    _who: Reader,
    scope: ScopeDep,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> dict[str, Any]:
    """A group of related alarms with its members of your centres (404 when none is)."""
    group = incidents.group(group_id, limit, scope)
    if group is None:
        raise HTTPException(404, f"no alarm group {group_id!r}")
    return group


@router.post("/alarm-groups/{group_id}/handling", response_model=GroupActionResult)
def handle_group(
    group_id: str, body: GroupHandlingBody, incidents: IncidentsDep, who: Actor, scope: ScopeDep
) -> dict[str, Any]:
    """Acknowledge, close (with a disposition) or dismiss every member of your centres the
    step applies to (skips say why; 404 when no member is yours)."""
    if incidents.group(group_id, 1, scope) is None:
        raise HTTPException(404, f"no alarm group {group_id!r}")
    return incidents.handle_group(
        group_id,
        body.action,
        who.username,
        reason=body.reason,
        disposition=body.disposition,
        by_operator=True,
        allowed=lambda row: scope.allows(row.get("centre_id")),
    )
