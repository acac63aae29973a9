"""Files and folders of the centre's data: created private (owner only), always.

The data folder holds the database (personal records, the audit log), its -wal and -shm
files, keys and backups. ``coordinator`` sets the process umask to 077 when it starts
(:data:`PRIVATE_UMASK`), and every place that creates a folder or file here also sets its
mode explicitly, so a library that ignores the umask, or a folder made by someone else
before, cannot leave them world-readable.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The umask of every coordinator process: new files 0600, new folders 0700.
PRIVATE_UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) 0700, and make ``path`` itself 0700 when this
    user owns it (a shared parent such as /tmp is never touched); returns it."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    for p in missing:
        os.chmod(p, DIR_MODE)  # mkdir's mode is filtered by the umask; chmod is not
    if path.stat().st_uid == os.geteuid():
        os.chmod(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty if missing, and make it 0600 (before anything writes to it)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    os.close(fd)
    os.chmod(path, FILE_MODE)
    return path


def make_private(*paths: Path) -> None:
    """Set 0600 on each of ``paths`` that exists (SQLite's -wal and -shm come and go)."""
    for p in paths:
        try:
            os.chmod(p, FILE_MODE)
        except FileNotFoundError:
            continue
