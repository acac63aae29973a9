"""Investigators' workflow: link review, alerts, tips, cases, and the warning life cycle.

The warnings' life cycle is in ``warning_desk.py``.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from ..errors import Conflict, Invalid, NotFound
from . import companies as co
from .cases import Priority, add_companies, attach_tip

if TYPE_CHECKING:
    from ..identity.audit import AuditService
    from ..identity.auth import Principal
    from ..platform.db import Database
    from .assess import Assessment
    from .warning_desk import WarningDesk


class CaseIn(BaseModel):
    """A case opened from an alert, a tip, or by hand."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=3, max_length=200)
    company_ids: list[int] = Field(default=[], max_length=100)
    alert_id: int | None = None
    tip_id: int | None = None
    description: str | None = Field(None, max_length=4000)
    priority: Priority = Priority.NORMAL
    assignee: str | None = Field(None, max_length=64)


class Workflow:
    """Link review, investigators' alerts, tips and cases."""

    def __init__(
        self, db: Database, audit: AuditService, assessment: Assessment, desk: WarningDesk
    ) -> None:
        self.db = db
        self.audit = audit
        self.assessment = assessment  # re-scores clusters after a link decision
        self.desk = desk  # alias names on the warnings board follow the clusters

    # links -----------------------------------------------------------------------------
    def review_queue(self, actor: Principal, purpose: str) -> list[dict]:
        """Links in the review band without a decision, with their evidence (audited)."""
        rows = self.db.query(
            "SELECT l.*, ca.display_name a_name, cb.display_name b_name FROM fraud_links l "
            "JOIN fraud_companies ca ON ca.id = l.a JOIN fraud_companies cb ON cb.id = l.b "
            "WHERE l.proposed = 'review' AND l.decision IS NULL ORDER BY l.score DESC LIMIT 500"
        )
        self.audit.record(
            actor,
            "fraud.links.review_read",
            "link",
            None,
            purpose,
            {"links": [r["id"] for r in rows]},
        )
        for r in rows:
            r["evidence"] = json.loads(r["evidence"])
        return rows

    def links_of(self, actor: Principal, cid: int, purpose: str) -> list[dict]:
        """Every link touching a company, with evidence and history (audited)."""
        rows = self.db.query(
            "SELECT * FROM fraud_links WHERE a = ? OR b = ? ORDER BY id", [cid, cid]
        )
        self.audit.record(actor, "fraud.links.read", "company", cid, purpose)
        for r in rows:
            r["evidence"] = json.loads(r["evidence"])
            r["active"] = r["decision"] == "confirmed" or (
                r["decision"] is None and r["proposed"] == "auto"
            )
            r["history"] = self.db.query(
                "SELECT action, before, after, actor, ts FROM fraud_link_history "
                "WHERE link_id = ? ORDER BY id",
                [r["id"]],
            )
        return rows

    def decide_link(
        self, actor: Principal, link_id: int, action: str, note: str | None = None
    ) -> dict[str, Any]:
        """Confirm, reject or undo (back to the machine's proposal) a link; reclusters."""
        if action not in ("confirm", "reject", "undo"):
            raise Invalid("action must be confirm, reject or undo")

        def tx(db: Any) -> dict[str, Any]:
            rows = list(db.query("SELECT * FROM fraud_links WHERE id = ?", [link_id]))
            if not rows:
                raise NotFound(f"unknown link {link_id}")
            link = rows[0]
            before = link["decision"]
            after = {"confirm": "confirmed", "reject": "rejected", "undo": None}[action]
            if action == "undo" and before is None:
                raise Conflict(f"link {link_id} has no decision to undo")
            if before == after:
                raise Conflict(f"link {link_id} is already {before}")
            db.execute(
                "UPDATE fraud_links SET decision = ?, decided_by = ?, decided_ts = ? WHERE id = ?",
                [after, actor.username, time.time(), link_id],
            )
            db["fraud_link_history"].insert(
                {
                    "link_id": link_id,
                    "action": action,
                    "before": before,
                    "after": after,
                    "actor": actor.username,
                    "ts": time.time(),
                }
            )
            self.audit.append(
                db,
                self.audit.entry(
                    actor,
                    f"fraud.link.{action}",
                    "link",
                    link_id,
                    None,
                    {
                        "a": link["a"],
                        "b": link["b"],
                        "before": before,
                        "after": after,
                        "note": note,
                    },
                ),
            )
            clusters = co.recluster(db, [link["a"], link["b"]])
            return {
                "id": link_id,
                "decision": after,
                "clusters": sorted(clusters),
                "a": link["a"],
                "b": link["b"],
            }

        out = self.db.write(tx)
        self.assessment.evaluate([out["a"], out["b"]])
        self.desk.republish_board()  # alias names on the board follow the clusters
        return out

    # alerts, tips, cases ---------------------------------------------------------------
    def alerts(self, status: str = "open") -> list[dict]:
        """Investigators' alert queue (cluster, level, reasons)."""
        rows = self.db.query(
            "SELECT * FROM fraud_alerts WHERE status = ? ORDER BY score DESC", [status]
        )
        for r in rows:
            r["reasons"] = json.loads(r["reasons"])
            r["companies"] = self.assessment.cluster_members(r["cluster_id"])
        return rows

    def add_tip(self, p: Principal, tip: Any) -> int:
        """Store a tip (suspected fraud report) with its attachments' metadata."""

        def tx(db: Any) -> int:
            if tip.company_id is not None:
                co.require_company(db, tip.company_id)
            return int(
                db["fraud_tips"]
                .insert(
                    {
                        "reporter": p.username,
                        "merchant_id": p.merchant_id,
                        "company_id": tip.company_id,
                        "identifiers": json.dumps(tip.identifiers, ensure_ascii=False),
                        "text": tip.text,
                        "attachments": json.dumps(tip.attachments),
                        "ts": time.time(),
                    }
                )
                .last_pk
            )

        return self.db.write(tx)

    def tips(self, actor: Principal, purpose: str) -> list[dict]:
        """Tip queue (reporters are personal data: audited)."""
        rows = self.db.query("SELECT * FROM fraud_tips WHERE status = 'new' ORDER BY id")
        self.audit.record(actor, "fraud.tips.read", "tip", None, purpose)
        for r in rows:
            r["identifiers"] = json.loads(r["identifiers"])
            r["attachments"] = json.loads(r["attachments"])
        return rows

    def open_case(self, actor: Principal, c: CaseIn) -> int:
        """Open a case; its alert leaves the alert queue, its tip moves into the case (where
        it stays readable) and the tip's company joins the case's companies."""
        if not c.company_ids and c.tip_id is None:
            raise Invalid("a case needs a company or a tip")

        def tx(db: Any) -> int:
            for cid in c.company_ids:
                co.require_company(db, cid)
            if c.alert_id is not None:
                if not db.execute(
                    "SELECT 1 FROM fraud_alerts WHERE id = ?", [c.alert_id]
                ).fetchone():
                    raise NotFound(f"unknown alert {c.alert_id}")
                db.execute("UPDATE fraud_alerts SET status = 'case' WHERE id = ?", [c.alert_id])
            now = time.time()
            cid = int(
                db["fraud_cases"]
                .insert(
                    {
                        "title": c.title,
                        "company_ids": "[]",
                        "alert_id": c.alert_id,
                        "tip_id": c.tip_id,
                        "opened_by": actor.username,
                        "ts": now,
                        "updated_ts": now,
                        "description": c.description,
                        "priority": c.priority.value,
                        "assignee": c.assignee or actor.username,
                    }
                )
                .last_pk
            )
            add_companies(db, cid, c.company_ids, actor.username)
            if c.tip_id is not None:
                attach_tip(db, cid, c.tip_id)
            self.audit.append(
                db,
                self.audit.entry(
                    actor, "fraud.case.open", "case", cid, None,
                    {"tip": c.tip_id, "alert": c.alert_id, "companies": c.company_ids},
                ),
            )  # fmt: skip
            return cid

        return self.db.write(tx)
