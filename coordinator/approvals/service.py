"""One approvals service: every privileged step that needs a second person goes through it.

A domain registers a :class:`Kind` (who may request it, who may approve it, how long the
access may last, and the effect to apply on approval). A request carries a kind, a subject,
the requester, a reason that reads as one, and a requested scope and duration; it moves
pending → approved / rejected / expired / withdrawn. The approver holds the kind's approve
permission and is neither the requester nor the person who benefits. The effect is applied
in the same write transaction as the approval, so an approval never exists without its
effect. An *emergency* request (for kinds that allow one) is approved at once for a short,
fixed time and queued for an approver's review after the fact. Every step, and every
refused step, is written to the audit log through :meth:`AuditService.record`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlite_utils

from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..identity.audit import AuditService
from ..identity.auth import Principal
from ..platform.db import Database
from .reasons import normalise, reason_problem

#: Applies an approved request inside the approval's write transaction; returns what it did.
Applier = Callable[[sqlite_utils.Database, dict[str, Any]], dict[str, Any] | None]
#: Undoes what a request prepared when it closes without approval (a pending account).
Closer = Callable[[sqlite_utils.Database, dict[str, Any]], None]
#: Checks and prepares a request inside its write transaction; may add to its scope.
Preparer = Callable[[sqlite_utils.Database], dict[str, Any] | None]
Actor = Principal | str


class State(StrEnum):
    """Where a request stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class Review(StrEnum):
    """An emergency grant's after-the-fact review."""

    PENDING = "pending"
    JUSTIFIED = "justified"
    UNJUSTIFIED = "unjustified"


class ApprovalInvalid(Invalid):
    """A request is malformed (junk reason, duration above the kind's limit …)."""


@dataclass(frozen=True)
class Kind:
    """A kind of request a domain registers."""

    name: str
    title: str
    request_perm: str | None
    approve_perm: str
    apply: Applier
    on_close: Closer | None = None
    max_duration_s: float | None = None
    pending_ttl_s: float = 24 * 3600.0
    emergency_duration_s: float | None = None
    """Set when the kind allows an immediate emergency grant (then reviewed)."""
    emergency_per_day: int = 3
    after: Callable[[dict[str, Any]], None] | None = None
    """Runs once an approval has committed (what must not happen inside the transaction:
    publishing, notifying)."""


def _actor_name(actor: Actor) -> str:
    return actor.username if isinstance(actor, Principal) else str(actor)


class ApprovalsService:
    """Requests, decisions, emergency grants and their review."""

    def __init__(
        self, db: Database, audit: AuditService, clock: Callable[[], float] = time.time
    ) -> None:
        self.db = db
        self.audit = audit
        self.clock = clock
        self.kinds: dict[str, Kind] = {}

    def register(self, kind: Kind) -> Callable[[], None]:
        """Add a kind; returns the undo."""
        if kind.name in self.kinds:
            raise ValueError(f"approval kind {kind.name} registered twice")
        self.kinds[kind.name] = kind

        def undo() -> None:
            self.kinds.pop(kind.name, None)

        return undo

    def kind(self, name: str) -> Kind:
        """The registered kind ``name``."""
        try:
            return self.kinds[name]
        except KeyError:
            raise ApprovalInvalid(f"unknown kind of request: {name}") from None

    # ---- requesting ---------------------------------------------------------------------

    def request(
        self, actor: Actor, kind: str, *, subject_type: str, subject_id: str | int | None,
        reason: str, scope: dict[str, Any] | None = None, duration_s: float | None = None,
        beneficiary: str | None = None, prepare: Preparer | None = None,
        purpose: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """File a pending request (audited); ``prepare`` runs in the same transaction."""
        k = self.kind(kind)
        self._check_requester(actor, k, "request")
        reason = self._checked_reason(actor, k, reason)
        duration_s = self._checked_duration(k, duration_s)
        now = self.clock()
        row = {
            "kind": k.name, "subject_type": subject_type,
            "subject_id": None if subject_id is None else str(subject_id),
            "reason": reason, "requested_by": _actor_name(actor),
            "beneficiary": beneficiary or _actor_name(actor), "requested_at": now,
            "duration_s": duration_s, "state": State.PENDING.value,
            "pending_until": now + k.pending_ttl_s,
        }  # fmt: skip

        def write(db: sqlite_utils.Database) -> int:
            dup = db.execute(
                "select id from approval_requests where kind = ? and subject_type = ? and "
                "subject_id is ? and beneficiary = ? and state = 'pending'",
                [k.name, subject_type, row["subject_id"], row["beneficiary"]],
            ).fetchone()
            if dup:
                raise Conflict(f"request {dup[0]} for the same access is already waiting")
            extra = prepare(db) if prepare else None
            full = {**(scope or {}), **(extra or {})}
            cur = db.conn.execute(
                f"insert into approval_requests ({', '.join(row)}, scope) values "
                f"({', '.join('?' * len(row))}, ?)",
                [*row.values(), json.dumps(full, sort_keys=True)],
            )
            return int(cur.lastrowid or 0)

        rid = self.db.write(write)
        self.audit.record(actor, "approval_requested", "approval", rid, purpose,
                          {"kind": k.name, "subject": f"{subject_type}:{subject_id}",
                           "reason": reason, "duration_s": duration_s, "scope": scope})  # fmt: skip
        return self.get(actor, rid)

    def emergency(
        self, actor: Principal, kind: str, *, subject_type: str, subject_id: str | int,
        reason: str, scope: dict[str, Any] | None = None, purpose: str | None = None,
        prepare: Preparer | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """An immediate grant for the kind's short emergency time, flagged for review."""
        k = self.kind(kind)
        if k.emergency_duration_s is None:
            raise ApprovalInvalid(f"{k.title} has no emergency grant: request approval")
        self._check_requester(actor, k, "emergency")
        reason = self._checked_reason(actor, k, reason)
        now = self.clock()
        name = actor.username
        row = {
            "kind": k.name, "subject_type": subject_type, "subject_id": str(subject_id),
            "reason": reason, "requested_by": name, "beneficiary": name, "requested_at": now,
            "duration_s": k.emergency_duration_s, "state": State.APPROVED.value,
            "pending_until": now, "decided_at": now, "decision_note": "emergency grant",
            "emergency": 1, "review_state": Review.PENDING.value,
        }  # fmt: skip

        def write(db: sqlite_utils.Database) -> dict[str, Any]:
            recent = db.execute(
                "select count(*) from approval_requests where kind = ? and requested_by = ? "
                "and emergency = 1 and requested_at > ?",
                [k.name, name, now - 86400],
            ).fetchone()[0]
            if recent >= k.emergency_per_day:
                raise Forbidden(
                    f"{recent} emergency grants in the last 24 hours: further access needs "
                    "a data-access approver"
                )
            extra = prepare(db) if prepare else None
            full = {**(scope or {}), **(extra or {})}
            cur = db.conn.execute(
                f"insert into approval_requests ({', '.join(row)}, scope) values "
                f"({', '.join('?' * len(row))}, ?)",
                [*row.values(), json.dumps(full, sort_keys=True)],
            )
            req = self._row(db, int(cur.lastrowid or 0))
            result = k.apply(db, req)
            db.conn.execute(
                "update approval_requests set result = ? where id = ?",
                [json.dumps(result or {}, default=str), req["id"]],
            )
            return req

        req = self._write_or_audit(actor, "approval_emergency", k, subject_id, write)
        self.audit.record(actor, "approval_emergency", "approval", req["id"], purpose,
                          {"kind": k.name, "subject": f"{subject_type}:{subject_id}",
                           "reason": reason, "duration_s": k.emergency_duration_s})  # fmt: skip
        return self.get(actor, req["id"])

    # ---- deciding -----------------------------------------------------------------------

    def approve(self, actor: Actor, rid: int, note: str | None = None) -> dict[str, Any]:
        """Approve a pending request and apply its effect, in one transaction (``actor`` a
        string: the host's command line, which holds the keys, as the second person)."""
        return self._decide(actor, rid, State.APPROVED, note)

    def reject(self, actor: Actor, rid: int, note: str | None = None) -> dict[str, Any]:
        """Refuse a pending request (what it prepared is undone)."""
        return self._decide(actor, rid, State.REJECTED, note)

    def withdraw(self, actor: Actor, rid: int) -> dict[str, Any]:
        """The requester takes back a pending request."""
        name = _actor_name(actor)

        def write(db: sqlite_utils.Database) -> dict[str, Any]:
            req = self._pending(db, rid)
            if req["requested_by"] != name:
                raise Forbidden("only the requester withdraws a request")
            return self._close(db, req, State.WITHDRAWN, name, None)

        req = self._write_or_audit(actor, "approval_withdraw", None, rid, write)
        self.audit.record(actor, "approval_withdrawn", "approval", rid, None, {"kind": req["kind"]})
        return self.get(actor, rid)

    def _decide(self, actor: Actor, rid: int, state: State, note: str | None) -> dict[str, Any]:
        note = normalise(note)[:500] or None
        action = "approval_approved" if state is State.APPROVED else "approval_rejected"

        def write(db: sqlite_utils.Database) -> dict[str, Any]:
            req = self._pending(db, rid)
            k = self.kind(req["kind"])
            self._check_approver(actor, k, req)
            if state is State.APPROVED:
                now = self.clock()
                db.conn.execute(
                    "update approval_requests set state = ?, decided_by = ?, decided_at = ?, "
                    "decision_note = ? where id = ?",
                    [state.value, _actor_name(actor), now, note, rid],
                )
                result = k.apply(db, self._row(db, rid))
                db.conn.execute(
                    "update approval_requests set result = ? where id = ?",
                    [json.dumps(result or {}, default=str), rid],
                )
                return self._row(db, rid)
            return self._close(db, req, state, _actor_name(actor), note)

        req = self._write_or_audit(actor, action, None, rid, write)
        self.audit.record(actor, action, "approval", rid, None,
                          {"kind": req["kind"], "requested_by": req["requested_by"],
                           "subject": f"{req['subject_type']}:{req['subject_id']}",
                           "note": note})  # fmt: skip
        k = self.kinds.get(req["kind"])
        if state is State.APPROVED and k is not None and k.after is not None:
            k.after(req)
        return self.get(actor, rid)

    def review(self, actor: Principal, rid: int, verdict: Review, note: str) -> dict[str, Any]:
        """An approver's after-the-fact verdict on an emergency grant."""
        if verdict is Review.PENDING:
            raise ApprovalInvalid("a review is justified or unjustified")
        note = normalise(note)
        if verdict is Review.UNJUSTIFIED and (problem := reason_problem(note)):
            raise ApprovalInvalid(f"say why it was unjustified: {problem}")

        def write(db: sqlite_utils.Database) -> dict[str, Any]:
            req = self._row(db, rid)
            if not req["emergency"] or req["review_state"] != Review.PENDING.value:
                raise Conflict(f"request {rid} is not an emergency grant awaiting review")
            self._check_approver(actor, self.kind(req["kind"]), req)
            db.conn.execute(
                "update approval_requests set review_state = ?, reviewed_by = ?, "
                "reviewed_at = ?, review_note = ? where id = ?",
                [verdict.value, actor.username, self.clock(), note[:500] or None, rid],
            )
            return req

        req = self._write_or_audit(actor, "approval_review", None, rid, write)
        self.audit.record(actor, "approval_reviewed", "approval", rid, None,
                          {"kind": req["kind"], "verdict": verdict.value,
                           "requested_by": req["requested_by"], "note": note})  # fmt: skip
        return self.get(actor, rid)

    def expire_due(self) -> int:
        """Close pending requests past their deadline (a periodic job); returns how many."""
        now = self.clock()

        def write(db: sqlite_utils.Database) -> list[dict[str, Any]]:
            rows = db.execute(
                "select id from approval_requests where state = 'pending' and pending_until < ? "
                "limit 500",
                [now],
            ).fetchall()
            return [
                self._close(db, self._row(db, r[0]), State.EXPIRED, "system", None) for r in rows
            ]

        closed = self.db.write(write)
        for req in closed:
            self.audit.record("system", "approval_expired", "approval", req["id"], None,
                              {"kind": req["kind"], "requested_by": req["requested_by"]})  # fmt: skip
        return len(closed)

    # ---- reading ------------------------------------------------------------------------

    def visible_kinds(self, actor: Actor) -> set[str]:
        """The kinds whose requests ``actor`` may decide (all for the host's command line)."""
        if not isinstance(actor, Principal):
            return set(self.kinds)
        return {n for n, k in self.kinds.items() if actor.can(k.approve_perm)}

    def search(
        self, actor: Actor, *, state: State | None = None, kind: str | None = None,
        mine: bool = False, review: bool = False, limit: int = 200,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Requests the actor made or may decide, newest first."""
        where, params = self._visible(actor, mine)
        if state is not None:
            where.append("state = ?")
            params.append(state.value)
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        if review:
            where.append("review_state = 'pending'")
        rows = self.db.query(
            f"select * from approval_requests where {' and '.join(where)} order by id desc limit ?",
            [*params, max(1, min(limit, 1000))],
        )
        return [self._public(r, actor) for r in rows]

    def get(self, actor: Actor, rid: int) -> dict[str, Any]:
        """One request the actor made or may decide (NotFound otherwise)."""
        where, params = self._visible(actor, False)
        rows = self.db.query(
            f"select * from approval_requests where id = ? and {' and '.join(where)}",
            [rid, *params],
        )
        if not rows:
            raise NotFound(f"no request {rid}")
        return self._public(rows[0], actor)

    def _visible(self, actor: Actor, mine: bool) -> tuple[list[str], list[Any]]:
        name = _actor_name(actor)
        kinds = sorted(self.visible_kinds(actor))
        if mine or not kinds:
            return ["requested_by = ?"], [name]
        return [f"(requested_by = ? or kind in ({','.join('?' * len(kinds))}))"], [name, *kinds]

    def _public(self, row: dict[str, Any], actor: Actor) -> dict[str, Any]:
        out = dict(row)
        out["scope"] = json.loads(row["scope"] or "{}")
        out["result"] = json.loads(row["result"]) if row["result"] else None
        out["emergency"] = bool(row["emergency"])
        k = self.kinds.get(row["kind"])
        out["title"] = k.title if k else row["kind"]
        out["can_decide"] = bool(
            row["state"] == State.PENDING.value
            and k is not None
            and isinstance(actor, Principal)
            and actor.can(k.approve_perm)
            and actor.username not in (row["requested_by"], row["beneficiary"])
        )
        return out

    # ---- plumbing -----------------------------------------------------------------------

    @staticmethod
    def _row(db: sqlite_utils.Database, rid: int) -> dict[str, Any]:
        cur = db.conn.execute("select * from approval_requests where id = ?", [rid])
        found = cur.fetchone()
        if found is None:
            raise NotFound(f"no request {rid}")
        return dict(zip([c[0] for c in cur.description], found, strict=True))

    def _pending(self, db: sqlite_utils.Database, rid: int) -> dict[str, Any]:
        req = self._row(db, rid)
        if req["state"] != State.PENDING.value:
            raise Conflict(f"request {rid} is {req['state']}, not pending")
        if req["pending_until"] < self.clock():
            raise Conflict(f"request {rid} has expired: file a new one")
        return req

    def _close(
        self, db: sqlite_utils.Database, req: dict[str, Any], state: State, by: str,
        note: str | None,
    ) -> dict[str, Any]:  # fmt: skip
        db.conn.execute(
            "update approval_requests set state = ?, decided_by = ?, decided_at = ?, "
            "decision_note = ? where id = ?",
            [state.value, by, self.clock(), note, req["id"]],
        )
        k = self.kinds.get(req["kind"])
        if k is not None and k.on_close is not None:
            k.on_close(db, req)
        return req

    def _check_requester(self, actor: Actor, k: Kind, step: str) -> None:
        if isinstance(actor, Principal) and k.request_perm and not actor.can(k.request_perm):
            self.audit.record(actor, "approval_denied", "approval", None, None,
                              {"kind": k.name, "step": step, "missing": k.request_perm})  # fmt: skip
            raise Forbidden(f"roles {', '.join(actor.role_names)} may not ask for {k.title}")

    def _check_approver(self, actor: Actor, k: Kind, req: dict[str, Any]) -> None:
        if isinstance(actor, Principal) and not actor.can(k.approve_perm):
            raise Forbidden(f"roles {', '.join(actor.role_names)} may not decide {k.title}")
        name = _actor_name(actor)
        if name == req["requested_by"]:
            raise Forbidden("a request is decided by a second person, not its requester")
        if name == req["beneficiary"]:
            raise Forbidden("a request is decided by someone other than the person it grants")

    def _checked_reason(self, actor: Actor, k: Kind, reason: str) -> str:
        problem = reason_problem(reason)
        if problem:
            self.audit.record(actor, "approval_denied", "approval", None, None,
                              {"kind": k.name, "why": problem})  # fmt: skip
            raise ApprovalInvalid(problem)
        return normalise(reason)

    @staticmethod
    def _checked_duration(k: Kind, duration_s: float | None) -> float | None:
        if k.max_duration_s is None:
            return None
        if duration_s is None:
            return k.max_duration_s
        if not 60 <= duration_s <= k.max_duration_s:
            raise ApprovalInvalid(
                f"{k.title} lasts between 1 and {int(k.max_duration_s // 60)} minutes"
            )
        return float(duration_s)

    def _write_or_audit(
        self, actor: Actor, action: str, k: Kind | None, subject: Any,
        fn: Callable[[sqlite_utils.Database], dict[str, Any]],
    ) -> dict[str, Any]:  # fmt: skip
        """Run a write; a refusal is audited (who tried what) before it propagates."""
        try:
            return self.db.write(fn)
        except (Forbidden, Conflict, NotFound) as exc:
            self.audit.record(actor, "approval_denied", "approval", subject, None,
                              {"step": action, "kind": k.name if k else None,
                               "why": str(exc)})  # fmt: skip
            raise
