"""The coordinator's enrolment API as the technicians' tools call it (httpx)."""

from __future__ import annotations

import ssl
from typing import Any

import httpx

HINTS = {
    401: "the credential was refused",
    403: "your account lacks the permission for this; ask an admin",
    404: "not found",
    409: "conflict with the current state",
    422: "the request was refused as invalid",
    503: "the coordinator is not set up for this",
}


class ApiError(Exception):
    """The coordinator refused or could not be reached; ``status`` 0 means unreachable."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class Coordinator:
    """A small synchronous client for the coordinator's enrolment routes."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        verify: str | bool = True,
        timeout: float = 30.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token
        # A CA file (--cacert: the centre's own CA) becomes a context trusting that CA.
        trust = ssl.create_default_context(cafile=verify) if isinstance(verify, str) else verify
        self._client = client or httpx.Client(verify=trust, timeout=timeout)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    def __enter__(self) -> Coordinator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Call the API; returns the JSON answer or raises ApiError with the reason."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            r = self._client.request(method, self.url + path, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise ApiError(
                f"cannot reach the coordinator at {self.url}: {exc}; check the address and "
                "the network (mobile data / VPN)"
            ) from None
        if r.status_code >= 400:
            try:
                detail = r.json().get("detail", r.text)
            except ValueError:
                detail = r.text
            hint = HINTS.get(r.status_code, "")
            raise ApiError(
                f"{detail} ({r.status_code}{': ' + hint if hint else ''})", r.status_code
            )
        ctype = r.headers.get("content-type", "")
        return r.json() if ctype.startswith("application/json") else r.text

    def login(self, username: str, password: str) -> str:
        """Log in and keep the bearer token for later calls."""
        out = self.request("POST", "/api/auth/login", {"username": username, "password": password})
        self.token = out["access_token"]
        return self.token

    def enrolment_token(self, device_id: str | None = None, ttl_s: int | None = None) -> dict:
        """A one-time enrolment token (needs a logged-in technician)."""
        body: dict[str, Any] = {}
        if device_id:
            body["device_id"] = device_id
        if ttl_s:
            body["ttl_s"] = ttl_s
        return self.request("POST", "/api/enrolment/tokens", body)

    def status(self, device_id: str) -> dict:
        """Enrolment status of a board."""
        return self.request("GET", f"/api/enrolment/devices/{device_id}")
