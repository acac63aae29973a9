"""The permissions the hall's routes check, and the roles that hold them."""

from __future__ import annotations

from enum import StrEnum

from ..identity.permissions import Declaration, Grants, Role


class Perm(StrEnum):
    """What the hall's routes check."""

    HALL_READ = "hall:read"
    HALL_WRITE = "hall:write"
    HALL_DECIDE = "hall:decide"
    HALL_STATS = "hall:stats"


#: The hall clerk works cases from application to collection. The administrator sees only
#: the suppressed statistics; population officers read cases (a foreigner at their counter
#: may have one open) but do not work them.
GRANTS: Grants = {
    Role.HALL_CLERK: {Perm.HALL_READ, Perm.HALL_WRITE, Perm.HALL_DECIDE, Perm.HALL_STATS},
    Role.POPULATION_OFFICER: {Perm.HALL_READ},
    Role.ADMIN: {Perm.HALL_STATS},
}
DECLARATION = Declaration("hall", Perm, GRANTS)
