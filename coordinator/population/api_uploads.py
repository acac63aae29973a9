"""Large imports from the dashboard: a chunked, resumable upload, then a background import
with its progress and a cancel (small files may still be posted whole to ``/import``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from ..errors import Forbidden
from ..http.deps import require
from ..identity.auth import Principal
from .api_common import PathId, Pop, Purpose
from .api_models import ImportProgress, UploadState
from .permissions import Perm
from .uploads import CHUNK_MAX

router = APIRouter(prefix="/api/population", tags=["population"])
Writer = Annotated[Principal, Depends(require(Perm.POPULATION_WRITE))]


class UploadIn(BaseModel):
    """The file about to be sent: its size in bytes and its name."""

    model_config = ConfigDict(extra="forbid")
    size: int = Field(ge=1, description="bytes the file holds")
    file_name: str = Field(min_length=1, max_length=200)


def _own_job(pop: Any, p: Principal, job_id: int) -> dict[str, Any]:
    st = pop.importer.status(job_id)
    if st["actor"] != p.username:
        raise Forbidden("only the officer who ran an import follows or cancels it")
    return st


@router.post("/uploads", response_model=UploadState, status_code=201)
def upload_start(body: UploadIn, pop: Pop, p: Writer) -> dict[str, Any]:
    """Open a chunked upload (refused above the configured cap: use the command line)."""
    return pop.uploads.create(p, body.size, body.file_name)


@router.get("/uploads/{upload_id}", response_model=UploadState)
def upload_state(upload_id: str, pop: Pop, p: Writer) -> dict[str, Any]:
    """How many bytes the centre holds: resume sending from there."""
    return pop.uploads.state(p, upload_id)


@router.put("/uploads/{upload_id}", response_model=UploadState)
def upload_chunk(
    upload_id: str, pop: Pop, p: Writer, offset: Annotated[int, Query(ge=0)],
    body: Annotated[bytes, Body(media_type="application/octet-stream", max_length=CHUNK_MAX)],
) -> dict[str, Any]:  # fmt: skip
    """Append one chunk (at most 8 MiB) at ``offset`` (409 tells the right offset)."""
    return pop.uploads.append(p, upload_id, offset, body)


@router.delete("/uploads/{upload_id}", status_code=204)
def upload_delete(upload_id: str, pop: Pop, p: Writer) -> None:
    """Discard an upload."""
    pop.uploads.delete(p, upload_id)


@router.post("/uploads/{upload_id}/import", response_model=ImportProgress, status_code=202)
def upload_import(
    upload_id: str, pop: Pop, p: Writer, purpose: Purpose,
    encoding: Annotated[str, Query(pattern="^(utf-8|gb18030)$")] = "utf-8",
) -> dict[str, Any]:  # fmt: skip
    """Import a complete upload in the background (again after a cancel: it resumes)."""
    return pop.uploads.start_import(p, upload_id, encoding=encoding, purpose=purpose)


@router.get("/import/{job_id}", response_model=ImportProgress)
def import_progress(job_id: PathId, pop: Pop, p: Writer) -> dict[str, Any]:
    """An import's progress (records, bytes of the file, status)."""
    return _own_job(pop, p, job_id)


@router.post("/import/{job_id}/cancel", response_model=ImportProgress)
def import_cancel(job_id: PathId, pop: Pop, p: Writer) -> dict[str, Any]:
    """Stop an import at its next chunk: committed chunks are kept; importing the same
    upload or file again resumes it."""
    _own_job(pop, p, job_id)
    return pop.importer.cancel(p, job_id)
