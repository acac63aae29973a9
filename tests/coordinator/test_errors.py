"""The one domain error hierarchy and the one handler that maps it to HTTP."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from coordinator import errors
from coordinator.app import http_status
from coordinator.dispatch.service import DispatchError, DispatchInvalid, DispatchNotFound
from coordinator.dispatch.units import UnitError, UnitNotFound
from coordinator.enrolment.service import (
    EnrolmentConflict,
    EnrolmentInvalid,
    NotEnrolled,
    TokenRefused,
)
from coordinator.fleet.snapshots import SnapshotError, SnapshotNotFound
from coordinator.geo.zones import ZoneError
from coordinator.identity.auth import AuthError, LoginThrottled, UserExists, UserInvalid
from coordinator.incidents.actions import IncidentNotFound
from coordinator.incidents.merge import IncidentConflict
from coordinator.population.crypto import UnknownKeyError
from coordinator.population.ids import RecordError


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (errors.DomainError("x"), 400),
        (errors.Invalid("x"), 422),
        (errors.NotFound("x"), 404),
        (errors.Forbidden("x"), 403),
        (errors.Conflict("x"), 409),
        (errors.Unavailable("x"), 503),
        (AuthError("x"), 401),
        (LoginThrottled("x"), 429),
        (UserInvalid("x"), 422),
        (UserExists("x"), 409),
        (IncidentNotFound("x"), 404),
        (IncidentConflict("x"), 409),
        (SnapshotError("x"), 409),
        (SnapshotNotFound("x"), 404),
        (DispatchError("x"), 409),
        (DispatchNotFound("x"), 404),
        (DispatchInvalid("x"), 422),
        (UnitError("x"), 422),
        (UnitNotFound("x"), 404),
        (TokenRefused("x"), 401),
        (NotEnrolled("x"), 404),
        (EnrolmentConflict("x"), 409),
        (EnrolmentInvalid("x"), 422),
        (RecordError("name", "empty"), 422),
        (UnknownKeyError("x"), 500),
        (ZoneError(["feature 1: no geometry"]), 422),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_each_domain_error_has_one_status(exc: errors.DomainError, status: int) -> None:
    assert isinstance(exc, errors.DomainError)
    assert http_status(exc) == status


def test_the_handler_answers_with_the_detail(api: TestClient) -> None:
    def refuse() -> None:
        raise IncidentConflict("cannot move an incident from 'resolved' to 'new'")

    def bad_zones() -> None:
        raise ZoneError(["feature 2: not a polygon"])

    api.app.add_api_route("/probe/conflict", refuse)  # type: ignore[attr-defined]
    api.app.add_api_route("/probe/zones", bad_zones)  # type: ignore[attr-defined]
    r = api.get("/probe/conflict")
    assert r.status_code == 409
    assert r.json() == {"detail": "cannot move an incident from 'resolved' to 'new'"}
    r = api.get("/probe/zones")
    assert r.status_code == 422
    assert r.json() == {
        "detail": {"message": "feature 2: not a polygon", "problems": ["feature 2: not a polygon"]}
    }
