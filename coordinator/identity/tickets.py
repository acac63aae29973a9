"""Single-use, short-lived tickets for the live stream.

A browser's ``EventSource`` cannot send an ``Authorization`` header, and a bearer token in
a URL ends up in proxy and server logs. So the dashboard asks (with its header) for a
ticket, then opens the stream with ``?ticket=``: the ticket works once, for
``ttl_s`` seconds, for the stream only, and only while the session it was minted from is
still valid (a logout or a disabled account ends it). Only a keyed hash of the ticket is
stored, as with session tokens. A ticket seen in a log afterwards is useless.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import sqlite_utils

from ..platform.db import Database
from .auth import AuthError, AuthService, Principal

#: Tickets are short, URL-safe and prefixed so a log reader recognises one.
PREFIX = "cwt_"


@dataclass(frozen=True)
class Ticket:
    """A minted ticket and when it lapses."""

    ticket: str
    expires_at: float


class StreamTickets:
    """Mints and redeems live-stream tickets bound to a session."""

    def __init__(self, db: Database, auth: AuthService, secret_key: str, ttl_s: float) -> None:
        self.db = db
        self.auth = auth
        self._key = secret_key.encode()
        self.ttl_s = ttl_s

    def _hash(self, ticket: str) -> str:
        return hmac.new(self._key, b"stream-ticket:" + ticket.encode(), hashlib.sha256).hexdigest()

    def mint(self, token: str, who: Principal) -> Ticket:
        """A new ticket for the session of ``token`` (already verified as ``who``)."""
        ticket = PREFIX + secrets.token_urlsafe(24)
        now = time.time()
        expires = now + self.ttl_s
        row = {
            "ticket_hash": self._hash(ticket),
            "session_hash": self.auth.session_hash(token),
            "user_id": who.user_id,
            "issued_at": now,
            "expires_at": expires,
            "used": 0,
        }
        self.db.write(lambda db: db.table("stream_tickets").insert(row))
        return Ticket(ticket, expires)

    def redeem(self, ticket: str) -> Principal:
        """Use a ticket up: the principal of its session, or AuthError (unknown, used,
        expired, or its session ended)."""
        if not ticket.startswith(PREFIX) or len(ticket) > 100:
            raise AuthError("invalid stream ticket")
        h = self._hash(ticket)

        def use(db: sqlite_utils.Database) -> str | None:
            cur = db.execute(
                "update stream_tickets set used = 1 where ticket_hash = ? and used = 0 "
                "and expires_at >= ?",
                [h, time.time()],
            )
            if cur.rowcount != 1:
                return None
            found = db.execute(
                "select session_hash from stream_tickets where ticket_hash = ?", [h]
            ).fetchone()
            return str(found[0])

        session = self.db.write(use)
        if session is None:
            raise AuthError("stream ticket unknown, used or expired: ask for a new one")
        return self.auth.verify_session(session)

    def purge(self) -> int:
        """Delete tickets that have lapsed (the periodic job)."""
        return self.db.execute_write(
            "delete from stream_tickets where expires_at < ?", [time.time() - 60]
        )
