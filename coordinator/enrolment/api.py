"""Enrolment API: technicians get tokens; boards enrol, confirm and rotate; admins revoke.

Board-facing routes (``begin``, ``enrol``, ``confirm``, ``rotate``, ``models``) carry no
bearer token: the board is authenticated by the one-time enrolment token, the confirmation
token, or a signature with its current key. Everything else needs a logged-in user's permission.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Depends, Header, Path
from fastapi.responses import FileResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from ..camrules.model_store import ModelNotServed
from ..http.deps import CamRulesDep, EnrolmentDep, LifecycleDep, require
from ..identity.auth import Principal
from .api_models import (
    Begun,
    Confirmed,
    Enrolled,
    EnrolledDevice,
    EnrolmentItem,
    Revoked,
    Rotated,
    TokenIssued,
)
from .permissions import Perm
from .service import Registration

router = APIRouter(prefix="/api/enrolment", tags=["enrolment"])
# EnrolmentDep answers 503 on a coordinator without enrolment: it follows the permission
# check in each signature (dependencies resolve in order), so a wrong role still gets 403.


class TokenIn(BaseModel):
    """A token request; the device id is generated when omitted."""

    model_config = ConfigDict(extra="forbid")
    device_id: str | None = Field(None, max_length=64)
    ttl_s: int | None = Field(None, ge=30, le=86400, description="Lifetime (default 300 s)")


class BeginIn(BaseModel):
    """A board checks its token and learns its assigned id."""

    model_config = ConfigDict(extra="forbid")
    token: str = Field(max_length=200)


class EnrolIn(Registration):
    """A board's enrolment: the token, its CSR and where it stands."""

    token: str = Field(max_length=200)
    csr: str = Field(max_length=8192, description="PEM CSR, CN = assigned device id")


class ConfirmIn(BaseModel):
    """The confirmation token returned by ``enrol``."""

    model_config = ConfigDict(extra="forbid")
    confirm_token: str = Field(max_length=200)


class RotateIn(BaseModel):
    """A rotation request signed with the board's current key."""

    model_config = ConfigDict(extra="forbid")
    certificate: str = Field(max_length=16384, description="current certificate PEM")
    csr: str = Field(max_length=8192, description="CSR for the new key")
    proof: str = Field(max_length=512, description="base64 ECDSA signature, current key")


class RevokeIn(BaseModel):
    """Why the board is revoked (recorded in the audit log)."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field("", max_length=500)


@router.post("/tokens", response_model=TokenIssued, status_code=201)
def issue_token(
    body: TokenIn, p: Annotated[Principal, Depends(require(Perm.ENROL))], svc: EnrolmentDep
) -> dict[str, Any]:
    """A one-time enrolment token bound to the caller (default 5 minutes)."""
    return svc.issue_token(p, body.device_id, body.ttl_s)


@router.post("/begin", response_model=Begun)
def begin(body: BeginIn, svc: EnrolmentDep) -> dict[str, Any]:
    """Check a token without using it; answers the assigned device id."""
    return svc.begin(body.token)


@router.post("/enrol", response_model=Enrolled, status_code=201)
def enrol(body: EnrolIn, svc: EnrolmentDep, rules: CamRulesDep) -> dict[str, Any]:
    """Use the token: sign the CSR, register the board, return its certificate, broker and
    the models the centre serves (the board downloads its detector's with its new key)."""
    reg = Registration(**body.model_dump(exclude={"token", "csr"}))
    answer = svc.enrol(body.token, body.csr, reg)
    refs = rules.models.refs().values() if rules.models else ()
    return {**answer, "models": [msgspec.to_builtins(r) for r in refs]}


@router.get(
    "/models/{name}",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def model_file(
    svc: EnrolmentDep,
    rules: CamRulesDep,
    name: Annotated[str, Path(max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")],
    device: Annotated[str, Header(alias="X-CW-Device", max_length=64)],
    time_s: Annotated[str, Header(alias="X-CW-Time", max_length=20)],
    cert: Annotated[str, Header(alias="X-CW-Cert", max_length=8192)],
    proof: Annotated[str, Header(alias="X-CW-Proof", max_length=512)],
) -> FileResponse:
    """A converted, pinned model for an enrolled board (request signed with its key)."""
    svc.authenticate_board(device, cert, time_s, name, proof)
    path = rules.models.file(name) if rules.models else None
    if path is None:
        raise ModelNotServed("this centre serves no models")
    return FileResponse(path, media_type="application/octet-stream", filename=name)


@router.post("/confirm", response_model=Confirmed)
def confirm(body: ConfirmIn, svc: EnrolmentDep) -> dict[str, Any]:
    """Whether the centre has received the board's first authenticated state message."""
    return svc.confirm(body.confirm_token)


@router.post("/devices/{device_id}/rotate", response_model=Rotated)
def rotate(device_id: str, body: RotateIn, svc: LifecycleDep) -> dict[str, Any]:
    """New certificate for the board's new key (proof: signature with its current key)."""
    return svc.rotate(device_id, body.certificate, body.csr, body.proof)


@router.get("/devices", response_model=list[EnrolmentItem])
def list_devices(
    p: Annotated[Principal, Depends(require(Perm.DEVICES_READ))], svc: EnrolmentDep
) -> list[dict[str, Any]]:
    """Every enrolled or revoked board."""
    return svc.list()


@router.get("/devices/{device_id}", response_model=EnrolledDevice)
def status(
    device_id: str,
    p: Annotated[Principal, Depends(require(Perm.DEVICES_READ))],
    svc: EnrolmentDep,
) -> dict[str, Any]:
    """A board's enrolment, certificates, expiry and first sighting."""
    return svc.status(device_id)


@router.post("/devices/{device_id}/revoke", response_model=Revoked)
def revoke(
    device_id: str,
    body: RevokeIn,
    p: Annotated[Principal, Depends(require(Perm.DEVICES_WRITE))],
    svc: LifecycleDep,
) -> dict[str, Any]:
    """Revoke the board: CRL, broker reload, live session dropped; timings returned."""
    return svc.revoke(device_id, p, body.reason)


@router.get("/crl", response_class=PlainTextResponse)
def crl(svc: EnrolmentDep) -> str:
    """The current CRL (PEM); public, as CRLs are."""
    return svc.config.crl_file.read_text()
