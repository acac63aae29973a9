"""The approvals service with a kind of its own (a real database): states, second person,
effect applied atomically, expiry, visibility, audit."""

from __future__ import annotations

import pytest

from coordinator.approvals.service import ApprovalInvalid, Kind, Review, State
from coordinator.bootstrap import role_matrix
from coordinator.errors import Conflict, Forbidden, NotFound
from coordinator.identity.audit import AuditService
from coordinator.identity.auth import Principal, Role, perms_for

REASON = "moving the night desk to the new building"


def _who(name: str, *roles: Role) -> Principal:
    held = frozenset(roles)
    return Principal(1, name, held, perms=perms_for(held, role_matrix()))


@pytest.fixture
def svc(services):
    applied: list[int] = []
    closed: list[int] = []

    def apply(db, req):
        if req["subject_id"] == "boom":
            raise Conflict("the effect cannot apply")
        AuditService.append(db, AuditService.entry("x", "effect", "t"))  # in the approval's txn
        applied.append(req["id"])
        return {"done": True}

    kind = Kind("test:thing", "a test thing", "users:admin", "users:admin", apply,
                on_close=lambda db, req: closed.append(req["id"]), max_duration_s=3600,
                emergency_duration_s=600)  # fmt: skip
    undo = services.approvals.register(kind)
    services.approvals.applied, services.approvals.closed = applied, closed
    yield services.approvals
    undo()


def test_a_second_person_approves_and_the_effect_applies(svc):
    a1, a2 = _who("admin-1", Role.ADMIN), _who("admin-2", Role.ADMIN)
    req = svc.request(a1, "test:thing", subject_type="t", subject_id=7, reason=REASON)
    assert req["state"] == State.PENDING and req["duration_s"] == 3600
    with pytest.raises(Forbidden, match="second person"):
        svc.approve(a1, req["id"])
    out = svc.approve(a2, req["id"], "ok")
    assert out["state"] == State.APPROVED and out["result"] == {"done": True}
    assert svc.applied == [req["id"]]
    with pytest.raises(Conflict):
        svc.approve(a2, req["id"])
    actions = [e["action"] for e in svc.audit.search(subject_type="approval")]
    assert {"approval_requested", "approval_approved", "approval_denied"} <= set(actions)


def test_an_effect_that_fails_leaves_the_request_pending(svc):
    a1, a2 = _who("admin-1", Role.ADMIN), _who("admin-2", Role.ADMIN)
    req = svc.request(a1, "test:thing", subject_type="t", subject_id="boom", reason=REASON)
    with pytest.raises(Conflict):
        svc.approve(a2, req["id"])
    assert svc.get(a1, req["id"])["state"] == State.PENDING
    assert svc.db.query("select count(*) n from audit_log where action = 'effect'")[0]["n"] == 0


def test_the_beneficiary_never_decides(svc):
    a1, a2 = _who("admin-1", Role.ADMIN), _who("admin-2", Role.ADMIN)
    req = svc.request(a1, "test:thing", subject_type="t", subject_id=1, reason=REASON,
                      beneficiary="admin-2")  # fmt: skip
    with pytest.raises(Forbidden, match="other than the person"):
        svc.approve(a2, req["id"])


def test_who_may_request_decide_and_see(svc):
    a1, op = _who("admin-1", Role.ADMIN), _who("op", Role.OPERATOR)
    with pytest.raises(Forbidden):
        svc.request(op, "test:thing", subject_type="t", subject_id=1, reason=REASON)
    req = svc.request(a1, "test:thing", subject_type="t", subject_id=1, reason=REASON)
    with pytest.raises(NotFound):
        svc.get(op, req["id"])
    with pytest.raises(Forbidden):
        svc.approve(op, req["id"])
    assert svc.search(op) == [] and [r["id"] for r in svc.search(a1, mine=True)] == [req["id"]]


def test_one_pending_request_per_access(svc):
    a1 = _who("admin-1", Role.ADMIN)
    svc.request(a1, "test:thing", subject_type="t", subject_id=1, reason=REASON)
    with pytest.raises(Conflict, match="already waiting"):
        svc.request(a1, "test:thing", subject_type="t", subject_id=1, reason=REASON)


def test_duration_is_bounded(svc):
    a1 = _who("admin-1", Role.ADMIN)
    with pytest.raises(ApprovalInvalid):
        svc.request(
            a1, "test:thing", subject_type="t", subject_id=1, reason=REASON, duration_s=7200
        )


def test_expiry_closes_and_undoes(svc):
    a1 = _who("admin-1", Role.ADMIN)
    req = svc.request(a1, "test:thing", subject_type="t", subject_id=1, reason=REASON)
    svc.clock = lambda: req["pending_until"] + 1
    assert svc.expire_due() == 1 and svc.closed == [req["id"]]
    assert svc.get(a1, req["id"])["state"] == State.EXPIRED
    assert svc.audit.search(action="approval_expired")


def test_withdraw_is_the_requesters_alone(svc):
    a1, a2 = _who("admin-1", Role.ADMIN), _who("admin-2", Role.ADMIN)
    req = svc.request(a1, "test:thing", subject_type="t", subject_id=1, reason=REASON)
    with pytest.raises(Forbidden):
        svc.withdraw(a2, req["id"])
    assert svc.withdraw(a1, req["id"])["state"] == State.WITHDRAWN and svc.closed == [req["id"]]


def test_emergency_applies_at_once_and_is_reviewed_by_another(svc):
    a1, a2 = _who("admin-1", Role.ADMIN), _who("admin-2", Role.ADMIN)
    req = svc.emergency(a1, "test:thing", subject_type="t", subject_id=1, reason=REASON)
    assert req["state"] == State.APPROVED and req["duration_s"] == 600 and svc.applied
    assert [r["id"] for r in svc.search(a2, review=True)] == [req["id"]]
    with pytest.raises(Forbidden):
        svc.review(a1, req["id"], Review.JUSTIFIED, "")
    with pytest.raises(ApprovalInvalid):
        svc.review(a2, req["id"], Review.UNJUSTIFIED, "no")
    out = svc.review(a2, req["id"], Review.JUSTIFIED, "")
    assert out["review_state"] == Review.JUSTIFIED and svc.search(a2, review=True) == []


def test_the_host_is_a_second_person(svc):
    a1 = _who("admin-1", Role.ADMIN)
    req = svc.request(a1, "test:thing", subject_type="t", subject_id=1, reason=REASON)
    assert svc.approve("host:root", req["id"])["decided_by"] == "host:root"
