"""HTTP API of the monitoring centres: the list, the caller's scope, memberships and the
shift log of each centre."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from ..http.deps import GeoDep, ScopeDep, require
from ..identity.auth import Principal
from .api_models import CentreOnDuty, Membership, MyScope, ShiftEntry, ShiftLog
from .permissions import Perm

router = APIRouter(prefix="/api/centres", tags=["centres"])
Staff = Annotated[Principal, Depends(require(Perm.INCIDENTS_READ))]
Admin = Annotated[Principal, Depends(require(Perm.USERS_ADMIN))]


class MembershipBody(BaseModel):
    """The centres a user works for (replaces what they had) and the city-wide flag."""

    model_config = ConfigDict(extra="forbid")
    centres: list[str] = Field(default_factory=list, max_length=100)
    city_wide: bool = Field(False, description="sees every centre (city supervisors)")


class ShiftBody(BaseModel):
    """A shift-log line: sign on, sign off or a note for the next shift."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["sign_on", "sign_off", "note"]
    text: str | None = Field(None, max_length=2000)


@router.get("", response_model=list[CentreOnDuty])
def list_centres(geo: GeoDep, who: Staff) -> list[dict[str, Any]]:
    """Every monitoring centre: stations, patrol zones, whether you work it, who is on duty."""
    return geo.centres.centres(who)


@router.get("/me", response_model=MyScope)
def my_scope(geo: GeoDep, who: Staff, scope: ScopeDep) -> dict[str, Any]:
    """Your centres, the city-wide flag, and the centres whose work you see."""
    return {
        **geo.centres.membership(who.username),
        "sees_all": scope.city_wide,
        "scoped": sorted(scope.centres),
    }


@router.get("/members", response_model=list[Membership])
def list_members(geo: GeoDep, _: Admin) -> list[dict[str, Any]]:
    """Every user with a centre membership or the city-wide flag."""
    return geo.centres.memberships()


@router.put("/members/{username}", response_model=Membership)
def set_member(username: str, body: MembershipBody, geo: GeoDep, who: Admin) -> dict[str, Any]:
    """Set the centres a user works for and their city-wide flag (422 for unknown centres)."""
    return geo.centres.set_membership(username, body.centres, body.city_wide, who.username)


@router.get("/{centre_id}/shift-log", response_model=ShiftLog)
def shift_log(
    centre_id: str,
    geo: GeoDep,
    who: Staff,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """A centre's shift log (members and city-wide staff only), newest first."""
    return geo.centres.shift_log(who, centre_id, limit)


@router.post("/{centre_id}/shift-log", response_model=ShiftEntry)
def add_shift_entry(centre_id: str, body: ShiftBody, geo: GeoDep, who: Staff) -> dict[str, Any]:
    """Sign on, sign off, or leave a note in a centre's shift log (members only)."""
    return geo.centres.log_shift(who, centre_id, body.kind, body.text)
