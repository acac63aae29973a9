"""The second factor at login: TOTP secrets at rest, enrolment and the challenge step.

Accounts holding a role that reads personal data (``SENSITIVE_ROLES``) log in in two
steps: the password gives a short-lived *challenge* (its keyed hash stored, five tries, five
minutes), and a code from the authenticator turns it into a session. An account without a
secret enrols during its first login: the secret is shown once (base32 and an
``otpauth://`` URI) and kept only after a code from it has been verified. Secrets are
encrypted (AES-256-GCM, a key derived from the settings' secret key); a code is accepted
once (the last step used is kept).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from typing import Any

import sqlite_utils
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..errors import Broken, Unauthenticated
from ..platform.db import Database
from . import totp

CHALLENGE_TTL_S = 300.0
CHALLENGE_TRIES = 5


class SecondFactorFailed(Unauthenticated):
    """The one-time code is wrong, reused, or the challenge expired."""


@dataclass(frozen=True)
class Enrolment:
    """A new secret, shown once."""

    secret: str
    otpauth_uri: str


class SecondFactor:
    """TOTP secrets and login challenges."""

    def __init__(self, db: Database, secret_key: str, clock: Any) -> None:
        self.db = db
        self.clock = clock
        self._hash_key = hmac.new(secret_key.encode(), b"login challenge", hashlib.sha256).digest()
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"citywatch totp")
        self._aead = AESGCM(hkdf.derive(secret_key.encode()))

    # ---- secrets at rest ----------------------------------------------------------------

    def seal(self, secret_b32: str) -> str:
        """Encrypt a secret for its column."""
        nonce = os.urandom(12)
        return base64.b64encode(
            nonce + self._aead.encrypt(nonce, secret_b32.encode(), None)
        ).decode()

    def open(self, sealed: str) -> str:
        """Decrypt a secret (Broken when the secret key changed since it was sealed)."""
        raw = base64.b64decode(sealed)
        try:
            return self._aead.decrypt(raw[:12], raw[12:], None).decode()
        except InvalidTag:
            raise Broken(
                "a second-factor secret cannot be read with this secret key: reset the "
                "account's second factor"
            ) from None

    # ---- challenges ---------------------------------------------------------------------

    def _hash(self, token: str) -> str:
        return hmac.new(self._hash_key, token.encode(), hashlib.sha256).hexdigest()

    def open_challenge(self, user_id: int) -> str:
        """A new challenge for ``user_id`` (older ones of the same account are dropped)."""
        token = secrets.token_urlsafe(24)
        now = self.clock()

        def write(db: sqlite_utils.Database) -> None:
            db.conn.execute(
                "delete from login_challenges where user_id = ? or expires_at < ?", [user_id, now]
            )
            db.conn.execute(
                "insert into login_challenges (token_hash, user_id, created_at, expires_at) "
                "values (?, ?, ?, ?)",
                [self._hash(token), user_id, now, now + CHALLENGE_TTL_S],
            )

        self.db.write(write)
        return token

    def challenge(self, token: str) -> dict[str, Any]:
        """The live challenge ``token`` names (SecondFactorFailed otherwise)."""
        if not token or len(token) > 200:
            raise SecondFactorFailed("invalid login challenge: sign in again")
        rows = self.db.query(
            "select * from login_challenges where token_hash = ?", [self._hash(token)]
        )
        if not rows or rows[0]["expires_at"] < self.clock():
            raise SecondFactorFailed("the login challenge expired: sign in again")
        if rows[0]["attempts"] >= CHALLENGE_TRIES:
            raise SecondFactorFailed("too many wrong codes: sign in again")
        return rows[0]

    def enrol(self, token: str, user: dict[str, Any]) -> Enrolment:
        """A fresh secret for an account without one, kept on the challenge until a code
        from it is verified."""
        ch = self.challenge(token)
        if user["totp_enrolled_at"]:
            raise SecondFactorFailed("this account already has a second factor")
        secret = totp.new_secret()
        self.db.execute_write(
            "update login_challenges set enrol_secret = ? where token_hash = ?",
            [self.seal(secret), ch["token_hash"]],
        )
        return Enrolment(secret, totp.otpauth_uri(secret, user["username"]))

    def verify(self, token: str, user: dict[str, Any], code: str) -> None:
        """Check ``code`` against the challenge's account (enrolling a pending secret);
        the challenge is used up on success, counted on failure."""
        ch = self.challenge(token)
        if ch["user_id"] != user["id"]:
            raise SecondFactorFailed("invalid login challenge: sign in again")
        sealed = user["totp_secret"] if user["totp_enrolled_at"] else ch["enrol_secret"]
        if not sealed:
            raise SecondFactorFailed("enrol an authenticator first (the secret is shown once)")
        step = totp.matching_step(self.open(sealed), code, self.clock(), user["totp_last_step"])
        if step is None:
            self.db.execute_write(
                "update login_challenges set attempts = attempts + 1 where token_hash = ?",
                [ch["token_hash"]],
            )
            raise SecondFactorFailed("wrong or already used one-time code")
        self._accept(user, ch, sealed, step)

    def verify_direct(self, user: dict[str, Any], code: str) -> bool:
        """One-step login (password and code in one request) for an enrolled account."""
        if not user["totp_enrolled_at"] or not user["totp_secret"]:
            return False
        step = totp.matching_step(
            self.open(user["totp_secret"]), code, self.clock(), user["totp_last_step"]
        )
        if step is None:
            return False
        self._accept(user, None, user["totp_secret"], step)
        return True

    def _accept(
        self, user: dict[str, Any], ch: dict[str, Any] | None, sealed: str, step: int
    ) -> None:
        now = self.clock()

        def write(db: sqlite_utils.Database) -> None:
            # The step is compared again under the writer: two logins racing with one code
            # cannot both pass.
            last = db.execute(
                "select totp_last_step from users where id = ?", [user["id"]]
            ).fetchone()[0]
            if last is not None and step <= last:
                raise SecondFactorFailed("wrong or already used one-time code")
            db.conn.execute(
                "update users set totp_last_step = ?, totp_secret = ?, "
                "totp_enrolled_at = coalesce(totp_enrolled_at, ?) where id = ?",
                [step, sealed, now, user["id"]],
            )
            if ch is not None:
                db.conn.execute(
                    "delete from login_challenges where token_hash = ?", [ch["token_hash"]]
                )

        self.db.write(write)
