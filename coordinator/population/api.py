"""The population API: one router gathering the domain routers (mounted by app.routers())."""

from __future__ import annotations

from fastapi import APIRouter

from . import api_admin, api_records, api_services, api_uploads

router = APIRouter()
# Order matters for paths such as /persons/search vs /persons/{person_id}.
router.include_router(api_records.router)
router.include_router(api_services.router)
router.include_router(api_admin.router)
router.include_router(api_uploads.router)
