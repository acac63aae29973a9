"""The permissions staff administration's routes check (granted by identity, which owns
them; merged by the composition root into the one role matrix)."""

from __future__ import annotations

from enum import StrEnum

from ..identity.permissions import Declaration, Grants


class Perm(StrEnum):
    """What the staff-administration routes check."""

    USERS_ADMIN = "users:admin"


GRANTS: Grants = {}  # users:admin is identity's, granted there to the administrator
DECLARATION = Declaration("staff", Perm, GRANTS)
