"""One CSV import must not freeze the city: bounded chunks on the single writer, bounded
per-row work, camera events committed between chunks, and a cancel that works (API, the
command line from another process, SIGTERM). Each test states what was tried and what is
expected; each fails on the code before (an unbounded same-ID query queued n²/2 candidates,
1,000-row batches grouped with ingest, no cancel, SIGTERM ignored)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from coordinator.app import create_app
from coordinator.bootstrap import open_services
from coordinator.container import Services
from coordinator.identity.auth import Role
from coordinator.settings import Settings
from tests.harness.api import PASSWORD, bearer, login, seeded_secret
from tests.harness.core import camera_until, register
from tests.harness.imports import (
    TxnLog,
    candidates_per_row,
    repeated_id_csv,
    same_passport_csv,
    status_of,
)
from tests.harness.mqtt import wait_for
from tests.harness.population import PURPOSE

CHUNK, K = 500, 20
SMALL_CHUNK = 200  # the cancel tests: 30 chunks in a 6,000-row file


def _settings(tmp: Path) -> Settings:
    return Settings.for_dev(
        tmp / "coord", argon2_memory_kib=4096, argon2_time_cost=1,
        import_chunk_rows=CHUNK, import_duplicate_limit=K,
    )  # fmt: skip


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Services]:
    """Open services (no broker: events go through the real ingest batcher)."""
    s = open_services(_settings(tmp_path))
    yield s
    s.close()


@pytest.fixture(scope="module")
def cancel_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6,000 rows (1,500 repeating one ID number): 30 chunks of SMALL_CHUNK."""
    return repeated_id_csv(tmp_path_factory.mktemp("imports") / "part.csv", 6_000, 1_500)[0]


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """20,000 rows, 5,000 of them repeating one ID number."""
    folder = tmp_path_factory.mktemp("imports")
    return repeated_id_csv(folder / "city.csv", 20_000, 5_000)


def test_bounded_chunks_bounded_candidates_and_events_commit_between_chunks(svc, big_file, attack):
    """Tried: import 20 k rows with 5 k repeating one ID number while a camera publishes
    events through ingest. Expected: at most K candidates per row (not n²/2), at most the
    chunk's rows per transaction, and camera events committed between the import's chunks
    (the writer yielded), none lost."""
    path, _same = big_file
    register(svc, {"cam-0": (29.306, 120.076)})
    log = TxnLog(("pop_persons", "events"))
    svc.db.before_commit = log
    stop, sent = threading.Event(), []

    t = threading.Thread(target=camera_until, args=(svc, stop, sent))
    t.start()
    try:
        summary = svc.population.importer.run("cli:test", path)
    finally:
        stop.set()
        t.join()
    wait_for(
        lambda: svc.db.query("select count(*) n from events")[0]["n"] == len(sent), 20, "events"
    )
    svc.db.before_commit = None
    # one document, one person: the 4,999 repeats after the first (and the generator's own
    # repeated documents) are reported, not created; nothing is lost
    assert summary["status"] == "done" and summary["imported"] + summary["existing"] == 20_000
    assert summary["existing"] == summary["rejected"] >= 4_999
    per_row = svc.db.query("select max(n) m, count(*) total from (select person_id, count(*) n "
                           "from pop_dup_candidates group by person_id)")[0]  # fmt: skip
    assert per_row["m"] <= K
    assert svc.db.query("select count(*) n from pop_dup_candidates")[0]["n"] <= 20_000 * K
    deltas = log.deltas()
    import_txns = [i for i, d in enumerate(deltas) if d[0] > 0]
    assert len(import_txns) >= 20_000 // CHUNK
    assert max(d[0] for d in deltas) <= CHUNK
    # an import transaction never carries camera events: they commit in their own
    assert not [d for d in deltas if d[0] > 0 and d[1] > 0]
    between = sum(
        1 for a, b in zip(import_txns, import_txns[1:], strict=False)
        if any(deltas[i][1] > 0 for i in range(a + 1, b))
    )  # fmt: skip
    assert between >= len(import_txns) // 4, (between, len(import_txns))
    attack("import.n-squared").observed(
        f"20,000 rows (5,000 with one ID number): at most {per_row['m']} candidates per row "
        f"(K = {K}), {per_row['total']:,} persons with candidates, at most "
        f"{max(d[0] for d in deltas)} rows per transaction in {len(import_txns)} import "
        f"transactions; camera events committed between {between} pairs of chunks; "
        f"{len(sent)}/{len(sent)} events stored"
    )


def test_one_number_on_many_documents_gets_at_most_k_candidates_per_row(svc, tmp_path, attack):
    """Tried: 300 rows carrying one passport number under 300 nationalities (300 documents,
    so "one document, one person" keeps them all, as the file of repeated rows above does
    not). Expected: at most K same-number candidates per row, not n²/2 in all."""
    n = 300
    s = svc.population.importer.run("cli:test", same_passport_csv(tmp_path / "same.csv", n))
    got = candidates_per_row(svc.db)
    assert s["imported"] == n
    assert 0 < got["max"] <= K
    assert got["total"] <= n * K < n * (n - 1) // 2
    attack("import.n-squared").observed(
        f"{n} documents with one passport number: at most {got['max']} candidates per row "
        f"(K = {K}), {got['total']:,} in all"
    )


def _officer(client: TestClient, svc: Services) -> dict[str, str]:
    svc.auth.create_user(
        "officer-x",
        PASSWORD,
        [Role.POPULATION_OFFICER],
        zones=[f"Z{i:02d}" for i in range(1, 15)],
        totp_secret=seeded_secret("officer-x"),
    )
    return {**bearer(login(client, "officer-x")), **PURPOSE}  # with the second factor


def test_api_upload_in_chunks_progress_and_cancel_keep_committed_chunks(tmp_path, cancel_file):
    """Tried: send the file in chunks (one chunk at a wrong offset, as after a dropped
    connection), start the import, follow its progress, cancel it, then start it again.
    Expected: 409 names the offset to resume from; the cancel stops it at a chunk boundary
    with every committed chunk kept and consistent with the job's checkpoint; the second
    start resumes and finishes; the upload's file is removed at the end."""
    path = cancel_file
    data = path.read_bytes()
    svc = open_services(_settings(tmp_path).model_copy(update={"import_chunk_rows": SMALL_CHUNK}))
    try:
        _upload_cancel_resume(svc, data)
    finally:
        svc.close()


def _upload_cancel_resume(svc: Services, data: bytes) -> None:
    part_size = 64 << 10
    with TestClient(create_app(svc)) as client:
        h = _officer(client, svc)
        r = client.post(
            "/api/population/uploads", headers=h, json={"size": len(data), "file_name": "c.csv"}
        )
        uid = r.json()["upload_id"]
        hb = {**h, "Content-Type": "application/octet-stream"}
        assert client.put(f"/api/population/uploads/{uid}", headers=hb, params={"offset": 0},
                          content=data[:part_size]).status_code == 200  # fmt: skip
        r = client.put(
            f"/api/population/uploads/{uid}", headers=hb, params={"offset": 5}, content=b"x"
        )
        assert r.status_code == 409 and f"offset {part_size}" in r.json()["detail"]
        got = client.get(f"/api/population/uploads/{uid}", headers=h).json()["received"]
        for off in range(got, len(data), part_size):
            assert client.put(f"/api/population/uploads/{uid}", headers=hb, params={"offset": off},
                              content=data[off : off + part_size]).status_code == 200  # fmt: skip
        part = svc.settings.data_dir / "imports" / f"{uid}.part"
        assert part.stat().st_mode & 0o777 == 0o600
        r = client.post(f"/api/population/uploads/{uid}/import", headers=h)
        assert r.status_code == 202, r.text
        job = r.json()["job_id"]
        wait_for(lambda: client.get(f"/api/population/import/{job}", headers=h).json()["records"] >= 2 * SMALL_CHUNK,
                 60, "progress")  # fmt: skip
        r = client.post(f"/api/population/import/{job}/cancel", headers=h)
        assert r.status_code == 200 and r.json()["cancel_requested"]
        wait_for(lambda: client.get(f"/api/population/import/{job}", headers=h).json()["status"] == "cancelled",
                 60, "cancelled")  # fmt: skip
        st = client.get(f"/api/population/import/{job}", headers=h).json()
        assert st["records"] % SMALL_CHUNK == 0 and 0 < st["records"] < 6_000
        assert 0 < st["bytes_done"] <= st["bytes_total"] == len(data)
        persons = svc.db.query("select count(*) n from pop_persons")[0]["n"]
        assert persons == st["imported"] == st["records"] - st["rejected"]
        assert part.exists()  # kept to resume
        r = client.post(f"/api/population/uploads/{uid}/import", headers=h)
        assert r.status_code == 202
        wait_for(lambda: client.get(f"/api/population/import/{job}", headers=h).json()["status"] == "done",
                 120, "done")  # fmt: skip
        st = client.get(f"/api/population/import/{job}", headers=h).json()
        persons = svc.db.query("select count(*) n from pop_persons")[0]["n"]
        assert st["records"] == 6_000 == persons + st["existing"] and st["existing"] >= 1_499
        wait_for(lambda: not part.exists(), 10, "upload removed")
        assert svc.audit.search(actor="officer-x", action="import_cancel")


def test_uploads_are_capped(tmp_path):
    """Tried: declare a 3 GiB upload, and send a chunk larger than 8 MiB. Expected: both
    refused before anything is stored (the command line takes files of any size)."""
    s = open_services(_settings(tmp_path).model_copy(update={"import_upload_max_bytes": 1 << 30}))
    try:
        with TestClient(create_app(s)) as client:
            h = _officer(client, s)
            r = client.post(
                "/api/population/uploads", headers=h, json={"size": 3 << 30, "file_name": "x.csv"}
            )
            assert r.status_code == 422 and "command line" in r.json()["detail"]
            uid = client.post(
                "/api/population/uploads", headers=h, json={"size": 9 << 20, "file_name": "x.csv"}
            ).json()["upload_id"]
            r = client.put(f"/api/population/uploads/{uid}", headers={**h, "Content-Type": "application/octet-stream"},
                           params={"offset": 0}, content=b"x" * ((8 << 20) + 1))  # fmt: skip
            assert r.status_code in (413, 422)
            assert (s.settings.data_dir / "imports" / f"{uid}.part").stat().st_size == 0
    finally:
        s.close()


def _cli_env(data_dir: Path) -> dict[str, str]:
    return {**os.environ, "CITYWATCH_DEV_MODE": "true", "CITYWATCH_DATA_DIR": str(data_dir),
            "CITYWATCH_SECRET_KEY": "s" * 40, "CITYWATCH_DATA_KEY": "k" * 40,
            "CITYWATCH_IMPORT_CHUNK_ROWS": str(SMALL_CHUNK)}  # fmt: skip


def _start_cli_import(tmp_path: Path, path: Path) -> tuple[subprocess.Popen, Path]:
    data = tmp_path / "d"
    env = _cli_env(data)
    p = subprocess.Popen([sys.executable, "-m", "coordinator.cli", "population-import", str(path), "--json"],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    db = data / "citywatch.db"
    wait_for(
        lambda: db.exists() and status_of(db, 1).get("done_records", 0) >= SMALL_CHUNK,
        120,
        "first chunk",
    )
    return p, db


@pytest.mark.parametrize("how", ["sigterm", "cancel-command"])
def test_cli_import_stops_cleanly_and_resumes(tmp_path, cancel_file, how):
    """Tried: stop a command-line import mid-file with SIGTERM, or with
    ``coordinator population-import-cancel`` from another process. Expected: it stops at a
    chunk boundary (exit 4, job 'cancelled'), every committed chunk kept and consistent;
    running the same command again resumes and finishes without duplicates."""
    path = cancel_file
    p, db = _start_cli_import(tmp_path, path)
    if how == "sigterm":
        p.send_signal(signal.SIGTERM)
    else:
        r = subprocess.run([sys.executable, "-m", "coordinator.cli", "population-import-cancel", "1"],
                           env=_cli_env(tmp_path / "d"), capture_output=True, text=True, timeout=120)  # fmt: skip
        assert r.returncode == 0, r.stderr
    out, err = p.communicate(timeout=120)
    assert p.returncode == 4, err
    st = status_of(db, 1)
    assert (
        st["status"] == "cancelled"
        and st["done_records"] % SMALL_CHUNK == 0
        and st["done_records"] < 6_000
    )
    r = subprocess.run([sys.executable, "-m", "coordinator.cli", "population-import-status", "1"],
                       env=_cli_env(tmp_path / "d"), capture_output=True, text=True, timeout=120)  # fmt: skip
    assert r.returncode == 0 and "cancelled" in r.stdout
    r = subprocess.run([sys.executable, "-m", "coordinator.cli", "population-import", str(path), "--json"],
                       env=_cli_env(tmp_path / "d"), capture_output=True, text=True, timeout=300)  # fmt: skip
    assert r.returncode == 0, r.stderr
    st = status_of(db, 1)
    assert st["status"] == "done" and st["done_records"] == 6_000 == st["imported"] + st["existing"]
