"""Dispositions: every resolution records how the incident ended (a code of the catalogue)
and a narrative; operators must name a code, automatic paths record ``unspecified``."""

from __future__ import annotations

import json
import time

import pytest
import sqlite_utils

from coordinator.identity.auth import Role
from coordinator.incidents import dispositions
from coordinator.incidents import schema as incidents_schema
from tests.harness.api import bearer
from tests.harness.core import count, event, inject, register
from tests.harness.mqtt import wait_for

CATALOGUE = dispositions.load()


def test_the_catalogue_is_data_with_the_usual_codes() -> None:
    raw = json.loads(dispositions.DEFAULT_FILE.read_text(encoding="utf-8"))
    assert [c["code"] for c in raw["codes"]] == list(CATALOGUE)
    for code in ("handled_on_scene", "false_alarm", "referred", "no_trace", "arrest",
                 "warning_given", "duplicate"):  # fmt: skip
        assert CATALOGUE[code].operator and CATALOGUE[code].label["zh-CN"]
    assert not CATALOGUE["unspecified"].operator


@pytest.mark.parametrize(
    ("code", "operator", "expected"),
    [
        ("arrest", True, ("arrest", "found him")),
        (None, False, ("unspecified", "found him")),
        ("unspecified", False, ("unspecified", "found him")),
    ],
)
def test_check_accepts(code, operator, expected) -> None:
    assert dispositions.check(CATALOGUE, code, "  found him ", operator=operator) == expected


@pytest.mark.parametrize(
    ("code", "narrative", "match"),
    [
        (None, "x", "needs a disposition code .*handled_on_scene"),
        ("", "x", "needs a disposition code"),
        ("stolen_bike", "x", "unknown disposition 'stolen_bike'"),
        ("unspecified", "x", "only by automatic paths; choose a disposition"),
        ("arrest", "x" * 4001, "longer than 4000"),
    ],
)
def test_check_refuses_an_operator_resolution(code, narrative, match) -> None:
    with pytest.raises(dispositions.DispositionInvalid, match=match):
        dispositions.check(CATALOGUE, code, narrative, operator=True)


def test_a_bad_catalogue_names_its_file(tmp_path) -> None:
    bad = tmp_path / "codes.json"
    bad.write_text(json.dumps({"codes": [{"code": "a b", "label": {"en": "x"}}]}))
    with pytest.raises(ValueError, match="codes.json: entry 0"):
        dispositions.load(bad)


def _incident(svc, dev: str) -> str:
    e = event(dev, int(time.time() * 1000) % 100000, track=int(time.time() * 1e6) % 10**6)
    inject(svc, [e])
    wait_for(lambda: count(svc, "select count(*) from events where id = ? and incident_id "
                                "is not null", [e.id]), 10, "incident")  # fmt: skip
    return svc.db.query("select incident_id from events where id = ?", [e.id])[0]["incident_id"]


def test_resolving_through_the_api_needs_a_code(api, tokens, services) -> None:
    register(services, {"cam-d1": (29.30, 120.07), "cam-d2": (29.40, 120.17)})
    op = bearer(tokens[Role.OPERATOR])
    iid = _incident(services, "cam-d1")
    url = f"/api/incidents/{iid}/transition"
    for body in ({"status": "resolved", "note": "done"},
                 {"status": "resolved", "disposition": "unspecified"},
                 {"status": "resolved", "disposition": "made_up"}):  # fmt: skip
        r = api.post(url, json=body, headers=op)
        assert r.status_code == 422, body
        assert "disposition" in r.json()["detail"]
    assert services.incidents.get(iid)["status"] == "new"  # nothing changed
    body = {"status": "resolved", "disposition": "warning_given", "narrative": "told to leave"}
    r = api.post(url, json=body, headers=op)
    assert r.status_code == 200, r.text
    assert (r.json()["disposition"], r.json()["narrative"]) == ("warning_given", "told to leave")
    detail = api.get(f"/api/incidents/{iid}", headers=op).json()
    assert detail["disposition"] == "warning_given"
    resolved = [h for h in detail["history"] if h["action"] == "resolved"]
    assert resolved[0]["detail"]["disposition"] == "warning_given"
    assert resolved[0]["detail"]["narrative"] == "told to leave"
    # a unit clearing its order (the automatic path) resolves with "unspecified" …
    other = _incident(services, "cam-d2")
    for step in ("dispatched", "en_route", "on_scene", "resolved"):
        services.incidents.transition(other, step, "unit:P-1", "order o-1")
    assert services.incidents.get(other)["disposition"] == "unspecified"
    # … which a dispatcher corrects afterwards (logged with the code it replaced)
    fix = {"disposition": "handled_on_scene", "narrative": "unit settled a dispute"}
    r = api.post(f"/api/incidents/{other}/disposition", json=fix, headers=op)
    assert r.status_code == 200 and r.json()["disposition"] == "handled_on_scene"
    log = [h for h in services.incidents.history(other) if h["action"] == "disposition"]
    assert log[0]["detail"]["from"] == "unspecified"
    r = api.post(f"/api/incidents/{other}/disposition", json={"disposition": "x"}, headers=op)
    assert r.status_code == 422
    counts = {c["code"]: c["count"] for c in
              api.get("/api/dispositions/counts", headers=op).json()}  # fmt: skip
    assert counts["warning_given"] == 1 and counts["handled_on_scene"] == 1
    assert counts["arrest"] == 0 and set(counts) >= set(CATALOGUE)
    codes = api.get("/api/dispositions", headers=op).json()
    assert [c["code"] for c in codes] == list(CATALOGUE)


def test_a_code_is_refused_on_an_open_incident(api, tokens, services) -> None:
    register(services, {"cam-d3": (29.30, 120.07)})
    iid = _incident(services, "cam-d3")
    r = api.post(f"/api/incidents/{iid}/disposition", json={"disposition": "arrest"},
                 headers=bearer(tokens[Role.OPERATOR]))  # fmt: skip
    assert r.status_code == 409 and "only a resolved incident" in r.json()["detail"]


def test_incidents_resolved_before_dispositions_get_unspecified(tmp_path) -> None:
    db = sqlite_utils.Database(tmp_path / "old.db")
    incidents_schema.incidents.apply(db, stop_before="m005_incident_disposition")
    for i, st in enumerate(["resolved", "new"]):
        db.table("incidents").insert({"id": f"i{i}", "kind": "intrusion", "status": st,
                                      "priority": 2, "created_at": 1.0, "event_count": 1})  # fmt: skip
    incidents_schema.incidents.apply(db)
    got = {r["id"]: r["disposition"] for r in db.query("select id, disposition from incidents")}
    assert got == {"i0": "unspecified", "i1": None}
