"""Request and response models of the camera-rules API (the rules mirror protocol.Config)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Point = tuple[Unit, Unit]
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Label = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,23}$")]
HHMM = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-4]):[0-5][0-9]$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Window(_Strict):
    """A weekly window: days 0=Monday..6=Sunday, local ``HH:MM``; end < start runs overnight."""

    days: list[Annotated[int, Field(ge=0, le=6)]] = Field(min_length=1, max_length=7)
    start: HHMM
    end: HHMM


class Zone(_Strict):
    """A rule zone (polygon) or counting line (two or more points), normalised 0..1."""

    name: Name
    rule: Literal["intrusion", "loitering", "crowd", "line_crossing"]
    points: list[Point] = Field(min_length=2, max_length=64)
    labels: list[Label] = Field(
        default_factory=lambda: ["person"], max_length=16, description="classes it watches"
    )
    schedule: Name | None = Field(None, description="name in schedules; none = always")
    dwell_s: float | None = Field(None, ge=1, le=86400, description="loitering time")
    min_count: int | None = Field(None, ge=2, le=10000, description="crowd size")
    direction: Literal["in", "out", "both"] | None = Field(None, description="line direction")
    min_score: Unit | None = Field(None, description="score threshold for this zone")


class Mask(_Strict):
    """A named polygon (at least 3 points), normalised 0..1."""

    name: Name
    points: list[Point] = Field(min_length=3, max_length=64)


class Masks(_Strict):
    """Privacy (blanked, never detected), motion (ignored by the gate), object (dropped)."""

    privacy: list[Mask] = Field(default_factory=list, max_length=16)
    motion: list[Mask] = Field(default_factory=list, max_length=16)
    object: list[Mask] = Field(default_factory=list, max_length=16)


class Rules(_Strict):
    """A camera's rules: the protocol config without ``v`` and ``rev``."""

    min_score: Unit = Field(0.5, description="threshold of a class missing from thresholds")
    thresholds: dict[Label, Unit] = Field(default_factory=dict, description="per class")
    zones: list[Zone] = Field(default_factory=list, max_length=32)
    schedules: dict[Name, list[Window]] = Field(default_factory=dict, max_length=32)
    masks: Masks = Field(default_factory=Masks)
    health_interval_s: int = Field(30, ge=5, le=3600)


class RulesChange(_Strict):
    """A new revision: the complete rules, why, and the explicit confirmation when no rule
    would raise an incident any more."""

    rules: Rules
    reason: str = Field(min_length=3, max_length=500)
    confirm_no_incident_rules: bool = False


class Rollback(_Strict):
    """Restore an older revision's content as a new revision."""

    to_rev: int = Field(ge=1)
    reason: str = Field(min_length=3, max_length=500)
    confirm_no_incident_rules: bool = False


class Revision(BaseModel):
    """One stored revision."""

    device_id: str
    rev: int
    rules: Rules
    author: str
    reason: str
    rolled_back_to: int | None = None
    created_at: float


class RulesStatus(BaseModel):
    """Desired vs applied revision of one camera."""

    device_id: str
    desired_rev: int | None
    applied_rev: int | None = Field(description="what the board last reported on state.cfg")
    drift: bool = Field(description="the board has not (yet) applied the desired revision")
    error: str | None = Field(description="why the board rejected its last config")
    config_level: int = Field(description="config schema level the firmware applies")
    masks_unsupported: bool = Field(
        description="the rules have masks, but the firmware cannot apply them (level 1)"
    )
    published_rev: int | None
    published_level: int | None
    reported_at: float | None
    detector: str | None = Field(None, description="detector backend the board reports")
    model_named: str | None = Field(
        None, description="SHA-256 of the model the centre's config names (level-3 boards)"
    )
    model_sha256: str | None = Field(None, description="SHA-256 of the model the board runs")
    model_error: str | None = Field(
        None, description="why the board did not take the model the centre named"
    )
    model_drift: bool = Field(
        False, description="the board does not (yet) run the model the centre names"
    )


class CameraRules(BaseModel):
    """A camera's current rules, its revisions (newest first) and its drift status."""

    current: Revision | None
    revisions: list[Revision]
    status: RulesStatus


ViewState = Literal["pending", "ok", "error", "timeout"]


class ViewRequested(BaseModel):
    """A request for a camera's current view (poll it, then fetch the image)."""

    req: str = Field(description="request id (poll /api/cameras/{id}/view/{req})")
    device_id: str
    status: ViewState


class ViewStatus(ViewRequested):
    """A view request's state, without the image."""

    requested_by: str | None
    purpose: str | None = Field(description="the purpose stated with the request (audited)")
    created_at: float
    answered_at: float | None
    width: int | None
    height: int | None
    bytes: int | None
    sha256: str | None = Field(description="SHA-256 of the JPEG as the board sent it")
    error: str | None = Field(description="the board's reason when it sent no frame")
