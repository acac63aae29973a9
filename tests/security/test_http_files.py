"""Private data, always: everything a real ``coordinator run`` (and the commands beside it,
and a board's spool) creates is readable by its owner only — folders 0700, files 0600,
SQLite's -wal and -shm included."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import yaml

from tests.harness.api import bearer, login
from tests.harness.https_centre import PASSWORD, base_settings, cli, https_centre, secrets_env


def _loose(root: Path) -> list[str]:
    """Every path under ``root`` (and itself) with a group or other permission bit."""
    found = []
    for p in [root, *root.rglob("*")]:
        mode = p.lstat().st_mode
        if stat.S_ISLNK(mode):
            continue
        if mode & 0o077:
            found.append(f"{p.relative_to(root.parent)} {stat.filemode(mode)}")
    return found


def test_the_running_coordinators_data_is_private(tmp_path):
    """Tried: start `coordinator run` on a data folder that does not exist yet, log in and
    import a CSV (an imports folder and temporary file appear), with the process's umask at
    the usual 022. Expected: the data folder and its new parents 0700, the database and
    its -wal and -shm 0600, and nothing under it readable by group or others."""
    old = os.umask(0o022)
    try:
        _run_and_check(tmp_path)
    finally:
        os.umask(old)


def _run_and_check(tmp_path: Path) -> None:
    with https_centre(tmp_path, {"officer-f": "population_officer"}) as (c, _env):
        with c.client() as http:
            tok = login(http, "officer-f", PASSWORD)
            http.post(
                "/api/population/import",
                content=b"name,id_number\nx,y\n",
                headers={**bearer(tok), "Content-Type": "text/csv", "X-Purpose": "mode test"},
            )
        data = c.data_dir
        db = data / "citywatch.db"
        for f in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            assert f.exists() and f.stat().st_mode & 0o777 == 0o600, f
        assert data.stat().st_mode & 0o777 == 0o700
        assert data.parent.stat().st_mode & 0o777 == 0o700  # "data/", created for it
        assert _loose(data) == []


def test_a_command_creating_the_data_folder_makes_it_private(tmp_path):
    """Tried: `coordinator init`, then `coordinator users bootstrap-admin`, on a new data folder.
    Expected: folder 0700, database 0600 (the command's umask and explicit modes)."""
    cfg = tmp_path / "c.yaml"
    settings = base_settings(tmp_path, 1883)
    cfg.write_text(yaml.safe_dump(settings))
    r = cli("coordinator.cli", "init", "--settings", str(cfg), env=secrets_env())
    assert r.returncode == 0, r.stderr
    assert _loose(Path(settings["data_dir"])) == []
    r = cli("coordinator.cli", "users", "bootstrap-admin", "first-admin",
            "--settings", str(cfg),
            env={**secrets_env(), "CITYWATCH_NEW_USER_PASSWORD": PASSWORD})  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert _loose(Path(settings["data_dir"])) == []


def test_an_existing_world_readable_data_folder_is_tightened(tmp_path):
    """Tried: a data folder an installer made 0755 with a database file left 0644.
    Expected: opening the database makes the folder 0700 and the file 0600."""
    from coordinator.platform.db import Database

    folder = tmp_path / "var"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    (folder / "c.db").touch()
    os.chmod(folder / "c.db", 0o644)
    db = Database(folder / "c.db").open()
    try:
        db.execute_write("create table t (x)")
        assert _loose(folder) == []
    finally:
        db.close()


def test_a_boards_spool_is_private(tmp_path):
    """Tried: a board's spool in a new folder. Expected: folder 0700, files 0600."""
    from edge_agent.spool import Spool

    old = os.umask(0o022)
    sp = Spool(tmp_path / "spool" / "events.db")
    try:
        sp.append(lambda seq: b"x" * 10)
        assert _loose(tmp_path / "spool") == []
    finally:
        sp.close()
        os.umask(old)
