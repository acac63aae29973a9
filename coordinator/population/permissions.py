"""The permissions population's routes check, and the roles that hold the ones it owns
(merged by the composition root into the one role matrix; ``identity/permissions.py``)."""

from __future__ import annotations

from enum import StrEnum

from ..identity.permissions import Declaration, Grants, Role


class Perm(StrEnum):
    """What population's routes check."""

    POPULATION_READ = "population:read"
    POPULATION_WRITE = "population:write"
    POPULATION_EXPORT = "population:export"
    POPULATION_REVIEW = "population:review"
    POPULATION_STATS = "population:stats"


#: The permissions population owns, by role.
GRANTS: Grants = {
    # The admin runs the system, but reading personal records is not administration: only
    # the small-cell-suppressed statistics.
    Role.ADMIN: {Perm.POPULATION_STATS},
    Role.POPULATION_OFFICER: {
        Perm.POPULATION_READ,
        Perm.POPULATION_WRITE,
        Perm.POPULATION_EXPORT,
        Perm.POPULATION_REVIEW,
        Perm.POPULATION_STATS,
    },
}
DECLARATION = Declaration("population", Perm, GRANTS)
