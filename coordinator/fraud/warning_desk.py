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

from ..approvals.service import Kind
from ..errors import Conflict, Forbidden, Invalid, NotFound
from . import cap
from . import companies as co

if TYPE_CHECKING:
    from protocol import Topics

    from ..approvals.service import ApprovalsService
    from ..identity.audit import AuditService
    from ..identity.auth import Principal
    from ..platform.bus import Publisher
    from ..platform.db import Database
    from .assess import Assessment

#: The approval kind of a warning's text: a draft to publish, or a published one's change.
KIND_WARNING = "fraud.warning"
#: A request waits this long for a second investigator, then expires (the author asks again).
WARNING_APPROVAL_TTL_S = 3 * 24 * 3600.0

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
        approvals: ApprovalsService,
    ) -> None:
        self.db = db
        self.approvals = approvals  # the second investigator's approval goes through it
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

        wid: int = self.db.write(tx)
        self.request_approval(actor, wid)
        return wid

    # the second investigator, through the approvals service --------------------------
    def kinds(self) -> list[Kind]:
        """The approval kind the desk files (registered by the composition root)."""
        return [Kind(KIND_WARNING, "a fraud warning's text (publication or change)",
                     None, "fraud:approve", self._apply_approval,
                     on_close=self._close_approval, pending_ttl_s=WARNING_APPROVAL_TTL_S,
                     after=self._approved)]  # fmt: skip

    def pending_request(self, wid: int) -> dict[str, Any] | None:
        """The approval request waiting for a warning's text, if any."""
        rows = self.db.query(
            "SELECT * FROM approval_requests WHERE kind = ? AND subject_type = 'warning' "
            "AND subject_id = ? AND state = 'pending' ORDER BY id DESC LIMIT 1",
            [KIND_WARNING, str(wid)],
        )
        return rows[0] if rows else None

    def request_approval(self, actor: Principal, wid: int) -> dict[str, Any]:
        """Ask a second investigator to approve a draft, or a published warning's change
        (filed on drafting and on changing; again by the author after an expiry)."""
        w = self.warning(wid)
        if w["state"] == "draft":
            step, author = "draft", w["drafted_by"]
        elif w["state"] == "published" and w["pending"] is not None:
            step, author = "revision", w["pending_by"]
        else:
            raise Conflict(f"warning {wid} has nothing waiting for approval (it is {w['state']})")
        if author != actor.username:
            raise Forbidden("the author of the text asks for its approval")
        if (req := self.pending_request(wid)) is not None:
            return req
        what = "change of the published warning" if step == "revision" else "warning"
        return self.approvals.request(
            actor, KIND_WARNING, subject_type="warning", subject_id=wid,
            reason=f"Approve the {what} {wid} before it goes out: {w['headline']}",
            scope={"warning_id": wid, "step": step},
        )  # fmt: skip

    def _apply_approval(self, db: Any, req: dict[str, Any]) -> dict[str, Any]:
        """The approval's effect, in its transaction: the draft approved, or the change
        applied (by the approver, never the author: checked here again)."""
        scope = json.loads(req["scope"] or "{}")
        wid, who = int(scope["warning_id"]), str(req["decided_by"])
        if scope.get("step") == "revision":
            w = self._step(db, who, wid, "approve_update", ("published",), {"approved_by": who})
        else:
            w = self._step(db, who, wid, "approve", ("draft",),
                           {"state": "approved", "approved_by": who})  # fmt: skip
        return {"warning_id": wid, "state": w["state"], "version": w["version"]}

    def _close_approval(self, db: Any, req: dict[str, Any]) -> None:
        """A refused or expired change of a published warning is dropped (the public text
        stays); a refused draft stays a draft for its author to rework."""
        scope = json.loads(req["scope"] or "{}")
        if scope.get("step") == "revision":
            db.execute(
                "UPDATE fraud_warnings SET pending = NULL, pending_by = NULL, pending_ts = NULL "
                "WHERE id = ? AND state = 'published'",
                [int(scope["warning_id"])],
            )

    def _approved(self, req: dict[str, Any]) -> None:
        """After an approved change commits: the board goes out with the new text."""
        scope = json.loads(req["scope"] or "{}")
        if scope.get("step") == "revision":
            self._after("approve_update", self.warning(int(scope["warning_id"])))

    def _step(
        self, db: Any, actor: Principal | str, wid: int, action: str,
        allowed: tuple[str, ...], changes: dict[str, Any],
    ) -> dict[str, Any]:  # fmt: skip
        """One state change of a warning inside the caller's write transaction, audited."""
        name = actor if isinstance(actor, str) else actor.username
        rows = list(db.query("SELECT * FROM fraud_warnings WHERE id = ?", [wid]))
        if not rows:
            raise NotFound(f"unknown warning {wid}")
        w = rows[0]
        if w["state"] not in allowed:
            hint = " (a second investigator must approve it first)" if action == "publish" else ""
            raise Conflict(f"cannot {action} warning {wid}: it is {w['state']}{hint}")
        if action == "approve" and w["drafted_by"] == name:
            raise Forbidden("a warning must be approved by a second person, not its author")
        if action == "approve_update" and w["pending_by"] == name:
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
        fields = sorted(json.loads(w["pending"] or "{}") if action == "approve_update" else changes)
        self.audit.append(db, self.audit.entry(
            actor, f"fraud.warning.{action}", "warning", wid, None,
            {"from": w["state"], "to": sets.get("state", w["state"]), "fields": fields},
        ))  # fmt: skip
        return {**w, **sets}

    def _transition(
        self,
        actor: Principal,
        wid: int,
        action: str,
        allowed: tuple[str, ...],
        changes: dict[str, Any],
    ) -> dict[str, Any]:
        out = self.db.write(lambda db: self._step(db, actor, wid, action, allowed, changes))
        self._after(action, out)
        return out

    def _after(self, action: str, w: dict[str, Any]) -> None:
        """What follows a committed change: the board, and the warned cluster's score."""
        if action in ("publish", "approve_update", "cancel"):
            self.assessment.evaluate([w["company_id"]])
            self._publish_board()

    def approve_warning(self, actor: Principal, wid: int) -> dict:
        """Second-person approval of a draft, or of a published warning's pending change
        (which then goes out as a CAP Update): the request waiting in the approvals
        service is approved (requester ≠ approver, expiry and audit are the service's)."""
        w = self.warning(wid)
        if w["state"] == "published" and w["pending"] is None:
            raise Conflict(f"warning {wid} has no change waiting for approval")
        if w["state"] not in ("draft", "published"):
            raise Conflict(f"cannot approve warning {wid}: it is {w['state']}")
        req = self.pending_request(wid)
        if req is None:
            raise Conflict(
                f"no approval request is waiting for warning {wid} (it expired or was "
                "refused): its author asks again"
            )
        try:
            self.approvals.approve(actor, int(req["id"]))  # the refusal is audited there
        except Forbidden as exc:
            if req["requested_by"] != actor.username:
                raise
            what = "a change" if w["state"] == "published" else "a warning"
            raise Forbidden(f"{what} must be approved by a second person, not its author") from exc
        return self.warning(wid)

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
        waiting = self.pending_request(wid)
        if waiting is not None and waiting["requested_by"] != actor.username:
            raise Conflict(
                f"{waiting['requested_by']}'s text of warning {wid} waits for approval: "
                "approve or refuse it first"
            )
        if w["state"] == "published":
            pending = {**json.loads(w["pending"] or "{}"), **changes}
            out = self._transition(
                actor, wid, "propose_update", ("published",),
                {"pending": json.dumps(pending, ensure_ascii=False),
                 "pending_by": actor.username, "pending_ts": time.time()},
            )  # fmt: skip
            self.request_approval(actor, wid)
            return out
        if w["state"] == "approved":
            changes["state"] = "draft"  # changed text needs a fresh approval
            changes["approved_by"] = None
        # Whoever last wrote the text is its author: a colleague approves it.
        changes["drafted_by"] = actor.username
        out = self._transition(actor, wid, "update", ("draft", "approved"), changes)
        self.request_approval(actor, wid)
        return out

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
