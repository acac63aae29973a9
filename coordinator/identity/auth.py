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
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from protocol import is_valid_id

from ..errors import Conflict, Invalid, NotFound, TooManyAttempts, Unauthenticated
from ..platform.db import Database
from .mfa import Enrolment, SecondFactor, SecondFactorFailed
from .permissions import SENSITIVE_ROLES, RoleMatrix
from .permissions import Role as Role  # roles are identity's; re-exported for callers

MIN_PASSWORD = 10


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


def actor_name(actor: Principal | str) -> str:
    """Who did it, for history rows: a caller's user name, or a job's own name."""
    return actor.username if isinstance(actor, Principal) else str(actor)


@dataclass(frozen=True)
class LoginOutcome:
    """A session (``token``), or the second step a login still needs (``challenge``)."""

    principal: Principal
    token: str | None = None
    expires_at: float | None = None
    second_factor: str | None = None
    """``totp`` (enter a code) or ``totp_enrol`` (enrol an authenticator, then a code)."""
    challenge: str | None = None


def needs_second_factor(roles: Iterable[Role | str]) -> bool:
    """True when any of ``roles`` reads personal data (their logins need a TOTP code)."""
    return any(Role(r) in SENSITIVE_ROLES for r in roles)


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
        self.clock = time.time
        self.mfa = SecondFactor(db, secret_key, lambda: self.clock())

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
        pending: bool = False,
        expires_at: float | None = None,
        totp_secret: str | None = None,
    ) -> int:
        """Create a user; UserInvalid for a bad name, weak password or unknown role, UserExists
        for a taken name (both are ValueErrors). A ``pending`` account cannot log in until a
        second administrator approves it (``activate_pending``); ``totp_secret`` enrols a
        known secret (seeded demo and test accounts)."""
        if not is_valid_id(username):
            raise UserInvalid(
                "username must be 1-64 of A-Z a-z 0-9 . _ - starting with a letter or digit"
            )
        self.check_password(password)
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
            "active": 0 if pending else 1,
            "pending_approval": 1 if pending else None,
            "created_at": time.time(),
            "password_changed_at": time.time(),
            "expires_at": expires_at,
            "totp_secret": self.mfa.seal(totp_secret) if totp_secret else None,
            "totp_enrolled_at": time.time() if totp_secret else None,
        }

        def insert(db: sqlite_utils.Database) -> int:
            if db.execute("select 1 from users where username = ?", [username]).fetchone():
                raise UserExists(f"user {username!r} already exists")
            return int(db.table("users").insert(row).last_pk)  # type: ignore[arg-type]

        return self.db.write(insert)

    def login(self, username: str, password: str, totp_code: str | None = None) -> LoginOutcome:
        """Check the password; return a session, or the second step the account needs.

        An account holding a role that reads personal data needs a TOTP code: given here
        (one step) or through :meth:`complete_login` with the returned challenge.
        """
        # Repeated failures are slowed per client address by identity/throttle.py (shared
        # by every API process), never per name alone: that would let anyone lock a user out.
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
        row = rows[0]
        if row["expires_at"] is not None and row["expires_at"] < self.clock():
            raise AuthError("account expired: ask an administrator")
        principal = self._principal(row)
        if needs_second_factor(principal.roles):
            if totp_code and self.mfa.verify_direct(row, totp_code):
                return self._issue(row, principal)
            if totp_code:
                raise SecondFactorFailed("wrong or already used one-time code")
            step = "totp" if row["totp_enrolled_at"] else "totp_enrol"
            return LoginOutcome(principal, second_factor=step,
                                challenge=self.mfa.open_challenge(row["id"]))  # fmt: skip
        return self._issue(row, principal)

    def enrol_second_factor(self, challenge: str) -> Enrolment:
        """A new authenticator secret for the challenge's account (shown once)."""
        ch = self.mfa.challenge(challenge)
        return self.mfa.enrol(challenge, self._user_row(ch["user_id"]))

    def complete_login(self, challenge: str, code: str) -> LoginOutcome:
        """The second step: a code for the challenge's account gives a session."""
        ch = self.mfa.challenge(challenge)
        row = self._user_row(ch["user_id"])
        if not row["active"]:
            raise AuthError("account disabled")
        self.mfa.verify(challenge, row, code)
        row = self._user_row(ch["user_id"])
        return self._issue(row, self._principal(row))

    def _issue(self, row: dict[str, Any], principal: Principal) -> LoginOutcome:
        token = secrets.token_urlsafe(32)
        now = time.time()
        expires = now + self.token_ttl_s
        if row["expires_at"] is not None:
            expires = min(expires, row["expires_at"])  # a session ends with its account
        self.db.write(
            lambda db: db.table("sessions").insert(
                {
                    "token_hash": self._token_hash(token),
                    "user_id": row["id"],
                    "issued_at": now,
                    "expires_at": expires,
                    "revoked": 0,
                }
            )
        )
        return LoginOutcome(principal, token=token, expires_at=expires)

    def _user_row(self, user_id: int) -> dict[str, Any]:
        rows = self.db.query("select * from users where id = ?", [user_id])
        if not rows:
            raise NotFound(f"no user {user_id}")
        return rows[0]

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
            "select s.expires_at as session_expires_at, s.revoked, u.* "
            "from sessions s join users u on u.id = s.user_id where s.token_hash = ?",
            [token_hash],
        )
        if not rows:
            raise AuthError("invalid token")
        row = rows[0]
        now = time.time()
        if row["revoked"]:
            raise AuthError("token revoked; log in again")
        if row["session_expires_at"] < now:
            raise AuthError("token expired; log in again")
        if not row["active"]:
            raise AuthError("account disabled")
        if row["expires_at"] is not None and row["expires_at"] < now:
            raise AuthError("account expired")
        return self._principal(row)

    # ---- the account's life cycle (staff administration calls these) ---------------------

    @staticmethod
    def check_password(password: str) -> None:
        """UserInvalid for a password too weak to keep."""
        if len(password) < MIN_PASSWORD:
            raise UserInvalid(f"password must be at least {MIN_PASSWORD} characters")
        if len(set(password)) < 4:
            raise UserInvalid("password must not repeat a few characters")

    def end_sessions(self, user_id: int) -> int:
        """Revoke every session of an account; returns how many were live."""
        return self.db.write(lambda db: self.end_sessions_in(db, user_id))

    @staticmethod
    def end_sessions_in(db: sqlite_utils.Database, user_id: int) -> int:
        """Revoke every session of an account inside the caller's transaction."""
        cur = db.conn.execute(
            "update sessions set revoked = 1 where user_id = ? and revoked = 0", [user_id]
        )
        db.conn.execute("delete from login_challenges where user_id = ?", [user_id])
        return cur.rowcount

    def set_password(self, user_id: int, password: str) -> int:
        """A new password; every session of the account ends. Returns sessions ended."""
        self.check_password(password)
        pw_hash = self._hasher.hash(password)

        def write(db: sqlite_utils.Database) -> int:
            self._exists(db, user_id)
            db.conn.execute(
                "update users set password_hash = ?, password_changed_at = ? where id = ?",
                [pw_hash, time.time(), user_id],
            )
            return self.end_sessions_in(db, user_id)

        return self.db.write(write)

    def set_active(self, user_id: int, active: bool, by: str, reason: str | None) -> int:
        """Disable (sessions end) or re-enable an account. Returns sessions ended."""

        def write(db: sqlite_utils.Database) -> int:
            row = self._exists(db, user_id)
            if row["pending_approval"]:
                raise Conflict("this account awaits a second administrator's approval")
            if active:
                db.conn.execute(
                    "update users set active = 1, disabled_at = null, disabled_by = null, "
                    "disabled_reason = null where id = ?",
                    [user_id],
                )
                return 0
            db.conn.execute(
                "update users set active = 0, disabled_at = ?, disabled_by = ?, "
                "disabled_reason = ? where id = ?",
                [time.time(), by, reason, user_id],
            )
            return self.end_sessions_in(db, user_id)

        return self.db.write(write)

    def set_expiry(self, user_id: int, expires_at: float | None) -> None:
        """The date after which the account stops working (None: never)."""

        def write(db: sqlite_utils.Database) -> None:
            self._exists(db, user_id)
            db.conn.execute("update users set expires_at = ? where id = ?", [expires_at, user_id])
            if expires_at is not None:
                # Live sessions end with the account, not a shift later.
                db.conn.execute(
                    "update sessions set expires_at = min(expires_at, ?) where user_id = ?",
                    [expires_at, user_id],
                )

        self.db.write(write)

    def reset_second_factor(self, user_id: int) -> int:
        """Forget the account's authenticator (it enrols again at its next login); its
        sessions end. Returns sessions ended."""

        def write(db: sqlite_utils.Database) -> int:
            self._exists(db, user_id)
            db.conn.execute(
                "update users set totp_secret = null, totp_enrolled_at = null, "
                "totp_last_step = null where id = ?",
                [user_id],
            )
            return self.end_sessions_in(db, user_id)

        return self.db.write(write)

    @staticmethod
    def _exists(db: sqlite_utils.Database, user_id: int) -> dict[str, Any]:
        cur = db.conn.execute("select * from users where id = ?", [user_id])
        found = cur.fetchone()
        if found is None:
            raise NotFound(f"no user {user_id}")
        return dict(zip([c[0] for c in cur.description], found, strict=True))

    def purge_expired(self, older_than_s: float = 86400) -> int:
        """Delete sessions that expired more than ``older_than_s`` ago."""
        cutoff = time.time() - older_than_s
        self.db.execute_write("delete from login_challenges where expires_at < ?", [time.time()])
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
