"""Response models of the dispatch routes the dispatchers' screens read."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..http.answers import Answer


class Unit(Answer):
    """A patrol unit with its status and the age of its last position."""

    id: str
    call_sign: str
    mode: str
    home_zone: str | None
    shift: str | None
    status: str
    lat: float | None
    lon: float | None
    pos_ms: int | None
    status_ms: int | None
    created_ms: int | None
    position_age_s: float | None
    position_stale: bool
    centre_id: str | None = None


class Candidate(Answer):
    """A unit ranked for an incident, with its road ETA and the reasons for its place."""

    rank: int
    unit: str
    call_sign: str
    mode: str
    home_zone: str | None
    eta_s: float
    score_s: float
    distance_m: float | None
    method: str
    position_age_s: float | None
    stale: bool
    reasons: list[str]


class Skipped(Answer):
    """A unit left out of the ranking, and why."""

    unit: str
    reason: str


class Recommendation(Answer):
    """Units ranked for an incident (or a location)."""

    incident: str | None
    zone: str | None
    lat: float
    lon: float
    candidates: list[Candidate]
    skipped: list[Skipped]
    road_network: bool


class Order(Answer):
    """A dispatch order sent to a unit."""

    id: str
    incident_id: str
    unit_id: str
    status: str
    attempt: int
    decided_by: str | None
    rank: int | None
    eta_s: float | None
    distance_m: float | None
    zone: str | None
    shift: str | None
    kind: str | None
    priority: int | None
    detected_ms: int | None
    sent_ms: int


class Durations(Answer):
    """Percentiles of one dispatch interval, in seconds."""

    n: int
    p50_s: float | None
    p90_s: float | None
    within_standard: float | None = None


class KpiGroup(Answer):
    """Dispatch KPIs of one group (zone, shift or both)."""

    zone: str | None = None
    shift: str | None = None
    incidents: int
    waiting: int = Field(
        0, description="Incidents needing a unit that never had an order (counted up to now)"
    )
    detection_to_dispatch: Durations
    dispatch_to_ack: Durations
    dispatch_to_on_scene: Durations


class OrderRecord(Order):
    """An order with its lifecycle times."""

    ack_ms: int | None = None
    en_route_ms: int | None = None
    on_scene_ms: int | None = None
    cleared_ms: int | None = None
    ended_reason: str | None = None


class DispatchEvent(Answer):
    """One step of an order's life (offered, acknowledged, en route …)."""

    id: int
    order_id: str
    incident_id: str
    unit_id: str | None
    ts_ms: int
    kind: str
    status: str | None
    outcome: str | None
    detail: str | None


class IncidentDispatch(Answer):
    """Every order for an incident and every step of them."""

    orders: list[OrderRecord]
    events: list[DispatchEvent]


class LinkCounters(Answer):
    """Messages from patrol units, by outcome."""

    positions: int
    acks: int
    rejected: int
    duplicate: int
    late: int


class LinkStatus(Answer):
    """The dispatch link to the units: counters, recent refusals, broker connection."""

    counters: LinkCounters
    rejected: list[dict[str, Any]]
    mqtt_link: bool


class PendingReasonArgs(Answer):
    """What a waiting reason rests on (each present only where the reason has it)."""

    case: str | None = Field(default=None, description="none_defined | all_off_duty")
    modes: list[str] | None = Field(default=None, description="The modes the incident needs")
    busy: int | None = Field(default=None, description="On-duty units, all busy")
    free: int | None = Field(default=None, description="Available units, none with a position")
    event: str | None = Field(
        default=None, description="no_unit | declined | timed_out | cancelled"
    )
    unit: str | None = Field(default=None, description="The unit whose order ended")
    detail: str | None = Field(default=None, description="What the unit or the re-offer said")


class PendingItem(Answer):
    """An incident that needs a unit and has none, with the reason it waits."""

    incident_id: str
    kind: str | None
    status: str | None
    priority: int = Field(description="1 is the most urgent")
    zone: str | None
    centre_id: str | None = Field(None, description="The monitoring centre the incident belongs to")
    lat: float | None
    lon: float | None
    detected_ms: int
    waiting_s: float = Field(description="Seconds since detection, up to now")
    reason_code: str = Field(
        description="no_unit_on_duty | no_free_unit | no_mode | no_position | order_ended | "
        "auto_failed | awaiting_dispatcher"
    )
    reason: str = Field(description="The reason as an English sentence (logs, the CLI)")
    reason_args: PendingReasonArgs = Field(
        default_factory=lambda: PendingReasonArgs(),
        description="The facts the reason rests on, for a screen to word it in its language",
    )


class PendingQueue(Answer):
    """The pending-dispatch queue: most urgent first, then the longest wait."""

    now_ms: int
    total: int
    awaiting_verification: int = Field(
        description="New incidents still waiting for an operator's confirmation (not counted)"
    )
    items: list[PendingItem]


class Preemption(Candidate):
    """A committed unit that could be diverted, and what the diversion costs."""

    leaves_incident: str
    leaves_priority: int
    leaves_order_status: str
    replacement_eta_s: float | None = Field(
        description="ETA of the best free unit for the incident left behind (None: it waits)"
    )


class Preemptions(Answer):
    """Pre-emption proposals for one incident."""

    incident: str
    proposals: list[Preemption]


class MoveUp(Answer):
    """A zone without an available unit, and the unit proposed to cover it."""

    zone: str
    available: int
    unit: str | None
    from_zone: str | None
    distance_m: float | None = None


class Coverage(Answer):
    """Patrol zones left without an available unit, with move-up proposals."""

    zones: int
    uncovered: list[MoveUp]


class OrderStep(Answer):
    """One step of an order as its unit sees it."""

    ts_ms: int
    status: str | None


class UnitOrder(Answer):
    """An active order of the caller's unit, with where to go."""

    id: str
    incident_id: str
    status: str
    kind: str | None
    priority: int | None
    lat: float | None
    lon: float | None
    zone: str | None
    address: str | None = None
    eta_s: float | None
    distance_m: float | None
    sent_ms: int
    history: list[OrderStep]


class UnitSelf(Answer):
    """The caller's own unit and its active orders."""

    unit: Unit
    orders: list[UnitOrder]
