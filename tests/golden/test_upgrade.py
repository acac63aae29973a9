"""An installation upgrades: the current code opens a database made by release 0.1.0.

``db-release-0.1.0.sqlite`` was made by the previous release (see ``make_release_db.py``).
The test copies it, opens it with the current code, which applies any pending migrations,
and then reads it back through the HTTP API as the users of that installation would: they
log in with their old passwords, and find their devices, incidents, dispatch units, zones,
people (ID numbers still decrypt and still match an exact lookup), fraud companies, filings
and warnings, and the audit trail. Finally every migration the current code knows is applied.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.golden import adapter
from tests.golden.session import ID_LANDLORD, ID_TENANT, PASSWORD, PURPOSE
from tests.harness.api import login_answer

RELEASE_DB = Path(__file__).with_name("db-release-0.1.0.sqlite")
USERS = [r.replace("_", "-") for r in adapter.ROLES] + ["fraud-investigator-2"]


def _migrations(db: Path) -> set[tuple[str, str]]:
    con = sqlite3.connect(db)
    try:
        return set(con.execute("select migration_set, name from _sqlite_migrations"))
    finally:
        con.close()


def _login(api: TestClient, username: str) -> dict[str, str]:
    # Accounts that read personal data enrol a second factor at their first login after the
    # upgrade (the harness does it as a person would, with the secret shown once).
    r = login_answer(api, username, PASSWORD)
    assert r.status_code == 200, f"{username}: {r.text}"
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _get(api: TestClient, h: dict[str, str], path: str, **params: Any) -> Any:
    r = api.get(path, headers=h, params=params)
    assert r.status_code == 200, f"{path}: {r.status_code} {r.text}"
    return r.json()


@pytest.fixture
def upgraded(tmp_path: Path) -> Any:
    """The release database copied into a data folder and opened (migrated) by current code.

    One copy per test: the suite fails tests that leave threads behind, so no app is shared.
    """
    assert RELEASE_DB.stat().st_size < 1 << 20
    data_dir = tmp_path / "coord"
    data_dir.mkdir()
    shutil.copyfile(RELEASE_DB, data_dir / adapter.DB_FILE)
    with adapter.running(data_dir) as c:
        yield c


def test_release_database_is_complete_on_its_own() -> None:
    """The committed file is one consistent database: no WAL needed, integrity checked."""
    con = sqlite3.connect(f"file:{RELEASE_DB}?mode=ro", uri=True)
    try:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("select count(*) from pop_persons").fetchone()[0] == 3
    finally:
        con.close()


def test_users_log_in_with_their_old_passwords(upgraded: adapter.Coordinator) -> None:
    """Every account of the old installation still logs in and keeps its roles."""
    api = upgraded.client
    for username in USERS:
        me = _get(api, _login(api, username), "/api/auth/me")
        assert me["username"] == username and me["roles"]
    assert api.post("/api/auth/login", json={"username": "admin", "password": "wrong"}).status_code
    assert _get(api, _login(api, "merchant"), "/api/auth/me")["merchant_id"] == "m-1"


def test_devices_incidents_and_dispatch_are_there(upgraded: adapter.Coordinator) -> None:
    """Cameras, their incidents with history, units, the order, zones and roads survive."""
    api = upgraded.client
    tech, op, disp = (_login(api, u) for u in ("technician", "operator", "dispatcher"))
    assert [d["id"] for d in _get(api, tech, "/api/devices")] == ["cam-0", "cam-1", "cam-9"]
    assert _get(api, tech, "/api/fleet/summary")["total"]["unknown"] == 3
    incidents = {tuple(i["devices"]): i for i in _get(api, op, "/api/incidents")}
    assert set(incidents) == {("cam-0", "cam-1"), ("cam-9",)}
    main, other = incidents[("cam-0", "cam-1")], incidents[("cam-9",)]
    assert other["status"] == "dismissed"
    assert main["status"] == "confirmed" and main["event_count"] == 2 and main["notes"] == 1
    detail = _get(api, op, f"/api/incidents/{main['id']}")
    assert {"confirmed", "note"} <= {h["action"] for h in detail["history"]}
    assert len(_get(api, op, "/api/events")) == 3
    units = {u["id"]: u for u in _get(api, disp, "/api/dispatch/units")}
    assert set(units) == {"car-1", "ebike-2"} and units["car-1"]["call_sign"] == "Car 1"
    orders = _get(api, disp, f"/api/dispatch/incidents/{main['id']}")["orders"]
    assert [o["unit_id"] for o in orders] == ["car-1"]
    zones = _get(api, disp, "/api/geo/zones")["features"]
    assert {z["properties"]["id"] for z in zones} == {"Z01", "Z02", "C01"}
    assert _get(api, disp, "/api/geo/locate", lat=29.324, lon=120.09)["zone"] == "Z02"


def test_people_are_found_and_id_numbers_still_decrypt(upgraded: adapter.Coordinator) -> None:
    """The exact ID lookup (keyed hash) finds the person; the stored number decrypts."""
    api = upgraded.client
    h = {**_login(api, "population-officer"), **PURPOSE}
    r = api.post(
        "/api/population/persons/lookup",
        headers=h,
        json={"id_type": "prc_id", "id_number": ID_LANDLORD},
    )
    assert r.status_code == 200, r.text
    [person] = r.json()["results"]
    assert person["name"] == "王建国"
    full = _get(api, h, f"/api/population/persons/{person['id']}", reveal_id=True)
    assert full["id_number"] == ID_LANDLORD
    found = _get(api, h, "/api/population/persons/search", name="李秀英")
    assert len(found) == 2
    tenant = next(p for p in found if p["origin"] == "Henan")
    full = _get(api, h, f"/api/population/persons/{tenant['id']}", reveal_id=True)
    assert full["id_number"] == ID_TENANT
    assert [x["status"] for x in full["registrations"]] == ["registered"]
    assert len(_get(api, h, "/api/population/duplicates")) == 1
    assert _get(api, h, "/api/population/stats")["totals"]["persons"] == 3


def test_fraud_companies_filings_and_warnings_are_there(upgraded: adapter.Coordinator) -> None:
    """Companies with their identifiers, the merchant's filing, the warning and its check."""
    api = upgraded.client
    inv, merchant = _login(api, "fraud-investigator"), _login(api, "merchant")
    company = _get(api, {**inv, **PURPOSE}, "/api/fraud/companies/1")
    assert "Green Airline Trading Co., Ltd." in str(company)
    assert {i["kind"] for i in company["identifiers"]} >= {"phone", "contact", "reg_code"}
    [filing] = _get(api, merchant, "/api/fraud/filings")
    assert filing["status"] == "confirmed_overdue"
    assert [w["state"] for w in _get(api, inv, "/api/fraud/warnings")] == ["published"]
    check = _get(api, merchant, "/api/fraud/check", q="+86 138 0013 8000")
    assert check["matches"] and check["matches"][0]["warnings"]
    assert _get(api, inv, "/api/fraud/alerts")


def test_audit_trail_of_the_old_installation_is_kept(upgraded: adapter.Coordinator) -> None:
    """Entries written by release 0.1.0 are still readable, newest first, by the auditor
    (no longer by the administrator), and the migration chained them: the log verifies."""
    api = upgraded.client
    # The auditor reads the audit log (not the administrator): one is created on the host.
    adapter.create_user(upgraded, "auditor", PASSWORD, "auditor")
    assert api.get("/api/audit", headers=_login(api, "admin")).status_code == 403
    log = _get(api, _login(api, "auditor"), "/api/audit", limit=500)
    assert upgraded.services.audit.verify().ok
    # the old list reads (searches) are indexed for "who accessed this person"
    assert upgraded.services.db.query("select count(*) n from audit_subjects")[0]["n"] > 0
    old = [e for e in log if e["action"] == "fraud.warning.publish"]
    assert old and old[0]["actor"] == "fraud-investigator"
    assert {"device_register", "fraud.warning.approve"} <= {e["action"] for e in log}


def test_every_migration_is_applied(upgraded: adapter.Coordinator, tmp_path: Path) -> None:
    """The upgraded file has exactly the migrations a new installation gets."""
    # Migrations commit before the app serves, so the file can be read beside the open app.
    fresh = tmp_path / "fresh"
    with adapter.running(fresh):
        pass
    want = _migrations(fresh / adapter.DB_FILE)
    have = _migrations(upgraded.services.settings.db_path)
    assert want and have == want, f"missing: {sorted(want - have)}"
