"""The hall's tables (numbered migrations of their own)."""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

migrations = Migrations("hall")


@migrations()
def m001_hall_cases(db: sqlite_utils.Database) -> None:
    """Cases, their history, documents, deadline alerts and the status-enquiry throttle."""
    db.execute(
        """create table hall_cases (
            id integer primary key,
            receipt text not null unique,
            service text not null,
            counter text not null,
            status text not null,
            applicant_name text not null,
            name_latin text,
            nationality text not null,
            passport_enc blob not null,
            passport_hash blob not null,
            passport_masked text not null,
            person_id integer,
            visit_id integer,
            requested_until text,
            note text,
            applied_at real not null,
            due_at real not null,
            checked_at real,
            review_at real,
            decided_at real,
            closed_at real,
            decision text,
            decision_reason text,
            granted_until text,
            clerk text not null,
            updated_at real not null
        )"""
    )
    db.execute("create index hall_cases_queue on hall_cases(counter, status, due_at)")
    db.execute("create index hall_cases_due on hall_cases(status, due_at)")
    db.execute("create index hall_cases_passport on hall_cases(passport_hash)")
    db.execute("create index hall_cases_applied on hall_cases(applied_at)")
    db.execute(
        """create table hall_case_events (
            id integer primary key,
            case_id integer not null references hall_cases(id),
            at real not null,
            actor text not null,
            from_status text,
            to_status text not null,
            note text
        )"""
    )
    db.execute("create index hall_case_events_case on hall_case_events(case_id, id)")
    db.execute(
        """create table hall_case_documents (
            case_id integer not null references hall_cases(id),
            doc text not null,
            file_id text not null,
            at real not null,
            actor text not null,
            primary key (case_id, doc, file_id)
        )"""
    )
    db.execute(
        """create table hall_alerts (
            id integer primary key,
            case_id integer not null references hall_cases(id),
            kind text not null,
            at real not null,
            acknowledged_at real,
            acknowledged_by text,
            unique (case_id, kind)
        )"""
    )
    db.execute("create index hall_alerts_open on hall_alerts(acknowledged_at, at)")
    db.execute(
        """create table hall_enquiry_throttle (
            key text primary key,
            window_start real not null,
            hits integer not null,
            misses integer not null
        )"""
    )
