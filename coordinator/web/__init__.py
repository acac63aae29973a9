"""The command-centre web dashboard: static files served by the coordinator at ``/ui/``.

Plain HTML, CSS and ES modules with no build step and no third-party front-end code, so
the dashboard works fully offline (no CDN, no tile server) and installs with the wheel.
Every screen reads the same role-checked, audited API as any other client.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"


def mount_web(app: FastAPI) -> None:
    """Serve the dashboard at ``/ui/`` and redirect ``/`` to it."""
    app.mount("/ui", StaticFiles(directory=STATIC, html=True), name="ui")

    @app.get("/", include_in_schema=False)
    def _root() -> RedirectResponse:
        return RedirectResponse("/ui/")
