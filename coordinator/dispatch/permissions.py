"""The permissions dispatch's routes check, and the roles that hold the ones it owns
(merged by the composition root into the one role matrix; ``identity/permissions.py``)."""

from __future__ import annotations

from enum import StrEnum

from ..identity.permissions import Declaration, Grants, Role


class Perm(StrEnum):
    """What dispatch's routes check."""

    UNITS_READ = "units:read"
    UNITS_WRITE = "units:write"
    DISPATCH = "dispatch:act"
    KPI_READ = "kpi:read"
    UNIT_SELF = "units:self"
    INCIDENTS_READ = "incidents:read"  # owned by incidents


#: The permissions dispatch owns, by role.
GRANTS: Grants = {
    Role.ADMIN: {Perm.UNITS_READ, Perm.UNITS_WRITE, Perm.DISPATCH, Perm.KPI_READ},
    Role.OPERATOR: {Perm.UNITS_READ, Perm.KPI_READ},
    # a call-taker tells a caller whether help is near, and sends none
    Role.CALL_TAKER: {Perm.UNITS_READ},
    Role.DISPATCHER: {Perm.UNITS_READ, Perm.UNITS_WRITE, Perm.DISPATCH, Perm.KPI_READ},
    Role.PATROL_UNIT: {Perm.UNIT_SELF},
}
DECLARATION = Declaration("dispatch", Perm, GRANTS)
