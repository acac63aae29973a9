"""The permissions fleet's routes check, and the roles that hold the ones it owns
(merged by the composition root into the one role matrix; ``identity/permissions.py``)."""

from __future__ import annotations

from enum import StrEnum

from ..identity.permissions import Declaration, Grants, Role


class Perm(StrEnum):
    """What fleet's routes check."""

    DEVICES_READ = "devices:read"
    DEVICES_WRITE = "devices:write"
    SNAPSHOT_REQUEST = "snapshots:request"
    OWNERS_READ = "owners:read"  # owner organisations, agreements, per-owner statistics
    OWNERS_WRITE = "owners:write"  # edit organisations and agreements, make owner accounts
    OWNERS_SELF = "owners:self"  # an owner account: its own cameras and their incidents


#: The permissions fleet owns, by role.
GRANTS: Grants = {
    Role.ADMIN: {
        Perm.DEVICES_READ,
        Perm.DEVICES_WRITE,
        Perm.SNAPSHOT_REQUEST,
        Perm.OWNERS_READ,
        Perm.OWNERS_WRITE,
    },
    Role.OPERATOR: {Perm.DEVICES_READ, Perm.SNAPSHOT_REQUEST, Perm.OWNERS_READ},
    Role.CALL_TAKER: {Perm.DEVICES_READ},
    Role.DISPATCHER: {Perm.DEVICES_READ},
    Role.TECHNICIAN: {Perm.DEVICES_READ, Perm.DEVICES_WRITE, Perm.OWNERS_READ},
    Role.CAMERA_OWNER: {Perm.OWNERS_SELF},
}
DECLARATION = Declaration("fleet", Perm, GRANTS)
