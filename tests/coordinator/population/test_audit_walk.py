"""The audit walk: EVERY population API route is called for real; each one that returns
personal data must have written an audit entry (actor, action, purpose) by the time it
answers. Routes declared non-personal must not return any of the seeded personal data.
A route missing from the walk fails the test, so new routes cannot skip it."""

from __future__ import annotations

import datetime as dt

from coordinator.population.importer import COLUMNS
from devtools.population_data import population
from tests.harness.population import PURPOSE, officer, person_data, twin_data
from tests.harness.routes import iter_population_routes

P = "/api/population"
NON_PERSONAL = {("GET", "/api/population/requests/categories"),
                ("GET", "/api/population/break-glass"),
                ("GET", "/api/population/import/{job_id}"),
                ("POST", "/api/population/import/{job_id}/cancel")}  # fmt: skip
#: Routes that take a file and return only progress (no personal data), walked with their
#: random upload ids in tests/security/test_import_upload.py.
UPLOAD_ROUTES = {
    ("POST", "/api/population/uploads"),
    ("GET", "/api/population/uploads/{upload_id}"),
    ("PUT", "/api/population/uploads/{upload_id}"),
    ("DELETE", "/api/population/uploads/{upload_id}"),
    ("POST", "/api/population/uploads/{upload_id}/import"),
}


def _seed(pop):
    p = officer("officer-a", ("Z01",))
    mk = lambda n, **o: pop.records.create_person(p, person_data(n, **o), "seed")["person"]  # noqa: E731
    a, landlord, dup1, _twin = mk(1), mk(2), mk(3), mk(4)
    mk2 = lambda n: pop.records.create_person(p, twin_data(n), "seed")  # noqa: E731
    mk2(3)  # dup1 under another document → candidate 1
    mk2(4)  # twin under another document → candidate 2
    erasable = mk(5)
    house = pop.housing.register_letting(p, {"address": "北苑街道 3号", "zone": "Z01",
                                             "landlord_id": landlord["id"]}, "seed")  # fmt: skip
    house2 = pop.housing.register_letting(p, {"address": "北苑街道 5号", "zone": "Z01",
                                              "landlord_id": landlord["id"]}, "seed")  # fmt: skip
    reg = pop.records.register(p, {"person_id": a["id"], "house_id": house["id"],
                                   "valid_from": "2025-01-01", "status": "registered",
                                   "backdate_reason": "tenancy contract from January 2025 "
                                   "shown at the counter"}, "seed")  # fmt: skip
    second = officer("officer-c", ("Z01",))  # a second officer approves the earlier date
    pop.access.approvals.approve(second, reg["backdate_approval_id"])
    draft = pop.records.register(p, {"person_id": dup1["id"], "kind": "own", "zone": "Z01",
                                     "address": "北苑街道 7号"}, "seed")  # fmt: skip
    own = pop.records.register(p, {"person_id": landlord["id"], "kind": "own", "zone": "Z01",
                                   "address": "北苑街道 9号", "valid_from": "2025-01-01",
                                   "status": "registered", "backdate_reason": "property deed "
                                   "dated January 2025 shown at the counter"}, "seed")  # fmt: skip
    pop.access.approvals.approve(second, own["backdate_approval_id"])
    permit = pop.permits.issue(p, a["id"], "seed")
    soon = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    pop.ctx.db.execute_write(
        "update pop_permits set expires_on = ? where id = ?", [soon, permit["id"]]
    )
    foreigner = pop.records.create_person(p, dict(name="Ayesha Khan", id_type="passport",
        id_number="PK1234567", nationality="PK", dob="1990-01-01", zone="Z01"), "seed")["person"]  # fmt: skip
    visit = pop.visitors.report(p, dict(person_id=foreigner["id"], visa_type="M",
        visa_expiry="2099-01-01", host_kind="hotel", host_name="Hotel", address="宾王路 2号",
        zone="Z01", arrived_at=dt.datetime.now(dt.UTC).isoformat()), "seed")  # fmt: skip
    req = pop.requests.create(p, dict(channel="hotline", category="legal_aid", zone="Z01",
        description="劳动合同纠纷", contact_name="陈静", contact_phone="13700000000"), "seed")  # fmt: skip
    cands = pop.ctx.db.query("select id from pop_dup_candidates order by id")
    rec = next(iter(population(1, seed=1, zones=["Z01"])))
    csv_body = (",".join(COLUMNS) + "\n" + ",".join(str(rec[c]) for c in COLUMNS) + "\n"
                + "bad,row\n")  # fmt: skip
    secrets = [a["name"], "13800138000", foreigner["name"], "陈静", a["id_masked"]]
    ids = dict(a=a["id"], landlord=landlord["id"], house=house["id"], house2=house2["id"],
               reg=reg["id"], draft=draft["id"], permit=permit["id"], visit=visit["id"],
               req=req["id"], c1=cands[0]["id"], c2=cands[1]["id"], erasable=erasable["id"],
               number=person_data(1)["id_number"], csv=csv_body)  # fmt: skip
    return ids, secrets


def _calls(i):
    """(method, route path, concrete path, request kwargs), in an order that works."""
    person = person_data(40)
    return [
        ("POST", "/persons", "/persons", {"json": person}),
        (
            "GET",
            "/persons/search",
            "/persons/search",
            {"params": {"name": "李" + person["name"][1:]}},
        ),
        (
            "POST",
            "/persons/lookup",
            "/persons/lookup",
            {"json": {"id_type": "prc_id", "id_number": i["number"]}},
        ),
        ("GET", "/persons/{person_id}", f"/persons/{i['a']}", {}),
        ("PATCH", "/persons/{person_id}", f"/persons/{i['a']}", {"json": {"phone": "13811112222"}}),
        (
            "POST",
            "/registrations",
            "/registrations",
            {
                "json": {
                    "person_id": i["a"],
                    "kind": "employer",
                    "address": "厂区 1号",
                    "zone": "Z01",
                }
            },
        ),
        ("GET", "/registrations", "/registrations", {"params": {"status": "draft"}}),
        ("GET", "/registrations/{reg_id}", f"/registrations/{i['reg']}", {}),
        (
            "POST",
            "/registrations/{reg_id}/status",
            f"/registrations/{i['draft']}/status",
            {"json": {"status": "registered"}},
        ),
        (
            "POST",
            "/persons/{person_id}/move",
            f"/persons/{i['landlord']}/move",
            {"json": {"kind": "own", "address": "北苑街道 11号", "zone": "Z01"}},
        ),
        (
            "POST",
            "/break-glass",
            "/break-glass",
            {"json": {"zone": "Z07", "reason": "joint operation 42 with the Z07 team"}},
        ),
        (
            "POST",
            "/break-glass/emergency",
            "/break-glass/emergency",
            {"json": {"person_id": i["a"], "reason": "missing child report, checking the host"}},
        ),
        ("GET", "/break-glass", "/break-glass", {}),
        (
            "POST",
            "/houses",
            "/houses",
            {"json": {"address": "后宅街道 8号", "zone": "Z01", "landlord_id": i["landlord"]}},
        ),
        ("GET", "/houses", "/houses", {}),
        ("GET", "/houses/{house_id}", f"/houses/{i['house']}", {}),
        ("POST", "/houses/{house_id}/withdraw", f"/houses/{i['house2']}/withdraw", {}),
        (
            "POST",
            "/visitors",
            "/visitors",
            {
                "json": {
                    "person_id": i["visit_person"],
                    "visa_type": "L",
                    "visa_expiry": "2099-01-01",
                    "host_kind": "host",
                    "house_id": i["house"],
                    "arrived_at": "2020-01-01T00:00:00Z",
                }
            },
        ),
        ("GET", "/visitors", "/visitors", {}),
        ("GET", "/visitors/{visit_id}", f"/visitors/{i['visit']}", {}),
        ("POST", "/visitors/{visit_id}/depart", f"/visitors/{i['visit']}/depart", {}),
        (
            "GET",
            "/persons/{person_id}/permit-eligibility",
            f"/persons/{i['a']}/permit-eligibility",
            {},
        ),
        ("POST", "/persons/{person_id}/permits", f"/persons/{i['landlord']}/permits", {}),
        ("GET", "/permits/expiring", "/permits/expiring", {}),
        ("GET", "/permits/{permit_id}", f"/permits/{i['permit']}", {}),
        ("POST", "/permits/{permit_id}/renew", f"/permits/{i['permit']}/renew", {}),
        ("GET", "/requests/categories", "/requests/categories", {}),
        (
            "POST",
            "/requests",
            "/requests",
            {
                "json": {
                    "channel": "web",
                    "category": "schooling",
                    "zone": "Z01",
                    "description": "入学",
                }
            },
        ),
        ("GET", "/requests", "/requests", {}),
        ("GET", "/requests/{request_id}", f"/requests/{i['req']}", {}),
        (
            "POST",
            "/requests/{request_id}/status",
            f"/requests/{i['req']}/status",
            {"json": {"status": "assigned", "assignee": "legal-aid-2"}},
        ),
        ("GET", "/duplicates", "/duplicates", {}),
        ("GET", "/duplicates/{cand_id}", f"/duplicates/{i['c1']}", {}),
        ("POST", "/duplicates/{cand_id}/merge", f"/duplicates/{i['c1']}/merge", {}),
        ("POST", "/merges/{merge_id}/undo", "/merges/1/undo", {}),
        ("POST", "/duplicates/{cand_id}/not-duplicate", f"/duplicates/{i['c2']}/not-duplicate", {}),
        (
            "POST",
            "/import",
            "/import",
            {"content": i["csv"].encode(), "headers": {"Content-Type": "text/csv"}},
        ),
        ("GET", "/import/{job_id}/errors", "/import/1/errors", {}),
        (
            "POST",
            "/import/{job_id}/dates-approval",
            "/import/1/dates-approval",
            {"json": {"reason": "historical registrations copied from the 2024 paper register"}},
        ),
        ("GET", "/import/{job_id}", "/import/1", {}),
        ("POST", "/import/{job_id}/cancel", "/import/1/cancel", {}),
        ("GET", "/export", "/export", {}),
        ("GET", "/stats", "/stats", {}),
        ("POST", "/retention/run", "/retention/run", {}),
        (
            "POST",
            "/persons/{person_id}/erase",
            f"/persons/{i['erasable']}/erase",
            {"json": {"reason": "erasure request 2026-5"}},
        ),
    ]


def test_every_population_route_audits_its_reads(api, officer_tokens, pop):
    ids, secrets = _seed(pop)
    ids["visit_person"] = pop.ctx.db.query("select person_id from pop_visitors")[0]["person_id"]
    h = officer_tokens["officer-a"]
    calls = _calls(ids)
    walked = {(m, P + route) for m, route, _, _ in calls}
    routes = set(iter_population_routes(api.app)) - UPLOAD_ROUTES
    assert walked == routes, "add new routes to the audit walk"
    for method, route, path, kw in calls:
        before = pop.ctx.db.query("select max(id) m from audit_log")[0]["m"]
        headers = {**h, **kw.pop("headers", {})}
        r = api.request(method, P + path, headers=headers, **kw)
        assert 200 <= r.status_code < 300, f"{method} {path}: {r.status_code} {r.text}"
        new = pop.ctx.db.query(
            "select * from audit_log where id > ? and actor = 'officer-a'", [before]
        )
        if (method, P + route) in NON_PERSONAL:
            assert not any(s in r.text for s in secrets), f"{method} {route} leaks personal data"
            continue
        assert new, f"{method} {route} returned data without an audit entry"
        if route not in ("/stats", "/retention/run"):
            assert any(e["purpose"] == PURPOSE["X-Purpose"] for e in new), f"{route}: no purpose"
