"""Explainable risk score per company and per alias cluster.

Pure: facts in, a score out with one line per reason, so an investigator (and a merchant
doing a check) sees *why* a company is rated as it is. Points are additive and capped per
factor; the level thresholds raise investigators' alerts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field


class RiskConfig(BaseModel):
    """Points per factor and level thresholds (defined once, here)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    per_overdue: float = Field(default=12.0, description="Points per overdue filing")
    overdue_cap: float = Field(default=30.0, description="Cap on overdue-count points")
    per_amount_decade: float = Field(
        default=5.0, description="Points per factor of ten of the overdue amount above ¥1,000"
    )
    amount_cap: float = Field(default=20.0, description="Cap on overdue-amount points")
    per_merchant: float = Field(
        default=8.0, description="Points per distinct merchant reporting overdue"
    )
    merchant_cap: float = Field(default=24.0, description="Cap on distinct-merchant points")
    recent_days: int = Field(default=30, description="An overdue this recent adds recent_points")
    recent_points: float = Field(default=10.0, description="Points for a recent overdue")
    young_days: int = Field(
        default=180, description="A company younger than this adds young_points"
    )
    young_points: float = Field(default=8.0, description="Points for a young company (fresh vests)")
    warning_points: float = Field(
        default=45.0, description="Points for an active warning in the cluster"
    )
    levels: dict[str, float] = Field(
        default_factory=lambda: {"critical": 70.0, "high": 45.0, "medium": 20.0},
        description="Minimum score of each level above 'low'",
    )
    alert_level: str = Field(
        default="high", description="Level from which investigators are alerted"
    )


@dataclass
class Facts:
    """What is known about one company (or a cluster: facts merged with :func:`merge`)."""

    overdue_count: int = 0
    overdue_amount_cny: float = 0.0
    overdue_merchants: frozenset[str] = frozenset()
    days_since_last_overdue: float | None = None
    age_days: float | None = None
    active_warnings: int = 0
    members: int = 1


@dataclass
class Risk:
    """A score, its level and the reasons that make it up."""

    score: float
    level: str
    reasons: list[dict[str, object]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """JSON-able form."""
        return {"score": round(self.score, 1), "level": self.level, "reasons": self.reasons}


def merge(facts: Iterable[Facts]) -> Facts:
    """Facts of a cluster: sums, union of merchants, most recent overdue, youngest member."""
    out = Facts(members=0)
    recents, ages = [], []
    merchants: set[str] = set()
    for f in facts:
        out.overdue_count += f.overdue_count
        out.overdue_amount_cny += f.overdue_amount_cny
        merchants |= f.overdue_merchants
        out.active_warnings += f.active_warnings
        out.members += f.members
        if f.days_since_last_overdue is not None:
            recents.append(f.days_since_last_overdue)
        if f.age_days is not None:
            ages.append(f.age_days)
    out.overdue_merchants = frozenset(merchants)
    out.days_since_last_overdue = min(recents) if recents else None
    out.age_days = min(ages) if ages else None
    return out


def level_of(score: float, cfg: RiskConfig) -> str:
    """The level name for a score."""
    for name, floor in sorted(cfg.levels.items(), key=lambda kv: -kv[1]):
        if score >= floor:
            return name
    return "low"


def score(f: Facts, cfg: RiskConfig | None = None) -> Risk:
    """Score ``f`` with one reason per contributing factor."""
    cfg = cfg or RiskConfig()
    reasons: list[dict[str, object]] = []

    def add(factor: str, points: float, detail: str) -> None:
        if points > 0:
            reasons.append({"factor": factor, "points": round(points, 1), "detail": detail})

    add(
        "overdue_count",
        min(cfg.overdue_cap, cfg.per_overdue * f.overdue_count),
        f"{f.overdue_count} overdue filing(s)",
    )
    if f.overdue_amount_cny > 1000:
        pts = cfg.per_amount_decade * math.log10(f.overdue_amount_cny / 1000)
        add("overdue_amount", min(cfg.amount_cap, pts), f"¥{f.overdue_amount_cny:,.0f} overdue")
    n = len(f.overdue_merchants)
    add(
        "reporting_merchants",
        min(cfg.merchant_cap, cfg.per_merchant * n),
        f"{n} distinct merchant(s) report overdue payments",
    )
    if f.days_since_last_overdue is not None and f.days_since_last_overdue <= cfg.recent_days:
        add(
            "recency",
            cfg.recent_points,
            f"last overdue {f.days_since_last_overdue:.0f} day(s) ago",
        )
    if f.age_days is not None and f.age_days < cfg.young_days:
        add("company_age", cfg.young_points, f"registered {f.age_days:.0f} day(s) ago")
    if f.active_warnings:
        add(
            "linked_warnings",
            cfg.warning_points,
            f"{f.active_warnings} active warning(s) on this company or a linked alias",
        )
    total = sum(float(str(r["points"])) for r in reasons)
    return Risk(total, level_of(total, cfg), reasons)


def should_alert(risk: Risk, cfg: RiskConfig | None = None) -> bool:
    """True when the level reaches the alerting level."""
    cfg = cfg or RiskConfig()
    order = ["low", *sorted(cfg.levels, key=lambda k: cfg.levels[k])]
    return order.index(risk.level) >= order.index(cfg.alert_level)
