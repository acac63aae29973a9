"""Population tables, as numbered migrations.

There are deliberately no ethnicity, religion or biometric columns anywhere: the
schema test fails if one appears. ID numbers exist only as ciphertext (``id_enc``),
a keyed lookup hash (``id_hash``) and a masked form for lists (``id_masked``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

migrations = Migrations("population")


@migrations()
def m001_population(db: sqlite_utils.Database) -> None:
    """Persons, houses, registrations, visitors, permits, requests, review queue."""
    x = db.execute
    x("""create table pop_persons (
        id integer primary key,
        name text not null,
        name_latin text,
        match_key text,
        id_type text,
        id_enc blob,
        id_hash blob,
        id_masked text,
        dob text,
        sex text check (sex in ('F','M','X')),
        nationality text,
        origin text,
        phone text,
        zone text not null,
        status text not null default 'active'
            check (status in ('active','merged','anonymised')),
        merged_into integer references pop_persons(id),
        created_at real not null,
        updated_at real not null,
        closed_at real
    )""")
    x("create index pop_persons_id_hash on pop_persons(id_hash)")
    x("create index pop_persons_dob on pop_persons(dob)")
    x("create index pop_persons_match_key on pop_persons(match_key, dob)")
    x("create index pop_persons_zone on pop_persons(zone, status)")
    x("create index pop_persons_closed on pop_persons(closed_at) where closed_at is not null")
    # Contentless: the names live once, in pop_persons; the index only holds trigrams.
    x("create virtual table pop_name_fts using fts5(text, tokenize='trigram', content='')")
    x("""create table pop_houses (
        id integer primary key,
        address text not null,
        zone text not null,
        landlord_id integer not null references pop_persons(id),
        rooms integer,
        status text not null default 'registered' check (status in ('registered','withdrawn')),
        registered_at real not null,
        withdrawn_at real
    )""")
    x("create index pop_houses_zone on pop_houses(zone)")
    x("create index pop_houses_landlord on pop_houses(landlord_id)")
    x("""create table pop_registrations (
        id integer primary key,
        person_id integer not null references pop_persons(id),
        kind text not null check (kind in ('rented','own','employer','other')),
        house_id integer references pop_houses(id),
        address text not null,
        zone text not null,
        valid_from text not null,
        valid_to text,
        status text not null default 'draft'
            check (status in ('draft','registered','moved_out','expired','archived')),
        created_at real not null,
        updated_at real not null
    )""")
    x("create index pop_reg_person on pop_registrations(person_id)")
    x("create index pop_reg_zone on pop_registrations(zone, status)")
    x("create index pop_reg_house on pop_registrations(house_id)")
    x("create virtual table pop_address_fts using fts5(text, tokenize='trigram', content='')")
    x("""create table pop_reg_history (
        id integer primary key,
        registration_id integer not null references pop_registrations(id),
        ts real not null, actor text not null,
        from_status text, to_status text not null, note text
    )""")
    x("create index pop_reg_history_reg on pop_reg_history(registration_id)")
    x("""create table pop_visitors (
        id integer primary key,
        person_id integer not null references pop_persons(id),
        visa_type text not null,
        visa_expiry text not null,
        host_kind text not null check (host_kind in ('hotel','host')),
        host_name text not null,
        address text not null,
        zone text not null,
        arrived_at real not null,
        reported_at real not null,
        planned_departure text,
        departed_at real,
        late integer not null default 0,
        flags text not null default '[]'
    )""")
    x("create index pop_visitors_person on pop_visitors(person_id)")
    x("create index pop_visitors_zone on pop_visitors(zone, departed_at)")
    x("""create table pop_permits (
        id integer primary key,
        person_id integer not null references pop_persons(id),
        number text not null unique,
        issued_on text not null,
        expires_on text not null,
        renewals integer not null default 0,
        status text not null default 'valid' check (status in ('valid','revoked')),
        zone text not null,
        created_at real not null
    )""")
    x("create index pop_permits_person on pop_permits(person_id)")
    x("create index pop_permits_expiry on pop_permits(expires_on)")
    x("""create table pop_requests (
        id integer primary key,
        channel text not null check (channel in ('hotline','walk_in','web')),
        category text not null,
        description text not null,
        contact_name text,
        contact_phone text,
        person_id integer references pop_persons(id),
        zone text not null,
        status text not null default 'open'
            check (status in ('open','assigned','in_progress','resolved','closed')),
        assignee text,
        due_at real not null,
        created_at real not null,
        resolved_at real,
        resolution text,
        satisfaction integer check (satisfaction between 1 and 5),
        closed_at real
    )""")
    x("create index pop_requests_zone on pop_requests(zone, status)")
    x(
        "create index pop_requests_due on pop_requests(due_at) where status in ('open','assigned','in_progress')"
    )
    x("create index pop_requests_person on pop_requests(person_id)")
    x("""create table pop_request_history (
        id integer primary key,
        request_id integer not null references pop_requests(id),
        ts real not null, actor text not null,
        from_status text, to_status text not null, note text
    )""")
    x("create index pop_request_history_req on pop_request_history(request_id)")
    x("""create table pop_dup_candidates (
        id integer primary key,
        person_id integer not null references pop_persons(id),
        other_id integer not null references pop_persons(id),
        score real not null,
        reasons text not null,
        status text not null default 'open' check (status in ('open','merged','not_duplicate')),
        created_at real not null,
        decided_by text,
        decided_at real,
        unique (person_id, other_id)
    )""")
    x("create index pop_dup_status on pop_dup_candidates(status, created_at)")
    x("""create table pop_merges (
        id integer primary key,
        candidate_id integer references pop_dup_candidates(id),
        survivor_id integer not null references pop_persons(id),
        merged_id integer not null references pop_persons(id),
        moved text not null,
        ts real not null, actor text not null,
        undone_at real, undone_by text
    )""")
    x("""create table pop_glass_grants (
        id integer primary key,
        username text not null,
        person_id integer,
        zone text,
        reason text not null,
        granted_at real not null,
        expires_at real not null
    )""")
    x("create index pop_glass_user on pop_glass_grants(username, expires_at)")
    x("""create table pop_import_jobs (
        id integer primary key,
        file_key text not null unique,
        file_name text not null,
        actor text not null,
        done_records integer not null default 0,
        imported integer not null default 0,
        rejected integer not null default 0,
        status text not null default 'running',
        started_at real not null,
        finished_at real
    )""")
    x("""create table pop_import_errors (
        id integer primary key,
        job_id integer not null references pop_import_jobs(id),
        record integer not null,
        line integer not null,
        reason text not null,
        raw text not null
    )""")
    x("create index pop_import_errors_job on pop_import_errors(job_id, record)")


@migrations()
def m002_address_index_text(db: sqlite_utils.Database) -> None:
    """Re-index addresses in the folded form searches use (spacing and punctuation out)."""
    from .names import address_text

    db.execute("insert into pop_address_fts(pop_address_fts) values ('delete-all')")
    # rowid: FTS5 keys its index by it (inherent to SQLite full-text search).
    db.conn.executemany(
        "insert into pop_address_fts(rowid, text) values (?, ?)",
        (
            (rid, address_text(a))
            for rid, a in db.execute(
                "select id, address from pop_registrations where address != '[anonymised]'"
            ).fetchall()
        ),
    )


#: Aggregate counters: active persons per zone, origin and nationality; registrations per
#: status. Statistics read these few rows instead of grouping millions. Updates and deletes
#: (merges, erasure, zone moves, lifecycle steps) are counted by triggers; inserts are
#: counted by the code that inserts (:func:`count_inserted`), because a row trigger on
#: INSERT makes SQLite journal every page each row touches and halved bulk-import speed.
#: The dimensions m003 counted (kept as they were when it ran: a migration never changes).
_PERSON_DIMS_V1 = ("zone", "origin", "nationality")
#: Every dimension counted now (m006 added the hukou status, alone and per patrol zone).
PERSON_DIMS = (*_PERSON_DIMS_V1, "hukou", "zone_hukou")
#: The SQL of a dimension's key over a person row (``{r}`` is new or old); a plain column
#: unless named here.
_KEY_SQL = {"zone_hukou": "{r}.zone || '|' || coalesce({r}.hukou, 'unknown')"}


def _key_sql(dim: str, r: str) -> str:
    return _KEY_SQL[dim].format(r=r) if dim in _KEY_SQL else f"{r}.{dim}"


def person_key(dim: str, p: dict[str, Any]) -> str:
    """A person's key in a counted dimension (as :func:`_key_sql` computes it in SQL)."""
    if dim == "zone_hukou":
        return f"{p.get('zone')}|{p.get('hukou') or 'unknown'}"
    v = p.get(dim)
    return "unknown" if v is None else str(v)  # as coalesce() in SQL


def _bump(dim: str, key: str, delta: int, when: str) -> str:
    return (
        f"insert into pop_counts (dim, k, n) select '{dim}', coalesce({key}, 'unknown'), "
        f"{delta} where {when} on conflict (dim, k) do update set n = n + excluded.n;"
    )


def count_inserted(
    db: sqlite_utils.Database,
    persons: Iterable[dict[str, Any]] = (),
    registration_statuses: Iterable[str] = (),
) -> None:
    """Add newly inserted persons and registrations to the counters (caller's transaction)."""
    c: Counter[tuple[str, str]] = Counter()
    for p in persons:
        if p.get("status", "active") == "active":
            for d in PERSON_DIMS:
                c[(d, person_key(d, p))] += 1
    for st in registration_statuses:
        c[("registration_status", st)] += 1
    if c:
        db.conn.executemany(
            "insert into pop_counts (dim, k, n) values (?, ?, ?) "
            "on conflict (dim, k) do update set n = n + excluded.n",
            [(d, k, n) for (d, k), n in c.items()],
        )


@migrations()
def m003_aggregate_counts(db: sqlite_utils.Database) -> None:
    """Aggregate counters (statistics at city scale without full scans)."""
    x = db.execute
    # "without rowid" is SQLite's storage hint for a keyed table (an applied migration, kept
    # as it ran; a server database's port would drop the clause).
    x("""create table pop_counts (
        dim text not null, k text not null, n integer not null, primary key (dim, k)
    ) without rowid""")
    p_new = " ".join(_bump(d, f"new.{d}", 1, "new.status = 'active'") for d in _PERSON_DIMS_V1)
    p_old = " ".join(_bump(d, f"old.{d}", -1, "old.status = 'active'") for d in _PERSON_DIMS_V1)
    x(f"create trigger pop_persons_count_del after delete on pop_persons begin {p_old} end")
    x(
        "create trigger pop_persons_count_upd after update of status, zone, origin, nationality "
        f"on pop_persons begin {p_old} {p_new} end"
    )
    r_new = _bump("registration_status", "new.status", 1, "1")
    r_old = _bump("registration_status", "old.status", -1, "1")
    x(f"create trigger pop_reg_count_del after delete on pop_registrations begin {r_old} end")
    x(
        "create trigger pop_reg_count_upd after update of status on pop_registrations "
        f"begin {r_old} {r_new} end"
    )
    for d in _PERSON_DIMS_V1:
        x(
            f"insert into pop_counts (dim, k, n) select '{d}', coalesce({d}, 'unknown'), count(*) "
            f"from pop_persons where status = 'active' group by 2"
        )
    x(
        "insert into pop_counts (dim, k, n) select 'registration_status', status, count(*) "
        "from pop_registrations group by 2"
    )


@migrations()
def m004_import_progress_and_masked_errors(db: sqlite_utils.Database) -> None:
    """Imports show progress and can be cancelled; rejected rows keep their line number,
    the reason and masked values only: the raw line (with its full ID number) that earlier
    versions kept is scrubbed (the writer's secure_delete zeroes the freed space)."""
    from .ids import redact

    x = db.execute
    for col, decl in (("cancel_requested", "integer not null default 0"),
                      ("bytes_done", "integer not null default 0"),
                      ("bytes_total", "integer not null default 0"),
                      ("updated_at", "real")):  # fmt: skip
        x(f"alter table pop_import_jobs add column {col} {decl}")
    x("alter table pop_import_errors add column masked text not null default ''")
    for eid, reason in x("select id, reason from pop_import_errors").fetchall():
        x("update pop_import_errors set reason = ?, raw = '' where id = ?", [redact(reason), eid])
    x("drop index pop_import_errors_job")
    x("alter table pop_import_errors drop column raw")
    x("create index pop_import_errors_job on pop_import_errors(job_id, record)")


@migrations()
def m005_glass_grants_through_approvals(db: sqlite_utils.Database) -> None:
    """Break-the-glass grants come from an approval (or an emergency grant under review)."""
    db.execute("alter table pop_glass_grants add column approval_id integer")
    db.execute("alter table pop_glass_grants add column emergency integer not null default 0")


@migrations()
def m006_pop_hukou_and_trusted_dates(db: sqlite_utils.Database) -> None:
    """Hukou (the registered household place, local or migrant) on every person, counted;
    registrations count towards a permit from the day they were recorded unless a second
    officer approved an earlier date (``counts_from``); import batches keep their provenance
    and the approval of their historical dates; visitors name the house and host they stay
    with."""
    from .ids import hukou_status

    x = db.execute
    x("alter table pop_persons add column hukou_place text")
    x("alter table pop_persons add column hukou text")
    for pid, id_type, nat in x("select id, id_type, nationality from pop_persons").fetchall():
        # The place is not derivable from the ciphertext without the key: existing records
        # get the status their nationality implies and the place at the next correction.
        x("update pop_persons set hukou = ? where id = ?",
          [hukou_status(None, id_type, nat), pid])  # fmt: skip
    x("create index pop_persons_hukou on pop_persons(hukou, zone)")
    for col, decl in (("recorded_on", "text"), ("counts_from", "text"),
                      ("backdate_state", "text"), ("backdate_approval_id", "integer"),
                      ("import_job_id", "integer")):  # fmt: skip
        x(f"alter table pop_registrations add column {col} {decl}")
    x("update pop_registrations set recorded_on = date(created_at, 'unixepoch')")
    x("update pop_registrations set counts_from = max(valid_from, recorded_on)")
    x("create index pop_reg_import on pop_registrations(import_job_id)")
    for col, decl in (("dates_state", "text"), ("dates_approval_id", "integer"),
                      ("dates_requested_by", "text"), ("dates_approved_by", "text"),
                      ("dates_approved_at", "real"), ("historical_rows", "integer not null default 0"),
                      ("existing", "integer not null default 0")):  # fmt: skip
        x(f"alter table pop_import_jobs add column {col} {decl}")
    x("alter table pop_visitors add column house_id integer references pop_houses(id)")
    x("alter table pop_visitors add column host_person_id integer references pop_persons(id)")
    x("create index pop_visitors_house on pop_visitors(house_id)")
    # the hukou counter: triggers re-made with the new dimension, the counts filled once
    x("drop trigger pop_persons_count_del")
    x("drop trigger pop_persons_count_upd")
    p_new = " ".join(_bump(d, _key_sql(d, "new"), 1, "new.status = 'active'") for d in PERSON_DIMS)
    p_old = " ".join(_bump(d, _key_sql(d, "old"), -1, "old.status = 'active'") for d in PERSON_DIMS)
    x(f"create trigger pop_persons_count_del after delete on pop_persons begin {p_old} end")
    x(
        "create trigger pop_persons_count_upd after update of status, zone, origin, nationality, "
        f"hukou on pop_persons begin {p_old} {p_new} end"
    )
    for d in ("hukou", "zone_hukou"):
        x(
            f"insert into pop_counts (dim, k, n) select '{d}', coalesce({_key_sql(d, 'p')}, "
            f"'unknown'), count(*) from pop_persons p where status = 'active' group by 2"
        )


@migrations()
def m007_pop_review_queue_order(db: sqlite_utils.Database) -> None:
    """The review queue reads the best-scored open candidates first: an index in that order
    answers it without sorting every open candidate of the city."""
    db.execute("create index pop_dup_queue on pop_dup_candidates(status, score desc, id)")
