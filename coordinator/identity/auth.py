"""Users, roles, permissions and session tokens.

Passwords are hashed with argon2id. A login returns a random bearer token; only its
keyed hash (HMAC-SHA256 with the settings' secret) is stored, with an expiry, so a
database leak yields no usable token and logout/revocation is immediate. Routes check
*permissions*; the role matrix is merged by the composition root from every domain's
``permissions.py`` (``identity/permissions.py``) and passed in here, tested as a matrix.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from protocol import is_valid_id

from ..errors import Conflict, Invalid, TooManyAttempts, Unauthenticated
from ..platform.db import Database
from .permissions import Role as Role  # roles are identity's; re-exported for callers
from .permissions import RoleMatrix


class AuthError(Unauthenticated):
    """Authentication failed (wrong password, forged, expired or revoked token)."""


class LoginThrottled(TooManyAttempts, AuthError):
    """Too many failed logins from this address (and name) in a short time."""


class UserInvalid(Invalid, ValueError):
    """A new user's name, password or roles are not acceptable."""


class UserExists(Conflict, ValueError):
    """The username is taken."""


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of a request."""

    user_id: int
    username: str
    roles: frozenset[Role]
    zones: frozenset[str] = frozenset()
    merchant_id: str | None = None
    unit_id: str | None = None
    perms: frozenset[str] = field(default_factory=frozenset)

    def can(self, perm: str) -> bool:
        """True when any of the caller's roles grants ``perm``."""
        return perm in self.perms

    @property
    def role_names(self) -> list[str]:
        """Sorted role names (for audit entries and the UI)."""
        return sorted(r.value for r in self.roles)


def perms_for(roles: frozenset[Role], matrix: RoleMatrix) -> frozenset[str]:
    """Union of the permissions of ``roles`` in the role matrix."""
    out: set[str] = set()
    for r in roles:
        out |= matrix.get(r, frozenset())
    return frozenset(out)


class AuthService:
    """Creates users, checks passwords, issues and verifies bearer tokens."""

    def __init__(
        self,
        db: Database,
        secret_key: str,
        token_ttl_s: int,
        *,
        role_permissions: RoleMatrix,
        memory_kib: int = 65536,
        time_cost: int = 3,
    ) -> None:
        self.db = db
        self.role_permissions = role_permissions  # merged from the domains' declarations
        self._key = secret_key.encode()
        self.token_ttl_s = token_ttl_s
        # argon2id, RFC 9106's second recommended profile (64 MiB, 3 passes) by default.
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=2)

    def _token_hash(self, token: str) -> str:
        return hmac.new(self._key, token.encode(), hashlib.sha256).hexdigest()

    def create_user(
        self,
        username: str,
        password: str,
        roles: list[Role | str],
        *,
        zones: list[str] | None = None,
        merchant_id: str | None = None,
        unit_id: str | None = None,
        display_name: str | None = None,
    ) -> int:
        """Create a user; UserInvalid for a bad name, weak password or unknown role, UserExists
        for a taken name (both are ValueErrors)."""
        if not is_valid_id(username):
            raise UserInvalid(
                "username must be 1-64 of A-Z a-z 0-9 . _ - starting with a letter or digit"
            )
        if len(password) < 10:
            raise UserInvalid("password must be at least 10 characters")
        try:
            role_set = sorted({Role(r).value for r in roles})
        except ValueError as exc:
            raise UserInvalid(
                f"unknown role: {exc}; roles are {', '.join(r.value for r in Role)}"
            ) from None
        if not role_set:
            raise UserInvalid("a user needs at least one role")
        row = {
            "username": username,
            "password_hash": self._hasher.hash(password),
            "roles": json.dumps(role_set),
            "zones": json.dumps(sorted(set(zones or []))),
            "merchant_id": merchant_id,
            "unit_id": unit_id,
            "display_name": display_name or username,
            "active": 1,
            "created_at": time.time(),
        }

        def insert(db: sqlite_utils.Database) -> int:
            if db.execute("select 1 from users where username = ?", [username]).fetchone():
                raise UserExists(f"user {username!r} already exists")
            return int(db.table("users").insert(row).last_pk)  # type: ignore[arg-type]

        return self.db.write(insert)

    def login(self, username: str, password: str) -> tuple[str, float, Principal]:
        """Check the password and return (token, expires_at, principal)."""
        # Repeated failures are slowed per client address by identity/throttle.py (shared
        # by every API process), never per name alone: that would let anyone lock a user out.
        now = time.time()
        rows = self.db.query("select * from users where username = ? and active = 1", [username])
        ok = False
        if rows:
            try:
                ok = self._hasher.verify(rows[0]["password_hash"], password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                ok = False
        else:
            # Spend the same time as a real check so usernames cannot be probed by timing.
            self._hasher.hash(password)
        if not ok:
            raise AuthError("wrong username or password")
        token = secrets.token_urlsafe(32)
        expires = now + self.token_ttl_s
        user_id = rows[0]["id"]
        self.db.write(
            lambda db: db.table("sessions").insert(
                {
                    "token_hash": self._token_hash(token),
                    "user_id": user_id,
                    "issued_at": now,
                    "expires_at": expires,
                    "revoked": 0,
                }
            )
        )
        return token, expires, self._principal(rows[0])

    def logout(self, token: str) -> None:
        """Revoke a token."""
        h = self._token_hash(token)
        self.db.execute_write("update sessions set revoked = 1 where token_hash = ?", [h])

    def verify(self, token: str) -> Principal:
        """Return the principal of a valid token or raise AuthError saying why not."""
        if not token or len(token) > 200:
            raise AuthError("invalid token")
        return self.verify_session(self._token_hash(token))

    def session_hash(self, token: str) -> str:
        """The stored (keyed) hash of a token: what credentials derived from it are bound to."""
        return self._token_hash(token)

    def verify_session(self, token_hash: str) -> Principal:
        """The principal of the session stored under ``token_hash``, or AuthError."""
        rows = self.db.query(
            "select s.expires_at, s.revoked, u.* from sessions s join users u on u.id = s.user_id "
            "where s.token_hash = ?",
            [token_hash],
        )
        if not rows:
            raise AuthError("invalid token")
        row = rows[0]
        if row["revoked"]:
            raise AuthError("token revoked; log in again")
        if row["expires_at"] < time.time():
            raise AuthError("token expired; log in again")
        if not row["active"]:
            raise AuthError("account disabled")
        return self._principal(row)

    def purge_expired(self, older_than_s: float = 86400) -> int:
        """Delete sessions that expired more than ``older_than_s`` ago."""
        cutoff = time.time() - older_than_s
        return self.db.execute_write("delete from sessions where expires_at < ?", [cutoff])

    def _principal(self, row: dict[str, Any]) -> Principal:
        roles = frozenset(Role(r) for r in json.loads(row["roles"]))
        return Principal(
            user_id=row["id"],
            username=row["username"],
            roles=roles,
            zones=frozenset(json.loads(row["zones"] or "[]")),
            merchant_id=row["merchant_id"],
            unit_id=row["unit_id"],
            perms=perms_for(roles, self.role_permissions),
        )
