"""Errors of the fraud domain, each with the HTTP status the API answers with."""

from __future__ import annotations


class FraudError(Exception):
    """Base: a clear sentence and a status."""

    status = 400


class Invalid(FraudError):
    """The input is wrong (bad identifier, amount, date…)."""

    status = 422


class NotFound(FraudError):
    """No such object (or none the caller may see)."""

    status = 404


class Forbidden(FraudError):
    """The caller may not do this."""

    status = 403


class Conflict(FraudError):
    """The object is not in a state that allows this (e.g. publishing an unapproved warning)."""

    status = 409
