"""Foreign visitors, residence permits and service requests (clock frozen at 2026-06-01)."""

from __future__ import annotations

import datetime as dt

import pytest

from coordinator.population.permits import add_months, continuous_since
from tests.harness.population import person_data

P = "/api/population"
D = dt.date


def _foreigner(api, h, n=0, **over):
    d = dict(name="Rahul Sharma", id_type="passport", id_number=f"K{8000000 + n}",
             nationality="IN", dob="1988-08-08", sex="M", zone="Z01")  # fmt: skip
    d.update(over)
    r = api.post(f"{P}/persons", headers=h, json=d)
    assert r.status_code == 201, r.text
    return r.json()["person"]


def _visit(**over):
    v = dict(visa_type="M", visa_expiry="2026-09-30", host_kind="hotel", host_name="Yiwu Hotel",
             address="福田街道 商城大道 1号", zone="Z01", arrived_at="2026-06-01T02:00:00Z")  # fmt: skip
    v.update(over)
    return v


def test_visitor_reported_in_time_and_late(api, officer_tokens, clock):
    h = officer_tokens["officer-a"]
    f = _foreigner(api, h)
    r = api.post(f"{P}/visitors", headers=h, json=_visit(person_id=f["id"]))
    assert r.status_code == 201 and r.json()["late"] == 0 and r.json()["flags"] == []
    r = api.post(f"{P}/visitors", headers=h,
                 json=_visit(person_id=f["id"], arrived_at="2026-05-30T08:00:00+00:00"))  # fmt: skip
    assert r.status_code == 201 and r.json()["late"] == 1
    assert "reported_late" in r.json()["flags"]
    flagged = api.get(f"{P}/visitors", headers=h, params={"flagged": True}).json()
    assert [v["id"] for v in flagged] == [r.json()["id"]]
    assert api.post(f"{P}/visitors/{r.json()['id']}/depart", headers=h).status_code == 200
    assert api.post(f"{P}/visitors/{r.json()['id']}/depart", headers=h).status_code == 409


def test_expired_visa_is_refused_unless_confirmed_then_flagged(api, officer_tokens, clock):
    h = officer_tokens["officer-a"]
    f = _foreigner(api, h, 1)
    r = api.post(
        f"{P}/visitors", headers=h, json=_visit(person_id=f["id"], visa_expiry="2026-05-01")
    )
    assert r.status_code == 422 and "expired on 2026-05-01" in r.json()["detail"]
    r = api.post(f"{P}/visitors", headers=h, json=_visit(
        person_id=f["id"], visa_expiry="2026-05-01", accept_expired_visa=True))  # fmt: skip
    assert r.status_code == 201 and r.json()["flags"] == ["visa_expired"]
    r = api.post(f"{P}/visitors", headers=h, json=_visit(
        person_id=f["id"], visa_expiry="2026-06-20", planned_departure="2026-07-01"))  # fmt: skip
    assert r.json()["flags"] == ["visa_expires_during_stay"]


@pytest.mark.parametrize(
    "over,problem",
    [
        ({"visa_expiry": "2026-02-30"}, "impossible date"),
        ({"visa_type": "tourist"}, "visa_type"),
        ({"arrived_at": "2026-07-01T00:00:00Z"}, "future"),
        ({"arrived_at": "yesterday"}, "ISO date-time"),
    ],
)
def test_bad_visitor_input(api, officer_tokens, clock, over, problem):
    h = officer_tokens["officer-a"]
    f = _foreigner(api, h, 2)
    r = api.post(f"{P}/visitors", headers=h, json=_visit(person_id=f["id"], **over))
    assert r.status_code == 422 and problem in r.json()["detail"], r.text


def test_chinese_national_is_not_a_foreign_visitor(api, officer_tokens, clock):
    h = officer_tokens["officer-a"]
    p = api.post(f"{P}/persons", headers=h, json=person_data(30)).json()["person"]
    r = api.post(f"{P}/visitors", headers=h, json=_visit(person_id=p["id"]))
    assert r.status_code == 422


def test_continuous_residence_rules():
    assert add_months(D(2025, 8, 31), 6) == D(2026, 2, 28)
    today = D(2026, 6, 1)
    runs = [(D(2025, 9, 1), D(2025, 12, 31)), (D(2026, 1, 1), D(2026, 6, 30))]
    assert continuous_since(runs, today) == D(2025, 9, 1)  # back-to-back moves count
    gap = [(D(2025, 9, 1), D(2025, 12, 1)), (D(2026, 1, 1), D(2026, 6, 30))]
    assert continuous_since(gap, today) == D(2026, 1, 1)
    assert continuous_since([(D(2025, 1, 1), D(2025, 12, 31))], today) is None


def _registered(api, h, pid, since, until=None, clock=None):
    """A registration from ``since``; with ``clock``, recorded on that day (the clock is set
    back, then restored): only a date recorded then counts without a second officer."""
    body = {"person_id": pid, "kind": "own", "address": "苏溪镇 1号", "zone": "Z01",
            "valid_from": since, "status": "registered"}  # fmt: skip
    if until:
        body["valid_to"] = until
    now = clock.t if clock else None
    if clock:
        clock.t = dt.datetime.fromisoformat(since + "T09:00:00+00:00").timestamp()
    r = api.post(f"{P}/registrations", headers=h, json=body)
    if clock:
        clock.t = now
    assert r.status_code == 201, r.text
    return r.json()


def test_permit_eligibility_issue_renew_and_reminders(api, officer_tokens, clock):
    h = officer_tokens["officer-a"]
    newcomer = api.post(f"{P}/persons", headers=h, json=person_data(31)).json()["person"]
    _registered(api, h, newcomer["id"], "2026-03-01", clock=clock)
    r = api.post(f"{P}/persons/{newcomer['id']}/permits", headers=h)
    assert r.status_code == 409 and "from 2026-09-01" in r.json()["detail"]
    settled = api.post(f"{P}/persons", headers=h, json=person_data(32)).json()["person"]
    _registered(api, h, settled["id"], "2025-11-01", clock=clock)
    e = api.get(f"{P}/persons/{settled['id']}/permit-eligibility", headers=h).json()
    assert e["eligible"] and e["since"] == "2025-11-01"
    r = api.post(f"{P}/persons/{settled['id']}/permits", headers=h)
    assert r.status_code == 201, r.text
    permit = r.json()
    assert permit["expires_on"] == "2027-06-01"
    assert api.post(f"{P}/persons/{settled['id']}/permits", headers=h).status_code == 409
    r = api.post(f"{P}/permits/{permit['id']}/renew", headers=h)
    assert r.status_code == 409 and "renewal opens" in r.json()["detail"]
    clock.t += 350 * 86400  # 2027-05-17
    due = api.get(f"{P}/permits/expiring", headers=h).json()
    assert [x["id"] for x in due] == [permit["id"]]
    r = api.post(f"{P}/permits/{permit['id']}/renew", headers=h)
    assert r.status_code == 200 and r.json()["expires_on"] == "2028-06-01"
    assert r.json()["renewals"] == 1


def test_service_request_lifecycle_sla_and_overdue(api, officer_tokens, clock, pop):
    h = officer_tokens["officer-a"]
    cats = api.get(f"{P}/requests/categories", headers=h).json()
    assert {"category": "wage_arrears", "sla_hours": 72} in cats
    r = api.post(f"{P}/requests", headers=h, json={
        "channel": "hotline", "category": "wage_arrears", "zone": "Z01",
        "description": "工厂拖欠三个月工资", "contact_name": "张伟", "contact_phone": "13900001111"})  # fmt: skip
    assert r.status_code == 201, r.text
    req = r.json()
    assert req["due_at"] == clock.t + 72 * 3600 and not req["overdue"]
    other = api.post(f"{P}/requests", headers=h, json={
        "channel": "web", "category": "schooling", "zone": "Z01",
        "description": "子女入学咨询"}).json()  # fmt: skip
    clock.t += 73 * 3600
    listed = api.get(f"{P}/requests", headers=h).json()
    assert [x["id"] for x in listed] == [req["id"], other["id"]] and listed[0]["overdue"]
    assert [
        x["id"] for x in api.get(f"{P}/requests", headers=h, params={"overdue": True}).json()
    ] == [req["id"]]
    step = lambda body: api.post(f"{P}/requests/{req['id']}/status", headers=h, json=body)  # noqa: E731
    assert step({"status": "resolved", "resolution": "x"}).status_code == 409  # not assigned yet
    assert step({"status": "assigned"}).status_code == 422  # assignee missing
    assert step({"status": "assigned", "assignee": "labour-office-1"}).status_code == 200
    assert step({"status": "in_progress"}).status_code == 200
    assert step({"status": "resolved", "resolution": "paid", "satisfaction": 6}).status_code == 422
    r = step({"status": "resolved", "resolution": "employer paid arrears", "satisfaction": 5})
    assert r.status_code == 200 and not r.json()["overdue"]
    assert step({"status": "closed"}).status_code == 200
    hist = api.get(f"{P}/requests/{req['id']}", headers=h).json()["history"]
    assert [x["to_status"] for x in hist] == [
        "open",
        "assigned",
        "in_progress",
        "resolved",
        "closed",
    ]
    # other zones do not see it
    assert (
        api.get(f"{P}/requests/{req['id']}", headers=officer_tokens["officer-b"]).status_code == 403
    )


@pytest.mark.parametrize(
    "over,problem",
    [
        ({"category": "tax"}, "category"),
        ({"description": "x" * 4001}, "description"),
        ({"contact_phone": "abc"}, "phone"),
        ({"person_id": 424242}, "no active person"),
    ],
)
def test_bad_service_requests(api, officer_tokens, over, problem):
    body = {"channel": "walk_in", "category": "legal_aid", "zone": "Z01", "description": "help"}
    r = api.post(f"{P}/requests", headers=officer_tokens["officer-a"], json={**body, **over})
    assert r.status_code == 422 and problem in r.json()["detail"], r.text
