"""Login, logout, the caller's identity, user administration and the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from ..http.answers import Created
from ..http.client import client_address
from ..http.deps import (
    AuditDep,
    AuthDep,
    DbDep,
    SettingsDep,
    ThrottleDep,
    bearer_token,
    get_principal,
    require,
)
from .api_models import AuditEntry, UserRow
from .auth import AuthError, Principal, Role
from .permissions import Perm

router = APIRouter(prefix="/api", tags=["auth"])


class LoginBody(BaseModel):
    """Credentials."""

    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class TokenOut(BaseModel):
    """A bearer token and what it grants."""

    access_token: str
    token_type: str = "bearer"
    expires_at: float
    username: str
    roles: list[str]
    permissions: list[str]
    zones: list[str]


class MeOut(BaseModel):
    """The caller's identity and permissions (the UI shows only what these allow)."""

    username: str
    roles: list[str]
    permissions: list[str]
    zones: list[str]
    merchant_id: str | None
    unit_id: str | None


class UserIn(BaseModel):
    """A new user."""

    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    password: str = Field(min_length=10, max_length=256)
    roles: list[Role] = Field(min_length=1)
    zones: list[str] = Field(default_factory=list, max_length=500)
    merchant_id: str | None = Field(None, max_length=64)
    unit_id: str | None = Field(None, max_length=64)
    display_name: str | None = Field(None, max_length=100)


@router.post(
    "/auth/login",
    response_model=TokenOut,
    responses={429: {"description": "Too many failed logins from this address (Retry-After)"}},
)
def login(
    request: Request,
    body: LoginBody,
    auth: AuthDep,
    audit: AuditDep,
    throttle: ThrottleDep,
    settings: SettingsDep,
) -> TokenOut:
    """Exchange a username and password for a bearer token (one shift long); failures are
    slowed per client address (429 with Retry-After)."""
    address = client_address(request, settings.trusted_proxies)
    attempt = throttle.reserve(address, body.username)
    try:
        token, expires, p = auth.login(body.username, body.password)
    except AuthError as exc:
        throttle.failed(address, body.username, str(exc))
        raise
    throttle.succeeded(attempt)
    audit.record(p, "login", "user", p.user_id, detail={"address": address})
    return TokenOut(
        access_token=token,
        expires_at=expires,
        username=p.username,
        roles=p.role_names,
        permissions=sorted(p.perms),
        zones=sorted(p.zones),
    )


@router.post("/auth/logout", status_code=204)
def logout(
    request: Request, auth: AuthDep, p: Annotated[Principal, Depends(get_principal)]
) -> None:
    """Revoke the caller's token."""
    auth.logout(bearer_token(request))


@router.get("/auth/me", response_model=MeOut)
def me(p: Annotated[Principal, Depends(get_principal)]) -> MeOut:
    """Who am I, and what may I do."""
    return MeOut(
        username=p.username,
        roles=p.role_names,
        permissions=sorted(p.perms),
        zones=sorted(p.zones),
        merchant_id=p.merchant_id,
        unit_id=p.unit_id,
    )


@router.post("/users", response_model=Created, status_code=201)
def create_user(
    body: UserIn,
    auth: AuthDep,
    audit: AuditDep,
    p: Annotated[Principal, Depends(require(Perm.USERS_ADMIN))],
) -> dict[str, int]:
    """Create a user (admins only)."""
    uid = auth.create_user(
        body.username,
        body.password,
        list(body.roles),
        zones=body.zones,
        merchant_id=body.merchant_id,
        unit_id=body.unit_id,
        display_name=body.display_name,
    )
    audit.record(p, "create_user", "user", uid, detail={"roles": [r.value for r in body.roles]})
    return {"id": uid}


@router.get("/users", response_model=list[UserRow])
def list_users(
    db: DbDep, p: Annotated[Principal, Depends(require(Perm.USERS_ADMIN))]
) -> list[dict]:
    """List users without their password hashes."""
    return db.query(
        "select id, username, roles, zones, merchant_id, unit_id, display_name, active from users order by id"
    )


@router.get("/audit", response_model=list[AuditEntry])
def audit_log(
    audit: AuditDep,
    p: Annotated[Principal, Depends(require(Perm.AUDIT_READ))],
    actor: str | None = None,
    subject_type: str | None = None,
    subject_id: str | None = None,
    action: str | None = None,
    limit: int = 200,
) -> list[dict]:
    """Search the audit log (newest first)."""
    return audit.search(
        actor=actor, subject_type=subject_type, subject_id=subject_id, action=action, limit=limit
    )
