"""The database file's integrity: was it in use, was it shut down cleanly, is it sound.

- A **marker** in the data dir (``<db>.in-use``) is written when a database is created.
  When the marker is there and the database is missing or empty, someone deleted or
  truncated it (or the disk lost it): the coordinator refuses to start instead of creating a
  fresh, empty, "healthy" system with every user, device and revocation gone. Only an
  explicit ``--init`` creates a new database (dev mode also creates one in a fresh folder).
- A **run flag** per process (``<db>.running/<pid>``) is removed on a clean close. A flag
  left by a process that no longer exists means an unclean shutdown: SQLite's ``quick_check``
  then runs before the coordinator starts (``Database.quick_check``).
- The last **check result** (``<db>.integrity.json``) is shared by every process on the
  file (the jobs process checks off-peak; the API's health reports it).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import Unavailable

SQLITE_MAGIC = b"SQLite format 3\x00"


class DatabaseMissing(Unavailable):
    """The database that was in use is missing, empty or not a database (refuse to start)."""


def marker_path(db_path: Path) -> Path:
    """The marker telling that ``db_path`` was created and in use."""
    return db_path.with_name(db_path.name + ".in-use")


def status_path(db_path: Path) -> Path:
    """The file holding the last integrity check's result."""
    return db_path.with_name(db_path.name + ".integrity.json")


def _runs_dir(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".running")


def _private_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def header_problem(db_path: Path) -> str | None:
    """Why the file cannot be the database (missing, empty, no SQLite header), or None."""
    if not db_path.exists():
        return "is missing"
    size = db_path.stat().st_size
    if size == 0:
        return "is empty (zero bytes)"
    with db_path.open("rb") as f:
        if f.read(16) != SQLITE_MAGIC:
            return "is not an SQLite database (its header is damaged)"
    return None


@dataclass
class StartState:
    """What :func:`prepare` found."""

    created: bool  # a new database is being created
    unclean: bool  # a previous process on this file did not shut down cleanly


def prepare(db_path: Path, *, init: bool, allow_fresh: bool) -> StartState:
    """Decide whether the database may be opened; raises :class:`DatabaseMissing`.

    ``init``: create a database even where one was in use (the operator's explicit
    choice). ``allow_fresh``: create one in a folder that never held one (dev mode).
    """
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    marker = marker_path(db_path)
    problem = header_problem(db_path)
    if problem is None:
        if not marker.exists():
            _write_marker(marker, db_path, adopted=True)
        return StartState(created=False, unclean=_stale_runs(db_path))
    if problem.startswith("is not") and not init:
        raise DatabaseMissing(f"database {db_path} {problem}: restore it from a backup "
                              "(coordinator restore) or start a new one with --init")  # fmt: skip
    if marker.exists() and not init:
        raise DatabaseMissing(
            f"database {db_path} {problem}, but {marker.name} says a database was in use "
            "here: its users, devices and revocations would be lost. Restore it from a "
            "backup (coordinator restore BACKUP), or start a new, empty one with --init"
        )
    if not marker.exists() and not (init or allow_fresh):
        raise DatabaseMissing(
            f"no database at {db_path}: start with --init to create a new one "
            "(coordinator init, or coordinator run --init)"
        )
    if db_path.exists() and init:
        db_path.rename(db_path.with_name(db_path.name + f".replaced-{int(time.time())}"))
    for suffix in ("-wal", "-shm"):
        db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)
    _write_marker(marker, db_path, adopted=False)
    _stale_runs(db_path)
    return StartState(created=True, unclean=False)


def _write_marker(marker: Path, db_path: Path, *, adopted: bool) -> None:
    _private_write(marker, json.dumps({"database": db_path.name, "since": time.time(),
                                       "adopted": adopted}) + "\n")  # fmt: skip


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stale_runs(db_path: Path) -> bool:
    """Remove run flags of processes that are gone; True when there was one."""
    runs = _runs_dir(db_path)
    stale = False
    if runs.is_dir():
        for flag in runs.iterdir():
            if not flag.name.isdigit() or not _alive(int(flag.name)):
                flag.unlink(missing_ok=True)
                stale = True
    return stale


def live_processes(db_path: Path) -> list[int]:
    """Pids of processes that have the database open now (their run flags)."""
    _stale_runs(Path(db_path))
    runs = _runs_dir(Path(db_path))
    return sorted(int(f.name) for f in runs.iterdir()) if runs.is_dir() else []


class RunFlag:
    """This process's flag that the database is open (removed by :meth:`clear`)."""

    def __init__(self, db_path: Path) -> None:
        runs = _runs_dir(Path(db_path))
        runs.mkdir(exist_ok=True, mode=0o700)
        self.path = runs / str(os.getpid())
        _private_write(self.path, f"{time.time()}\n")

    def clear(self) -> None:
        """A clean shutdown: the database was closed."""
        self.path.unlink(missing_ok=True)


def record_check(db_path: Path, problems: list[str], *, reason: str) -> dict[str, Any]:
    """Keep a check's result for every process on this file (health reads it)."""
    result = {
        "status": "ok" if not problems else "corrupt",
        "checked_at": time.time(),
        "reason": reason,
        "problems": problems[:20],
    }
    _private_write(status_path(Path(db_path)), json.dumps(result) + "\n")
    return result


def last_check(db_path: Path) -> dict[str, Any] | None:
    """The last recorded check, or None when none ran yet."""
    try:
        return json.loads(status_path(Path(db_path)).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def due(last: dict[str, Any] | None, every_s: float, hour: int | None, now: float) -> bool:
    """Whether a periodic check should run now: older than ``every_s`` and, when ``hour``
    is set, within that (off-peak) local hour — or overdue by a day past the interval."""
    age = now - (last or {}).get("checked_at", 0.0)
    if age < every_s:
        return False
    if hour is None or age >= every_s + 86400:
        return True
    return time.localtime(now).tm_hour == hour
