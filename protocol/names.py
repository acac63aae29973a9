"""Who may be called what on the broker: boards never share a name with the centre's accounts.

Mosquitto keeps one client-id namespace across all listeners, and both of ours take the
client id from the login (the certificate CN for boards, the username for services). A board
enrolled as ``coordinator`` — or as a patrol unit's id — would connect with that client id and
throw the real one off the broker, wiping its persistent session on the way. So a device id
may never equal, or imitate after case and separator folding, a reserved service name, a
service-account prefix, a broker account of this city, or a patrol unit's id.
"""

from __future__ import annotations

from collections.abc import Iterable

#: The centre's own roles and broker accounts: never a device.
RESERVED_NAMES = frozenset(
    {
        "admin",
        "administrator",
        "broker",
        "center",
        "centre",
        "coordinator",
        "dispatch",
        "ingest",
        "jobs",
        "mosquitto",
        "root",
        "simulator",
        "system",
        "warnings",
    }
)
#: Prefixes of service accounts (coordinator and ingest workers, simulators, units).
RESERVED_PREFIXES = ("coordinator", "centre-", "center-", "ingest-", "svc-", "sim-", "unit-")


def fold(name: str) -> str:
    """The form two names are compared in: case-folded, ``_`` and ``.`` read as ``-``."""
    return name.casefold().replace("_", "-").replace(".", "-")


def device_name_problem(name: str, taken: Iterable[str] = ()) -> str | None:
    """Why ``name`` cannot be a device id (None when it can).

    ``taken`` are the names already used by services: the city's broker accounts and its
    patrol units.
    """
    f = fold(name)
    if f in RESERVED_NAMES:
        return f"{name!r} is reserved for the centre's own services"
    for prefix in RESERVED_PREFIXES:
        if f.startswith(prefix):
            return f"{name!r} starts with {prefix!r}, a prefix reserved for service accounts"
    for other in taken:
        if fold(other) == f:
            return f"{name!r} is already the name of a service account or patrol unit ({other!r})"
    return None
