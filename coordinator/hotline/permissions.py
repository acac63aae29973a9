"""The permissions the hotline's routes check, and the roles that hold them.

The bureau's population officers work the line: they already take service requests by
phone and read the population records a call may link to, so no separate role is needed.
The administrator sees the monthly report (counts only)."""

from __future__ import annotations

from enum import StrEnum

from ..identity.permissions import Declaration, Grants, Role


class Perm(StrEnum):
    """What the hotline's routes check."""

    HOTLINE_WORK = "hotline:work"
    HOTLINE_REPORT = "hotline:report"


GRANTS: Grants = {
    Role.POPULATION_OFFICER: {Perm.HOTLINE_WORK, Perm.HOTLINE_REPORT},
    Role.ADMIN: {Perm.HOTLINE_REPORT},
}
DECLARATION = Declaration("hotline", Perm, GRANTS)
