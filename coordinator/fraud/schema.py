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
