"""A foreign national's residence permit is a case of the foreigners' service hall."""

from __future__ import annotations

P = "/api/population"


def test_a_foreigners_permit_eligibility_points_to_the_hall(api, officer_tokens, clock):
    h = officer_tokens["officer-a"]
    r = api.post(f"{P}/persons", headers=h, json=dict(
        name="Rahul Sharma", id_type="passport", id_number="K8000001", nationality="IN",
        dob="1988-08-08", sex="M", zone="Z01"))  # fmt: skip
    pid = r.json()["person"]["id"]
    e = api.get(f"{P}/persons/{pid}/permit-eligibility", headers=h)
    assert e.status_code == 200, e.text
    assert e.json()["channel"] == "hall" and e.json()["eligible"] is False
    assert "foreigners' service hall" in e.json()["reason"]
    assert "not currently registered" not in e.json()["reason"]
    r = api.post(f"{P}/persons/{pid}/permits", headers=h)
    assert r.status_code == 409 and "service hall" in r.json()["detail"]
