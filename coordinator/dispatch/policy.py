"""The auto-dispatch policy (pydantic, extra=forbid, each field described).

``DispatchSettings`` is part of the coordinator's settings (``Settings.dispatch``), so an
operator configures it in the settings file; it is re-exported here for dispatch's callers.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ..geo.road_graph import MODES
from ..settings import DispatchSettings as DispatchSettings  # defined with the settings
from .ranking import RankPolicy

KINDS = ("presence", "intrusion", "loitering", "crowd", "line_crossing")


def rank_policy(settings: DispatchSettings) -> RankPolicy:
    """The ranking core's view of the dispatch settings."""
    return RankPolicy(
        stale_after_s=settings.stale_after_s,
        stale_penalty_s=settings.stale_penalty_s,
        tie_s=settings.tie_s,
        coverage_margin_s=settings.coverage_margin_s,
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
