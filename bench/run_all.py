"""Run every benchmark in bench/ (each prints its table and updates docs/benchmarks.md)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Order matters only for reading; each script is independent. Later issues add theirs.
SCRIPTS = [
    "protocol.py",
    "edge.py",
    "ingest.py",
    "incident_mix.py",
    "e2e_ack.py",
    "provisioning.py",
    "dispatch.py",
    "population.py",
    "population_workspace.py",
    "import_isolation.py",
    "audit.py",
    "fraud.py",
    "dashboard.py",
    "camrules.py",
    "approvals.py",
    "detection.py",
    "login.py",
    "owners.py",
    "hall.py",
    "fuzz.py",
]


def main() -> int:
    failed = []
    # one directory for the run: the seeded population is built once and shared by the
    # benchmarks that need it (bench/population_city.py), then removed with the run
    run = Path(tempfile.mkdtemp(prefix="cw-bench-run-"))
    env = {**os.environ, "CITYWATCH_BENCH_RUN": str(run)}
    try:
        for name in SCRIPTS:
            path = HERE / name
            if not path.exists():
                continue
            print(f"== bench/{name}", flush=True)
            if subprocess.run([sys.executable, str(path)], cwd=HERE.parent, env=env).returncode:
                failed.append(name)
    finally:
        shutil.rmtree(run, ignore_errors=True)
    if failed:
        print("benchmarks failed:", ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
