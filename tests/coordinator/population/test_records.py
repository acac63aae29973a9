"""Persons and registrations through the real API: lifecycle, validation, jurisdiction."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from coordinator.identity.auth import Role
from tests.harness.population import officer, person_data

P = "/api/population"


def _person(api, h, n=0, **over):
    r = api.post(f"{P}/persons", headers=h, json=person_data(n, **over))
    assert r.status_code == 201, r.text
    return r.json()["person"]


def _house(api, h, landlord_id, zone="Z01"):
    r = api.post(f"{P}/houses", headers=h,
                 json={"address": "稠城街道 工人北路 12号", "zone": zone, "landlord_id": landlord_id})  # fmt: skip
    assert r.status_code == 201, r.text
    return r.json()


def test_registration_lifecycle(api, officer_tokens):
    h = officer_tokens["officer-a"]
    landlord = _person(api, h, 1)
    tenant = _person(api, h, 2)
    house = _house(api, h, landlord["id"])
    r = api.post(f"{P}/registrations", headers=h, json={
        "person_id": tenant["id"], "house_id": house["id"], "valid_from": "2026-01-10"})  # fmt: skip
    assert r.status_code == 201, r.text
    reg = r.json()
    assert reg["status"] == "draft" and reg["address"] == house["address"]
    drafts = api.get(f"{P}/registrations", headers=h, params={"status": "draft"}).json()
    assert [x["id"] for x in drafts] == [reg["id"]] and drafts[0]["name"] == tenant["name"]
    assert api.get(f"{P}/registrations", headers=officer_tokens["officer-b"]).json() == []
    for to in ("registered", "moved_out", "archived"):
        r = api.post(f"{P}/registrations/{reg['id']}/status", headers=h, json={"status": to})
        assert r.status_code == 200, r.text
    hist = r.json()["history"]
    assert [x["to_status"] for x in hist] == ["draft", "registered", "moved_out", "archived"]
    assert r.json()["valid_to"] is not None  # moving out closes the period
    # archived is final
    r = api.post(f"{P}/registrations/{reg['id']}/status", headers=h, json={"status": "registered"})
    assert r.status_code == 409 and "archived" in r.json()["detail"]
    detail = api.get(f"{P}/persons/{tenant['id']}", headers=h).json()
    assert detail["closed_at"] is not None  # retention clock started


def test_registration_for_an_unregistered_rented_house_is_refused(api, officer_tokens):
    h = officer_tokens["officer-a"]
    tenant = _person(api, h, 3)
    r = api.post(f"{P}/registrations", headers=h, json={"person_id": tenant["id"], "house_id": 999})
    assert r.status_code == 422 and "landlord must register the letting" in r.json()["detail"]
    landlord = _person(api, h, 4)
    house = _house(api, h, landlord["id"])
    assert api.post(f"{P}/houses/{house['id']}/withdraw", headers=h).status_code == 200
    r = api.post(f"{P}/registrations", headers=h,
                 json={"person_id": tenant["id"], "house_id": house["id"]})  # fmt: skip
    assert r.status_code == 422 and "not a registered rented house" in r.json()["detail"]


@pytest.mark.parametrize(
    "over,problem",
    [
        ({"id_number": "110105194912310021"}, "check digit"),
        ({"id_number": "110105194902300028"}, "impossible birth date"),
        ({"dob": "1990-02-30"}, "impossible date"),
        ({"sex": "F"}, "sex encoded"),
        ({"name": "x" * 101}, "name"),
        ({"name": "12345"}, "letters"),
        ({"phone": "call me"}, "phone"),
        ({"zone": "Z01; drop table"}, "zone"),
        ({"nationality": "US"}, "CN national"),
        (
            {"id_type": "passport", "id_number": "E12345678", "nationality": "PK"},
            "dob: is required",
        ),
    ],
)
def test_bad_person_input_gets_a_clear_422(api, officer_tokens, over, problem):
    r = api.post(f"{P}/persons", headers=officer_tokens["officer-a"], json=person_data(9, **over))
    assert r.status_code == 422 and problem in r.json()["detail"], r.text


def test_no_ethnicity_or_religion_can_be_stored(api, officer_tokens):
    r = api.post(f"{P}/persons", headers=officer_tokens["officer-a"],
                 json={**person_data(5), "ethnicity": "x"})  # fmt: skip
    assert r.status_code == 422


def test_purpose_header_is_required(api, officer_tokens):
    h = dict(officer_tokens["officer-a"])
    h.pop("X-Purpose")
    r = api.get(f"{P}/persons/search", headers=h, params={"name": "李伟"})
    assert r.status_code == 422 and "X-Purpose" in r.json()["detail"]


def test_a_chinese_purpose_sent_percent_encoded_is_audited_as_typed(api, officer_tokens, services):
    # HTTP headers carry Latin-1 only: the dashboard percent-encodes the UTF-8 it was typed in.
    h = {**officer_tokens["officer-a"], "X-Purpose": quote("居住核查，案件 12")}
    r = api.get(f"{P}/persons/search", headers=h, params={"name": "李伟"})
    assert r.status_code == 200, r.text
    audit = services.audit.search(actor="officer-a")
    assert any(e["purpose"] == "居住核查，案件 12" for e in audit)
    # A plain ASCII purpose is read as it is.
    h["X-Purpose"] = "residence check, case 12"
    assert api.get(f"{P}/persons/search", headers=h, params={"name": "李伟"}).status_code == 200
    assert any(
        e["purpose"] == "residence check, case 12" for e in services.audit.search(actor="officer-a")
    )


def test_jurisdiction_and_break_the_glass(api, officer_tokens, pop, clock):
    a, b = officer_tokens["officer-a"], officer_tokens["officer-b"]
    p = _person(api, a, 6)
    # officer-b (zone Z02) cannot read a Z01 person, nor create one there
    r = api.get(f"{P}/persons/{p['id']}", headers=b)
    assert r.status_code == 403 and "break-the-glass" in r.json()["detail"]
    assert api.post(f"{P}/persons", headers=b, json=person_data(7)).status_code == 403
    # the exact lookup tells officer-b the match exists elsewhere, without any detail
    r = api.post(f"{P}/persons/lookup", headers=b,
                 json={"id_type": "prc_id", "id_number": person_data(6)["id_number"]})  # fmt: skip
    assert r.json() == {"results": [], "outside_jurisdiction": [{"id": p["id"], "zone": "Z01"}]}
    # a reason is mandatory, and must read as one
    r = api.post(f"{P}/break-glass", headers=b, json={"person_id": p["id"], "reason": "need"})
    assert r.status_code == 422
    r = api.post(f"{P}/break-glass", headers=b,
                 json={"person_id": p["id"], "reason": "aaaaaaaaaaaaaaaaaaaa"})  # fmt: skip
    assert r.status_code == 422
    r = api.post(f"{P}/break-glass", headers=b,
                 json={"person_id": p["id"], "reason": "wage dispute hotline call 2026-117"})  # fmt: skip
    assert r.status_code == 202 and r.json()["state"] == "pending"
    # the request alone opens nothing: a data-access approver must approve it
    assert api.get(f"{P}/persons/{p['id']}", headers=b).status_code == 403
    approver = officer("approver-1", (), roles=(Role.DATA_ACCESS_APPROVER,))
    pop.access.approvals.approve(approver, r.json()["id"], "checked with the duty desk")
    assert api.get(f"{P}/persons/{p['id']}", headers=b).status_code == 200
    audit = pop.ctx.audit.search(actor="officer-b", action="approval_requested")
    assert audit and "wage dispute" in audit[0]["detail"]
    assert pop.ctx.audit.search(actor="approver-1", action="approval_approved")
    # one hour after the approval the grant has expired
    clock.t += 3601
    assert api.get(f"{P}/persons/{p['id']}", headers=b).status_code == 403


def test_reveal_id_number_is_audited_separately(api, officer_tokens, pop):
    h = officer_tokens["officer-a"]
    p = _person(api, h, 8)
    full = api.get(f"{P}/persons/{p['id']}", headers=h, params={"reveal_id": True}).json()
    assert full["id_number"] == person_data(8)["id_number"]
    assert "id_number" not in api.get(f"{P}/persons/{p['id']}", headers=h).json()
    actions = [e["action"] for e in pop.ctx.audit.search(subject_id=str(p["id"]))]
    assert "reveal_id" in actions and "read" in actions


def test_update_reindexes_the_name(api, officer_tokens):
    h = officer_tokens["officer-a"]
    p = _person(api, h, 10)
    r = api.patch(f"{P}/persons/{p['id']}", headers=h, json={"name": "赵丽颖"})
    assert r.status_code == 200 and r.json()["name_latin"] == "zhao liying"
    found = api.get(f"{P}/persons/search", headers=h, params={"name": "赵丽颖"}).json()
    assert [x["id"] for x in found] == [p["id"]]
    assert api.get(f"{P}/persons/search", headers=h, params={"name": p["name"]}).json() == []


def test_registrations_past_valid_to_expire(api, officer_tokens, pop):
    import datetime as dt

    h = officer_tokens["officer-a"]
    p = _person(api, h, 11)
    r = api.post(f"{P}/registrations", headers=h, json={
        "person_id": p["id"], "kind": "own", "address": "佛堂镇 5号", "zone": "Z01",
        "valid_from": "2025-01-01", "valid_to": "2025-12-31", "status": "registered"})  # fmt: skip
    assert pop.records.expire_due(dt.date(2025, 12, 31)) == 0
    assert pop.records.expire_due(dt.date(2026, 1, 1)) == 1
    reg = api.get(f"{P}/registrations/{r.json()['id']}", headers=h).json()
    assert reg["status"] == "expired" and reg["history"][-1]["actor"] == "system"


@pytest.mark.parametrize(
    "method,path,body",
    [
        ("GET", "/persons/99999999999999999999", None),
        ("POST", "/registrations", {"person_id": 10**20}),
        ("POST", "/break-glass", {"person_id": 10**20, "reason": "a long enough reason"}),
        ("POST", "/persons/0/erase", {"reason": "a long enough reason"}),
    ],
)
def test_ids_beyond_sqlite_range_get_422_not_500(api, officer_tokens, method, path, body):
    r = api.request(method, P + path, headers=officer_tokens["officer-a"], json=body)
    assert r.status_code == 422, r.text
