"""Import test data: a city file with one ID number repeated thousands of times (the
n²-duplicates attack), and a recorder of what each write transaction held."""

from __future__ import annotations

import csv
import sqlite3
import threading
from pathlib import Path
from typing import Any

from coordinator.population.importer import COLUMNS
from devtools.population_data import population


def repeated_id_csv(path: Path, rows: int, repeats: int, seed: int = 17) -> tuple[Path, str]:
    """``rows`` persons of which ``repeats`` carry one and the same ID number (interleaved);
    returns the file and that number."""
    people = list(population(rows - repeats + 1, seed=seed))
    same = people.pop()
    every = max(1, (rows - repeats) // repeats)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        k = 0
        for i, rec in enumerate(people):
            w.writerow(rec)
            if i % every == 0 and k < repeats:
                w.writerow(same)
                k += 1
        for _ in range(repeats - k):
            w.writerow(same)
    return path, same["id_number"]


class TxnLog:
    """Counts of ``tables`` at each commit of the writer (``Database.before_commit``)."""

    def __init__(self, tables: tuple[str, ...]) -> None:
        self.tables = tables
        self.commits: list[tuple[int, ...]] = []
        self._lock = threading.Lock()

    def __call__(self, conn: sqlite3.Connection) -> None:
        row = tuple(conn.execute(f"select count(*) from {t}").fetchone()[0] for t in self.tables)
        with self._lock:
            self.commits.append(row)

    def deltas(self) -> list[tuple[int, ...]]:
        """What each transaction added to each table."""
        out, prev = [], None
        for c in self.commits:
            if prev is not None:
                out.append(tuple(a - b for a, b in zip(c, prev, strict=True)))
            prev = c
        return out


def file_bytes(folder: Path) -> dict[Path, bytes]:
    """Every file under ``folder`` (the database, its WAL and shared memory, keys, uploads)."""
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def find_in(folder: Path, needles: list[str]) -> list[tuple[str, str]]:
    """(file, needle) for every needle found in clear in any file under ``folder``."""
    hits: list[tuple[str, str]] = []
    for p, data in file_bytes(folder).items():
        for n in needles:
            for enc in ("utf-8", "utf-16-le", "utf-16-be"):
                if n.encode(enc) in data:
                    hits.append((p.name, n))
                    break
    return hits


def status_of(db_path: Path, job_id: int) -> dict[str, Any]:
    """An import job's row, read on a connection of the test's own."""
    conn = sqlite3.connect(str(db_path), timeout=30)
    conn.row_factory = sqlite3.Row
    try:
        row = conn.execute("select * from pop_import_jobs where id = ?", [job_id]).fetchone()
        return dict(row) if row else {}
    except sqlite3.OperationalError:  # not migrated yet
        return {}
    finally:
        conn.close()
