"""Bulk CSV import: streamed, validated row by row, resumable, nothing silently lost.

The file is read as bytes and split on any line ending (``\\r\\n``, ``\\n`` or a lone
``\\r``), so mixed line endings are fine. Each physical line is decoded on its own: a
line that is not valid in the file's encoding rejects only the record it belongs to.
Rows are committed in batches together with the job's checkpoint (records done), so a
killed import resumes exactly where the last commit left it; rejected rows are stored
with their reason in the same transaction and written to the error file at the end.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import IO, Any

import sqlite_utils

from ..errors import Forbidden, Invalid
from .common import Access, Actor, Ctx, insert_row, username
from .duplicates import record_candidates
from .ids import MAX_ADDRESS, RecordError, clean_text, clean_zone, parse_date
from .names import address_text, index_text
from .records import person_row, validate_person
from .schema import count_inserted

COLUMNS = ("name", "name_latin", "id_type", "id_number", "dob", "sex", "nationality", "origin",
           "phone", "zone", "address", "kind", "house_id", "valid_from")  # fmt: skip
REQUIRED = ("name", "id_type", "id_number", "zone")
MAX_FIELD = 1000
BATCH = 1000
CHUNK = 1 << 20


class ImportFileError(Invalid, ValueError):
    """The file as a whole cannot be imported (missing, unreadable header, bad columns)."""


def physical_lines(f: IO[bytes], progress: Callable[[int], None] | None = None) -> Iterator[bytes]:
    """Lines without their terminator, whichever of CR LF, LF or CR ends them."""
    pending = b""
    while True:
        chunk = f.read(CHUNK)
        if progress and chunk:
            progress(len(chunk))
        if not chunk:
            if pending:
                # a CR held back at the end of the file is a terminator after all
                yield pending[:-1] if pending.endswith(b"\r") else pending
            return
        data = pending + chunk
        # a CR at the end of a chunk may be the first half of CR LF: decide next round
        cut = len(data) - 1 if data.endswith(b"\r") else len(data)
        start = 0
        i = 0
        while i < cut:
            c = data[i]
            if c == 10 or c == 13:
                yield data[start:i]
                if c == 13 and i + 1 < len(data) and data[i + 1] == 10:
                    i += 1
                start = i + 1
            i += 1
        pending = data[start:]


class _Decoder:
    """Decodes physical lines one by one, remembering which ones were broken and why."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self.line = 0
        self.bad: dict[int, str] = {}

    def lines(self, raw: Iterator[bytes]) -> Iterator[str]:
        for b in raw:
            self.line += 1
            if self.line == 1 and b.startswith(b"\xef\xbb\xbf"):
                b = b[3:]
            try:
                s = b.decode(self.encoding)
            except UnicodeDecodeError as exc:
                self.bad[self.line] = (
                    f"line {self.line}: not valid {self.encoding} "
                    f"(byte 0x{b[exc.start]:02x} at column {exc.start + 1})"
                )
                s = b.decode(self.encoding, errors="replace")
            if "\x00" in s:
                self.bad[self.line] = f"line {self.line}: contains a NUL byte"
                s = s.replace("\x00", "")
            yield s + "\n"


def _csv_line(fields: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(fields)
    return buf.getvalue()


def file_key(path: Path) -> str:
    """Content hash identifying a file across runs (resume finds its job by it)."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def validate_row(rec: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(person fields, registration fields or None) for one CSV record, or RecordError."""
    for k, v in rec.items():
        if v is not None and len(v) > MAX_FIELD:
            raise RecordError(k, f"is {len(v)} characters long (oversized field)")
    person = validate_person({k: rec.get(k) or None for k in COLUMNS[:10] if k != "zone"}
                             | {"zone": rec.get("zone")})  # fmt: skip
    address = clean_text("address", rec.get("address"), MAX_ADDRESS, required=False)
    house = (rec.get("house_id") or "").strip()
    if not address and not house:
        return person, None
    if house and not (house.isascii() and house.isdigit() and len(house) <= 18):
        raise RecordError("house_id", "must be a number of at most 18 digits")
    kind = (rec.get("kind") or ("rented" if house else "other")).strip()
    if kind not in ("rented", "own", "employer", "other"):
        raise RecordError("kind", "must be rented, own, employer or other")
    if kind == "rented" and not house:
        raise RecordError("house_id", "a rented registration names the rented house")
    vf = rec.get("valid_from")
    return person, {
        "kind": kind,
        "house_id": int(house) if house else None,
        "address": address,
        "zone": clean_zone(rec.get("zone")),
        "valid_from": parse_date("valid_from", vf).isoformat() if vf else None,
    }


class Importer:
    """Runs (and resumes) CSV imports."""

    def __init__(self, ctx: Ctx, access: Access) -> None:
        self.ctx = ctx
        self.access = access

    def run(
        self, actor: Actor, path: Path, *, encoding: str = "utf-8", fuzzy: bool = True,
        errors_path: Path | None = None, progress: bool = False, purpose: str | None = None,
        stop_after: int | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Import ``path``; returns counts, the job id and the error file path.

        ``stop_after`` stops after that many records (to test resuming).
        """
        if not path.is_file():
            raise ImportFileError(f"{path}: no such file")
        key = file_key(path)
        job = self._job(actor, key, path)
        errors_path = errors_path or path.with_name(path.name + ".errors.csv")
        if job["status"] == "done":
            self._write_errors(job["id"], errors_path)
            return self._summary(job["id"], errors_path, resumed=True)
        skip = job["done_records"]
        zones = self.access.zones(actor)
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=path.stat().st_size, unit="B", unit_scale=True, desc=path.name)
        dec = _Decoder(encoding)
        batch: list[tuple[int, int, str, Any]] = []
        inflight: Future[None] | None = None
        record = 0
        try:
            with path.open("rb") as f:
                lines = dec.lines(physical_lines(f, bar.update if bar else None))
                reader = csv.reader(lines, strict=True)
                header = self._header(reader)
                last_line = reader.line_num
                while True:
                    fields: list[str] | None
                    problem: str | None
                    try:
                        fields = next(reader)
                    except StopIteration:
                        break
                    except csv.Error as exc:
                        fields, problem = None, f"malformed CSV: {exc}"
                    else:
                        problem = None
                    first, last_line = last_line + 1, reader.line_num
                    if fields is not None and not any(f.strip() for f in fields):
                        continue  # blank line
                    record += 1
                    if record <= skip:
                        continue
                    raw = _csv_line(fields) if fields is not None else ""
                    bad = [dec.bad[n] for n in range(first, last_line + 1) if n in dec.bad]
                    if bad:
                        problem = "; ".join(bad)
                    if problem is None and fields is not None and len(fields) != len(header):
                        problem = f"has {len(fields)} fields; the header has {len(header)}"
                    if problem is not None or fields is None:
                        batch.append((record, first, raw, RecordError("row", problem or "?")))
                    else:
                        batch.append((record, first, raw, self._prepare(
                            dict(zip(header, fields, strict=True)), zones)))  # fmt: skip
                    if len(batch) >= BATCH:
                        # one batch in flight: the checkpoint order stays the file order
                        if inflight is not None:
                            inflight.result()
                        inflight = self._commit(actor, job["id"], batch, fuzzy, purpose)
                        batch = []
                    if stop_after is not None and record - skip >= stop_after:
                        break
            if inflight is not None:
                inflight.result()
                inflight = None
            if batch:
                self._commit(actor, job["id"], batch, fuzzy, purpose).result()
            finished = stop_after is None or record - skip < stop_after
            if finished:
                self.ctx.db.execute_write(
                    "update pop_import_jobs set status = 'done', finished_at = ? where id = ?",
                    [self.ctx.now(), job["id"]],
                )
        finally:
            if inflight is not None:
                inflight.result()  # never leave a batch half-known when raising
            if bar is not None:
                bar.close()
        self._write_errors(job["id"], errors_path)
        return self._summary(job["id"], errors_path, resumed=skip > 0)

    def _header(self, reader: Iterator[list[str]]) -> list[str]:
        try:
            header = [h.strip().lower() for h in next(reader)]
        except StopIteration:
            raise ImportFileError("the file is empty: a header row is needed") from None
        except csv.Error as exc:
            raise ImportFileError(f"the header row is malformed: {exc}") from None
        unknown = [h for h in header if h not in COLUMNS]
        if unknown:
            raise ImportFileError(
                f"unknown column(s) {', '.join(unknown[:5])}; columns are {', '.join(COLUMNS)}"
            )
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise ImportFileError(f"missing column(s) {', '.join(missing)}")
        return header

    def _prepare(self, rec: dict[str, str], zones: set[str] | None) -> Any:
        try:
            person, reg = validate_row(rec)
            if zones is not None and person["zone"] not in zones:
                raise Forbidden(f"zone {person['zone']} is outside your jurisdiction")
            row = person_row(self.ctx, person, self.ctx.now())
            return row, reg, index_text(row["name"], row["name_latin"])
        except (RecordError, Forbidden) as exc:
            return exc

    def _job(self, actor: Actor, key: str, path: Path) -> dict[str, Any]:
        def write(db: sqlite_utils.Database) -> dict[str, Any]:
            row = db.execute("select id from pop_import_jobs where file_key = ?", [key]).fetchone()
            if row is None:
                insert_row(db, "pop_import_jobs", dict(file_key=key, file_name=path.name,
                                                  actor=username(actor), started_at=self.ctx.now()))  # fmt: skip
            return next(db.query("select * from pop_import_jobs where file_key = ?", [key]))

        return self.ctx.db.write(write)

    def _commit(self, actor: Actor, job_id: int, batch: list, fuzzy: bool,
                purpose: str | None) -> Future[None]:  # fmt: skip
        """Queue a batch for the writer; the caller prepares the next one meanwhile."""
        now = self.ctx.now()
        today = dt.date.today().isoformat()

        def write(db: sqlite_utils.Database) -> None:
            x = db.conn.execute
            houses = {item[1]["house_id"] for *_, item in batch
                      if not isinstance(item, Exception) and item[1]
                      and item[1]["house_id"] is not None}  # fmt: skip
            known: set[int] = set()
            if houses:
                marks = ",".join("?" * len(houses))
                known = {r[0] for r in x(f"select id from pop_houses where id in ({marks}) "
                                         "and status = 'registered'", sorted(houses))}  # fmt: skip
            errors, persons, regs = [], [], []
            for record, line, raw, item in batch:
                if not isinstance(item, Exception):
                    row, reg, fts = item
                    if reg and reg["house_id"] is not None and reg["house_id"] not in known:
                        item = RecordError("house_id", f"house {reg['house_id']} is not a "
                                           "registered rented house")  # fmt: skip
                if isinstance(item, Exception):
                    errors.append((job_id, record, line, str(item), raw[:4000]))
                else:
                    persons.append(item)
            # The writer is the only writer: ids follow the current maximum, so every row,
            # its search entry and its registration go in with one executemany each.
            first = x("select coalesce(max(id), 0) + 1 from pop_persons").fetchone()[0]
            ids = list(range(first, first + len(persons)))
            if persons:
                cols = list(persons[0][0])
                x_many = db.conn.executemany
                x_many(f"insert into pop_persons (id, {', '.join(cols)}) values "
                       f"(?, {', '.join('?' * len(cols))})",
                       [(pid, *(row[c] for c in cols)) for pid, (row, _, _) in zip(ids, persons, strict=True)])  # fmt: skip
                count_inserted(db, (row for row, _, _ in persons))
                # rowid: FTS5 keys its index by it (inherent to SQLite full-text search).
                x_many("insert into pop_name_fts(rowid, text) values (?, ?)",
                       [(pid, fts) for pid, (_, _, fts) in zip(ids, persons, strict=True)])  # fmt: skip
                for pid, (row, reg, _) in zip(ids, persons, strict=True):
                    record_candidates(db, pid, row, now, fuzzy=fuzzy, earlier_than=pid)
                    if reg:
                        regs.append((pid, reg))
            if regs:
                rfirst = x("select coalesce(max(id), 0) + 1 from pop_registrations").fetchone()[0]
                rids = range(rfirst, rfirst + len(regs))
                db.conn.executemany(
                    "insert into pop_registrations (id, person_id, kind, house_id, address, "
                    "zone, valid_from, status, created_at, updated_at) "
                    "values (?, ?, ?, ?, ?, ?, ?, 'registered', ?, ?)",
                    [(rid, pid, reg["kind"], reg["house_id"], reg["address"] or "", reg["zone"],
                      reg["valid_from"] or today, now, now)
                     for rid, (pid, reg) in zip(rids, regs, strict=True)])  # fmt: skip
                count_inserted(db, registration_statuses=["registered"] * len(regs))
                # rowid: FTS5 keys its index by it (inherent to SQLite full-text search).
                db.conn.executemany(
                    "insert into pop_address_fts(rowid, text) values (?, ?)",
                    [(rid, address_text(reg["address"])) for rid, (_, reg) in zip(rids, regs, strict=True)
                     if reg["address"]])  # fmt: skip
                db.conn.executemany(
                    "insert into pop_reg_history (registration_id, ts, actor, from_status, "
                    "to_status, note) values (?, ?, ?, null, 'registered', 'import')",
                    [(rid, now, username(actor)) for rid in rids])  # fmt: skip
            if errors:
                db.conn.executemany(
                    "insert into pop_import_errors (job_id, record, line, reason, raw) "
                    "values (?, ?, ?, ?, ?)", errors)  # fmt: skip
            imported, rejected = len(persons), len(errors)
            x("update pop_import_jobs set done_records = ?, imported = imported + ?, "
              "rejected = rejected + ? where id = ?", [batch[-1][0], imported, rejected, job_id])  # fmt: skip
            Ctx.entry(db, actor, "import", "person", None, purpose,
                      {"job": job_id, "imported": imported, "rejected": rejected,
                       "first_id": ids[0] if ids else None, "last_id": ids[-1] if ids else None})  # fmt: skip

        return self.ctx.db.submit(write)

    def _write_errors(self, job_id: int, path: Path) -> None:
        rows = self.ctx.db.query(
            "select record, line, reason, raw from pop_import_errors where job_id = ? "
            "order by record", [job_id])  # fmt: skip
        if not rows:
            if path.exists():
                path.unlink()
            return
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["record", "line", "reason", "raw"])
            for r in rows:
                w.writerow([r["record"], r["line"], r["reason"], r["raw"]])
        os.replace(tmp, path)

    def _summary(self, job_id: int, errors_path: Path, *, resumed: bool) -> dict[str, Any]:
        j = self.ctx.db.query("select * from pop_import_jobs where id = ?", [job_id])[0]
        return {
            "job_id": job_id,
            "status": j["status"],
            "records": j["done_records"],
            "imported": j["imported"],
            "rejected": j["rejected"],
            "resumed": resumed,
            "errors_file": str(errors_path) if j["rejected"] else None,
        }

    def errors(self, job_id: int, limit: int = 1000) -> list[dict[str, Any]]:
        """Rejected rows of a job with their reasons."""
        return self.ctx.db.query(
            "select record, line, reason, raw from pop_import_errors where job_id = ? "
            "order by record limit ?", [job_id, limit])  # fmt: skip
