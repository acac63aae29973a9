"""Route discovery shared by the population walks."""

from __future__ import annotations

from tests.coordinator.test_auth import iter_api_routes


def iter_population_routes(app):
    """(method, path) of every population API route."""
    for route in iter_api_routes(app.routes):
        if route.path.startswith("/api/population"):
            for m in route.methods - {"HEAD", "OPTIONS"}:
                yield m, route.path
