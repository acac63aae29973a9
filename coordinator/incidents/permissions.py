"""The permissions incidents's routes check, and the roles that hold the ones it owns
(merged by the composition root into the one role matrix; ``identity/permissions.py``)."""

from __future__ import annotations

from enum import StrEnum

from ..identity.permissions import Declaration, Grants, Role


class Perm(StrEnum):
    """What incidents's routes check."""

    EVENTS_READ = "events:read"
    INCIDENTS_READ = "incidents:read"
    INCIDENTS_ACT = "incidents:act"
    CONFIG_APPROVE = "config:approve"


#: The permissions incidents owns, by role.
GRANTS: Grants = {
    Role.ADMIN: {Perm.EVENTS_READ, Perm.INCIDENTS_READ, Perm.INCIDENTS_ACT, Perm.CONFIG_APPROVE},
    Role.OPERATOR: {Perm.EVENTS_READ, Perm.INCIDENTS_READ, Perm.INCIDENTS_ACT, Perm.CONFIG_APPROVE},
    Role.DISPATCHER: {Perm.EVENTS_READ, Perm.INCIDENTS_READ, Perm.INCIDENTS_ACT},
    Role.CALL_TAKER: {Perm.EVENTS_READ, Perm.INCIDENTS_READ, Perm.INCIDENTS_ACT},
}
DECLARATION = Declaration("incidents", Perm, GRANTS)
