"""No plaintext ID number outside its encrypted column after an import that rejects rows:
not in the database file, its WAL or shared memory, not in an error file, not in a reason.
Each test states what was tried and what is expected; each fails on the code before (the
raw line, with the full ID number, was kept in ``pop_import_errors`` and in a 0644
``*.errors.csv`` beside the upload)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlite_utils.migrations import Migrations

from coordinator.app import create_app
from coordinator.bootstrap import migration_sets, open_services
from coordinator.container import Services
from coordinator.identity.auth import Role
from coordinator.platform.db import Database
from coordinator.population import schema as pop_schema
from coordinator.settings import Settings
from tests.harness.api import PASSWORD, bearer, login, seeded_secret
from tests.harness.imports import find_in, rejected_rows_csv
from tests.harness.population import PURPOSE


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Services]:
    """Open services on a real SQLite file."""
    s = open_services(
        Settings.for_dev(tmp_path / "coord", argon2_memory_kib=4096, argon2_time_cost=1)
    )
    yield s
    s.close()


def test_a_failed_import_leaves_no_plaintext_id_number_on_disk(svc, tmp_path):
    """Tried: import a file whose rejected rows carry full ID numbers (one typed into the
    birth-date column, whose reason used to quote the value), then grep every byte of the
    data folder: database, WAL, shared memory, keys, uploads. Expected: no ID number in
    clear (imported ones are only in the encrypted column); the rejects keep line, reason
    and masked values."""
    path, rejected, imported = rejected_rows_csv(tmp_path / "people.csv")
    s = svc.population.importer.run("cli:test", path)
    assert (s["imported"], s["rejected"]) == (3, 5)
    errs = svc.population.importer.errors(s["job_id"])
    assert [e["line"] for e in errs] == [2, 3, 4, 5, 6]
    assert all("*" in e["masked"] for e in errs)
    assert not find_in(svc.settings.data_dir, rejected + imported)
    # and after the WAL was folded into the database file
    svc.db.truncate_wal()
    assert not find_in(svc.settings.data_dir, rejected + imported)
    assert not list(tmp_path.glob("*.errors.csv"))


def test_the_dashboard_import_leaves_no_error_file_or_upload_behind(svc, tmp_path):
    """Tried: post a CSV with rejected rows to ``/api/population/import``. Expected: the
    answer lists masked rejects; nothing is left in the imports folder (no upload copy, no
    ``*.errors.csv``) and no ID number in clear anywhere in the data folder."""
    path, rejected, _ = rejected_rows_csv(tmp_path / "people.csv")
    with TestClient(create_app(svc)) as client:
        svc.auth.create_user(
            "officer-a",
            PASSWORD,
            [Role.POPULATION_OFFICER],
            zones=["Z01"],
            totp_secret=seeded_secret("officer-a"),
        )
        h = {**bearer(login(client, "officer-a")), **PURPOSE, "Content-Type": "text/csv"}
        r = client.post("/api/population/import", headers=h, content=path.read_bytes())
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["rejected"] == 5 and all("raw" not in e for e in body["errors"])
        assert not any(n in r.text for n in rejected)
    assert not list((svc.settings.data_dir / "imports").iterdir())
    assert not find_in(svc.settings.data_dir, rejected)


def test_the_migration_scrubs_raw_lines_kept_by_earlier_versions(tmp_path):
    """Tried: a database written by the earlier version, with a raw rejected line (full ID
    number) in ``pop_import_errors``; then start the current version. Expected: the raw
    column is gone and the ID number is nowhere in the file or its WAL."""
    number = "110101199003071234"
    db_path = tmp_path / "old" / "citywatch.db"
    old = Migrations("population")
    for fn in (
        pop_schema.m001_population,
        pop_schema.m002_address_index_text,
        pop_schema.m003_aggregate_counts,
    ):
        old()(fn)
    db = Database(db_path).open()
    try:
        db.migrate(*[m for m in migration_sets() if m.name != "population"], old)
        db.write(lambda d: d.execute("insert into pop_import_jobs (file_key, file_name, actor, started_at) "
                                     "values ('k', 'f.csv', 'cli', 0)"))  # fmt: skip
        db.write(lambda d: d.execute(
            "insert into pop_import_errors (job_id, record, line, reason, raw) values "
            f"(1, 1, 2, 'dob: ''{number}'' is not a date', '李伟,{number},Z01')"))  # fmt: skip
        db.truncate_wal()
    finally:
        db.close()
    assert number.encode() in db_path.read_bytes()  # the earlier version's leak
    s = open_services(Settings.for_dev(tmp_path / "old"))
    try:
        assert "raw" not in s.db.columns("pop_import_errors")
        reason = s.db.query("select reason from pop_import_errors")[0]["reason"]
        assert number not in reason and "is not a date" in reason
        assert not find_in(tmp_path / "old", [number])
    finally:
        s.close()
