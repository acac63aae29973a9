"""A change of address is one operation: the current registration ends as moved out and the
new one opens in the same write transaction, audited, checked like any registration, and
counting towards a permit from the day it was recorded."""

from __future__ import annotations

import sqlite3

import pytest

from coordinator.identity.auth import Role
from tests.harness.api import PASSWORD, bearer, login, seeded_secret
from tests.harness.population import PURPOSE, person_data

P = "/api/population"


def _resident(api, h, n, since="2026-01-10", zone="Z01"):
    """A person with one registered (own) residence in ``zone``."""
    r = api.post(f"{P}/persons", headers=h, json=person_data(n, zone=zone))
    assert r.status_code == 201, r.text
    person = r.json()["person"]
    r = api.post(f"{P}/registrations", headers=h, json={
        "person_id": person["id"], "kind": "own", "address": "稠城街道 宾王路 3号", "zone": zone,
        "valid_from": since, "status": "registered"})  # fmt: skip
    assert r.status_code == 201, r.text
    return person, r.json()


def _house(api, h, landlord_id, zone="Z01"):
    r = api.post(f"{P}/houses", headers=h,
                 json={"address": "北苑街道 春晗路 18号", "zone": zone, "landlord_id": landlord_id})  # fmt: skip
    assert r.status_code == 201, r.text
    return r.json()


def _regs(services, pid):
    return services.population.ctx.db.query(
        "select id, status, valid_to from pop_registrations where person_id = ? order by id", [pid]
    )


def test_a_move_ends_the_current_registration_and_opens_the_new_one(
    api, officer_tokens, services, clock
):
    h = officer_tokens["officer-a"]
    person, old = _resident(api, h, 71)
    landlord = api.post(f"{P}/persons", headers=h, json=person_data(72)).json()["person"]
    house = _house(api, h, landlord["id"])
    r = api.post(f"{P}/persons/{person['id']}/move", headers=h,
                 json={"house_id": house["id"], "valid_from": "2026-05-20",
                       "note": "moved for work"})  # fmt: skip
    assert r.status_code == 201, r.text
    out = r.json()
    new = out["registration"]
    assert out["moved_out"] == [old["id"]]
    assert (new["status"], new["address"], new["valid_from"]) == (
        "registered", house["address"], "2026-05-20")  # fmt: skip
    # the move date is kept, but like every registration it counts from the day recorded
    assert new["recorded_on"] == new["counts_from"] == "2026-06-01"
    assert _regs(services, person["id"]) == [
        {"id": old["id"], "status": "moved_out", "valid_to": "2026-05-20"},
        {"id": new["id"], "status": "registered", "valid_to": None},
    ]
    ended = api.get(f"{P}/registrations/{old['id']}", headers=h).json()
    assert ended["history"][-1]["to_status"] == "moved_out"
    assert f"registration {new['id']}: moved for work" in ended["history"][-1]["note"]
    # one audit entry for the one operation, naming both registrations
    moves = services.audit.search(actor="officer-a", action="move", limit=10)
    assert len(moves) == 1 and moves[0]["purpose"] == PURPOSE["X-Purpose"]
    # moving into the same house again is refused on its field
    r = api.post(f"{P}/persons/{person['id']}/move", headers=h, json={"house_id": house["id"]})
    assert r.status_code == 422 and r.json()["detail"].startswith("house_id:")


def test_a_refused_move_leaves_the_current_registration_as_it_was(
    api, officer_tokens, services, clock
):
    h = officer_tokens["officer-a"]
    person, old = _resident(api, h, 73)
    before = _regs(services, person["id"])
    refusals = [
        ({"house_id": 99999}, 422, "house_id:"),  # no such letting
        ({"kind": "own", "zone": "Z01"}, 422, "address:"),  # nowhere to go
        ({"kind": "own", "address": "x 1号", "zone": "Z01", "valid_from": "2026-06-05"}, 422,
         "valid_from:"),  # a move lies in the past or today
        ({"kind": "own", "address": "x 1号", "zone": "Z01", "valid_from": "2025-12-31"}, 422,
         "valid_from:"),  # before the current registration began
    ]  # fmt: skip
    for body, code, start in refusals:
        r = api.post(f"{P}/persons/{person['id']}/move", headers=h, json=body)
        assert r.status_code == code and r.json()["detail"].startswith(start), (body, r.text)
    assert _regs(services, person["id"]) == before
    # a failure at the transaction's last step (the database refuses the moved-out history
    # row, after the new registration and its audit entry were written) rolls it all back
    db = services.population.ctx.db
    db.write(lambda d: d.execute(
        "create trigger test_refuse before insert on pop_reg_history "
        "when new.to_status = 'moved_out' begin select raise(abort, 'disk says no'); end"))  # fmt: skip
    try:
        with pytest.raises(sqlite3.IntegrityError, match="disk says no"):  # a 500 to a client
            api.post(f"{P}/persons/{person['id']}/move", headers=h,
                     json={"kind": "own", "address": "义乌 江滨路 2号", "zone": "Z01"})  # fmt: skip
    finally:
        db.write(lambda d: d.execute("drop trigger test_refuse"))
    assert _regs(services, person["id"]) == before
    assert db.query("select count(*) n from pop_registrations where person_id = ?",
                    [person["id"]])[0]["n"] == 1  # fmt: skip
    assert services.audit.search(actor="officer-a", action="move", limit=10) == []
    # a person with nothing current registers a residence instead of moving
    other = api.post(f"{P}/persons", headers=h, json=person_data(74)).json()["person"]
    r = api.post(f"{P}/persons/{other['id']}/move", headers=h,
                 json={"kind": "own", "address": "x 1号", "zone": "Z01"})  # fmt: skip
    assert r.status_code == 409 and "register a residence instead" in r.json()["detail"]


def test_a_move_stays_within_the_officers_zones(api, officer_tokens, services, clock):
    ha, hb = officer_tokens["officer-a"], officer_tokens["officer-b"]
    person, old = _resident(api, ha, 75)
    to_z02 = {"kind": "own", "address": "佛堂镇 老街 5号", "zone": "Z02"}
    # into a zone outside the officer's: refused, nothing changes
    r = api.post(f"{P}/persons/{person['id']}/move", headers=ha, json=to_z02)
    assert r.status_code == 403 and "Z02" in r.json()["detail"]
    # an officer of the other zone cannot end a registration outside theirs
    r = api.post(f"{P}/persons/{person['id']}/move", headers=hb, json=to_z02)
    assert r.status_code == 403
    assert _regs(services, person["id"]) == [
        {"id": old["id"], "status": "registered", "valid_to": None}
    ]
    # an officer of both zones moves the person across
    services.auth.create_user("officer-ab", PASSWORD, [Role.POPULATION_OFFICER],
                              zones=["Z01", "Z02"], totp_secret=seeded_secret("officer-ab"))  # fmt: skip
    hab = {**bearer(login(api, "officer-ab")), **PURPOSE}
    r = api.post(f"{P}/persons/{person['id']}/move", headers=hab, json=to_z02)
    assert r.status_code == 201, r.text
    assert api.get(f"{P}/persons/{person['id']}", headers=hb).json()["zone"] == "Z02"
    assert api.get(f"{P}/persons/{person['id']}", headers=ha).status_code == 403
