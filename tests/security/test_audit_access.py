"""Who reads the audit log, and what it shows them: the auditor (data-protection officer)
reads it, the administrator does not; "who accessed this person" finds single and list
reads; refused reads leave entries; unusual lookup volumes stand out. Each test states
what was tried and what is expected; each fails on the code before the auditor role (the
admin read the log, no per-person view, denied reads left no entry, no volume report)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from coordinator.app import create_app
from coordinator.bootstrap import open_services
from coordinator.container import Services
from coordinator.identity.audit import AuditService
from coordinator.identity.auth import Role, needs_second_factor
from coordinator.settings import Settings
from tests.harness.api import PASSWORD, bearer, login, seeded_secret
from tests.harness.population import PURPOSE, person_data


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Services]:
    """Open services on a real SQLite file."""
    s = open_services(
        Settings.for_dev(tmp_path / "coord", argon2_memory_kib=4096, argon2_time_cost=1)
    )
    yield s
    s.close()


@pytest.fixture
def client(svc: Services) -> Iterator[TestClient]:
    """The real app."""
    with TestClient(create_app(svc)) as c:
        yield c


def _login(
    client: TestClient, svc: Services, name: str, roles: list[Role], zones: list[str]
) -> dict:
    secret = seeded_secret(name) if needs_second_factor(roles) else None
    svc.auth.create_user(name, PASSWORD, roles, zones=zones, totp_secret=secret)
    return {**bearer(login(client, name)), **PURPOSE}  # with the second factor


@pytest.fixture
def heads(client: TestClient, svc: Services) -> dict[str, dict]:
    """Headers of an auditor, an admin and two officers (Z01, Z02)."""
    return {
        "dpo": _login(client, svc, "dpo", [Role.AUDITOR], []),
        "admin": _login(client, svc, "root", [Role.ADMIN], ["Z01"]),
        "a": _login(client, svc, "officer-a", [Role.POPULATION_OFFICER], ["Z01"]),
        "b": _login(client, svc, "officer-b", [Role.POPULATION_OFFICER], ["Z02"]),
    }


def test_the_auditor_reads_the_log_and_the_administrator_does_not(client, heads):
    """Tried: the administrator reads ``/api/audit`` (they could see who looked at whom and
    look for their own traces). Expected: 403 for the admin, 200 for the auditor."""
    assert client.get("/api/audit", headers=heads["admin"]).status_code == 403
    assert client.get("/api/audit/verify", headers=heads["admin"]).status_code == 403
    r = client.get("/api/audit", headers=heads["dpo"])
    assert r.status_code == 200 and r.json()


def test_who_accessed_this_person_finds_single_and_list_reads(client, svc, heads):
    """Tried: officer-a opens a person's record and, separately, finds them in a name search
    (a list read naming many persons in one entry). Expected: the auditor's per-person view
    lists both, and the auditor's look is itself audited."""
    pid = client.post("/api/population/persons", headers=heads["a"], json=person_data(1)).json()[
        "person"
    ]["id"]
    namesake = person_data(25)  # the same name as person_data(1), another person
    assert namesake["name"] == person_data(1)["name"]
    assert (
        client.post("/api/population/persons", headers=heads["a"], json=namesake).status_code == 201
    )
    assert client.get(f"/api/population/persons/{pid}", headers=heads["a"]).status_code == 200
    r = client.get(
        "/api/population/persons/search", headers=heads["a"], params={"name": namesake["name"]}
    )
    assert r.status_code == 200 and len(r.json()) == 2 and any(p["id"] == pid for p in r.json())
    listed = svc.audit.search(actor="officer-a", action="search")[0]
    assert listed["subject_id"] is None  # one entry naming both: found through the index
    r = client.get(f"/api/audit/persons/{pid}", headers=heads["dpo"])
    assert r.status_code == 200, r.text
    actions = {(e["actor"], e["action"]) for e in r.json()}
    assert ("officer-a", "search") in actions and ("officer-a", "create") in actions
    assert len([e for e in r.json() if e["actor"] == "officer-a" and e["action"] != "create"]) >= 2
    assert svc.audit.search(actor="dpo", action="audit_read", subject_id=str(pid))


def test_denied_personal_data_reads_are_audited(client, svc, heads):
    """Tried: officer-b (zone Z02) opens a person of Z01; the administrator (no
    population:read) opens the same record. Expected: both refused (403) and both refusals
    in the audit log with who tried what."""
    pid = client.post("/api/population/persons", headers=heads["a"], json=person_data(2)).json()[
        "person"
    ]["id"]
    assert client.get(f"/api/population/persons/{pid}", headers=heads["b"]).status_code == 403
    assert client.get(f"/api/population/persons/{pid}", headers=heads["admin"]).status_code == 403
    denied_b = svc.audit.search(actor="officer-b", action="denied")
    assert denied_b and denied_b[0]["subject_id"] == str(pid) and "Z01" in denied_b[0]["detail"]
    denied_admin = svc.audit.search(actor="root", action="denied")
    assert denied_admin and f"/api/population/persons/{pid}" in denied_admin[0]["subject_id"]
    assert "population:read" in denied_admin[0]["detail"]


def _history(svc: Services, actor: str, per_day: int, days: int, today: int) -> None:
    """Entries of the past ``days`` days at ``per_day`` a day, and ``today`` entries today."""
    now = time.time()
    rows = [
        AuditService.entry(actor, "view", "person", i)
        | {"ts": now - d * 86400.0 if d else now - (i % 60)}
        for d in range(days, -1, -1)
        for i in range(today if d == 0 else per_day)
    ]

    def write(db):
        for r in rows:
            AuditService.append(db, r)

    svc.db.write(write, timeout=120)


def test_unusual_lookup_volumes_are_reported_against_each_actors_baseline(client, svc, heads):
    """Tried: an officer who reads ~10 records a day reads 300 today; a busy desk that reads
    100 a day reads 120. Expected: only the first is reported, with its baseline."""
    _history(svc, "quiet-officer", 10, 28, 300)
    _history(svc, "busy-desk", 100, 28, 120)
    r = client.get("/api/audit/unusual", headers=heads["dpo"])
    assert r.status_code == 200, r.text
    flagged = {row["actor"]: row for row in r.json()}
    assert "busy-desk" not in flagged
    q = flagged["quiet-officer"]
    assert q["count"] >= 300 and 9 <= q["baseline_per_day"] <= 11 and q["ratio"] >= 25
