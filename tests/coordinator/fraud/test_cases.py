"""Cases as work: read and listed (filters, paging, audited), a tip kept in its case, tasks,
notes, the outcome and its losses; tips' files encrypted; company profiles; the figures."""

from __future__ import annotations

import hashlib
import struct
import zlib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from coordinator.container import Services
from coordinator.fraud.profiles import licence_check_digit, uscc_check_char
from tests.harness.fraud import GREEN_AIRLINE, Actors

PURPOSE = {"X-Purpose": "case 2026-17 vest investigation"}


def png(extra: bytes = b"") -> bytes:
    """A real 1×1 PNG (with ``extra`` in a text chunk, to vary the bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"tEXt", b"note\x00" + extra)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


def uscc(body17: str = "91330782MA2K1234") -> str:
    """A unified social credit code with its right check character."""
    body17 = (body17 + "0" * 17)[:17]
    return body17 + uscc_check_char(body17)


def _company(api: TestClient, a: Actors, body: dict) -> int:
    r = api.post("/api/fraud/companies", json=body, headers=a.inv1)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _tip(api: TestClient, a: Actors, cid: int | None, text: str = "Ordered on credit again") -> int:
    r = api.post("/api/fraud/tips", json={"company_id": cid, "text": text}, headers=a.m1)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _case(api: TestClient, a: Actors, **body: object) -> int:
    r = api.post("/api/fraud/cases", json={"title": "Green Airline", **body}, headers=a.inv1)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_a_case_opened_from_a_tip_keeps_the_tip_readable(
    api: TestClient, actors: Actors, services: Services
) -> None:
    """The tip leaves the queue and is read inside its case; both reads are audited."""
    cid = _company(api, actors, GREEN_AIRLINE)
    tid = _tip(api, actors, cid, "Asked for goods on credit under a new name")
    case_id = _case(api, actors, tip_id=tid)  # the tip's company joins the case
    assert api.get("/api/fraud/tips", headers={**actors.inv1, **PURPOSE}).json() == []
    assert api.get(f"/api/fraud/cases/{case_id}", headers=actors.inv1).status_code == 422
    r = api.get(f"/api/fraud/cases/{case_id}", headers={**actors.inv1, **PURPOSE})
    assert r.status_code == 200, r.text
    c = r.json()
    assert [t["id"] for t in c["tips"]] == [tid]
    assert c["tips"][0]["text"] == "Asked for goods on credit under a new name"
    assert c["tips"][0]["reporter"] == "merchant-1"
    assert [x["id"] for x in c["companies"]] == [cid] and c["assignee"] == "inv-li"
    [read] = services.audit.search(action="fraud.case.read")
    assert read["actor"] == "inv-li" and read["purpose"] == PURPOSE["X-Purpose"]
    assert api.get("/api/fraud/cases/999", headers={**actors.inv1, **PURPOSE}).status_code == 404
    assert (
        api.get(f"/api/fraud/cases/{case_id}", headers={**actors.m1, **PURPOSE}).status_code == 403
    )
    # a tip belongs to one case
    r = api.post("/api/fraud/cases", json={"title": "Other", "tip_id": tid}, headers=actors.inv2)
    assert r.status_code == 409 and f"case {case_id}" in r.text


def test_the_case_list_filters_and_pages(
    api: TestClient, actors: Actors, services: Services
) -> None:
    cid = _company(api, actors, GREEN_AIRLINE)
    ids = [_case(api, actors, title=f"Green Airline {i}", company_ids=[cid]) for i in range(5)]
    other = _case(api, actors, title="Blue River", company_ids=[cid], assignee="inv-chen")
    h = {**actors.inv1, **PURPOSE}
    page = api.get("/api/fraud/cases", params={"limit": 2, "offset": 2}, headers=h).json()
    assert page["total"] == 6 and [c["id"] for c in page["items"]] == [ids[3], ids[2]]
    assert page["items"][0]["companies"] == [{"id": cid, "display_name": GREEN_AIRLINE["names"][0]}]
    r = api.get("/api/fraud/cases", params={"assignee": "inv-chen"}, headers=h).json()
    assert [c["id"] for c in r["items"]] == [other]
    r = api.get("/api/fraud/cases", params={"q": "river"}, headers=h).json()
    assert [c["id"] for c in r["items"]] == [other]
    r = api.get("/api/fraud/cases", params={"q": "%"}, headers=h).json()
    assert r["total"] == 0  # a wildcard is a character, not a pattern
    r = api.get("/api/fraud/cases", params={"company_id": cid, "status": "open"}, headers=h)
    assert r.json()["total"] == 6
    assert api.get("/api/fraud/cases", params={"limit": 500}, headers=h).status_code == 422
    assert api.get("/api/fraud/cases", params={"status": "gone"}, headers=h).status_code == 422
    assert api.get("/api/fraud/cases", headers=actors.inv1).status_code == 422  # no purpose
    entries = services.audit.search(action="fraud.cases.read")
    assert entries and all(e["actor"] == "inv-li" for e in entries)


def test_tasks_notes_and_the_outcome_close_a_case_into_the_figures(
    api: TestClient, actors: Actors
) -> None:
    cid = _company(api, actors, GREEN_AIRLINE)
    case_id = _case(api, actors, company_ids=[cid])
    base = f"/api/fraud/cases/{case_id}"
    h = {**actors.inv1, **PURPOSE}
    r = api.post(f"{base}/tasks", json={"title": "Call the registry", "assignee": "inv-chen",
                                          "due_date": "2030-01-31"}, headers=actors.inv1)  # fmt: skip
    assert r.status_code == 201, r.text
    task = r.json()["id"]
    assert api.post(f"{base}/notes", json={"text": "Same bank account as the old name"},
                    headers=actors.inv1).status_code == 201  # fmt: skip
    outcome = {"outcome": "fraud_prevented", "losses_avoided_yuan": "2350000.50",
               "note": "Merchants warned before shipping"}  # fmt: skip
    r = api.post(f"{base}/outcome", json=outcome, headers=actors.inv1)
    assert r.status_code == 409 and "open tasks" in r.text
    r = api.post(f"{base}/outcome", json={**outcome, "outcome": "no_fraud"}, headers=actors.inv1)
    assert r.status_code == 422 and "losses" in r.text
    bad = {**outcome, "losses_avoided_yuan": "-1"}
    assert api.post(f"{base}/outcome", json=bad, headers=actors.inv1).status_code == 422
    r = api.patch(f"{base}/tasks/{task}", json={"done": True}, headers=actors.inv2)
    assert r.status_code == 200
    before = api.get("/api/fraud/stats", headers=actors.inv1).json()
    assert api.post(f"{base}/outcome", json=outcome, headers=actors.inv1).status_code == 200
    c = api.get(base, headers=h).json()
    assert c["status"] == "closed" and c["outcome"] == "fraud_prevented"
    assert c["losses_avoided_cents"] == 235000050 and c["tasks"][0]["done_by"] == "inv-chen"
    assert c["notes"][0]["text"] == "Same bank account as the old name"
    after = api.get("/api/fraud/stats", headers=actors.inv1).json()
    assert after["frauds_found_early"] == before["frauds_found_early"] + 1
    assert after["losses_avoided_cents"] == before["losses_avoided_cents"] + 235000050
    # closed: no more changes until reopened, which withdraws it from the figures
    r = api.post(f"{base}/notes", json={"text": "late"}, headers=actors.inv1)
    assert r.status_code == 409
    r = api.post(f"{base}/reopen", json={"text": "The buyer paid after all"}, headers=actors.inv1)
    assert r.status_code == 200
    assert api.get("/api/fraud/stats", headers=actors.inv1).json() == before
    assert api.patch(base, json={"status": "closed"}, headers=actors.inv1).status_code == 422


def test_tip_files_are_encrypted_typed_capped_and_downloads_audited(
    api: TestClient, actors: Actors, services: Services
) -> None:
    tid = _tip(api, actors, None)
    data = png(b"bank slip")
    up = "/api/fraud/attachments"
    r = api.post(up, params={"tip_id": tid, "name": "slip.png"}, content=data,
                 headers={**actors.m1, "Content-Type": "image/png"})  # fmt: skip
    assert r.status_code == 201, r.text
    aid = r.json()["id"]
    assert (
        r.json()["sha256"] == hashlib.sha256(data).hexdigest() and r.json()["mime"] == "image/png"
    )
    # a text file called .png, a PNG declared as a PDF, another merchant, an empty body
    refused = [
        (b"hello, this is text", "image/png", actors.m1, 422),
        (data, "application/pdf", actors.m1, 422),
        (data, "image/png", actors.m2, 404),
        (b"", "image/png", actors.m1, 422),
    ]
    for body, ctype, who, status in refused:
        r = api.post(up, params={"tip_id": tid, "name": "x.png"}, content=body,
                     headers={**who, "Content-Type": ctype})  # fmt: skip
        assert r.status_code == status, (ctype, r.text)
    big = png(b"x" * (10 * 1024 * 1024))
    r = api.post(up, params={"tip_id": tid, "name": "big.png"}, content=big,
                 headers={**actors.m1, "Content-Type": "image/png"})  # fmt: skip
    assert r.status_code == 422 and "limit" in r.text
    # nothing of the file is on disk in clear
    bodies = list(Path(services.settings.data_dir, "files").rglob("*.bin"))
    assert len(bodies) == 1 and b"bank slip" not in bodies[0].read_bytes()
    mine = api.get("/api/fraud/tips/mine", headers=actors.m1).json()
    assert [f["id"] for f in mine[0]["files"]] == [aid]
    assert api.get(f"/api/fraud/attachments/{aid}", headers=actors.m1).status_code == 403
    assert api.get(f"/api/fraud/attachments/{aid}", headers=actors.inv1).status_code == 422
    r = api.get(f"/api/fraud/attachments/{aid}", headers={**actors.inv1, **PURPOSE})
    assert r.status_code == 200 and r.content == data
    assert "attachment" in r.headers["content-disposition"]
    [read] = services.audit.search(action="file.read")
    assert read["actor"] == "inv-li" and read["purpose"] == PURPOSE["X-Purpose"]
    case_id = _case(api, actors, tip_id=tid)
    c = api.get(f"/api/fraud/cases/{case_id}", headers={**actors.inv1, **PURPOSE}).json()
    assert [f["name"] for f in c["tips"][0]["files"]] == ["slip.png"]


def test_a_registry_profile_makes_a_company_profiled_and_links_its_vest(
    api: TestClient, actors: Actors
) -> None:
    cid = _company(api, actors, {"names": ["Green Airline Trading Co., Ltd."]})
    vest = _company(api, actors, {"names": ["Blue Sky Trading"], "reg_codes": [uscc()]})
    profile = {
        "uscc": uscc(), "legal_rep": "王小明", "registered_address": "义乌市稠州北路 501 室",
        "registered_capital_yuan": "1000000", "founding_date": "2021-03-01",
        "business_scope": "日用百货进出口", "reg_status": "in_business", "source": "公示系统",
    }  # fmt: skip
    h = {**actors.inv1, **PURPOSE}
    typo = {**profile, "uscc": uscc()[:-1] + ("0" if uscc()[-1] != "0" else "1")}
    r = api.put(f"/api/fraud/companies/{cid}/profile", json=typo, headers=h)
    assert r.status_code == 422 and "check character" in r.text
    bad_licence = {**profile, "uscc": None, "licence_no": "330782000123450"}
    if licence_check_digit("33078200012345") != "0":
        r = api.put(f"/api/fraud/companies/{cid}/profile", json=bad_licence, headers=h)
        assert r.status_code == 422
    r = api.put(f"/api/fraud/companies/{cid}/profile", json={**profile, "uscc": None}, headers=h)
    assert r.status_code == 422 and "credit code" in r.text
    r = api.put(f"/api/fraud/companies/{cid}/profile", json=profile, headers=h)
    assert r.status_code == 200, r.text
    c = r.json()
    assert c["state"] == "profiled" and c["profile"]["legal_rep"] == "王小明"
    assert c["profile"]["registered_capital_cents"] == 100_000_000
    assert vest in [a["id"] for a in c["aliases"]]  # the same credit code links them
    net = api.get(f"/api/fraud/companies/{cid}/network", headers=h).json()
    assert {m["id"] for m in net["members"]} == {cid, vest}
    [link] = [lk for lk in net["links"] if {lk["a"], lk["b"]} == {cid, vest}]
    assert link["active"] and any(s["kind"] == "reg_code" for s in link["evidence"]["shared"])
    page = api.get("/api/fraud/companies", params={"state": "profiled"}, headers=h).json()
    assert [x["id"] for x in page["items"]] == [cid] and page["items"][0]["uscc"] == uscc()
    stats = api.get("/api/fraud/stats", headers=actors.inv1).json()
    assert stats["companies_profiled"] == 1 and stats["companies_checked"] == 1


def test_a_warning_is_approved_through_the_approvals_service(
    api: TestClient, actors: Actors, services: Services
) -> None:
    """The draft files a request; its author cannot decide it; a colleague approves it in the
    approvals queue; an expired request is asked again by the author."""
    cid = _company(api, actors, GREEN_AIRLINE)
    w = {
        "company_id": cid,
        "headline": "Unpaid orders",
        "description": "Goods shipped, never paid.",
    }
    wid = api.post("/api/fraud/warnings", json=w, headers=actors.inv1).json()["id"]
    queue = api.get("/api/approvals", params={"kind": "fraud.warning"}, headers=actors.inv2).json()
    [req] = [q for q in queue if q["subject_id"] == str(wid)]
    assert req["requested_by"] == "inv-li" and req["can_decide"] and req["state"] == "pending"
    r = api.post(f"/api/approvals/{req['id']}/approve", json={}, headers=actors.inv1)
    assert r.status_code == 403
    r = api.post(f"/api/approvals/{req['id']}/approve", json={}, headers=actors.inv2)
    assert r.status_code == 200, r.text
    assert api.get("/api/fraud/warnings", headers=actors.inv1).json()[0]["state"] == "approved"
    # a second draft whose request expires
    wid2 = api.post("/api/fraud/warnings", json=w, headers=actors.inv1).json()["id"]
    services.db.execute_write(
        "update approval_requests set pending_until = 0 where subject_id = ?", [str(wid2)]
    )
    assert services.approvals.expire_due() == 1
    r = api.post(f"/api/fraud/warnings/{wid2}/approve", headers=actors.inv2)
    assert r.status_code == 409 and "asks again" in r.text
    r = api.post(f"/api/fraud/warnings/{wid2}/request-approval", headers=actors.inv2)
    assert r.status_code == 403  # only the author asks
    r = api.post(f"/api/fraud/warnings/{wid2}/request-approval", headers=actors.inv1)
    assert r.status_code == 200
    r = api.post(f"/api/fraud/warnings/{wid2}/approve", headers=actors.inv2)
    assert r.status_code == 200 and r.json()["state"] == "approved"
    actions = [e["action"] for e in services.audit.search(subject_type="approval")]
    assert "approval_expired" in actions and "approval_approved" in actions


@pytest.mark.parametrize("body", [{"company_id": 1, "tip_id": 1}, {}])
def test_a_link_names_exactly_one_thing(api: TestClient, actors: Actors, body: dict) -> None:
    cid = _company(api, actors, GREEN_AIRLINE)
    case_id = _case(api, actors, company_ids=[cid])
    r = api.post(f"/api/fraud/cases/{case_id}/links", json=body, headers=actors.inv1)
    assert r.status_code == 422 and "exactly one" in r.text
