"""Filings, overdue detection, bad inputs, merchant isolation, links, warnings, the vest."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fastapi.testclient import TestClient

from coordinator.container import Services
from tests.harness.fraud import GREEN_AIRLINE, Actors

PURPOSE = {"X-Purpose": "case 2026-17 vest investigation"}
TODAY = dt.date.today()


def _filing(company_id: int | None = None, **kw):  # noqa: ANN003, ANN202
    body = {
        "goods": "plastic toys",
        "quantity": 1000,
        "amount": "120000.00",
        "currency": "CNY",
        "due_date": (TODAY + dt.timedelta(days=30)).isoformat(),
        "documents": ["PO-881"],
    }
    if company_id is not None:
        body["company_id"] = company_id
    return {**body, **kw}


def _company(api: TestClient, a: Actors, body: dict) -> int:
    r = api.post("/api/fraud/companies", json=body, headers=a.inv1)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_filing_against_new_company_registers_and_links_it(api: TestClient, actors: Actors) -> None:
    """A merchant files with a company's identifiers; the company is created; payments close it."""
    r = api.post("/api/fraud/filings", json=_filing(company=GREEN_AIRLINE), headers=actors.m1)
    assert r.status_code == 201, r.text
    fid, cid = r.json()["id"], r.json()["company_id"]
    again = api.post("/api/fraud/filings", json=_filing(cid, amount="10.50"), headers=actors.m1)
    assert again.status_code == 201 and again.json()["company_id"] == cid
    r = api.post(
        f"/api/fraud/filings/{fid}/payments",
        json={"amount": "120000", "paid_on": TODAY.isoformat()},
        headers=actors.m1,
    )
    assert r.status_code == 200 and r.json()["status"] == "paid"
    mine = api.get("/api/fraud/filings", headers=actors.m1).json()
    assert [f["id"] for f in mine] == [fid, again.json()["id"]]


@pytest.mark.parametrize(
    "what,change,status,needle",
    [
        ("unknown company", {"company_id": 99999}, 404, "unknown company"),
        ("negative amount", {"amount": "-5"}, 422, "amount"),
        ("zero amount", {"amount": "0"}, 422, "amount"),
        ("absurd amount", {"amount": "900000000000"}, 422, "absurd"),
        ("unsupported currency", {"currency": "XYZ"}, 422, "currency"),
        ("impossible date 30 Feb", {"due_date": "2026-02-30"}, 422, "due_date"),
        ("not a date", {"due_date": "next tuesday"}, 422, "due_date"),
        ("due date far in the future", {"due_date": "2099-01-01"}, 422, "ahead"),
        ("due date ages ago", {"due_date": "1999-01-01"}, 422, "ago"),
        ("negative quantity", {"quantity": -3}, 422, "quantity"),
        ("unknown field", {"price": 3}, 422, "price"),
    ],
)
def test_bad_filings_are_refused_and_nothing_is_stored(
    api: TestClient,
    actors: Actors,
    services: Services,
    what: str,
    change: dict,
    status: int,
    needle: str,
) -> None:
    """Each bad filing gets a clear error and leaves no row behind."""
    cid = _company(api, actors, GREEN_AIRLINE)
    r = api.post("/api/fraud/filings", json={**_filing(cid), **change}, headers=actors.m1)
    assert r.status_code == status, f"{what}: {r.text}"
    assert needle in r.text, what
    assert services.db.query("select count(*) n from fraud_filings")[0]["n"] == 0


@pytest.mark.parametrize(
    "field,value",
    [
        ("phones", "call me maybe"),
        ("emails", "sales-at-nowhere"),
        ("bank_accounts", "!!"),
        ("reg_codes", "1"),
    ],
)
def test_bad_identifiers_in_a_new_company_are_refused(
    api: TestClient, actors: Actors, services: Services, field: str, value: str
) -> None:
    """A garbled identifier names itself in the error; no company is half-created."""
    body = {**GREEN_AIRLINE, field: [value]}
    r = api.post("/api/fraud/filings", json=_filing(company=body), headers=actors.m1)
    assert r.status_code == 422 and value in r.text
    assert services.db.query("select count(*) n from fraud_companies")[0]["n"] == 0


def test_merchant_cannot_read_or_touch_another_merchants_filings(
    api: TestClient, actors: Actors
) -> None:
    """m-2 asks for m-1's filing by id, pays it, confirms it: 404 each time; lists only its own."""
    fid = api.post(
        "/api/fraud/filings", json=_filing(company=GREEN_AIRLINE), headers=actors.m1
    ).json()["id"]
    assert api.get(f"/api/fraud/filings/{fid}", headers=actors.m2).status_code == 404
    r = api.post(
        f"/api/fraud/filings/{fid}/payments",
        json={"amount": "1", "paid_on": TODAY.isoformat()},
        headers=actors.m2,
    )
    assert r.status_code == 404
    r = api.post(
        f"/api/fraud/filings/{fid}/confirm-overdue", json={"still_unpaid": True}, headers=actors.m2
    )
    assert r.status_code == 404
    assert api.get("/api/fraud/filings", headers=actors.m2).json() == []
    assert api.get(f"/api/fraud/filings/{fid}", headers=actors.m1).status_code == 200
    # and investigators' routes are closed to merchants
    assert api.get("/api/fraud/companies/1", headers={**actors.m2, **PURPOSE}).status_code == 403


def test_overdue_detection_asks_the_merchant_then_raises_an_alert(
    api: TestClient, actors: Actors, services: Services
) -> None:
    """Past due and unpaid → overdue automatically; the merchant confirms; the risk rises."""
    cid = _company(api, actors, GREEN_AIRLINE)
    due = (TODAY + dt.timedelta(days=10)).isoformat()
    ids = []
    for hdr in (actors.m1, actors.m2):
        for _ in range(2):
            r = api.post(
                "/api/fraud/filings", json=_filing(cid, due_date=due, amount="800000"), headers=hdr
            )
            ids.append((hdr, r.json()["id"]))
    paid_ok = api.post(
        "/api/fraud/filings", json=_filing(cid, due_date=due), headers=actors.m1
    ).json()["id"]
    # a partially paid filing is still overdue; a fully paid one never becomes overdue
    for fid, amount in ((paid_ok, "120000"), (ids[0][1], "1000")):
        r = api.post(
            f"/api/fraud/filings/{fid}/payments",
            json={"amount": amount, "paid_on": TODAY.isoformat()},
            headers=actors.m1,
        )
        assert r.status_code == 200
    over = api.post(
        f"/api/fraud/filings/{paid_ok}/payments",
        json={"amount": "1", "paid_on": TODAY.isoformat()},
        headers=actors.m1,
    )
    assert over.status_code == 422 and "exceed" in over.text  # overpayment refused
    fsvc = services.fraud
    assert fsvc.sweep_overdue(today=TODAY) == []  # nothing is due yet
    assert fsvc.sweep_overdue(today=TODAY + dt.timedelta(days=11)) == [cid]
    asks = api.get("/api/fraud/filings?needs_confirmation=true", headers=actors.m1).json()
    assert sorted(f["id"] for f in asks) == sorted(i for h, i in ids if h is actors.m1)
    assert all(f["status"] == "overdue" for f in asks)
    assert api.get(f"/api/fraud/filings/{paid_ok}", headers=actors.m1).json()["status"] == "paid"
    for hdr, fid in ids:
        r = api.post(
            f"/api/fraud/filings/{fid}/confirm-overdue", json={"still_unpaid": True}, headers=hdr
        )
        assert r.json()["status"] == "confirmed_overdue"
    again = api.post(
        f"/api/fraud/filings/{ids[0][1]}/confirm-overdue",
        json={"still_unpaid": True},
        headers=actors.m1,
    )
    assert again.status_code == 409
    alerts = api.get("/api/fraud/alerts", headers=actors.inv1).json()
    assert len(alerts) == 1 and alerts[0]["level"] in ("high", "critical")
    factors = {x["factor"] for x in alerts[0]["reasons"]}
    assert {"overdue_count", "reporting_merchants", "overdue_amount"} <= factors


def test_filing_already_past_due_is_overdue_at_once(api: TestClient, actors: Actors) -> None:
    """A late filing does not wait for the next scheduled sweep."""
    past = (TODAY - dt.timedelta(days=10)).isoformat()
    fid = api.post(
        "/api/fraud/filings", json=_filing(company=GREEN_AIRLINE, due_date=past), headers=actors.m1
    ).json()["id"]
    f = api.get(f"/api/fraud/filings/{fid}", headers=actors.m1).json()
    assert f["status"] == "overdue" and f["needs_confirmation"] == 1


def _warn(api: TestClient, a: Actors, cid: int) -> int:
    r = api.post(
        "/api/fraud/warnings",
        json={
            "company_id": cid,
            "headline": "Green Airline does not pay",
            "description": "Five merchants report unpaid orders.",
            "severity": "Severe",
        },
        headers=a.inv1,
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_warning_needs_a_second_person_before_publishing(
    api: TestClient, actors: Actors, services: Services
) -> None:
    """Publishing a draft is refused; the author cannot approve; a colleague can; audited."""
    cid = _company(api, actors, GREEN_AIRLINE)
    wid = _warn(api, actors, cid)
    r = api.post(f"/api/fraud/warnings/{wid}/publish", headers=actors.inv1)
    assert r.status_code == 409 and "approve" in r.text
    r = api.post(f"/api/fraud/warnings/{wid}/approve", headers=actors.inv1)
    assert r.status_code == 403 and "second person" in r.text
    assert api.post(f"/api/fraud/warnings/{wid}/approve", headers=actors.m1).status_code == 403
    assert (
        api.post(f"/api/fraud/warnings/{wid}/approve", headers=actors.inv2).json()["state"]
        == "approved"
    )
    assert api.get(f"/api/fraud/public/warnings/{wid}.cap.xml").status_code == 404  # not yet public
    assert (
        api.post(f"/api/fraud/warnings/{wid}/publish", headers=actors.inv1).json()["state"]
        == "published"
    )
    xml = api.get(f"/api/fraud/public/warnings/{wid}.cap.xml")
    assert xml.status_code == 200 and b"urn:oasis:names:tc:emergency:cap:1.2" in xml.content
    assert api.get(f"/api/fraud/public/warnings/{wid}.cap.json").json()["msgType"] == "Alert"
    assert b"Green Airline does not pay" in api.get("/api/fraud/public/warnings.atom").content
    # A changed text waits for a second investigator; the public warning keeps the old one.
    r = api.patch(
        f"/api/fraud/warnings/{wid}",
        json={"headline": "Green Airline: unpaid orders"},
        headers=actors.inv2,
    )
    assert (
        r.status_code == 200 and r.json()["version"] == 1 and r.json()["pending_by"] == "inv-chen"
    )
    public = api.get(f"/api/fraud/public/warnings/{wid}.cap.json").json()
    assert public["msgType"] == "Alert" and "Airline: unpaid orders" not in json.dumps(public)
    r = api.post(f"/api/fraud/warnings/{wid}/approve", headers=actors.inv2)
    assert r.status_code == 403 and "second person" in r.text
    r = api.post(f"/api/fraud/warnings/{wid}/approve", headers=actors.inv1)
    assert r.json()["version"] == 2 and r.json()["pending"] is None
    public = api.get(f"/api/fraud/public/warnings/{wid}.cap.json").json()
    assert public["msgType"] == "Update" and "Airline: unpaid orders" in json.dumps(public)
    r = api.post(f"/api/fraud/warnings/{wid}/approve", headers=actors.inv2)
    assert r.status_code == 409 and "no change waiting" in r.text
    assert (
        api.post(f"/api/fraud/warnings/{wid}/cancel", headers=actors.inv1).json()["state"]
        == "cancelled"
    )
    assert api.get(f"/api/fraud/public/warnings/{wid}.cap.json").json()["msgType"] == "Cancel"
    assert b"<entry" not in api.get("/api/fraud/public/warnings.atom").content
    actions = [
        e["action"] for e in services.audit.search(subject_type="warning", subject_id=str(wid))
    ]
    assert actions == [
        "fraud.warning.cancel",
        "fraud.warning.approve_update",
        "fraud.warning.propose_update",
        "fraud.warning.publish",
        "fraud.warning.approve",
        "fraud.warning.draft",
    ]


def test_vest_scenario_end_to_end(api: TestClient, actors: Actors, services: Services) -> None:
    """Green Airline is warned; "Wobicha" appears with its phone and contact; a merchant's
    check on Wobicha (by any identifier) shows the warning, without anyone's filings."""
    old = _company(api, actors, GREEN_AIRLINE)
    api.post("/api/fraud/filings", json=_filing(old, amount="450000"), headers=actors.m2)
    wid = _warn(api, actors, old)
    api.post(f"/api/fraud/warnings/{wid}/approve", headers=actors.inv2)
    api.post(f"/api/fraud/warnings/{wid}/publish", headers=actors.inv1)
    wobicha = {
        "names": ["Wobicha Import & Export Co., Ltd"],
        "phones": ["0086 138 0013 8000"],
        "contacts": ["Xiaoming WANG"],
        "reg_codes": ["91330782MA9Z99999Q"],
    }
    r = api.post("/api/fraud/filings", json=_filing(company=wobicha), headers=actors.m1)
    new = r.json()["company_id"]
    assert new != old
    for q in ("Wobicha Imp & Exp Ltd", "+86 138 0013 8000", "91330782-MA9Z-99999Q"):
        res = api.get("/api/fraud/check", params={"q": q}, headers=actors.m1).json()
        [match] = [m for m in res["matches"] if m["company_id"] == new] or [None]
        assert match is not None, q
        assert [w["id"] for w in match["warnings"]] == [wid]
        assert match["warnings"][0]["via_alias"] is True
        assert match["risk"]["level"] in ("high", "critical")
        assert "Green Airline Trading Co., Ltd." in match["aliases"]
        text = str(res)
        assert "450000" not in text and "m-2" not in text and "13800138000" not in text
    # investigators are alerted: the new company's cluster carries a published warning
    alerts = api.get("/api/fraud/alerts", headers=actors.inv1).json()
    assert any(new in [c["id"] for c in a["companies"]] for a in alerts)
    links = api.get(f"/api/fraud/companies/{new}/links", headers={**actors.inv1, **PURPOSE}).json()
    [link] = links
    assert link["active"] and {s["kind"] for s in link["evidence"]["shared"]} == {
        "phone",
        "contact",
    }
    assert services.audit.search(action="fraud.links.read")[0]["purpose"] == PURPOSE["X-Purpose"]


def test_link_confirm_reject_undo_cycles(
    api: TestClient, actors: Actors, services: Services
) -> None:
    """Review-band link: confirm joins, undo splits, reject keeps apart, undo, confirm again…"""
    a = _company(api, actors, {"names": ["Alpha Trading"], "phones": ["13700137000"]})
    b = _company(api, actors, {"names": ["Beta Trading"], "phones": ["137 0013 7000"]})
    queue = api.get("/api/fraud/links/review", headers={**actors.inv1, **PURPOSE}).json()
    [link] = queue
    lid = link["id"]
    assert link["evidence"]["shared"][0]["kind"] == "phone"

    def cluster(cid: int) -> int:
        return services.db.query("select cluster_id from fraud_companies where id = ?", [cid])[0][
            "cluster_id"
        ]

    def decide(action: str) -> int:
        return api.post(
            f"/api/fraud/links/{lid}/decision", json={"action": action}, headers=actors.inv1
        ).status_code

    assert cluster(a) != cluster(b)
    for _ in range(3):
        assert decide("confirm") == 200 and cluster(a) == cluster(b)
        assert decide("confirm") == 409  # already confirmed
        assert decide("undo") == 200 and cluster(a) != cluster(b)
        assert decide("undo") == 409  # nothing to undo
        assert decide("reject") == 200 and cluster(a) != cluster(b)
        assert decide("undo") == 200
    assert decide("explode") == 422
    assert (
        api.post(
            "/api/fraud/links/999/decision", json={"action": "confirm"}, headers=actors.inv1
        ).status_code
        == 404
    )
    audited = services.audit.search(subject_type="link", subject_id=str(lid))
    assert len(audited) == 12
    history = api.get(f"/api/fraud/companies/{a}/links", headers={**actors.inv1, **PURPOSE}).json()[
        0
    ]["history"]
    assert [h["action"] for h in history][:3] == ["confirm", "undo", "reject"]


def test_rejecting_an_auto_link_hides_the_alias_warning(api: TestClient, actors: Actors) -> None:
    """An investigator rejects an automatic link: the check no longer shows the alias's warning."""
    old = _company(api, actors, GREEN_AIRLINE)
    wid = _warn(api, actors, old)
    api.post(f"/api/fraud/warnings/{wid}/approve", headers=actors.inv2)
    api.post(f"/api/fraud/warnings/{wid}/publish", headers=actors.inv1)
    new = _company(
        api,
        actors,
        {"names": ["Other Co"], "phones": ["13800138000"], "contacts": ["Wang Xiaoming"]},
    )
    [link] = api.get(f"/api/fraud/companies/{new}/links", headers={**actors.inv1, **PURPOSE}).json()
    check = lambda: api.get("/api/fraud/check", params={"q": "Other Co"}, headers=actors.m1).json()  # noqa: E731
    assert check()["matches"][0]["warnings"]
    api.post(
        f"/api/fraud/links/{link['id']}/decision", json={"action": "reject"}, headers=actors.inv1
    )
    assert check()["matches"][0]["warnings"] == []


def test_false_positive_list_unlinks_a_shared_agent(
    api: TestClient, actors: Actors, services: Services
) -> None:
    """Two companies using one logistics agent's phone and address are linked until the agent
    is listed as a known false positive; then the link drops and the check ignores the phone."""
    agent = {"phones": ["0579-8518 8888"], "addresses": ["No. 8 Futian Road, Room 101, Yiwu"]}
    a = _company(api, actors, {"names": ["Shipper One"], **agent})
    b = _company(api, actors, {"names": ["Shipper Two"], **agent})

    def cl(c: int) -> int:
        return services.db.query("select cluster_id from fraud_companies where id=?", [c])[0][
            "cluster_id"
        ]

    assert cl(a) == cl(b)
    for kind, value in (("phone", "0579 85188888"), ("address", agent["addresses"][0])):
        r = api.post(
            "/api/fraud/false-positives",
            json={"kind": kind, "value": value, "reason": "agent Hu"},
            headers=actors.inv1,
        )
        assert r.status_code == 201, r.text
    assert cl(a) != cl(b)
    res = api.get("/api/fraud/check", params={"q": "0579-85188888"}, headers=actors.m1).json()
    assert res["matches"] == [] and "shared identifier" in res["note"]
    c = _company(api, actors, {"names": ["Shipper Three"], **agent})
    assert len({cl(a), cl(b), cl(c)}) == 3


def test_company_read_is_audited_with_purpose(
    api: TestClient, actors: Actors, services: Services
) -> None:
    """Reading identifiers (phones, contacts, accounts) needs a purpose and leaves an audit row."""
    cid = _company(api, actors, GREEN_AIRLINE)
    assert api.get(f"/api/fraud/companies/{cid}", headers=actors.inv1).status_code == 422
    r = api.get(f"/api/fraud/companies/{cid}", headers={**actors.inv1, **PURPOSE})
    assert {i["kind"] for i in r.json()["identifiers"]} >= {"phone", "contact", "reg_code"}
    assert r.json()["risk"]["level"] == r.json()["company_risk"]["level"] == "low"
    [entry] = services.audit.search(action="fraud.company.read")
    assert entry["actor"] == "inv-li" and entry["subject_id"] == str(cid)
    r = api.get("/api/fraud/merchants/m-1", headers={**actors.inv1, **PURPOSE})
    assert r.json()["contact_phone"] == "13900000000"
    assert services.audit.search(action="fraud.merchant.read")


def test_tips_and_cases(api: TestClient, actors: Actors) -> None:
    """A merchant's tip with attachment metadata reaches the queue; a case takes it out."""
    cid = _company(api, actors, GREEN_AIRLINE)
    tip = {
        "company_id": cid,
        "text": "Asked for goods on credit again under a new name",
        "attachments": [
            {"name": "chat.png", "mime": "image/png", "size": 20480, "sha256": "ab" * 32}
        ],
    }
    r = api.post("/api/fraud/tips", json=tip, headers=actors.m1)
    assert r.status_code == 201
    assert (
        api.post("/api/fraud/tips", json={**tip, "company_id": 4242}, headers=actors.m1).status_code
        == 404
    )
    queue = api.get("/api/fraud/tips", headers={**actors.inv1, **PURPOSE}).json()
    assert queue[0]["attachments"][0]["name"] == "chat.png"
    r = api.post(
        "/api/fraud/cases",
        json={"title": "Green Airline", "company_ids": [cid], "tip_id": queue[0]["id"]},
        headers=actors.inv1,
    )
    assert r.status_code == 201
    assert api.get("/api/fraud/tips", headers={**actors.inv1, **PURPOSE}).json() == []


def test_overdue_amount_counts_what_is_still_unpaid_in_cny(
    api: TestClient, actors: Actors, services: Services
) -> None:
    """A USD filing half paid: the risk counts the unpaid half, converted to CNY."""
    cid = _company(api, actors, GREEN_AIRLINE)
    due = (TODAY + dt.timedelta(days=3)).isoformat()
    fid = api.post(
        "/api/fraud/filings",
        json=_filing(cid, amount="1000", currency="usd", due_date=due),
        headers=actors.m1,
    ).json()["id"]
    api.post(
        f"/api/fraud/filings/{fid}/payments",
        json={"amount": "500", "paid_on": TODAY.isoformat()},
        headers=actors.m1,
    )
    fsvc = services.fraud
    fsvc.sweep_overdue(today=TODAY + dt.timedelta(days=4))
    facts = fsvc.assessment.facts(cid)
    assert facts.overdue_count == 1 and facts.overdue_merchants == frozenset({"m-1"})
    assert facts.overdue_amount_cny == 500 * 7.1
