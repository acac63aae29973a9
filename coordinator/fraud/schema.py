"""Tables of the fraud early-warning domain (numbered migrations)."""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

migrations = Migrations("fraud")


@migrations()
def m001_fraud(db: sqlite_utils.Database) -> None:
    """Merchants, companies and identifiers, filings, tips, links, alerts, cases, warnings."""
    db.executescript(
        """
        CREATE TABLE fraud_merchants (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, market TEXT, booth TEXT,
            contact_name TEXT, contact_phone TEXT, created_ts REAL NOT NULL);
        CREATE TABLE fraud_companies (
            id INTEGER PRIMARY KEY, display_name TEXT NOT NULL, founded TEXT,
            cluster_id INTEGER, created_ts REAL NOT NULL, created_by TEXT);
        CREATE INDEX fraud_companies_cluster ON fraud_companies(cluster_id);
        CREATE TABLE fraud_identifiers (
            id INTEGER PRIMARY KEY,
            company_id INTEGER NOT NULL REFERENCES fraud_companies(id),
            kind TEXT NOT NULL, raw TEXT NOT NULL, norm TEXT NOT NULL,
            UNIQUE(company_id, kind, norm));
        CREATE INDEX fraud_identifiers_key ON fraud_identifiers(kind, norm);
        CREATE TABLE fraud_false_positives (
            kind TEXT NOT NULL, norm TEXT NOT NULL, raw TEXT, reason TEXT NOT NULL,
            added_by TEXT NOT NULL, ts REAL NOT NULL, PRIMARY KEY(kind, norm));
        CREATE TABLE fraud_filings (
            id INTEGER PRIMARY KEY,
            merchant_id TEXT NOT NULL REFERENCES fraud_merchants(id),
            company_id INTEGER NOT NULL REFERENCES fraud_companies(id),
            goods TEXT NOT NULL, quantity INTEGER NOT NULL,
            amount_cents INTEGER NOT NULL, currency TEXT NOT NULL,
            amount_cny_cents INTEGER NOT NULL, paid_cents INTEGER NOT NULL DEFAULT 0,
            due_date TEXT NOT NULL, documents TEXT NOT NULL DEFAULT '[]',
            status TEXT NOT NULL DEFAULT 'open',
            needs_confirmation INTEGER NOT NULL DEFAULT 0,
            filed_ts REAL NOT NULL, overdue_ts REAL, confirmed_ts REAL);
        CREATE INDEX fraud_filings_company ON fraud_filings(company_id, status);
        CREATE INDEX fraud_filings_merchant ON fraud_filings(merchant_id);
        CREATE INDEX fraud_filings_due ON fraud_filings(status, due_date);
        CREATE TABLE fraud_payments (
            id INTEGER PRIMARY KEY, filing_id INTEGER NOT NULL REFERENCES fraud_filings(id),
            amount_cents INTEGER NOT NULL, paid_on TEXT NOT NULL, ts REAL NOT NULL);
        CREATE TABLE fraud_tips (
            id INTEGER PRIMARY KEY, reporter TEXT NOT NULL, merchant_id TEXT,
            company_id INTEGER REFERENCES fraud_companies(id), identifiers TEXT NOT NULL,
            text TEXT NOT NULL, attachments TEXT NOT NULL DEFAULT '[]',
            status TEXT NOT NULL DEFAULT 'new', ts REAL NOT NULL);
        CREATE TABLE fraud_links (
            id INTEGER PRIMARY KEY, a INTEGER NOT NULL, b INTEGER NOT NULL,
            score REAL NOT NULL, evidence TEXT NOT NULL,
            proposed TEXT NOT NULL, decision TEXT,
            decided_by TEXT, decided_ts REAL, created_ts REAL NOT NULL, UNIQUE(a, b));
        CREATE INDEX fraud_links_b ON fraud_links(b);
        CREATE TABLE fraud_link_history (
            id INTEGER PRIMARY KEY, link_id INTEGER NOT NULL, action TEXT NOT NULL,
            before TEXT, after TEXT, actor TEXT NOT NULL, ts REAL NOT NULL);
        CREATE TABLE fraud_alerts (
            id INTEGER PRIMARY KEY, cluster_id INTEGER NOT NULL, level TEXT NOT NULL,
            score REAL NOT NULL, reasons TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'open',
            ts REAL NOT NULL);
        CREATE UNIQUE INDEX fraud_alerts_open ON fraud_alerts(cluster_id) WHERE status = 'open';
        CREATE TABLE fraud_cases (
            id INTEGER PRIMARY KEY, title TEXT NOT NULL, company_ids TEXT NOT NULL,
            alert_id INTEGER, tip_id INTEGER, status TEXT NOT NULL DEFAULT 'open',
            opened_by TEXT NOT NULL, ts REAL NOT NULL);
        CREATE TABLE fraud_warnings (
            id INTEGER PRIMARY KEY, company_id INTEGER NOT NULL REFERENCES fraud_companies(id),
            case_id INTEGER, headline TEXT NOT NULL, description TEXT NOT NULL,
            instruction TEXT, severity TEXT NOT NULL, state TEXT NOT NULL,
            drafted_by TEXT NOT NULL, approved_by TEXT, version INTEGER NOT NULL DEFAULT 1,
            created_ts REAL NOT NULL, published_ts REAL, updated_ts REAL NOT NULL,
            cancelled_ts REAL, msg_type TEXT NOT NULL DEFAULT 'Alert');
        CREATE INDEX fraud_warnings_company ON fraud_warnings(company_id, state);
        """
    )


@migrations()
def m002_warning_revisions(db: sqlite_utils.Database) -> None:
    """A published warning's changed text waits here for a second investigator's approval."""
    db.execute("ALTER TABLE fraud_warnings ADD COLUMN pending TEXT")
    db.execute("ALTER TABLE fraud_warnings ADD COLUMN pending_by TEXT")
    db.execute("ALTER TABLE fraud_warnings ADD COLUMN pending_ts REAL")


@migrations()
def m003_fraud_casework(db: sqlite_utils.Database) -> None:
    """Cases as work: assignee, tasks, notes, linked companies and tips, an outcome with the
    losses it avoided; tip attachments; companies' registry profile and checked state."""
    for col in (
        "description TEXT",
        "priority TEXT NOT NULL DEFAULT 'normal'",
        "assignee TEXT",
        "outcome TEXT",
        "outcome_note TEXT",
        "losses_avoided_cents INTEGER NOT NULL DEFAULT 0",
        "closed_ts REAL",
        "closed_by TEXT",
        "updated_ts REAL",
    ):
        db.execute(f"ALTER TABLE fraud_cases ADD COLUMN {col}")
    for col in ("checked_ts REAL", "checked_by TEXT", "profiled_ts REAL", "profiled_by TEXT"):
        db.execute(f"ALTER TABLE fraud_companies ADD COLUMN {col}")
    db.execute("ALTER TABLE fraud_tips ADD COLUMN case_id INTEGER")
    db.executescript(
        """
        CREATE INDEX fraud_cases_status ON fraud_cases(status, id);
        CREATE INDEX fraud_cases_list ON fraud_cases((status = 'closed'), id DESC);
        CREATE INDEX fraud_cases_assignee ON fraud_cases(assignee, status);
        CREATE INDEX fraud_cases_outcome ON fraud_cases(outcome);
        CREATE INDEX fraud_tips_case ON fraud_tips(case_id);
        CREATE INDEX fraud_tips_reporter ON fraud_tips(reporter, id);
        CREATE INDEX fraud_companies_checked ON fraud_companies(checked_ts);
        CREATE INDEX fraud_companies_profiled ON fraud_companies(profiled_ts);
        CREATE TABLE fraud_case_companies (
            case_id INTEGER NOT NULL REFERENCES fraud_cases(id),
            company_id INTEGER NOT NULL REFERENCES fraud_companies(id),
            added_by TEXT NOT NULL, ts REAL NOT NULL, PRIMARY KEY(case_id, company_id));
        CREATE INDEX fraud_case_companies_company ON fraud_case_companies(company_id);
        CREATE TABLE fraud_case_tasks (
            id INTEGER PRIMARY KEY, case_id INTEGER NOT NULL REFERENCES fraud_cases(id),
            title TEXT NOT NULL, assignee TEXT, due_date TEXT, done_ts REAL, done_by TEXT,
            created_by TEXT NOT NULL, ts REAL NOT NULL);
        CREATE INDEX fraud_case_tasks_case ON fraud_case_tasks(case_id);
        CREATE INDEX fraud_case_tasks_open ON fraud_case_tasks(assignee, done_ts);
        CREATE TABLE fraud_case_notes (
            id INTEGER PRIMARY KEY, case_id INTEGER NOT NULL REFERENCES fraud_cases(id),
            author TEXT NOT NULL, text TEXT NOT NULL, ts REAL NOT NULL);
        CREATE INDEX fraud_case_notes_case ON fraud_case_notes(case_id);
        CREATE TABLE fraud_attachments (
            id INTEGER PRIMARY KEY, tip_id INTEGER NOT NULL REFERENCES fraud_tips(id),
            name TEXT NOT NULL, mime TEXT NOT NULL, size INTEGER NOT NULL,
            sha256 TEXT NOT NULL, store_key TEXT NOT NULL, uploaded_by TEXT NOT NULL,
            ts REAL NOT NULL);
        CREATE INDEX fraud_attachments_tip ON fraud_attachments(tip_id);
        CREATE TABLE fraud_company_profiles (
            company_id INTEGER PRIMARY KEY REFERENCES fraud_companies(id),
            uscc TEXT, licence_no TEXT, legal_rep TEXT, registered_address TEXT,
            registered_capital_cents INTEGER, founding_date TEXT, business_scope TEXT,
            reg_status TEXT, source TEXT, updated_by TEXT NOT NULL, updated_ts REAL NOT NULL);
        CREATE INDEX fraud_company_profiles_uscc ON fraud_company_profiles(uscc);
        """
    )
    # Existing records keep what they said: a case's companies and tip, a filed-on company
    # counts as checked (the platform scored it when the filing arrived).
    db.execute(
        "INSERT INTO fraud_case_companies (case_id, company_id, added_by, ts) "
        "SELECT c.id, CAST(j.value AS INTEGER), c.opened_by, c.ts "
        "FROM fraud_cases c, json_each(c.company_ids) j WHERE true ON CONFLICT DO NOTHING"
    )
    db.execute(
        "UPDATE fraud_tips SET case_id = (SELECT MIN(id) FROM fraud_cases c "
        "WHERE c.tip_id = fraud_tips.id) WHERE status = 'case'"
    )
    db.execute("UPDATE fraud_cases SET updated_ts = ts")
    db.execute(
        "UPDATE fraud_companies SET checked_ts = created_ts, checked_by = 'migration' "
        "WHERE id IN (SELECT DISTINCT company_id FROM fraud_filings)"
    )
