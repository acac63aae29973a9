"""The audit log is append-only and searchable."""

from __future__ import annotations

import sqlite3

import pytest

from coordinator.container import Services
from coordinator.identity.auth import Role
from tests.harness.api import bearer


def test_audit_entries_cannot_be_altered(services: Services):
    eid = services.audit.record("officer-1", "read", "person", 42, purpose="case 7")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        services.db.execute_write("update audit_log set actor = 'x' where id = ?", [eid])
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        services.db.execute_write("delete from audit_log where id = ?", [eid])
    rows = services.audit.search(subject_type="person", subject_id="42")
    assert rows[0]["actor"] == "officer-1" and rows[0]["purpose"] == "case 7"


def test_logins_are_audited_and_readable_by_the_auditor_only(api, tokens):
    # The administrator's own actions are in the log: the auditor reads it, not the admin.
    assert api.get("/api/audit", headers=bearer(tokens[Role.ADMIN])).status_code == 403
    r = api.get("/api/audit", headers=bearer(tokens[Role.AUDITOR]), params={"action": "login"})
    assert r.status_code == 200
    assert {e["actor"] for e in r.json()} >= {"u-operator", "u-merchant"}
    assert api.get("/api/audit", headers=bearer(tokens[Role.MERCHANT])).status_code == 403
    # the administrator runs the system but does not read who accessed whom
    assert api.get("/api/audit", headers=bearer(tokens[Role.ADMIN])).status_code == 403
