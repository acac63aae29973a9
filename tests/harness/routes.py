"""Route discovery over the coordinator's FastAPI app (permission and audit walks)."""

from __future__ import annotations

from fastapi.routing import APIRoute


def iter_population_routes(app):
    """(method, path) of every population API route."""
    for route in iter_api_routes(app.routes):
        if route.path.startswith("/api/population"):
            for m in route.methods - {"HEAD", "OPTIONS"}:
                yield m, route.path


def iter_api_routes(routes):
    """Every APIRoute, including those of included routers (newer FastAPI nests them)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from iter_api_routes(inner.routes)
