"""Helpers for calling the coordinator's HTTP API in tests."""

from __future__ import annotations

#: The password of every user the coordinator fixtures create.
PASSWORD = "password-for-tests"


def bearer(token: str) -> dict[str, str]:
    """Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}
