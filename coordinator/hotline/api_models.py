"""Request and response models of the hotline's routes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ..http.answers import Answer


class CallIn(BaseModel):
    """A call taken on the line."""

    model_config = ConfigDict(extra="forbid")
    category: str = Field(max_length=40)
    summary: str = Field(min_length=1, max_length=4000)
    caller_number: str | None = Field(None, max_length=30)
    caller_name: str | None = Field(None, max_length=100)
    person_id: int | None = Field(None, ge=1, description="the population record it concerns")
    request_id: int | None = Field(None, ge=1, description="the service request it opened")


class CallCallbackIn(BaseModel):
    """A call back promised to the caller."""

    model_config = ConfigDict(extra="forbid")
    due_at: float | None = Field(None, description="UNIX seconds; default the category's SLA")


class CallOutcomeIn(BaseModel):
    """What a call back or the matter came to."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4000)


class CallScoreIn(BaseModel):
    """The caller's satisfaction, asked in the follow-up call."""

    model_config = ConfigDict(extra="forbid")
    score: int = Field(ge=1, le=5)


class CallerRevealIn(BaseModel):
    """Why the caller's full number is needed."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=3, max_length=500)


class CallCallback(Answer):
    """A promised call back."""

    id: int
    due_at: float
    created_at: float
    created_by: str
    done_at: float | None
    done_by: str | None
    outcome: str | None


class HotlineCall(Answer):
    """A call as lists show it (the number masked)."""

    id: int
    received_at: float
    caller_masked: str | None
    caller_name: str | None
    category: str
    summary: str
    person_id: int | None
    request_id: int | None
    agent: str
    status: str
    due_at: float
    resolved_at: float | None
    resolution: str | None
    satisfaction: int | None
    followup_due_at: float | None
    overdue: bool
    followup_due: bool


class HotlineCallDetail(HotlineCall):
    """One call with its callbacks."""

    callbacks: list[CallCallback]


class DueCallback(Answer):
    """A callback not yet made."""

    id: int
    call_id: int
    due_at: float
    caller_masked: str | None
    caller_name: str | None
    category: str
    overdue: bool


class CallerNumber(Answer):
    """The caller's full number (the reveal is audited)."""

    caller_number: str


class HotlineCategory(Answer):
    """A kind of call and its SLA."""

    code: str
    sla_hours: float
    name: dict[str, str]


class HotlineCatalogueOut(Answer):
    """The migrants' service catalogue."""

    version: int
    categories: list[HotlineCategory]


class CategoryFigures(Answer):
    """A month's figures of one category."""

    category: str
    calls: int
    within_sla: int
    overdue: int
    resolved: int
    rated: int
    satisfaction: float | None


class MonthlyReport(Answer):
    """The hotline's month."""

    month: str
    calls: int
    within_sla: int
    overdue: int
    callbacks: int
    callbacks_on_time: int
    rated: int
    satisfaction: float | None
    by_category: list[CategoryFigures]
