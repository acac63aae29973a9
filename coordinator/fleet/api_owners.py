"""Request and response models of the owner organisations' routes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..http.answers import Answer
from .agreements import Level, OrgKind


class OrgIn(BaseModel):
    """A new owner organisation."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200, description="the organisation's name")
    kind: OrgKind = Field(description="government, company, community, school, hospital, other")
    contact: str | None = Field(None, max_length=200, description="who to call, and how")
    area: str | None = Field(None, max_length=200, description="where its premises are")


class OrgPatch(BaseModel):
    """Changes to an owner organisation (only the fields sent)."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    kind: OrgKind | None = None
    contact: str | None = Field(None, max_length=200)
    area: str | None = Field(None, max_length=200)


class AgreementIn(BaseModel):
    """A sharing agreement's terms, as signed."""

    model_config = ConfigDict(extra="forbid")
    level: Level = Field(description="events only, snapshots on an incident, or live view too")
    hours_from: int | None = Field(None, ge=0, le=24, description="local hour it starts")
    hours_to: int | None = Field(None, ge=0, le=24, description="local hour it ends")
    retention_days: float | None = Field(
        None, gt=0, le=3650, description="days the centre keeps frames it took"
    )
    valid_from: float | None = Field(None, description="in force from (Unix seconds)")
    valid_to: float | None = Field(None, description="in force until (Unix seconds)")
    agreed_by: str = Field(
        min_length=2, max_length=200, description="who signed for the owner (name, post)"
    )
    note: str | None = Field(None, max_length=500, description="reference of the document")


class AgreementOut(Answer):
    """An agreement; ``source`` is ``recorded`` or ``default`` (the kind's default)."""

    source: Literal["recorded", "default"]
    level: Level
    hours_from: int | None = None
    hours_to: int | None = None
    retention_days: float | None = None
    valid_from: float | None = None
    valid_to: float | None = None
    agreed_by: str | None = None
    note: str | None = None
    updated_at: float | None = None
    updated_by: str | None = None


class CameraAgreement(AgreementOut):
    """A camera's own agreement, replacing its organisation's."""

    device_id: str


class Org(Answer):
    """An owner organisation with its camera count and agreement."""

    id: int
    name: str
    kind: OrgKind
    contact: str | None
    area: str | None
    cameras: int
    agreement: AgreementOut


class OrgDetail(Org):
    """An organisation with its cameras' own agreements and its accounts."""

    camera_agreements: list[CameraAgreement]
    accounts: list[str] = Field(default_factory=list)


class OwnerStats(Answer):
    """One organisation's cameras, their health, and the incidents they raised."""

    org_id: int
    name: str
    kind: OrgKind
    cameras: int
    online: int
    stale: int
    offline: int
    unknown: int
    revoked: int
    incidents_24h: int
    incidents_7d: int


class AccountIn(BaseModel):
    """An owner organisation's login."""

    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    password: str = Field(min_length=8, max_length=200)
    display_name: str | None = Field(None, max_length=200)


class AccountOut(Answer):
    """The owner account made."""

    id: int
    username: str
    org_id: int


class OwnCamera(Answer):
    """One of the owner's cameras, as its owner sees it: where it is and its health."""

    id: str
    zone: str | None
    lat: float
    lon: float
    health_status: str
    status_at: float | None
    last_health_at: float | None
    firmware: str | None
    health: dict[str, Any] | None


class OwnIncident(Answer):
    """An incident one of the owner's cameras raised: what and when, never who, no units."""

    id: str
    kind: str
    status: str
    created_at: float
    last_ts: float | None
    zone: str | None
    cameras: list[str] = Field(description="the owner's cameras that saw it")


class OwnOrg(Answer):
    """The owner's organisation, its agreement and its cameras' counts."""

    org: Org
    stats: OwnerStats
