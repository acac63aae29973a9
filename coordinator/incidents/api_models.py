"""Response models of the incident routes."""

from __future__ import annotations

from typing import Any

from ..http.answers import Answer


class PriorityReason(Answer):
    """One signal that moved an incident's priority, with its points."""

    code: str
    points: int
    value: float | str | None = None
    text: str


class Incident(Answer):
    """An incident: what happened where, its lifecycle times, the cameras that saw it."""

    id: str
    kind: str
    status: str
    priority: int
    lat: float | None
    lon: float | None
    zone: str | None
    confidence: float | None
    event_count: int
    devices: list[str]
    first_ts: float | None
    last_ts: float | None
    created_at: float
    updated_at: float | None
    dismiss_reason: str | None
    merged_into: str | None
    notes: int | None
    confirmed_at: float | None = None
    dismissed_at: float | None = None
    dispatched_at: float | None = None
    en_route_at: float | None = None
    on_scene_at: float | None = None
    resolved_at: float | None = None
    centre_id: str | None = None
    address: str | None = None
    handling: str = "new"
    assignee: str | None = None
    handling_at: float | None = None
    priority_reasons: list[PriorityReason] | None = None
    group_id: str | None = None
    disposition: str | None = None
    narrative: str | None = None
    source: str = "camera"


class IncidentDetail(Incident):
    """An incident with its events and its log."""

    events: list[dict[str, Any]]
    history: list[dict[str, Any]]


class DispositionCode(Answer):
    """A code of the disposition catalogue (how an incident ended)."""

    code: str
    operator: bool
    label: dict[str, str]


class DispositionCount(Answer):
    """How many resolved incidents ended with one disposition."""

    code: str
    count: int
    share: float


class FalseAlarmRate(Answer):
    """How often a camera's rule raised incidents that operators dismissed."""

    device_id: str
    rule: str
    total: int
    dismissed: int
    rate: float


class Event(Answer):
    """One stored camera event: what happened where (never who), and its incident."""

    id: str
    dev: str
    seq: int | None
    ts: int | float
    t: float | None
    recv: float | None
    kind: str
    phase: str | None
    label: str | None
    conf: float | None
    track: int | None
    box: str | None
    zone: str | None
    count: int | None
    direction: str | None
    dwell: float | None
    skewed: int | None
    incident_id: str | None
    merged_from: str | None


class ConfigProposal(Answer):
    """A proposed detection threshold for a camera's rule, from its false-alarm rate."""

    id: int
    device_id: str
    rule: str
    label: str | None
    current: float | None
    proposed: float | None
    dismissed: int | None
    total: int | None
    rate: float | None
    status: str
    created_at: float | None
    decided_at: float | None
    decided_by: str | None


class IncidentGroup(Answer):
    """Related alarms shown as one row: how many, which kinds, over what span, the newest."""

    id: str
    kind: str
    kinds: list[str]
    zone: str | None
    lat: float | None
    lon: float | None
    first_ts: float | None
    last_ts: float | None
    count: int
    newest_id: str | None
    priority: int | None
    created_at: float
    updated_at: float | None
    closed_at: float | None
    closed_by: str | None
    open: int | None = None


class IncidentGroupDetail(IncidentGroup):
    """A group with its member incidents."""

    members: list[Incident]


class QueueRow(Answer):
    """One row of the alarm queue: a single incident or a group of related alarms."""

    type: str
    id: str
    priority: int
    since: float | None
    incident: Incident | None
    group: IncidentGroup | None
    matching: int


class AlarmQueue(Answer):
    """The alarm queue in queue order, with how many incidents it covers."""

    rows: list[QueueRow]
    total: int
    grouped: int
    truncated: bool


class GroupSkip(Answer):
    """A member a group action left alone, and why."""

    id: str
    reason: str


class GroupActionResult(Answer):
    """What a group action did: the group after it, how many members it moved, who not."""

    group: IncidentGroup | None
    acted: int
    skipped: list[GroupSkip]


class Assignee(Answer):
    """Someone an alarm may be assigned to."""

    username: str
    display_name: str
