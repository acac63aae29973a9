"""Make ``db-release-0.1.0.sqlite``: a small database as release 0.1.0 leaves it on disk.

The committed file was made by release 0.1.0, the coordinator code of commit
0970729c2e1bb3eea242bd7522b91b09a1e90467 (``git rev-parse HEAD`` before the re-packaging into
domain packages; the golden-test commits on top of it add tests only), with:

    .venv/bin/python -m tests.golden.make_release_db

It runs the recorded session of ``session.py`` through the release's own services and HTTP
API: users of every role (password ``session.PASSWORD``), three cameras, ingested events
and the incidents they opened (confirmed, annotated, dismissed, dispatched), patrol zones and
a road grid, two dispatch units and an order, population persons with ID numbers encrypted
under ``adapter.DATA_KEY``, a house and a registration, a duplicate under review, fraud
merchants, companies, filings, a link decision, a published warning, and the audit trail of
all of it. The file is then checkpointed (no ``-wal`` beside it), switched to the rollback
journal and vacuumed, so the single file is the whole database.

Kept for reference: it documents how the file was made and may not run against later code
layouts. ``test_upgrade.py`` uses the committed file, never this script.
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

from tests.golden import adapter
from tests.golden.session import Session, run_scenario

OUT = Path(__file__).with_name("db-release-0.1.0.sqlite")


def make(out: Path = OUT) -> Path:
    """Write the release database to ``out`` and return its path."""
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "coord"
        with adapter.running(data_dir) as c:
            run_scenario(Session(c))
        db = data_dir / adapter.DB_FILE
        con = sqlite3.connect(db)
        try:
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            con.execute("PRAGMA journal_mode=DELETE")
            con.execute("VACUUM")
            [(ok,)] = con.execute("PRAGMA integrity_check").fetchall()
            assert ok == "ok", ok
        finally:
            con.close()
        leftovers = [p.name for p in data_dir.iterdir() if p.name != adapter.DB_FILE]
        assert not any(n.endswith(("-wal", "-shm")) for n in leftovers), leftovers
        shutil.copyfile(db, out)
    return out


if __name__ == "__main__":
    path = make(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
    print(f"{path}: {path.stat().st_size} bytes")
