"""Staff-administration routes: accounts, access changes (pending where a second
administrator must approve), and the life cycle (disable, password, expiry, sessions,
second factor). Pending requests are decided through ``/api/approvals``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from ..http.deps import StaffDep, require
from ..identity.auth import Principal, Role
from .api_models import AccessOutcome, UserRow
from .permissions import Perm
from .service import NewUser

router = APIRouter(prefix="/api/users", tags=["staff"])
Admin = Annotated[Principal, Depends(require(Perm.USERS_ADMIN))]
UserId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Zone = Annotated[str, Field(min_length=1, max_length=32)]


class UserIn(BaseModel):
    """A new account; roles that read personal data (or administration) need a reason and a
    second administrator's approval."""

    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    password: str = Field(min_length=10, max_length=256)
    roles: list[Role] = Field(min_length=1)
    zones: list[Zone] = Field(default_factory=list, max_length=500)
    merchant_id: str | None = Field(None, max_length=64)
    unit_id: str | None = Field(None, max_length=64)
    display_name: str | None = Field(None, max_length=100)
    expires_at: float | None = Field(None, description="the account stops working after this")
    reason: str | None = Field(None, max_length=500, description="why (read by the approver)")


class AccessIn(BaseModel):
    """Roles and zones to add or take away (adding personal-data access needs a reason)."""

    model_config = ConfigDict(extra="forbid")
    add_roles: list[Role] = Field(default_factory=list, max_length=20)
    remove_roles: list[Role] = Field(default_factory=list, max_length=20)
    add_zones: list[Zone] = Field(default_factory=list, max_length=500)
    remove_zones: list[Zone] = Field(default_factory=list, max_length=500)
    reason: str | None = Field(None, max_length=500)


class ReasonIn(BaseModel):
    """Why (kept in the audit log)."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=3, max_length=500)


class PasswordIn(BaseModel):
    """A new password (every session of the account ends)."""

    model_config = ConfigDict(extra="forbid")
    password: str = Field(min_length=10, max_length=256)


class ExpiryIn(BaseModel):
    """When the account stops working (null: never)."""

    model_config = ConfigDict(extra="forbid")
    expires_at: float | None = Field(description="Unix time; null removes the expiry")


@router.get("", response_model=list[UserRow])
def list_users(staff: StaffDep, p: Admin) -> list[dict[str, Any]]:
    """Every account with roles, zones, state and second factor (never a password hash)."""
    return staff.users()


@router.post("", response_model=AccessOutcome, status_code=201)
def create_user(body: UserIn, staff: StaffDep, p: Admin, response: Response) -> dict[str, Any]:
    """Create an account: 201 active at once, or 202 waiting for a second administrator."""
    out = staff.create_user(p, NewUser(**body.model_dump()))
    if out["state"] != "active":
        response.status_code = 202
    return out


@router.get("/{user_id}", response_model=UserRow)
def get_user(user_id: UserId, staff: StaffDep, p: Admin) -> dict[str, Any]:
    """One account."""
    return staff.user(user_id)


@router.post("/{user_id}/access", response_model=AccessOutcome)
def change_access(
    user_id: UserId, body: AccessIn, staff: StaffDep, p: Admin, response: Response
) -> dict[str, Any]:
    """Take roles or zones away (at once) or add them (202 when a second administrator must
    approve)."""
    out = staff.change_access(p, user_id, **body.model_dump())
    if out["state"] != "applied":
        response.status_code = 202
    return out


@router.post("/{user_id}/disable", response_model=UserRow)
def disable_user(user_id: UserId, body: ReasonIn, staff: StaffDep, p: Admin) -> dict[str, Any]:
    """Disable the account; its sessions end at once."""
    return staff.disable(p, user_id, body.reason)


@router.post("/{user_id}/enable", response_model=UserRow)
def enable_user(user_id: UserId, body: ReasonIn, staff: StaffDep, p: Admin) -> dict[str, Any]:
    """Enable a disabled account."""
    return staff.enable(p, user_id)


@router.post("/{user_id}/password", response_model=UserRow)
def set_password(user_id: UserId, body: PasswordIn, staff: StaffDep, p: Admin) -> dict[str, Any]:
    """Set a new password; every session of the account ends."""
    return staff.set_password(p, user_id, body.password)


@router.post("/{user_id}/expiry", response_model=UserRow)
def set_expiry(user_id: UserId, body: ExpiryIn, staff: StaffDep, p: Admin) -> dict[str, Any]:
    """Set or clear the date after which the account stops working."""
    return staff.set_expiry(p, user_id, body.expires_at)


@router.post("/{user_id}/end-sessions", response_model=UserRow)
def end_sessions(user_id: UserId, body: ReasonIn, staff: StaffDep, p: Admin) -> dict[str, Any]:
    """End every session of the account."""
    return staff.end_sessions(p, user_id, body.reason)


@router.post("/{user_id}/second-factor/reset", response_model=UserRow)
def reset_second_factor(
    user_id: UserId, body: ReasonIn, staff: StaffDep, p: Admin
) -> dict[str, Any]:
    """Forget the account's authenticator (it enrols a new one at its next login)."""
    return staff.reset_second_factor(p, user_id, body.reason)
