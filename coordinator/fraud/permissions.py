"""The permissions fraud's routes check, and the roles that hold the ones it owns
(merged by the composition root into the one role matrix; ``identity/permissions.py``)."""

from __future__ import annotations

from enum import StrEnum

from ..identity.permissions import Declaration, Grants, Role


class Perm(StrEnum):
    """What fraud's routes check."""

    FRAUD_READ = "fraud:read"
    FRAUD_WRITE = "fraud:write"
    FRAUD_APPROVE = "fraud:approve"
    MERCHANT_FILE = "merchant:file"
    COMPANY_CHECK = "company:check"


#: The permissions fraud owns, by role.
GRANTS: Grants = {
    # The admin may check a company like a merchant; fraud records stay with investigators.
    Role.ADMIN: {Perm.COMPANY_CHECK},
    Role.FRAUD_INVESTIGATOR: {
        Perm.FRAUD_READ,
        Perm.FRAUD_WRITE,
        Perm.FRAUD_APPROVE,
        Perm.COMPANY_CHECK,
    },
    Role.MERCHANT: {Perm.MERCHANT_FILE, Perm.COMPANY_CHECK},
}
DECLARATION = Declaration("fraud", Perm, GRANTS)
