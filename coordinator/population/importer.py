"""Bulk CSV import: streamed, validated row by row, resumable, nothing silently lost.

The file is read as bytes and split on any line ending (``\\r\\n``, ``\\n`` or a lone
``\\r``), so mixed line endings are fine. Each physical line is decoded on its own: a
line that is not valid in the file's encoding rejects only the record it belongs to.
Rows are committed in chunks (``import_chunk_rows``) together with the job's checkpoint
(records done), each chunk a transaction of its own on the single writer, so camera ingest
commits between chunks; every per-row query is bounded (at most ``import_duplicate_limit``
duplicate candidates per row). A killed, cancelled or SIGTERMed import keeps its committed
chunks and resumes exactly where the last commit left it (run the same file again).
Rejected rows keep their line number, the reason and masked values only: never the raw
line, whose full ID number must not leave the encrypted column. An error file is written
only when asked for, private (0600).
"""

from __future__ import annotations

import csv
import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import IO, Any

import sqlite_utils

from ..errors import Forbidden, Invalid, NotFound
from .common import Access, Actor, Ctx, insert_row, username
from .dates import counts_from, day_of
from .duplicates import record_candidates
from .ids import (
    MAX_ADDRESS,
    RecordError,
    clean_text,
    clean_zone,
    document_country,
    mask_id,
    parse_date,
    redact,
)
from .names import address_text, index_text
from .records import existing_document, person_row, validate_person
from .schema import count_inserted

COLUMNS = ("name", "name_latin", "id_type", "id_number", "dob", "sex", "nationality", "origin",
           "phone", "zone", "address", "kind", "house_id", "valid_from", "hukou_place")  # fmt: skip
REQUIRED = ("name", "id_type", "id_number", "zone")
MAX_FIELD = 1000
BATCH = 100  # rows per transaction unless the settings say otherwise
DUPLICATE_LIMIT = 20
CHUNK = 1 << 20
#: Columns whose values never appear in clear in a reason.
SENSITIVE = ("name", "name_latin", "id_number", "dob", "phone", "address", "house_id")


def _sensitive(header: list[str], fields: list[str] | None) -> list[str]:
    """The values a reason must not show: the personal columns', and any with 4+ digits."""
    if not fields:
        return []
    named = [v for k, v in zip(header, fields, strict=False) if k in SENSITIVE]
    return named + [v for v in fields if sum(c.isdigit() for c in v) >= 4]


def masked_fields(rec: dict[str, str] | None) -> str:
    """What an error row keeps to find the record in the file: masked ID and name, zone."""
    if not rec:
        return ""
    name = (rec.get("name") or "").strip()
    parts = [
        f"id_number={mask_id((rec.get('id_number') or '').strip()) or ''}",
        f"name={name[:1] + '*' * min(len(name) - 1, 3) if name else ''}",
        f"zone={(rec.get('zone') or '').strip()[:32]}",
    ]
    return "; ".join(parts)


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
                             | {"zone": rec.get("zone"),
                                "hukou_place": rec.get("hukou_place") or None})  # fmt: skip
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


class NoSuchJob(NotFound):
    """No import job has this id."""


class Rejected(Exception):
    """A rejected record's reason, already redacted (no field value in clear)."""


class Importer:
    """Runs (and resumes, cancels, reports on) CSV imports."""

    def __init__(self, ctx: Ctx, access: Access, *, chunk: int = BATCH,
                 duplicate_limit: int = DUPLICATE_LIMIT, duty: float = 1.0) -> None:  # fmt: skip
        self.ctx = ctx
        self.access = access
        self.chunk = chunk
        self.duty = duty
        self.duplicate_limit = duplicate_limit
        self._cancels: dict[int, threading.Event] = {}
        self._lock = threading.Lock()

    def run(
        self, actor: Actor, path: Path, *, encoding: str = "utf-8", fuzzy: bool = True,
        errors_path: Path | None = None, progress: bool = False, purpose: str | None = None,
        stop_after: int | None = None, cancel: threading.Event | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Import ``path``; returns counts and the job id (status done, running or
        cancelled). ``stop_after`` stops after that many records (to test resuming);
        ``cancel`` (or :meth:`cancel`) stops it at the next chunk boundary."""
        if not path.is_file():
            raise ImportFileError(f"{path}: no such file")
        job = self._job(actor, file_key(path), path)
        if job["status"] == "done":
            self._write_errors(job["id"], errors_path)
            return self._summary(job["id"], resumed=True)
        event = cancel or threading.Event()
        with self._lock:
            self._cancels[job["id"]] = event
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=path.stat().st_size, unit="B", unit_scale=True, desc=path.name)
        try:
            status = self._rows(actor, job, path, encoding, fuzzy, purpose, stop_after, event, bar)
        finally:
            with self._lock:
                self._cancels.pop(job["id"], None)
            if bar is not None:
                bar.close()
        if status != "running":
            self.ctx.db.execute_write(
                "update pop_import_jobs set status = ?, finished_at = ?, updated_at = ? "
                "where id = ?", [status, self.ctx.now(), self.ctx.now(), job["id"]])  # fmt: skip
        self._write_errors(job["id"], errors_path)
        return self._summary(job["id"], resumed=job["done_records"] > 0)

    def open_job(self, actor: Actor, path: Path) -> int:
        """The job of this file (created, or found to resume) without running it."""
        return int(self._job(actor, file_key(path), path)["id"])

    def _rows(
        self, actor: Actor, job: dict[str, Any], path: Path, encoding: str, fuzzy: bool,
        purpose: str | None, stop_after: int | None, event: threading.Event, bar: Any,
    ) -> str:  # fmt: skip
        """Read, validate and commit the rows; returns the job's new status."""
        skip, zones, dec = job["done_records"], self.access.zones(actor), _Decoder(encoding)
        read = [0]

        def seen(n: int) -> None:
            read[0] += n
            if bar is not None:
                bar.update(n)

        batch: list[tuple[int, int, str, Any]] = []
        inflight: Future[None] | None = None
        record, status, started = 0, "done", time.monotonic()
        try:
            with path.open("rb") as f:
                reader = csv.reader(dec.lines(physical_lines(f, seen)), strict=True)
                header = self._header(reader)
                for item in self._records(reader, header, dec, zones):
                    record += 1
                    if record <= skip:
                        continue
                    batch.append((record, *item))
                    if len(batch) >= self.chunk:
                        if inflight is not None:
                            inflight.result()  # one chunk in flight: checkpoints in file order
                        started = self._pace(started, event)
                        if self._cancelled(job["id"], event):
                            batch, status = [], "cancelled"
                            break
                        inflight = self._commit(actor, job["id"], batch, fuzzy, purpose, read[0])
                        batch = []
                    if stop_after is not None and record - skip >= stop_after:
                        status = "running"
                        break
            if inflight is not None:
                inflight.result()
                inflight = None
            if batch and not (status == "done" and self._cancelled(job["id"], event)):
                self._commit(actor, job["id"], batch, fuzzy, purpose, read[0]).result()
            elif batch:
                status = "cancelled"
        finally:
            if inflight is not None:
                inflight.result()  # never leave a chunk half-known when raising
        return status

    def _records(
        self, reader: Iterator[list[str]], header: list[str], dec: _Decoder,
        zones: set[str] | None,
    ) -> Iterator[tuple[int, str, Any]]:  # fmt: skip
        """(first line, masked fields, prepared row or its error) per non-blank record."""
        last_line = getattr(reader, "line_num", 1)
        while True:
            fields: list[str] | None
            problem: str | None = None
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                fields, problem = None, f"malformed CSV: {exc}"
            first, last_line = last_line + 1, getattr(reader, "line_num", last_line + 1)
            if fields is not None and not any(f.strip() for f in fields):
                continue  # blank line
            bad = [dec.bad[n] for n in range(first, last_line + 1) if n in dec.bad]
            if bad:
                problem = "; ".join(bad)
            if problem is None and fields is not None and len(fields) != len(header):
                problem = f"has {len(fields)} fields; the header has {len(header)}"
            rec = dict(zip(header, fields, strict=False)) if fields is not None else None
            if problem is not None or rec is None:
                item: Any = RecordError("row", problem or "?")
            else:
                item = self._prepare(rec, zones)
            if isinstance(item, Exception):
                item = Rejected(redact(str(item), _sensitive(header, fields)))
            yield first, masked_fields(rec), item

    def _pace(self, started: float, event: threading.Event) -> float:
        """Pause after a chunk so the import works ``duty`` of the time (a cancel ends the
        pause); returns when the next chunk starts."""
        if self.duty < 1.0:
            event.wait((time.monotonic() - started) * (1.0 / self.duty - 1.0))
        return time.monotonic()

    def _cancelled(self, job_id: int, event: threading.Event) -> bool:
        """A cancel asked in this process (event, SIGTERM) or by another (the job's flag)."""
        if event.is_set():
            return True
        row = self.ctx.db.query(
            "select cancel_requested from pop_import_jobs where id = ?", [job_id])  # fmt: skip
        return bool(row and row[0]["cancel_requested"])

    def cancel(self, actor: Actor, job_id: int) -> dict[str, Any]:
        """Ask a running import to stop at its next chunk boundary (committed chunks are
        kept; running the same file again resumes it). Works across processes."""
        job = self.ctx.db.query("select * from pop_import_jobs where id = ?", [job_id])
        if not job:
            raise NoSuchJob(f"no import job {job_id}")
        if job[0]["status"] == "running":
            self.ctx.db.execute_write(
                "update pop_import_jobs set cancel_requested = 1, updated_at = ? where id = ?",
                [self.ctx.now(), job_id])  # fmt: skip
            with self._lock:
                ev = self._cancels.get(job_id)
            if ev is not None:
                ev.set()
            self.ctx.audit.record(actor, "import_cancel", "import_job", job_id)
        return self.status(job_id)

    def cancel_all(self) -> None:
        """Stop every import of this process at its next chunk (SIGTERM, shutdown)."""
        with self._lock:
            for ev in self._cancels.values():
                ev.set()

    def status(self, job_id: int) -> dict[str, Any]:
        """An import's progress: records, imported, rejected, bytes read of the file."""
        rows = self.ctx.db.query("select * from pop_import_jobs where id = ?", [job_id])
        if not rows:
            raise NoSuchJob(f"no import job {job_id}")
        j = rows[0]
        return {
            "job_id": j["id"], "status": j["status"], "file_name": j["file_name"],
            "actor": j["actor"], "records": j["done_records"], "imported": j["imported"],
            "rejected": j["rejected"], "bytes_done": j["bytes_done"],
            "bytes_total": j["bytes_total"], "started_at": j["started_at"],
            "updated_at": j["updated_at"], "finished_at": j["finished_at"],
            "cancel_requested": bool(j["cancel_requested"]), "existing": j["existing"],
            "historical_rows": j["historical_rows"], "file_sha256": j["file_key"],
            "dates_state": j["dates_state"], "dates_approved_by": j["dates_approved_by"],
            "dates_approved_at": j["dates_approved_at"],
        }  # fmt: skip

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
        size, now = path.stat().st_size, self.ctx.now()

        def write(db: sqlite_utils.Database) -> dict[str, Any]:
            row = db.execute("select id from pop_import_jobs where file_key = ?", [key]).fetchone()
            if row is None:
                insert_row(db, "pop_import_jobs", dict(
                    file_key=key, file_name=path.name[:200], actor=username(actor),
                    started_at=now, updated_at=now, bytes_total=size))  # fmt: skip
            else:  # resuming (after a kill, a cancel or SIGTERM)
                db.execute("update pop_import_jobs set status = 'running', cancel_requested = 0, "
                           "finished_at = null, updated_at = ? where id = ? and status != 'done'",
                           [now, row[0]])  # fmt: skip
            return next(db.query("select * from pop_import_jobs where file_key = ?", [key]))

        return self.ctx.db.write(write)

    def _commit(self, actor: Actor, job_id: int, batch: list, fuzzy: bool,
                purpose: str | None, bytes_done: int = 0) -> Future[None]:  # fmt: skip
        """Queue a chunk for the writer in a transaction of its own (writes queued meanwhile
        commit before the next chunk); the caller prepares the next chunk meanwhile."""
        now = self.ctx.now()
        today = day_of(now).isoformat()

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
            regs: list[tuple[int, Any]] = []
            # The writer is the only writer: ids follow the current maximum, so every row,
            # its search entry and its registration go in with one executemany each.
            first = x("select coalesce(max(id), 0) + 1 from pop_persons").fetchone()[0]
            errors, persons, existing = _partition(db, job_id, batch, known, first)
            historical = 0
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
                    record_candidates(db, pid, row, now, fuzzy=fuzzy, earlier_than=pid,
                                      limit=self.duplicate_limit)  # fmt: skip
                    if reg:
                        regs.append((pid, reg))
            if regs:
                historical = _insert_registrations(db, actor, job_id, regs, now, today)
            if errors:
                db.conn.executemany(
                    "insert into pop_import_errors (job_id, record, line, reason, masked) "
                    "values (?, ?, ?, ?, ?)", errors)  # fmt: skip
            imported, rejected = len(persons), len(errors)
            x("update pop_import_jobs set done_records = ?, imported = imported + ?, rejected = "
              "rejected + ?, bytes_done = max(bytes_done, ?), updated_at = ?, existing = "
              "existing + ?, historical_rows = historical_rows + ? where id = ?",
              [batch[-1][0], imported, rejected, bytes_done, now, existing,
               historical, job_id])  # fmt: skip
            Ctx.entry(db, actor, "import", "person", None, purpose,
                      {"job": job_id, "imported": imported, "rejected": rejected,
                       "first_id": ids[0] if ids else None, "last_id": ids[-1] if ids else None})  # fmt: skip

        return self.ctx.db.submit(write, alone=True)

    def _write_errors(self, job_id: int, path: Path | None) -> None:
        """The rejected rows (line, reason, masked values) as a private CSV, when asked."""
        if path is None:
            return
        rows = self.errors(job_id, limit=None)
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
                w = csv.writer(f)
                w.writerow(["record", "line", "reason", "masked"])
                for r in rows:
                    w.writerow([r["record"], r["line"], r["reason"], r["masked"]])
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    def _summary(self, job_id: int, *, resumed: bool) -> dict[str, Any]:
        return {**self.status(job_id), "resumed": resumed}

    def errors(self, job_id: int, limit: int | None = 1000) -> list[dict[str, Any]]:
        """Rejected rows of a job: line, reason and masked values (never the raw line)."""
        return self.ctx.db.query(
            "select record, line, reason, masked from pop_import_errors where job_id = ? "
            "order by record limit ?", [job_id, -1 if limit is None else limit])  # fmt: skip


def _partition(
    db: sqlite_utils.Database, job_id: int, batch: list, known: set[int], first: int
) -> tuple[list[tuple[Any, ...]], list[Any], int]:
    """(error rows, rows to insert, how many name a document on record) of a chunk."""
    errors: list[tuple[Any, ...]] = []
    persons: list[Any] = []
    docs: dict[tuple[Any, ...], int] = {}  # this chunk's documents → their new ids
    existing = 0
    for record, line, masked, item in batch:
        if not isinstance(item, Exception):
            row, reg, fts = item
            if reg and reg["house_id"] is not None and reg["house_id"] not in known:
                item = RecordError("house_id", f"house {reg['house_id']} is not a "
                                   "registered rented house")  # fmt: skip
        if not isinstance(item, Exception):
            # one document, one person: a row for a document on record is reported
            # (masked), never created
            key = (row["id_hash"], row["id_type"],
                   document_country(row["id_type"], row["nationality"]))  # fmt: skip
            found = docs.get(key) or (existing_document(db, row) or (None,))[0]
            if found is not None:
                existing += 1
                item = RecordError("id_number", f"existing document: already registered "
                                   f"to person {found}; not created")  # fmt: skip
            else:
                docs[key] = first + len(persons)
        if isinstance(item, Exception):
            errors.append((job_id, record, line, str(item)[:1000], masked[:200]))
        else:
            persons.append(item)
    return errors, persons, existing


def _insert_registrations(
    db: sqlite_utils.Database, actor: Actor, job_id: int, regs: list[tuple[int, Any]],
    now: float, today: str,
) -> int:  # fmt: skip
    """Insert a chunk's registrations (with search entries and history); returns how many
    are dated before today (historical)."""
    rfirst = db.conn.execute("select coalesce(max(id), 0) + 1 from pop_registrations").fetchone()[0]
    rids = range(rfirst, rfirst + len(regs))
    # historical dates are kept, and count once a second officer approves the
    # batch (dates.TrustedDates); until then from the day they were recorded
    db.conn.executemany(
        "insert into pop_registrations (id, person_id, kind, house_id, address, "
        "zone, valid_from, status, created_at, updated_at, recorded_on, "
        "counts_from, import_job_id) "
        "values (?, ?, ?, ?, ?, ?, ?, 'registered', ?, ?, ?, ?, ?)",
        [(rid, pid, reg["kind"], reg["house_id"], reg["address"] or "", reg["zone"],
          reg["valid_from"] or today, now, now, today,
          counts_from(reg["valid_from"] or today, today), job_id)
         for rid, (pid, reg) in zip(rids, regs, strict=True)])  # fmt: skip
    historical = sum(1 for _, reg in regs if (reg["valid_from"] or today) < today)
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
    return historical
