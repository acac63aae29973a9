"""The seeded population database, built once per bench run and shared by the benchmarks
of that run (``population.py``, ``population_workspace.py``).

``make bench`` (``bench/run_all.py``) names a run directory in ``CITYWATCH_BENCH_RUN``; the
first benchmark that asks for a city of ``n`` persons generates them from the bureau's rates,
imports them through the real importer (validation, encryption, keyed hash, duplicate check,
audit), has a second person approve the batch's historical dates, and leaves a marker with
what the build measured; the next benchmark of the run opens the same files. Run alone, a
benchmark builds into a temporary directory of its own.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coordinator.bootstrap import open_services  # noqa: E402
from coordinator.settings import Settings  # noqa: E402
from devtools.population_data import write_csv  # noqa: E402

SEED = 1


def run_dir() -> Path:
    """This run's shared directory (``CITYWATCH_BENCH_RUN``), or a fresh temporary one."""
    named = os.environ.get("CITYWATCH_BENCH_RUN")
    if named:
        Path(named).mkdir(parents=True, exist_ok=True)
        return Path(named)
    return Path(tempfile.mkdtemp(prefix="cw-bench-run-"))


def seeded(n: int, run: Path | None = None) -> dict[str, Any]:
    """The run's city of ``n`` persons: ``{"dir", "csv", "settings", "built"}`` where
    ``built`` holds what building it measured (import time, rows imported …)."""
    base = (run or run_dir()) / f"population-{n}"
    marker = base / "built.json"
    # Nothing else runs on the bench city while it is built: the importer need not yield
    # the writer to ingest (full duty, larger chunks); it is the same importer otherwise.
    settings = Settings.for_dev(base / "coord", import_duty_cycle=1.0, import_chunk_rows=1000)
    if marker.exists():
        return {"dir": base, "csv": base / "pop.csv", "settings": settings,
                "built": json.loads(marker.read_text()), "cached": True}  # fmt: skip
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    print(f"generating {n:,} persons from the bureau's rates ...", flush=True)
    csv_path = write_csv(base / "pop.csv", n, seed=SEED)
    services = open_services(settings)
    try:
        pop = services.population
        print("importing through the real importer ...", flush=True)
        t0 = time.perf_counter()
        summary = pop.importer.run("bench", csv_path, progress=sys.stderr.isatty())
        import_s = time.perf_counter() - t0
        batch = pop.dates.request_batch("bench", summary["job_id"],
                                        "the bench city's historical register, generated")  # fmt: skip
        services.approvals.approve("bench:second-officer", int(batch["dates_approval_id"]))
        commits = services.db.commits
    finally:
        services.close()
    c = sqlite3.connect(settings.db_path)  # fold the WAL in: the next opener starts clean
    c.execute("pragma wal_checkpoint(truncate)")
    c.close()
    built = {"persons": n, "import_s": import_s, "imported": summary["imported"],
             "rejected": summary["rejected"], "existing": summary["existing"],
             "group_commits": commits}  # fmt: skip
    marker.write_text(json.dumps(built))
    return {"dir": base, "csv": csv_path, "settings": settings, "built": built, "cached": False}


def scratch_copy(city: dict[str, Any], into: Path) -> Settings:
    """A copy of the city's database to change (form saves) without touching the shared one."""
    into.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(city["settings"].db_path)
    settings = Settings.for_dev(into / "coord")
    settings.db_path.parent.mkdir(parents=True, exist_ok=True)
    dst = sqlite3.connect(settings.db_path)
    src.backup(dst)
    dst.close()
    src.close()
    return settings  # the development keys are fixed: the copy's ciphertexts open alike
