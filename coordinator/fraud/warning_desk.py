"""The warning life cycle: drafted → approved (by a second person) → published → updated /
cancelled. Every state change is audited in its own transaction, and every publish, update
or cancel republishes the full retained board of active warnings on MQTT.

Four eyes throughout: a changed text of a *published* warning is held as a pending revision
(the public board keeps the approved text) until a second investigator approves it; only
then does it go out as a CAP Update. Cancelling stays one person's call: withdrawing a
wrong warning must never wait.
"""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from protocol import WarningBoard, encode

from ..errors import Conflict, Forbidden, Invalid, NotFound
from . import cap
from . import companies as co

if TYPE_CHECKING:
    from protocol import Topics

    from ..identity.audit import AuditService
    from ..identity.auth import Principal
    from ..platform.bus import Publisher
    from ..platform.db import Database
    from .assess import Assessment

Severity = Literal["Extreme", "Severe", "Moderate", "Minor"]


class WarningIn(BaseModel):
    """A warning draft (or an update of one)."""

    model_config = ConfigDict(extra="forbid")

    company_id: int
    case_id: int | None = None
    headline: str = Field(min_length=5, max_length=160)
    description: str = Field(min_length=10, max_length=4000)
    instruction: str | None = Field(None, max_length=2000)
    severity: Severity = "Severe"


class WarningEdit(BaseModel):
    """Changes to a warning's text."""

    model_config = ConfigDict(extra="forbid")

    headline: str | None = Field(None, min_length=5, max_length=160)
    description: str | None = Field(None, min_length=10, max_length=4000)
    instruction: str | None = Field(None, max_length=2000)
    severity: Severity | None = None


class WarningDesk:
    """Drafts, four-eyes approval, publication and the retained board of warnings."""

    def __init__(
        self,
        db: Database,
        audit: AuditService,
        assessment: Assessment,
        publisher: Publisher | None,
        topics: Topics,
    ) -> None:
        self.db = db
        self.audit = audit
        self.assessment = assessment  # re-scores a warned cluster; names its aliases
        self.publisher = publisher
        self.topics = topics

    # warnings --------------------------------------------------------------------------
    def warning(self, wid: int) -> dict[str, Any]:
        """A warning row (NotFound if unknown)."""
        rows = self.db.query("SELECT * FROM fraud_warnings WHERE id = ?", [wid])
        if not rows:
            raise NotFound(f"unknown warning {wid}")
        return rows[0]

    def warnings(self, state: str | None = None) -> list[dict]:
        """Warnings, optionally in one state."""
        if state:
            return self.db.query(
                "SELECT * FROM fraud_warnings WHERE state = ? ORDER BY id", [state]
            )
        return self.db.query("SELECT * FROM fraud_warnings ORDER BY id")

    def draft_warning(self, actor: Principal, w: WarningIn) -> int:
        """Draft a warning on a company."""

        def tx(db: Any) -> int:
            co.require_company(db, w.company_id)
            now = time.time()
            wid = int(
                db["fraud_warnings"]
                .insert(
                    {
                        **w.model_dump(),
                        "state": "draft",
                        "drafted_by": actor.username,
                        "created_ts": now,
                        "updated_ts": now,
                    }
                )
                .last_pk
            )
            self.audit.append(
                db,
                self.audit.entry(
                    actor,
                    "fraud.warning.draft",
                    "warning",
                    wid,
                    detail={"company_id": w.company_id},
                ),
            )
            return wid

        return self.db.write(tx)

    def _transition(
        self,
        actor: Principal,
        wid: int,
        action: str,
        allowed: tuple[str, ...],
        changes: dict[str, Any],
    ) -> dict[str, Any]:
        def tx(db: Any) -> dict[str, Any]:
            rows = list(db.query("SELECT * FROM fraud_warnings WHERE id = ?", [wid]))
            if not rows:
                raise NotFound(f"unknown warning {wid}")
            w = rows[0]
            if w["state"] not in allowed:
                hint = (
                    " (a second investigator must approve it first)" if action == "publish" else ""
                )
                raise Conflict(f"cannot {action} warning {wid}: it is {w['state']}{hint}")
            if action == "approve" and w["drafted_by"] == actor.username:
                raise Forbidden("a warning must be approved by a second person, not its author")
            if action == "approve_update" and w["pending_by"] == actor.username:
                raise Forbidden("a change must be approved by a second person, not its author")
            if action == "approve_update" and w["pending"] is None:
                raise Conflict(f"warning {wid} has no change waiting for approval")
            sets = {**changes, "updated_ts": time.time()}
            if action == "approve_update":
                sets.update(json.loads(w["pending"]))
                sets.update(msg_type="Update", pending=None, pending_by=None, pending_ts=None)
            if action in ("update", "approve_update"):
                sets["version"] = w["version"] + 1
            db["fraud_warnings"].update(wid, sets)
            self.audit.append(
                db,
                self.audit.entry(
                    actor,
                    f"fraud.warning.{action}",
                    "warning",
                    wid,
                    None,
                    {
                        "from": w["state"],
                        "to": sets.get("state", w["state"]),
                        "fields": sorted(
                            json.loads(w["pending"] or "{}")
                            if action == "approve_update"
                            else changes
                        ),
                    },
                ),
            )
            return {**w, **sets}

        out = self.db.write(tx)
        if action in ("publish", "approve_update", "cancel"):
            self.assessment.evaluate([out["company_id"]])
            self._publish_board()
        return out

    def approve_warning(self, actor: Principal, wid: int) -> dict:
        """Second-person approval of a draft, or of a published warning's pending change
        (which then goes out as a CAP Update)."""
        if self.warning(wid)["state"] == "published":
            return self._transition(
                actor, wid, "approve_update", ("published",), {"approved_by": actor.username}
            )
        return self._transition(
            actor, wid, "approve", ("draft",), {"state": "approved", "approved_by": actor.username}
        )

    def publish_warning(self, actor: Principal, wid: int) -> dict:
        """Publish an approved warning (refused without approval)."""
        return self._transition(
            actor,
            wid,
            "publish",
            ("approved",),
            {"state": "published", "published_ts": time.time()},
        )

    def update_warning(self, actor: Principal, wid: int, e: WarningEdit) -> dict:
        """Change a warning's text. A draft changes in place (an approved one goes back to
        draft); a published one gets a pending revision that a second investigator must
        approve before it is re-sent as a CAP Update."""
        changes = {k: v for k, v in e.model_dump().items() if v is not None}
        if not changes:
            raise Invalid("nothing to change")
        w = self.warning(wid)
        if w["state"] == "published":
            pending = {**json.loads(w["pending"] or "{}"), **changes}
            return self._transition(
                actor, wid, "propose_update", ("published",),
                {"pending": json.dumps(pending, ensure_ascii=False),
                 "pending_by": actor.username, "pending_ts": time.time()},
            )  # fmt: skip
        if w["state"] == "approved":
            changes["state"] = "draft"  # changed text needs a fresh approval
            changes["approved_by"] = None
        return self._transition(actor, wid, "update", ("draft", "approved"), changes)

    def cancel_warning(self, actor: Principal, wid: int) -> dict:
        """Withdraw a warning (a published one is sent as a CAP Cancel)."""
        return self._transition(
            actor,
            wid,
            "cancel",
            ("draft", "approved", "published"),
            {
                "state": "cancelled",
                "cancelled_ts": time.time(),
                "pending": None,
                "pending_by": None,
                "pending_ts": None,
            },  # fmt: skip
        )

    def cap_alert(self, wid: int) -> Any:
        """The CAP alert of a published or cancelled warning."""
        w = self.warning(wid)
        if w["state"] not in ("published", "cancelled") or w["published_ts"] is None:
            raise NotFound(f"warning {wid} is not published")
        cl = self.db.query(
            "SELECT cluster_id FROM fraud_companies WHERE id = ?", [w["company_id"]]
        )[0]["cluster_id"]
        names = [
            m["display_name"]
            for m in self.assessment.cluster_members(cl)
            if m["id"] != w["company_id"]
        ]
        own = self.db.query(
            "SELECT display_name FROM fraud_companies WHERE id = ?", [w["company_id"]]
        )[0]["display_name"]
        return cap.to_cap(w, [own, *names])

    def board(self) -> WarningBoard:
        """The board of active (published) warnings."""
        alerts = [self.cap_alert(w["id"]) for w in self.warnings("published")][:2000]
        return WarningBoard(ts=int(time.time() * 1000), alerts=alerts)

    def _publish_board(self) -> None:
        if self.publisher is None:
            return
        try:
            self.publisher.publish(self.topics.warnings(), encode(self.board()), qos=1, retain=True)
        except RuntimeError as exc:
            # The link is not up (API-only run, or broker down before the first connect):
            # the warning is committed; the board is republished on the next change or by
            # republish_board() when the link connects.
            logging.getLogger(__name__).warning("warnings board not published: %s", exc)

    def republish_board(self) -> None:
        """Publish the retained board of active warnings (e.g. after the link connects)."""
        self._publish_board()
