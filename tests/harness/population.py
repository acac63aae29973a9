"""Population test data: an officer principal, a valid person, the purpose header."""

from __future__ import annotations

from typing import Any

from coordinator.bootstrap import role_matrix
from coordinator.identity.auth import Principal, Role, perms_for
from devtools.population_data import prc_id

PURPOSE = {"X-Purpose": "case 2026-117 follow-up"}


def officer(
    name: str = "officer-a", zones: tuple[str, ...] = ("Z01",),
    roles: tuple[Role, ...] = (Role.POPULATION_OFFICER,),
) -> Principal:  # fmt: skip
    """A population officer principal (for service-level tests; other ``roles`` too)."""
    held = frozenset(roles)
    return Principal(1, name, held, frozenset(zones), perms=perms_for(held, role_matrix()))


def person_data(n: int = 0, **over: Any) -> dict[str, Any]:
    """A valid Chinese person in Z01 (distinct per n)."""
    import datetime as dt
    import random

    rng = random.Random(n)
    born = dt.date(1980, 1, 1) + dt.timedelta(days=n * 37)
    d = {
        "name": "李" + "伟芳娜敏静丽强磊"[n % 8] + "明超秀霞平刚"[n % 6],
        "id_type": "prc_id",
        "id_number": prc_id(rng, "36", born, "M"),
        "sex": "M",
        "phone": "13800138000",
        "zone": "Z01",
    }
    d.update(over)
    return d


def twin_data(n: int = 0, **over: Any) -> dict[str, Any]:
    """The person of :func:`person_data` (n) under another document number: the same name,
    birth date and origin, so a likely duplicate for the review queue (the same document
    would open the existing record instead)."""
    import datetime as dt
    import random

    born = dt.date(1980, 1, 1) + dt.timedelta(days=n * 37)
    d = person_data(n, id_number=prc_id(random.Random(10_000 + n), "36", born, "M"))
    d.update(over)
    return d
