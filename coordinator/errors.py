"""The coordinator's one domain error hierarchy.

Services raise these; they never name an HTTP status. The one exception handler in
``app.py`` maps each kind to its HTTP answer, with the body ``{"detail": …}``.
A domain that wants its own name for an error subclasses one of these (``ZoneError`` is an
:class:`Invalid` whose detail lists every problem).
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A request the domain refuses; the message says why in one sentence."""

    @property
    def detail(self) -> Any:
        """What the client is told (the message; a subclass may add structure)."""
        return str(self)


class Invalid(DomainError):
    """The input is wrong (bad identifier, amount, date, file …)."""


class NotFound(DomainError):
    """No such object (or none the caller may see)."""


class Forbidden(DomainError):
    """The caller may not do this (outside their jurisdiction, another merchant's filing …)."""


class Conflict(DomainError):
    """The object is not in a state that allows this (illegal transition, already used …)."""


class Unauthenticated(DomainError):
    """Who the caller is could not be established (bad password, token, proof)."""


class TooManyAttempts(Unauthenticated):
    """Too many failed attempts in a short time: try again later (``retry_after_s``)."""

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Unavailable(DomainError):
    """A part the request needs is not configured or not connected."""


class Broken(DomainError):
    """The centre's own data or configuration is broken (an operator must fix it)."""
