"""The service hotline: calls with encrypted numbers, callbacks, follow-up, the report."""

from __future__ import annotations

import datetime as dt

import pytest

from coordinator.errors import Conflict, Invalid
from coordinator.hotline.service import load_catalogue, month_bounds
from coordinator.identity.auth import Role
from tests.harness.api import PASSWORD, bearer, login, seeded_secret

P = "/api/hotline"
PURPOSE = "96150 line, day shift"


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock(services):
    c = Clock(dt.datetime(2026, 6, 1, 2, tzinfo=dt.UTC).timestamp())
    old = services.hotline.clock
    services.hotline.clock = c
    yield c
    services.hotline.clock = old


@pytest.fixture
def officer(api, services):
    services.auth.create_user("line-a", PASSWORD, [Role.POPULATION_OFFICER], zones=["Z01"],
                              totp_secret=seeded_secret("line-a"))  # fmt: skip
    return {**bearer(login(api, "line-a")), "X-Purpose": PURPOSE}


def test_the_catalogue_covers_the_migrants_services():
    codes = {c.code for c in load_catalogue().categories}
    assert {"employment", "housing", "schooling", "legal_aid", "social_insurance",
            "wage_arrears"} <= codes  # fmt: skip


def test_a_call_its_callback_resolution_and_follow_up(services, clock):
    h = services.hotline
    call = h.log_call("line-a", {"category": "wage_arrears", "summary": "3 months unpaid",
                                 "caller_number": "138-0013 8000", "caller_name": "Li"}, PURPOSE)  # fmt: skip
    assert call["caller_masked"] == "1380*****00" and call["due_at"] == clock.t + 4 * 3600
    raw = services.db.query("select caller_enc from hotline_calls")[0]["caller_enc"]
    assert b"13800138000" not in raw
    h.schedule_callback("line-a", call["id"], None)
    due = h.callbacks_due("line-a", PURPOSE)
    assert [d["call_id"] for d in due] == [call["id"]] and not due[0]["overdue"]
    clock.t += 5 * 3600
    assert h.callbacks_due("line-a", PURPOSE)[0]["overdue"] is True
    assert [c["id"] for c in h.calls("line-a", PURPOSE, status="overdue")] == [call["id"]]
    h.complete_callback("line-a", due[0]["id"], "employer agreed to pay on Friday")
    with pytest.raises(Conflict):
        h.complete_callback("line-a", due[0]["id"], "again")
    with pytest.raises(Conflict, match="resolve it first"):
        h.satisfaction("line-a", call["id"], 5)
    r = h.resolve("line-a", call["id"], "wages paid; labour inspection informed")
    assert r["status"] == "resolved" and not r["followup_due"]
    clock.t += 2 * 86400
    assert h._row(call["id"])["followup_due"] is True
    assert h.satisfaction("line-a", call["id"], 4)["status"] == "closed"
    found = h.calls("line-a", PURPOSE, caller_number="+13800138000".lstrip("+"))
    assert [c["id"] for c in found] == [call["id"]]
    with pytest.raises(Invalid, match="reason"):
        h.reveal("line-a", call["id"], " ")
    assert h.reveal("line-a", call["id"], "call back about the wages") == "13800138000"
    audit = services.db.query(
        "select purpose from audit_log where action = 'hotline_reveal_number'"
    )
    assert audit == [{"purpose": "call back about the wages"}]


def test_the_monthly_report_counts_sla_and_satisfaction(services, clock):
    h = services.hotline
    ids = [h.log_call("line-a", {"category": "housing", "summary": f"call {i}"}, PURPOSE)["id"]
           for i in range(3)]  # fmt: skip
    h.resolve("line-a", ids[0], "advised")  # within 24 h
    clock.t += 30 * 3600
    h.resolve("line-a", ids[1], "advised late")
    h.satisfaction("line-a", ids[0], 5)
    h.satisfaction("line-a", ids[1], 2)
    rep = h.report("2026-06")
    assert (rep["calls"], rep["within_sla"], rep["overdue"], rep["rated"]) == (3, 1, 1, 2)
    assert rep["satisfaction"] == 3.5
    assert h.report("2026-07")["calls"] == 0
    start, end = month_bounds("2026-02")
    assert (end - start) / 86400 == 28


def test_the_line_over_http(api, officer, clock):
    r = api.post(f"{P}/calls", headers=officer, json={
        "category": "schooling", "summary": "school place for a 7-year-old",
        "caller_number": "13900001111"})  # fmt: skip
    assert r.status_code == 201 and r.json()["caller_masked"] == "1390*****11"
    assert "13900001111" not in api.get(f"{P}/calls", headers=officer).text
    r = api.post(f"{P}/calls", headers=officer, json={"category": "astrology", "summary": "x"})
    assert r.status_code == 422 and "unknown" in r.text
    assert api.get(f"{P}/report", headers=officer, params={"month": "2026-06"}).json()["calls"] == 1
