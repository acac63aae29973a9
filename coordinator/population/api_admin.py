"""Population API: review queue and merges, CSV import/export, statistics, retention."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from ..http.deps import SettingsDep, require
from ..identity.auth import Principal
from .api_common import DbId, PathId, Pop, Purpose
from .api_models import (
    DuplicateCandidate,
    DuplicateCompare,
    Erased,
    ImportBatch,
    ImportJob,
    ImportRowError,
    MergeOut,
    PopulationStats,
    RetentionRun,
    UnmergeOut,
)
from .permissions import Perm

router = APIRouter(prefix="/api/population", tags=["population"])
Reviewer = Annotated[Principal, Depends(require(Perm.POPULATION_REVIEW))]
Writer = Annotated[Principal, Depends(require(Perm.POPULATION_WRITE))]
Exporter = Annotated[Principal, Depends(require(Perm.POPULATION_EXPORT))]
Statistician = Annotated[Principal, Depends(require(Perm.POPULATION_STATS))]
#: A CSV sent in one request body; larger files go through the chunked, resumable upload
#: (``/api/population/uploads``) or the command line.
MAX_UPLOAD = 8 * 1024 * 1024


class MergeIn(BaseModel):
    """Which record of the pair survives (default: the older one)."""

    model_config = ConfigDict(extra="forbid")
    survivor_id: DbId | None = None


@router.get("/duplicates", response_model=list[DuplicateCandidate])
def review_queue(
    pop: Pop, p: Reviewer, purpose: Purpose, status: str = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict[str, Any]]:  # fmt: skip
    """Duplicate candidates awaiting review, best score first."""
    return pop.duplicates.queue(p, purpose, status, limit)


@router.get("/duplicates/{cand_id}", response_model=DuplicateCompare)
def compare_duplicates(cand_id: PathId, pop: Pop, p: Reviewer, purpose: Purpose) -> dict[str, Any]:
    """A candidate pair side by side: both records, the evidence, the fields that agree."""
    return pop.duplicates.compare(p, cand_id, purpose)


class BatchDatesIn(BaseModel):
    """Why an import batch's historical dates should count (a second officer decides)."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=10, max_length=500)


@router.post("/import/{job_id}/dates-approval", response_model=ImportBatch, status_code=202)
def request_batch_dates(
    job_id: PathId, body: BatchDatesIn, pop: Pop, p: Writer, purpose: Purpose
) -> dict[str, Any]:
    """Ask a second officer to approve the batch's historical registration dates."""
    return pop.dates.request_batch(p, job_id, body.reason, purpose)


@router.post("/duplicates/{cand_id}/merge", response_model=MergeOut)
def merge(
    cand_id: PathId, pop: Pop, p: Reviewer, purpose: Purpose, body: MergeIn | None = None
) -> dict[str, Any]:
    """Merge a candidate pair (reversible)."""
    return pop.duplicates.merge(p, cand_id, body.survivor_id if body else None, purpose)


@router.post("/duplicates/{cand_id}/not-duplicate", response_model=Erased)
def not_duplicate(cand_id: PathId, pop: Pop, p: Reviewer, purpose: Purpose) -> dict[str, Any]:
    """Mark a candidate pair as two different people."""
    return pop.duplicates.not_duplicate(p, cand_id, purpose)


@router.post("/merges/{merge_id}/undo", response_model=UnmergeOut)
def undo_merge(merge_id: PathId, pop: Pop, p: Reviewer, purpose: Purpose) -> dict[str, Any]:
    """Reverse a merge."""
    return pop.duplicates.undo(p, merge_id, purpose)


@router.post("/import", response_model=ImportJob)
async def import_csv(
    settings: SettingsDep, pop: Pop, p: Writer, purpose: Purpose,
    body: Annotated[bytes, Body(media_type="text/csv")] = b"",
    encoding: Annotated[str, Query(pattern="^(utf-8|gb18030)$")] = "utf-8",
) -> dict[str, Any]:  # fmt: skip
    """Import a CSV (body, text/csv); rows outside your zones are rejected, with reasons."""
    if len(body) > MAX_UPLOAD:
        raise HTTPException(413, f"upload is larger than {MAX_UPLOAD} bytes: send it in chunks "
                            "(/api/population/uploads) or use the command line")  # fmt: skip
    folder = Path(settings.data_dir) / "imports"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    # a private (0600) temporary file, removed whatever happens
    with tempfile.NamedTemporaryFile("wb", dir=folder, suffix=".csv", delete=False) as f:
        f.write(body)
    path = Path(f.name)
    try:
        from starlette.concurrency import run_in_threadpool

        summary = await run_in_threadpool(
            pop.importer.run, p, path, encoding=encoding, purpose=purpose
        )
    finally:
        path.unlink(missing_ok=True)
    summary["errors"] = pop.importer.errors(summary["job_id"], 200)
    return summary


@router.get("/import/{job_id}/errors", response_model=list[ImportRowError])
def import_errors(job_id: PathId, pop: Pop, p: Writer, purpose: Purpose) -> list[dict[str, Any]]:
    """Rejected rows of an import: line, reason and masked values (audited)."""
    job = pop.ctx.db.query("select actor from pop_import_jobs where id = ?", [job_id])
    if not job:
        raise HTTPException(404, f"no import job {job_id}")
    if job[0]["actor"] != p.username:
        raise HTTPException(403, "only the officer who ran an import reads its rejected rows")
    rows = pop.importer.errors(job_id)
    pop.ctx.read(p, "read_import_errors", "import_job", [job_id], purpose, {"rows": len(rows)})
    return rows


@router.get("/export")
def export_csv(
    pop: Pop, p: Exporter, purpose: Purpose,
    zone: Annotated[str | None, Query(max_length=32)] = None, include_id_numbers: bool = False,
) -> Response:  # fmt: skip
    """Persons of your zones as CSV (ID numbers masked unless asked; every row audited)."""
    text = pop.export.persons_csv(p, purpose, zone=zone,
                include_id_numbers=include_id_numbers)  # fmt: skip
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="persons.csv"'})  # fmt: skip


@router.get("/stats", response_model=PopulationStats)
def stats(
    pop: Pop, p: Statistician, by: Annotated[list[str] | None, Query(max_length=10)] = None
) -> dict[str, Any]:
    """Counts by zone, origin, nationality, statuses and request categories (small cells hidden)."""
    return pop.stats.summary(p, by)


@router.post("/retention/run", response_model=RetentionRun)
def run_retention(pop: Pop, p: Reviewer) -> dict[str, int]:
    """Run the retention job now (it also runs on its schedule)."""
    result = pop.retention.run_once()
    pop.ctx.audit.record(p, "retention_run", "population", None, None, result)
    return result
