"""Login throttling by client address, kept in the database so every API process sees it.

Two counters slow a password guesser, never the rightful user elsewhere:

- **per address**: the first ``address_free`` failures from one address within the window
  cost nothing; each one after doubles the wait (2 s, 4 s, … up to ``max_wait_s``). A spray
  of many names from one address is slowed however the names are chosen.
- **per address and name**: the same for one name from one address, from
  ``user_free`` failures.

There is no counter per name alone: a name is public, and a lock on it would let anyone
lock the administrator out from anywhere. The same name from another address starts clean.

An attempt is *reserved* (counted as a failure) before the password is checked, inside one
transaction on the database's single writer, so parallel requests cannot slip past the
limit together; a success gives the reservation back. A refused attempt costs one read and
no password hash. Denied attempts are logged with the address and the name, never the
password.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from ..platform.db import Database
from .auth import LoginThrottled

log = logging.getLogger("coordinator.security")


def wait_after(failures: int, free: int, max_wait_s: float) -> float:
    """Seconds to wait after the ``failures``-th recent failure (0 while under ``free``)."""
    if failures < free:
        return 0.0
    return min(max_wait_s, 2.0 ** min(failures - free + 1, 40))


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures are free, for how long they count, and the longest wait."""

    address_free: int = 20
    user_free: int = 5
    window_s: float = 900.0
    max_wait_s: float = 900.0

    def free_for(self, key: str) -> int:
        """The free failures of a counter key (``a|…`` address, ``u|…`` address and name)."""
        return self.address_free if key.startswith("a|") else self.user_free


@dataclass(frozen=True)
class Reservation:
    """An attempt counted in advance; :meth:`LoginThrottle.succeeded` gives it back."""

    keys: tuple[str, str]
    previous: dict[str, dict[str, Any] | None]


def keys_for(address: str, username: str) -> tuple[str, str]:
    """The counter keys of an attempt: the address, and the address with the folded name."""
    return f"a|{address}", f"u|{address}|{username.strip().casefold()[:64]}"


class LoginThrottle:
    """Admits, counts and forgives login attempts by client address (see the module doc)."""

    def __init__(self, db: Database, policy: ThrottlePolicy) -> None:
        self.db = db
        self.policy = policy

    def _live(self, row: dict[str, Any] | None, now: float) -> dict[str, Any] | None:
        if row is None or row["last_failure"] < now - self.policy.window_s:
            return None  # forgotten: the window has passed since its last failure
        return row

    def _retry_after(self, rows: list[dict[str, Any] | None], now: float) -> float:
        return max([0.0] + [r["blocked_until"] - now for r in rows if r is not None])

    def reserve(self, address: str, username: str) -> Reservation:
        """Admit an attempt (counting it as a failure until it succeeds) or raise
        :class:`LoginThrottled` with the seconds to wait."""
        keys = keys_for(address, username)
        now = time.time()
        rows = self.db.query("select * from login_throttle where key in (?, ?)", [keys[0], keys[1]])
        wait = self._retry_after([self._live(r, now) for r in rows], now)
        if wait > 0:
            self._refuse(address, username, wait, "throttled")
        reservation = self.db.write(lambda db: self._count(db, keys, time.time()))
        if isinstance(reservation, float):
            self._refuse(address, username, reservation, "throttled")
        return reservation

    def _count(self, db: sqlite_utils.Database, keys: tuple[str, str], now: float) -> Any:
        """Inside the writer: re-check, then count the attempt on both keys."""
        previous: dict[str, dict[str, Any] | None] = {}
        for key in keys:
            cur = db.execute(
                "select key, failures, last_failure, blocked_until from login_throttle "
                "where key = ?",
                [key],
            ).fetchone()
            row = (
                None
                if cur is None
                else dict(
                    zip(("key", "failures", "last_failure", "blocked_until"), cur, strict=True)
                )
            )
            previous[key] = self._live(row, now)
        wait = self._retry_after(list(previous.values()), now)
        if wait > 0:
            return wait  # another request got there first
        for key, row in previous.items():
            failures = (row["failures"] if row else 0) + 1
            blocked = now + wait_after(failures, self.policy.free_for(key), self.policy.max_wait_s)
            db.execute(
                "insert into login_throttle (key, failures, last_failure, blocked_until) "
                "values (?, ?, ?, ?) on conflict(key) do update set failures = excluded.failures, "
                "last_failure = excluded.last_failure, blocked_until = excluded.blocked_until",
                [key, failures, now, blocked],
            )
        return Reservation(keys, previous)

    def succeeded(self, reservation: Reservation) -> None:
        """The password was right: the name's counter is cleared, the address's restored."""
        address_key, user_key = reservation.keys
        before = reservation.previous.get(address_key)

        def give_back(db: sqlite_utils.Database) -> None:
            db.execute("delete from login_throttle where key = ?", [user_key])
            if before is None:
                db.execute(
                    "update login_throttle set failures = max(failures - 1, 0), "
                    "blocked_until = 0 where key = ?",
                    [address_key],
                )
            else:
                db.execute(
                    "update login_throttle set failures = max(failures - 1, 0), "
                    "blocked_until = ? where key = ?",
                    [before["blocked_until"], address_key],
                )

        self.db.write(give_back)

    def failed(self, address: str, username: str, reason: str) -> None:
        """Log a refused password (the attempt stays counted)."""
        log.warning("login refused: address=%s user=%r reason=%s", address, username, reason)

    def _refuse(self, address: str, username: str, wait: float, reason: str) -> None:
        self.failed(address, username, reason)
        raise LoginThrottled(
            f"too many failed logins from this address; try again in {int(wait) + 1} s",
            retry_after_s=wait,
        )

    def purge(self) -> int:
        """Forget counters whose window and wait have both passed (the periodic job)."""
        now = time.time()
        return self.db.execute_write(
            "delete from login_throttle where last_failure < ? and blocked_until < ?",
            [now - self.policy.window_s, now],
        )
