"""Owner organisations and their sharing agreements (administrators edit, every change
audited), statistics by owner, and what an owner's own account sees."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from ..errors import NotFound
from ..http.deps import OwnersDep, StaffDep, require
from ..identity.auth import Principal
from ..identity.permissions import Role
from ..staff.service import NewUser
from .agreements import OrgKind
from .api_owners import (
    AccountIn,
    AccountOut,
    AgreementIn,
    AgreementOut,
    CameraAgreement,
    OrgDetail,
    OrgIn,
    OrgPatch,
    OwnCamera,
    OwnerStats,
    OwnIncident,
    OwnOrg,
)
from .permissions import Perm

router = APIRouter(prefix="/api", tags=["owners"])
Reader = Annotated[Principal, Depends(require(Perm.OWNERS_READ))]
Editor = Annotated[Principal, Depends(require(Perm.OWNERS_WRITE))]
Owner = Annotated[Principal, Depends(require(Perm.OWNERS_SELF))]


@router.get("/owners", response_model=list[OrgDetail])
def list_owners(
    owners: OwnersDep,
    _who: Reader,
    kind: OrgKind | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> list[dict[str, Any]]:
    """Owner organisations (filtered by kind or a part of the name) with their agreements."""
    return [{**o, "camera_agreements": []} for o in owners.orgs(kind, q)]


@router.post("/owners", response_model=OrgDetail, status_code=201)
def create_owner(body: OrgIn, owners: OwnersDep, who: Editor) -> dict[str, Any]:
    """Record a new owner organisation (audited)."""
    return owners.create_org(body.model_dump(mode="json"), who)


@router.get("/owners/stats", response_model=list[OwnerStats])
def owner_stats(owners: OwnersDep, _who: Reader) -> list[dict[str, Any]]:
    """Per organisation: cameras, online / stale / offline, incidents raised in 24 h and 7 d."""
    return owners.stats()


@router.get("/owners/{org_id}", response_model=OrgDetail)
def get_owner(org_id: int, owners: OwnersDep, _who: Reader) -> dict[str, Any]:
    """One organisation, its agreement, its cameras' own agreements and its accounts."""
    return {**owners.org(org_id), "accounts": owners.accounts(org_id)}


@router.patch("/owners/{org_id}", response_model=OrgDetail)
def update_owner(org_id: int, body: OrgPatch, owners: OwnersDep, who: Editor) -> dict[str, Any]:
    """Change an organisation's name, kind, contact or area (its cameras' labels follow)."""
    return owners.update_org(org_id, body.model_dump(mode="json", exclude_unset=True), who)


@router.put("/owners/{org_id}/agreement", response_model=AgreementOut)
def set_agreement(org_id: int, body: AgreementIn, owners: OwnersDep, who: Editor) -> dict[str, Any]:
    """Record the organisation's sharing agreement (replaces the one before; audited)."""
    return owners.set_agreement(org_id, body.model_dump(mode="json"), who)


@router.delete("/owners/{org_id}/agreement", response_model=AgreementOut)
def remove_agreement(org_id: int, owners: OwnersDep, who: Editor) -> dict[str, Any]:
    """Remove the organisation's agreement: its kind's default applies again (audited)."""
    return owners.set_agreement(org_id, None, who)


@router.put("/owners/{org_id}/cameras/{device_id}/agreement", response_model=CameraAgreement)
def set_camera_agreement(
    org_id: int, device_id: str, body: AgreementIn, owners: OwnersDep, who: Editor
) -> dict[str, Any]:
    """Give one camera its own agreement, replacing its organisation's (audited)."""
    return owners.set_agreement(org_id, body.model_dump(mode="json"), who, device_id)


@router.delete("/owners/{org_id}/cameras/{device_id}/agreement", response_model=CameraAgreement)
def remove_camera_agreement(
    org_id: int, device_id: str, owners: OwnersDep, who: Editor
) -> dict[str, Any]:
    """Remove a camera's own agreement: its organisation's applies again (audited)."""
    return owners.set_agreement(org_id, None, who, device_id)


@router.post("/owners/{org_id}/accounts", response_model=AccountOut, status_code=201)
def create_owner_account(
    org_id: int, body: AccountIn, owners: OwnersDep, staff: StaffDep, who: Editor
) -> dict[str, Any]:
    """Make a login for the organisation (role ``camera_owner``, bound to it; audited)."""
    owners.org(org_id)  # 404 before an account exists
    made = staff.create_user(
        who,
        NewUser(body.username, body.password, [Role.CAMERA_OWNER],
                display_name=body.display_name),
    )  # fmt: skip
    owners.bind_account(body.username, org_id)
    return {"id": made["id"], "username": body.username, "org_id": org_id}


# what an owner's account sees --------------------------------------------------------------
def _own_org(owners: Any, who: Principal) -> int:
    org = owners.org_of(who.username)
    if org is None:
        raise NotFound("this account belongs to no owner organisation")
    return int(org)


@router.get("/my-org", response_model=OwnOrg)
def my_org(owners: OwnersDep, who: Owner) -> dict[str, Any]:
    """The caller's organisation, its agreement and its cameras' counts."""
    org = _own_org(owners, who)
    return {"org": owners.org(org), "stats": owners.stats(org)[0]}


@router.get("/my-org/cameras", response_model=list[OwnCamera])
def my_cameras(
    owners: OwnersDep,
    who: Owner,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    """The caller's organisation's cameras and their health (no one else's)."""
    return owners.own_cameras(_own_org(owners, who), limit, offset)


@router.get("/my-org/incidents", response_model=list[OwnIncident])
def my_incidents(
    owners: OwnersDep,
    who: Owner,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    """Incidents the caller's cameras raised: kind, state and time only (no people, no
    units, no other owners' cameras)."""
    return owners.own_incidents(_own_org(owners, who), limit)
