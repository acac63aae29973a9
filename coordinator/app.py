"""The FastAPI application factory. Nothing is created at import time."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from . import __version__, errors
from .container import Services
from .http.answers import Health
from .http.guard import HttpGuard

#: The one mapping of the domain errors to HTTP (the most specific class wins).
HTTP_STATUS: dict[type[errors.DomainError], int] = {
    errors.DomainError: 400,
    errors.Invalid: 422,
    errors.NotFound: 404,
    errors.Forbidden: 403,
    errors.Conflict: 409,
    errors.Unauthenticated: 401,
    errors.TooManyAttempts: 429,
    errors.Unavailable: 503,
    errors.Broken: 500,
}


def http_status(exc: errors.DomainError) -> int:
    """The HTTP status of the most specific kind ``exc`` is an instance of."""
    for cls in type(exc).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return 400  # pragma: no cover - DomainError itself is in the table


def routers() -> list[APIRouter]:
    """Every API router, one per domain (domains append theirs here)."""
    from .approvals import api as approvals_api
    from .camrules import api as camrules_api
    from .dispatch import api as dispatch_api
    from .dispatch import unit_api as dispatch_unit_api
    from .enrolment import api as enrolment_api
    from .fleet import api as fleet_api
    from .fleet import map_api, owners_api, snapshot_api
    from .fraud import api as fraud_api
    from .fraud import case_api as fraud_case_api
    from .geo import api as geo_api
    from .geo import centres_api
    from .hall import api as hall_api
    from .hotline import api as hotline_api
    from .http import stream
    from .identity import api as identity_api
    from .identity import audit_api
    from .incidents import alarms_api, evidence_api
    from .incidents import api as incidents_api
    from .population.api import router as population_router
    from .staff import api as staff_api

    return [
        identity_api.router,
        staff_api.router,
        approvals_api.router,
        audit_api.router,
        fleet_api.router,
        map_api.router,
        snapshot_api.router,
        owners_api.router,
        incidents_api.router,
        incidents_api.metrics_router,
        evidence_api.router,
        alarms_api.router,
        stream.router,
        population_router,
        fraud_api.router,
        hall_api.router,
        hotline_api.router,
        fraud_case_api.router,
        enrolment_api.router,
        geo_api.router,
        centres_api.router,
        dispatch_api.router,
        dispatch_unit_api.router,
        camrules_api.router,
    ]


def _purpose_required(build: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """The OpenAPI document marks ``X-Purpose`` required wherever a route asks for it.

    The header is checked in code (``http.deps.require_purpose``, for a readable 422), so
    FastAPI alone would list it as optional; every client must send it.
    """

    def openapi() -> dict[str, Any]:
        doc = build()
        for ops in doc.get("paths", {}).values():
            for op in ops.values():
                for p in op.get("parameters", []):
                    if p.get("in") == "header" and p.get("name") == "x-purpose":
                        p["required"] = True
        return doc

    return openapi


def _signed_in(services: Services, token: str) -> bool:
    """True when ``token`` is a valid session (the guard's test for the upload limit)."""
    try:
        services.auth.verify(token)
    except errors.Unauthenticated:
        return False
    return True


def create_app(services: Services) -> FastAPI:
    """Build the API around an open :class:`Services`; OpenAPI at ``/openapi.json``."""
    app = FastAPI(
        title="CityWatch coordinator",
        version=__version__,
        description="Command-centre API: devices, events, incidents, dispatch, records, audit.",
        # The interactive pages load their scripts from a CDN, which the Content-Security-
        # Policy (and an offline centre) refuses: the document is /openapi.json.
        docs_url=None,
        redoc_url=None,
    )
    app.state.services = services
    # The guard wraps the whole stack, Starlette's own error handler included, so every
    # answer (a 500 too) carries the security headers and no body is read past its limit.
    build_stack = app.build_middleware_stack
    app.build_middleware_stack = lambda: HttpGuard(  # type: ignore[method-assign]
        build_stack(), services.settings, signed_in=lambda token: _signed_in(services, token)
    )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        # 422 with one readable sentence per problem, never a 500.
        problems = [
            f"{'.'.join(str(x) for x in e.get('loc', ()) if x != 'body') or 'body'}: {e.get('msg')}"
            for e in exc.errors()
        ]
        return JSONResponse(
            status_code=422, content={"detail": "; ".join(problems), "errors": problems}
        )

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, exc: OverflowError) -> JSONResponse:
        # An id or count past SQLite's 64-bit integers (a 20-digit id in a URL) is bad
        # input, not a fault of the centre: 422 with the bound, never a 500.
        if "SQLite INTEGER" not in str(exc):
            raise exc
        return JSONResponse(
            status_code=422,
            content={"detail": f"a number in the request is out of range (at most {2**63 - 1})"},
        )

    @app.exception_handler(errors.DomainError)
    async def _domain(request: Request, exc: errors.DomainError) -> JSONResponse:
        # The one place a domain error becomes an HTTP answer: {"detail": ...}.
        headers = None
        if isinstance(exc, errors.TooManyAttempts) and exc.retry_after_s is not None:
            headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after_s)))}
        content: dict[str, Any] = {"detail": exc.detail}
        if code := getattr(exc, "code", None):
            content["code"] = code  # a refusal the dashboard words itself
        return JSONResponse(status_code=http_status(exc), content=content, headers=headers)

    @app.get(
        "/api/health",
        tags=["meta"],
        response_model=Health,
        responses={503: {"model": Health, "description": "the database failed its check"}},
    )
    def health() -> Any:
        """Liveness: the API answers, the database is reachable, and its last integrity
        check (after an unclean shutdown, off-peak, or ``coordinator check``) passed."""
        from .platform.integrity import last_check

        services.db.query("select 1")
        check = last_check(services.settings.db_path) or {"status": "unchecked"}
        body: dict[str, Any] = {"status": "ok", "version": __version__, "integrity": check}
        if check.get("status") == "corrupt":
            body["status"] = "corrupt"
            return JSONResponse(status_code=503, content=Health(**body).model_dump())
        return body

    for r in routers():
        app.include_router(r)
    app.openapi = _purpose_required(app.openapi)  # type: ignore[method-assign]
    from .web import mount_web

    mount_web(app)
    return app
