"""Import test data: a city file with one ID number repeated thousands of times and one
passport number on many documents (the n²-duplicates attack), a file of rejected rows
carrying ID numbers (the plaintext attack), and a recorder of what each write transaction
held."""

from __future__ import annotations

import csv
import io
import sqlite3
import string
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


def rejected_rows_csv(path: Path) -> tuple[Path, list[str], list[str]]:
    """A CSV whose rows are rejected in every way that could echo a value: an unregistered
    house, the ID number typed into the birth-date column, a wrong field count, a bad check
    digit, an oversized field; plus good rows. Returns (file, rejected IDs, imported IDs)."""
    recs = list(population(8, seed=23, zones=["Z01"]))
    bad_digit = recs[3]["id_number"][:-1] + ("0" if recs[3]["id_number"][-1] != "0" else "1")
    rows = [
        {**recs[0], "kind": "rented", "house_id": "77"},
        {**recs[1], "dob": recs[1]["id_number"]},
        {**recs[3], "id_number": bad_digit},
        {**recs[4], "address": "x" * 1200},
    ]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for r in rows:
        w.writerow([r.get(c, "") for c in COLUMNS])
    w.writerow([recs[2]["name"], recs[2]["id_number"], "only three"])
    for r in recs[5:]:
        w.writerow([r.get(c, "") for c in COLUMNS])
    path.write_text(buf.getvalue(), encoding="utf-8")
    rejected = [
        recs[0]["id_number"],
        recs[1]["id_number"],
        bad_digit,
        recs[2]["id_number"],
        recs[4]["id_number"],
    ]
    return path, rejected, [r["id_number"] for r in recs[5:]]


def same_passport_csv(path: Path, n: int) -> Path:
    """``n`` rows carrying one passport number, each under another nationality (so another
    document: "one document, one person" keeps them all): only the duplicate finder's
    per-row bound stands between them and n²/2 same-number candidates."""
    codes = [a + b for a in string.ascii_uppercase for b in string.ascii_uppercase][:n]
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        for i, cc in enumerate(codes):
            w.writerow({"name": "Maria Rossi", "name_latin": "Maria Rossi", "id_type": "passport",
                        "id_number": "YA7734512", "dob": "1984-03-02", "sex": "F",
                        "nationality": cc, "zone": f"Z{1 + i % 9:02d}", "kind": "other"})  # fmt: skip
    return path


def candidates_per_row(db: Any) -> dict[str, int]:
    """The most duplicate candidates any person has, and how many there are in all."""
    row = db.query("select coalesce(max(n), 0) m, coalesce(sum(n), 0) total from (select "
                   "person_id, count(*) n from pop_dup_candidates group by person_id)")[0]  # fmt: skip
    return {"max": int(row["m"]), "total": int(row["total"])}


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
