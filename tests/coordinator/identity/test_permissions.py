"""Roles and permissions declared per domain, merged into the one role matrix."""

from __future__ import annotations

from enum import StrEnum

import pytest

from coordinator.bootstrap import permission_declarations, role_matrix
from coordinator.identity.permissions import Declaration, PermissionsError, Role
from coordinator.identity.permissions import role_matrix as merge

#: The role matrix as it was when it was one table in identity/auth.py: the merge of the
#: domains' declarations must give exactly this (a change here is a change of who may do what).
BEFORE_THE_SPLIT = {
    "admin": [
        "audit:read",
        "company:check",
        "config:approve",
        "devices:enrol",
        "devices:read",
        "devices:write",
        "dispatch:act",
        "events:read",
        "incidents:act",
        "incidents:read",
        "kpi:read",
        "population:stats",
        "snapshots:request",
        "units:read",
        "units:write",
        "users:admin",
    ],
    "operator": [
        "config:approve",
        "devices:read",
        "events:read",
        "incidents:act",
        "incidents:read",
        "kpi:read",
        "snapshots:request",
        "units:read",
    ],
    "dispatcher": [
        "devices:read",
        "dispatch:act",
        "events:read",
        "incidents:act",
        "incidents:read",
        "kpi:read",
        "units:read",
        "units:write",
    ],
    "technician": ["devices:enrol", "devices:read", "devices:write"],
    "population_officer": [
        "population:export",
        "population:read",
        "population:review",
        "population:stats",
        "population:write",
    ],
    "fraud_investigator": ["company:check", "fraud:approve", "fraud:read", "fraud:write"],
    "merchant": ["company:check", "merchant:file"],
    "patrol_unit": ["units:self"],
}


#: Granted since the split, each with the change that granted it.
ADDED_SINCE = {
    # Camera rules kept at the centre: operators read them, technicians and shift
    # supervisors (a new role, held beside operator) change them.
    # Owner organisations and their sharing agreements: administrators edit them,
    # operators and technicians read them; an owner's account sees only its own cameras.
    "admin": ["rules:read", "rules:write", "owners:read", "owners:write"],
    "operator": ["rules:read", "owners:read"],
    "technician": ["rules:read", "rules:write", "owners:read"],
    "camera_owner": ["owners:self"],
    "supervisor": ["rules:read", "rules:write"],
    # Access needs a second person: the data-protection officer reads the audit log, the
    # data-access approver approves break-the-glass access and reviews emergency grants.
    "auditor": ["audit:read"],
    "data_access_approver": ["access:approve"],
    # The foreigners' service hall: its clerk works cases; officers read them; the
    # administrator sees the suppressed statistics. Population officers work the service
    # hotline; the administrator reads its monthly report.
    "hall_clerk": ["hall:decide", "hall:read", "hall:stats", "hall:write"],
    "population_officer": ["hall:read", "hotline:report", "hotline:work"],
    # Call-taking apart from dispatching (CAD practice): the call-taker takes alarms in,
    # acknowledges and confirms incidents, sees units and cameras, and dispatches nothing.
    "call_taker": ["devices:read", "events:read", "incidents:act", "incidents:read", "units:read"],
}
ADDED_SINCE["admin"] = ADDED_SINCE["admin"] + ["hall:stats", "hotline:report"]

#: Taken away since the split, each with the change that took it.
REMOVED_SINCE = {
    # The administrator's own actions are in the audit log: the auditor reads it instead.
    "admin": ["audit:read"],
}


def test_the_merged_matrix_is_the_matrix_before_the_split():
    want = {
        role: sorted(
            set(BEFORE_THE_SPLIT.get(role, []) + ADDED_SINCE.get(role, []))
            - set(REMOVED_SINCE.get(role, []))
        )
        for role in {*BEFORE_THE_SPLIT, *ADDED_SINCE}
    }
    assert {r.value: sorted(p) for r, p in role_matrix().items()} == want


def test_every_domain_declares_its_permissions():
    domains = [d.domain for d in permission_declarations()]
    assert domains == sorted(set(domains), key=domains.index)  # once each
    assert {"identity", "fleet", "incidents", "dispatch", "population", "fraud"} <= set(domains)


class _A(StrEnum):
    READ = "things:read"


class _B(StrEnum):
    READ = "things:read"
    WRITE = "things:write"


@pytest.mark.parametrize(
    ("decls", "problem"),
    [
        (
            [
                Declaration("a", _A, {Role.ADMIN: {_A.READ}}),
                Declaration("b", _B, {Role.OPERATOR: {_B.READ, _B.WRITE}}),
            ],
            "granted by both a and b",
        ),
        ([Declaration("b", _B, {Role.ADMIN: {_B.READ}})], "checks things:write but no domain"),
        ([Declaration("a", _A, {Role.ADMIN: {_B.WRITE}})], "does not list it"),
    ],
)
def test_contradicting_declarations_are_refused(decls, problem):
    with pytest.raises(PermissionsError, match=problem):
        merge(decls)


def test_a_permission_checked_by_two_domains_is_granted_by_its_owner():
    matrix = merge(
        [
            Declaration("a", _A, {}),
            Declaration("b", _B, {Role.OPERATOR: {_B.READ}, Role.ADMIN: {_B.WRITE}}),
        ]
    )
    assert matrix[Role.OPERATOR] == {"things:read"} and matrix[Role.ADMIN] == {"things:write"}
