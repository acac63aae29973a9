"""The hall's routes: a clerk's case over HTTP, the public enquiry, who may do what."""

from __future__ import annotations

from coordinator.identity.auth import Role
from tests.harness.api import PASSWORD, bearer, login, seeded_secret

H = "/api/hall"
PDF = b"%PDF-1.4\n" + b"scan " * 100
JPEG = b"\xff\xd8\xff\xe0" + b"\x01" * 300


def _apply(api, h, **over):
    d = dict(service="visa_extension", applicant_name="Maria Lopez", nationality="CO",
             passport_number="AV123456", requested_until="2026-12-31")  # fmt: skip
    d.update(over)
    r = api.post(f"{H}/cases", headers=h, json=d)
    assert r.status_code == 201, r.text
    return r.json()


def test_a_clerk_works_a_case_over_http_and_the_applicant_follows_it(api, clerk, services):
    c = _apply(api, clerk)
    assert c["passport_masked"] == "AV12**56" and "passport_number" not in c
    for doc in c["documents_required"]:
        body = JPEG if doc == "photo" else PDF
        r = api.put(f"{H}/cases/{c['id']}/documents/{doc}", headers=clerk, content=body,
                    params={"filename": f"{doc}.bin"})  # fmt: skip
        assert r.status_code == 200, r.text
    c = r.json()
    assert c["documents_missing"] == [] and len(c["documents"]) == 5
    fid = c["documents"][0]["file_id"]
    got = api.get(f"{H}/cases/{c['id']}/documents/{fid}", headers=clerk)
    assert got.content == PDF and got.headers["content-type"] == "application/pdf"
    for s in ("documents_checked", "under_review"):
        r = api.post(f"{H}/cases/{c['id']}/step", headers=clerk, json={"status": s})
        assert r.status_code == 200, r.text
    r = api.post(f"{H}/cases/{c['id']}/decision", headers=clerk,
                 json={"approve": True, "reason": "invitation verified", "granted_until": "2030-01-31"})  # fmt: skip
    assert r.json()["status"] == "decided"
    pub = api.get(f"{H}/public/status/{c['receipt']}")  # no login
    assert pub.status_code == 200 and pub.json()["ready_for_collection"] is True
    assert "Maria" not in pub.text and "AV12" not in pub.text
    r = api.post(f"{H}/cases/{c['id']}/step", headers=clerk, json={"status": "collected"})
    assert r.json()["status"] == "collected"
    q = api.get(f"{H}/queue/A", headers=clerk)
    assert q.status_code == 200 and q.json() == []
    reads = services.db.query("select count(*) n from audit_log where subject_type = 'hall_case' "
                              "and action = 'hall_read'")[0]["n"]  # fmt: skip
    assert reads >= 6


def test_bad_uploads_and_bad_input_get_clear_errors(api, clerk):
    c = _apply(api, clerk)
    r = api.put(f"{H}/cases/{c['id']}/documents/passport", headers=clerk, content=b"MZ\x90exe")
    assert r.status_code == 422 and "accepted types" in r.json()["detail"]
    r = api.put(f"{H}/cases/{c['id']}/documents/passport",
                headers={**clerk, "Content-Type": "image/png"}, content=PDF)  # fmt: skip
    assert r.status_code == 422 and "declared image/png" in r.json()["detail"]
    r = api.post(f"{H}/cases", headers=clerk, json={"service": "visa_extension"})
    assert r.status_code == 422
    r = api.post(f"{H}/cases/{c['id']}/step", headers=clerk, json={"status": "collected"})
    assert r.status_code == 409 and "cannot become collected" in r.json()["detail"]
    r = api.get(f"{H}/public/status/not-a-receipt")
    assert r.status_code == 404


def test_who_may_work_the_hall(api, clerk, services):
    services.auth.create_user("officer-h", PASSWORD, [Role.POPULATION_OFFICER], zones=["Z01"],
                              totp_secret=seeded_secret("officer-h"))  # fmt: skip
    officer = {**bearer(login(api, "officer-h")), "X-Purpose": "foreigner at my counter"}
    c = _apply(api, clerk)
    assert api.get(f"{H}/cases/{c['id']}", headers=officer).status_code == 200
    assert api.post(f"{H}/cases/{c['id']}/step", headers=officer,
                    json={"status": "withdrawn", "note": "x"}).status_code == 403  # fmt: skip
    no_purpose = {"Authorization": clerk["Authorization"]}
    assert api.get(f"{H}/cases/{c['id']}", headers=no_purpose).status_code == 422
    assert api.get(f"{H}/queue/A").status_code == 401


def test_a_scan_of_several_megabytes_is_kept_and_one_over_the_cap_refused(api, clerk):
    c = _apply(api, clerk)
    big = JPEG + bytes(3 * 1024 * 1024)
    r = api.put(f"{H}/cases/{c['id']}/documents/photo", headers=clerk, content=big)
    assert r.status_code == 200, r.text
    assert [d["size"] for d in r.json()["documents"]] == [len(big)]
    over = JPEG + bytes(10 * 1024 * 1024)
    r = api.put(f"{H}/cases/{c['id']}/documents/photo", headers=clerk, content=over)
    assert r.status_code in (413, 422) and "10485760" in r.text
    assert len(api.get(f"{H}/cases/{c['id']}", headers=clerk).json()["documents"]) == 1
