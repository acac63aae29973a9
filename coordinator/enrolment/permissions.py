"""The permissions enrolment's routes check, and the roles that hold the ones it owns
(merged by the composition root into the one role matrix; ``identity/permissions.py``)."""

from __future__ import annotations

from enum import StrEnum

from ..identity.permissions import Declaration, Grants, Role


class Perm(StrEnum):
    """What enrolment's routes check."""

    ENROL = "devices:enrol"
    DEVICES_READ = "devices:read"  # owned by fleet
    DEVICES_WRITE = "devices:write"  # owned by fleet


#: The permissions enrolment owns, by role.
GRANTS: Grants = {
    Role.ADMIN: {Perm.ENROL},
    Role.TECHNICIAN: {Perm.ENROL},
}
DECLARATION = Declaration("enrolment", Perm, GRANTS)
