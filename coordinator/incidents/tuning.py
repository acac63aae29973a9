"""False-alarm rates per camera and rule, and threshold-change proposals.

Every dismissal (a false alarm, with a reason) counts against the cameras whose events
made the incident. When a camera's rule has at least ``false_alarm_min_dismissals``
dismissals and its false-alarm share reaches ``false_alarm_rate``, a proposal to raise its
score threshold is opened. Nothing changes on a board until an operator approves: the
approval appends a camera-rules revision that changes the threshold and keeps every zone,
line, mask and schedule, and publishes it as the board's retained config.
"""

from __future__ import annotations

import json
import time
from typing import Any

import sqlite_utils

from protocol import Config, Topics, encode

from ..camrules.defaults import profile_defaults
from ..camrules.service import CamRulesService
from ..errors import Conflict, NotFound
from ..identity.audit import AuditService
from ..platform.bus import Publisher
from ..platform.db import Database

STEP = 0.1  # how much one approved proposal raises a threshold
CEILING = 0.95
LOOKBACK_S = 7 * 86400  # the false-alarm rate is over the last week


def false_alarm_rate(dismissed: int, total: int) -> float:
    """Share of a camera rule's incidents dismissed as false alarms."""
    return dismissed / total if total else 0.0


def should_propose(dismissed: int, total: int, min_dismissals: int, rate: float) -> bool:
    """True when a camera rule is noisy enough to propose a higher threshold."""
    return dismissed >= min_dismissals and false_alarm_rate(dismissed, total) >= rate


class ProposalNotFound(NotFound, LookupError):
    """No threshold proposal with that id."""


class ProposalDecided(Conflict, ValueError):
    """The proposal was already approved or rejected."""


class TuningService:
    """Computes false-alarm rates and turns approved proposals into retained configs."""

    def __init__(
        self,
        db: Database,
        topics: Topics,
        *,
        min_dismissals: int = 5,
        rate: float = 0.5,
        publisher: Publisher | None = None,
    ) -> None:
        self.db = db
        self.topics = topics
        self.min_dismissals = min_dismissals
        self.rate = rate
        self.publisher = publisher
        #: Camera rules (set by the composition root): approvals become revisions there.
        self.rules: CamRulesService | None = None

    def rates(self, device_id: str | None = None) -> list[dict[str, Any]]:
        """False-alarm rate per camera and rule over the last week."""
        return [
            dict(zip(("device_id", "rule", "total", "dismissed", "rate"), r, strict=True))
            for r in _rates(self.db.read().conn, time.time() - LOOKBACK_S, device_id)
        ]

    def on_dismissed(self, db: sqlite_utils.Database, incident_id: str, now: float) -> None:
        """Inside the dismissal's transaction: open proposals for noisy camera rules."""
        conn = db.conn
        pairs = conn.execute(
            "select distinct dev, kind from events where incident_id = ?", [incident_id]
        ).fetchall()
        for dev, kind in pairs:
            for _d, _k, total, dismissed, rate in _rates(conn, now - LOOKBACK_S, dev, kind):
                if not should_propose(dismissed, total, self.min_dismissals, self.rate):
                    continue
                if conn.execute(
                    "select 1 from config_proposals where device_id = ? and rule = ? "
                    "and status = 'pending'",
                    [dev, kind],
                ).fetchone():
                    continue
                label = conn.execute(
                    "select label from events where dev = ? and kind = ? group by label "
                    "order by count(*) desc limit 1",
                    [dev, kind],
                ).fetchone()[0]
                current = _current_threshold(conn, dev, label)
                if current >= CEILING:
                    continue
                db.table("config_proposals").insert(
                    {
                        "device_id": dev,
                        "rule": kind,
                        "label": label,
                        "current": current,
                        "proposed": round(min(CEILING, current + STEP), 2),
                        "dismissed": dismissed,
                        "total": total,
                        "rate": round(rate, 3),
                        "status": "pending",
                        "created_at": now,
                    }
                )

    def proposals(self, status: str | None = "pending") -> list[dict[str, Any]]:
        """Threshold proposals (pending by default)."""
        if status is None:
            return self.db.query("select * from config_proposals order by id desc")
        return self.db.query(
            "select * from config_proposals where status = ? order by id desc", [status]
        )

    def decide(self, proposal_id: int, approve: bool, actor: str) -> dict[str, Any]:
        """Approve (push a retained config to the board) or reject a proposal."""
        if approve and self.rules is None:
            raise RuntimeError("no camera rules service: cannot change a camera's rules")

        def write(db: sqlite_utils.Database) -> dict[str, Any]:
            rows = list(db.query("select * from config_proposals where id = ?", [proposal_id]))
            if not rows:
                raise ProposalNotFound(f"no proposal {proposal_id}")
            p = rows[0]
            if p["status"] != "pending":
                raise ProposalDecided(f"proposal {proposal_id} is already {p['status']}")
            now = time.time()
            status = "approved" if approve else "rejected"
            db.table("config_proposals").update(
                proposal_id, {"status": status, "decided_at": now, "decided_by": actor}
            )
            AuditService.append(
                db,
                AuditService.entry(
                    actor, f"threshold_{status}", "device", p["device_id"], detail=p
                ),
            )
            if approve and self.rules is not None:
                rules = _raised(db.conn, p["device_id"], p["rule"], p["label"], p["proposed"])
                self.rules.append(
                    db,
                    p["device_id"],
                    rules,
                    actor,
                    f"false-alarm proposal {proposal_id}: {p['label']} threshold of "
                    f"{p['rule']} {p['current']} -> {p['proposed']} "
                    f"({p['dismissed']} of {p['total']} dismissed)",
                    # Only a threshold moves: an approval never takes a rule away.
                    confirm_no_incident_rules=True,
                )
            return {**p, "status": status, "decided_at": now, "decided_by": actor}

        row = self.db.write(write)
        if approve and self.rules is not None:
            # Retained: a board that is offline now gets it when it reconnects.
            self.rules.publish(row["device_id"])
        return row


def _rates(conn: Any, since: float, dev: str | None, kind: str | None = None) -> list[tuple]:
    where = ["i.created_at >= ?"]
    params: list[Any] = [since]
    if dev is not None:
        where.append("e.dev = ?")
        params.append(dev)
    if kind is not None:
        where.append("e.kind = ?")
        params.append(kind)
    rows = conn.execute(
        "select e.dev, e.kind, count(distinct i.id), "
        "count(distinct case when i.status = 'dismissed' then i.id end) "
        "from events e join incidents i on i.id = e.incident_id "
        f"where {' and '.join(where)} group by e.dev, e.kind",
        params,
    ).fetchall()
    return [(d, k, t, n, false_alarm_rate(n, t)) for d, k, t, n in rows]


def _latest_rules(conn: Any, dev: str) -> dict[str, Any]:
    """The camera's latest rules revision (its profile's defaults when it has none)."""
    row = conn.execute(
        "select rules from camera_rule_revisions where device_id = ? order by rev desc limit 1",
        [dev],
    ).fetchone()
    if row is not None:
        return dict(json.loads(row[0]))
    prof = conn.execute("select profile from devices where id = ?", [dev]).fetchone()
    return profile_defaults(prof[0] if prof else None)


def _current_threshold(conn: Any, dev: str, label: str) -> float:
    rules = _latest_rules(conn, dev)
    default = rules.get("min_score", Config(rev=0).min_score)
    return float(rules.get("thresholds", {}).get(label, default))


def _raised(conn: Any, dev: str, rule: str, label: str, value: float) -> dict[str, Any]:
    """The camera's latest rules with ``label``'s threshold (and its rule zones') raised.

    Everything else is kept as it is: every zone, line, mask and schedule.
    """
    rules = _latest_rules(conn, dev)
    zones = [{**z, "min_score": value} if z["rule"] == rule else z for z in rules.get("zones", [])]
    return {**rules, "thresholds": {**rules.get("thresholds", {}), label: value}, "zones": zones}


def config_json(cfg: Config) -> dict[str, Any]:
    """A config as plain JSON (for the API)."""
    return json.loads(encode(cfg))
