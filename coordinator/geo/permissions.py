"""The permissions geo's routes check (the patrol geography is read and written with the units permissions, owned by dispatch), and the roles that hold the ones it owns
(merged by the composition root into the one role matrix; ``identity/permissions.py``)."""

from __future__ import annotations

from enum import StrEnum

from ..identity.permissions import Declaration, Grants


class Perm(StrEnum):
    """What geo's routes check."""

    UNITS_READ = "units:read"  # owned by dispatch
    UNITS_WRITE = "units:write"  # owned by dispatch
    INCIDENTS_READ = "incidents:read"  # owned by incidents: centre staff read centres, shifts
    USERS_ADMIN = "users:admin"  # owned by identity: who works for which centre


GRANTS: Grants = {}  # owns none
DECLARATION = Declaration("geo", Perm, GRANTS)
