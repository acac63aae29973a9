"""Roles, and how the domains' permission declarations become the one role matrix.

Each domain package has a ``permissions.py`` with a ``Perm`` StrEnum naming every permission
its routes check, and ``GRANTS``: the roles that hold the permissions it *owns*. A permission
checked by several domains (``incidents:read`` by incidents, dispatch and the live stream) is
owned, and granted, by exactly one of them; the others list it so that their routes name
it. The composition root passes every declaration to :func:`role_matrix`, and identity
enforces the result (``AuthService``). Adding a permission or a role's right to it is then
an edit of the owning domain's ``permissions.py`` only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """The roles of the command centre and its partners."""

    ADMIN = "admin"
    OPERATOR = "operator"  # monitoring operator: watches cameras, verifies and handles alarms
    # Call-taker (接警员): takes calls and alarms in, acknowledges and confirms incidents;
    # never sends a unit (dispatching is the dispatcher's, as in CAD practice).
    CALL_TAKER = "call_taker"
    SUPERVISOR = "supervisor"  # command-centre shift supervisor (with operator): edits rules
    DISPATCHER = "dispatcher"
    TECHNICIAN = "technician"
    POPULATION_OFFICER = "population_officer"
    FRAUD_INVESTIGATOR = "fraud_investigator"
    MERCHANT = "merchant"
    PATROL_UNIT = "patrol_unit"
    # Data-protection officer: reads the audit log (the administrator does not).
    AUDITOR = "auditor"
    # Approves break-the-glass access to personal records; never the shift supervisor or
    # the administrator, and never for their own requests.
    DATA_ACCESS_APPROVER = "data_access_approver"
    # An account of a camera-owning organisation (a company, a community …): sees its own
    # cameras' health and the incidents they raised, nothing else.
    CAMERA_OWNER = "camera_owner"
    # The foreigners' service hall: works visa and residence-permit cases at the counter.
    HALL_CLERK = "hall_clerk"


#: Roles whose holders read personal data (or the record of who read it): granting one
#: needs a second administrator, and their logins need a second factor.
SENSITIVE_ROLES: frozenset[Role] = frozenset(
    {
        Role.POPULATION_OFFICER,
        Role.FRAUD_INVESTIGATOR,
        Role.DATA_ACCESS_APPROVER,
        Role.AUDITOR,
        Role.HALL_CLERK,
    }
)


#: Role → the permissions (values of the domains' ``Perm`` enums) it holds.
RoleMatrix = Mapping[Role, frozenset[str]]
Grants = Mapping[Role, Iterable[StrEnum]]


@dataclass(frozen=True)
class Declaration:
    """One domain's permissions: those its routes check, and the grants of those it owns."""

    domain: str
    checks: type[StrEnum]
    grants: Grants

    @property
    def owns(self) -> frozenset[str]:
        """The permissions this domain grants (and so owns)."""
        return frozenset(str(p) for perms in self.grants.values() for p in perms)


class PermissionsError(ValueError):
    """The domains' declarations contradict each other (raised at start, never at a request)."""


def role_matrix(declarations: Iterable[Declaration]) -> dict[Role, frozenset[str]]:
    """Merge the domains' declarations into the one role matrix.

    Refuses a permission granted by two domains (one owner each) and a permission that a
    domain checks but no domain grants (a route nobody could call).
    """
    decls = list(declarations)
    owner: dict[str, str] = {}
    for d in decls:
        for perm in d.owns:
            if perm in owner and owner[perm] != d.domain:
                raise PermissionsError(
                    f"{perm} is granted by both {owner[perm]} and {d.domain}: one domain owns it"
                )
            owner[perm] = d.domain
        for perm in d.owns - {str(p) for p in d.checks}:
            raise PermissionsError(f"{d.domain} grants {perm} but does not list it in its Perm")
    for d in decls:
        for p in d.checks:
            if str(p) not in owner:
                raise PermissionsError(f"{d.domain} checks {p} but no domain grants it")
    matrix: dict[Role, set[str]] = {r: set() for r in Role}
    for d in decls:
        for role, perms in d.grants.items():
            matrix[role] |= {str(p) for p in perms}
    return {r: frozenset(v) for r, v in matrix.items()}


class Perm(StrEnum):
    """The permissions identity's routes check (users, audit log)."""

    USERS_ADMIN = "users:admin"
    AUDIT_READ = "audit:read"


GRANTS: Grants = {
    Role.ADMIN: {Perm.USERS_ADMIN},
    # Who read what is read by the data-protection officer, not by the administrator whose
    # own actions it records.
    Role.AUDITOR: {Perm.AUDIT_READ},
}
DECLARATION = Declaration("identity", Perm, GRANTS)
