"""The permissions camera rules' routes check, and the roles that hold them (merged by the
composition root into the one role matrix; ``identity/permissions.py``).

Technicians and command-centre supervisors edit a camera's rules; operators read them and
their drift. A shift supervisor is a user with the roles ``operator`` and ``supervisor``:
the second adds only the right to change rules.
"""

from __future__ import annotations

from enum import StrEnum

from ..identity.permissions import Declaration, Grants, Role


class Perm(StrEnum):
    """What camera rules' routes check."""

    RULES_READ = "rules:read"
    RULES_WRITE = "rules:write"


READ = Perm.RULES_READ
EDIT = Perm.RULES_WRITE

#: The permissions camera rules owns, by role.
GRANTS: Grants = {
    Role.ADMIN: {READ, EDIT},
    Role.SUPERVISOR: {READ, EDIT},
    Role.TECHNICIAN: {READ, EDIT},
    Role.OPERATOR: {READ},
}
DECLARATION = Declaration("camrules", Perm, GRANTS)
