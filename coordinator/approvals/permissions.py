"""The permissions the approvals routes check, and the roles that hold the ones it owns
(merged by the composition root into the one role matrix; ``identity/permissions.py``)."""

from __future__ import annotations

from enum import StrEnum

from ..identity.permissions import Declaration, Grants, Role


class Perm(StrEnum):
    """What the approvals routes and kinds check."""

    # Approve break-the-glass access to personal records, review emergency grants.
    ACCESS_APPROVE = "access:approve"


GRANTS: Grants = {Role.DATA_ACCESS_APPROVER: {Perm.ACCESS_APPROVE}}
DECLARATION = Declaration("approvals", Perm, GRANTS)
