"""Dates that cannot be gamed: a registration counts towards a residence permit from the day
it was recorded; an earlier date needs a reason and a second officer (the approvals
service); historical registrations count once their import batch is approved."""

from __future__ import annotations

import csv
import hashlib

from coordinator.identity.auth import Role
from coordinator.population.importer import COLUMNS
from devtools.population_data import population
from tests.harness.api import PASSWORD, bearer, login, seeded_secret
from tests.harness.population import PURPOSE, person_data

P = "/api/population"
REASON = "tenancy contract dated 1 September 2025 seen at the counter"


def _second_officer(api, services, name="officer-c"):
    services.auth.create_user(name, PASSWORD, [Role.POPULATION_OFFICER], zones=["Z01"],
                              totp_secret=seeded_secret(name))  # fmt: skip
    return {**bearer(login(api, name)), **PURPOSE}


def _own(pid, since, **more):
    return {"person_id": pid, "kind": "own", "address": "稠城街道 8号", "zone": "Z01",
            "valid_from": since, "status": "registered", **more}  # fmt: skip


def test_a_registration_made_today_with_an_earlier_date_gives_no_permit(api, officer_tokens, clock):
    """The exact hole: created today, valid_from eight months back, permit at once."""
    h = officer_tokens["officer-a"]
    p = api.post(f"{P}/persons", headers=h, json=person_data(61)).json()["person"]
    r = api.post(f"{P}/registrations", headers=h, json=_own(p["id"], "2025-10-01"))
    assert r.status_code == 201, r.text
    reg = r.json()
    assert reg["valid_from"] == "2025-10-01"  # what the tenant said is kept
    assert reg["recorded_on"] == reg["counts_from"] == "2026-06-01"
    e = api.get(f"{P}/persons/{p['id']}/permit-eligibility", headers=h).json()
    assert not e["eligible"] and e["since"] == "2026-06-01"
    r = api.post(f"{P}/persons/{p['id']}/permits", headers=h)
    assert r.status_code == 409 and "from 2026-12-01" in r.json()["detail"]
    # six months after it was recorded it counts, as it should
    clock.t += 184 * 86400
    assert api.post(f"{P}/persons/{p['id']}/permits", headers=h).status_code == 201


def test_an_earlier_date_counts_once_a_second_officer_approves(
    api, officer_tokens, clock, services
):
    h = officer_tokens["officer-a"]
    p = api.post(f"{P}/persons", headers=h, json=person_data(62)).json()["person"]
    # a junk reason is refused on its field before anything is written
    r = api.post(f"{P}/registrations", headers=h,
                 json=_own(p["id"], "2025-09-01", backdate_reason="because"))  # fmt: skip
    assert r.status_code == 422 and r.json()["detail"].startswith("backdate_reason:")
    assert services.population.ctx.db.query("select count(*) n from pop_registrations")[0]["n"] == 0
    r = api.post(f"{P}/registrations", headers=h,
                 json=_own(p["id"], "2025-09-01", backdate_reason=REASON))  # fmt: skip
    assert r.status_code == 201, r.text
    reg = r.json()
    assert reg["backdate_state"] == "pending" and reg["counts_from"] == "2026-06-01"
    aid = reg["backdate_approval_id"]
    assert api.post(f"{P}/persons/{p['id']}/permits", headers=h).status_code == 409
    # the officer who asked cannot approve it
    r = api.post(f"/api/approvals/{aid}/approve", headers=h, json={})
    assert r.status_code == 403
    c = _second_officer(api, services)
    waiting = api.get("/api/approvals", headers=c, params={"state": "pending"}).json()
    assert [(w["id"], w["can_decide"]) for w in waiting] == [(aid, True)]
    r = api.post(f"/api/approvals/{aid}/approve", headers=c, json={"note": "contract seen"})
    assert r.status_code == 200, r.text
    reg = api.get(f"{P}/registrations/{reg['id']}", headers=h).json()
    assert reg["backdate_state"] == "approved" and reg["counts_from"] == "2025-09-01"
    r = api.post(f"{P}/persons/{p['id']}/permits", headers=h)
    assert r.status_code == 201, r.text
    audit = services.population.ctx.audit.search(actor="officer-c")
    assert any(e["action"] == "registration_backdate_approved" for e in audit)


def test_a_rejected_earlier_date_keeps_counting_from_the_day_recorded(api, officer_tokens, clock,
                                                                      services):  # fmt: skip
    h = officer_tokens["officer-a"]
    p = api.post(f"{P}/persons", headers=h, json=person_data(63)).json()["person"]
    reg = api.post(f"{P}/registrations", headers=h,
                   json=_own(p["id"], "2025-09-01", backdate_reason=REASON)).json()  # fmt: skip
    c = _second_officer(api, services)
    r = api.post(f"/api/approvals/{reg['backdate_approval_id']}/reject", headers=c,
                 json={"note": "no contract was shown"})  # fmt: skip
    assert r.status_code == 200
    reg = api.get(f"{P}/registrations/{reg['id']}", headers=h).json()
    assert reg["backdate_state"] == "rejected" and reg["counts_from"] == "2026-06-01"
    assert api.post(f"{P}/persons/{p['id']}/permits", headers=h).status_code == 409


def test_historical_registrations_count_once_their_batch_is_approved(
    api, officer_tokens, clock, services, tmp_path
):
    pop = services.population
    h = officer_tokens["officer-a"]
    recs = list(population(5, seed=3, zones=["Z01"]))
    for r in recs:
        r["valid_from"] = "2024-03-01"
    f = tmp_path / "register-2024.csv"
    with f.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(recs)
    body = f.read_bytes()
    r = api.post(f"{P}/import", headers={**h, "Content-Type": "text/csv"}, content=body)
    assert r.status_code == 200, r.text
    job = r.json()
    assert job["historical_rows"] == 5 and job["file_sha256"] == hashlib.sha256(body).hexdigest()
    pid = pop.ctx.db.query("select id from pop_persons order by id limit 1")[0]["id"]
    e = api.get(f"{P}/persons/{pid}/permit-eligibility", headers=h).json()
    assert not e["eligible"] and e["since"] == "2026-06-01"  # the real date waits
    r = api.post(f"{P}/import/{job['job_id']}/dates-approval", headers=h,
                 json={"reason": "residence register of 2024 copied from the station's books"})  # fmt: skip
    assert r.status_code == 202, r.text
    batch = r.json()
    assert batch["dates_state"] == "pending" and batch["dates_requested_by"] == "officer-a"
    assert api.post(f"{P}/import/{job['job_id']}/dates-approval", headers=h,
                    json={"reason": "asking a second time for the same batch"}).status_code == 409  # fmt: skip
    c = _second_officer(api, services)
    r = api.post(f"/api/approvals/{batch['dates_approval_id']}/approve", headers=c, json={})
    assert r.status_code == 200, r.text
    assert r.json()["scope"]["file_sha256"] == batch["file_sha256"]
    prov = api.get(f"{P}/import/{job['job_id']}", headers=h).json()
    assert prov["dates_state"] == "approved" and prov["dates_approved_by"] == "officer-c"
    assert prov["dates_approved_at"] == clock.t
    e = api.get(f"{P}/persons/{pid}/permit-eligibility", headers=h).json()
    assert e["eligible"] and e["since"] == "2024-03-01"
