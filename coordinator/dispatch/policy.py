"""Dispatch settings and the auto-dispatch policy (pydantic, extra=forbid, each field described)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ..geo.road_graph import MODES
from .ranking import RankPolicy

KINDS = ("presence", "intrusion", "loitering", "crowd", "line_crossing")


class DispatchSettings(BaseModel):
    """Timing and ranking knobs of the dispatch service."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ack_timeout_s: float = Field(
        default=30.0, gt=0, le=600, description="No ack within this re-offers the next unit"
    )
    stale_after_s: float = Field(
        default=120.0, gt=0, description="A position older than this is stale"
    )
    stale_penalty_s: float = Field(
        default=60.0, ge=0, description="Flat ETA penalty of a stale position"
    )
    tie_s: float = Field(default=15.0, ge=0, description="Own-zone units win ties within this (s)")
    coverage_margin_s: float = Field(
        default=30.0,
        ge=0,
        description="Coverage guard: accept this much slower to keep a zone covered",
    )
    search_horizon_s: float = Field(
        default=1800.0, gt=0, description="Road search stops here; farther units get an estimate"
    )
    top_k: int = Field(default=5, ge=1, le=50, description="Recommendations returned by default")

    def rank_policy(self) -> RankPolicy:
        """The ranking core's view of these settings."""
        return RankPolicy(
            stale_after_s=self.stale_after_s,
            stale_penalty_s=self.stale_penalty_s,
            tie_s=self.tie_s,
            coverage_margin_s=self.coverage_margin_s,
        )


class AutoRule(BaseModel):
    """Dispatch automatically incidents of ``kind`` at or above ``min_confidence``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str = Field(
        description="Incident kind (event kinds of the protocol)",
        pattern="^(" + "|".join(KINDS) + ")$",
    )
    min_confidence: float = Field(
        default=0.8, ge=0, le=1, description="Lowest confidence dispatched"
    )
    max_priority: int = Field(
        default=5, ge=1, le=5, description="Only priorities 1..this (1 highest)"
    )


class AutoPolicy(BaseModel):
    """The auto-dispatch policy; empty rules = every dispatch is a dispatcher's decision."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(default=False, description="Master switch")
    rules: list[AutoRule] = Field(
        default_factory=list, max_length=32, description="First matching rule dispatches"
    )

    def matches(self, incident: dict[str, object]) -> AutoRule | None:
        """The first rule this incident satisfies, or None."""
        if not self.enabled:
            return None
        conf = incident.get("confidence")
        pri = incident.get("priority")
        for rule in self.rules:
            if (
                incident.get("kind") == rule.kind
                and isinstance(conf, int | float)
                and conf >= rule.min_confidence
                and (not isinstance(pri, int) or pri <= rule.max_priority)
            ):
                return rule
        return None


UNIT_MODES = MODES
