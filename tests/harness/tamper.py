"""What an attacker with write access to the database file does: raw SQL on a connection of
their own (no application code, no guards they cannot drop)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from coordinator.identity.audit_chain import HASHED, entry_hash

GUARD_TRIGGERS = ("audit_log_no_update", "audit_log_no_delete", "audit_log_chain")


def raw(db_path: Path, *statements: str | tuple[str, list[Any]]) -> None:
    """Run statements in one transaction on a plain sqlite3 connection."""
    conn = sqlite3.connect(str(db_path), timeout=30)
    try:
        with conn:
            for st in statements:
                sql, params = (st, []) if isinstance(st, str) else st
                conn.execute(sql, params)
    finally:
        conn.close()


def drop_guards(db_path: Path) -> list[str]:
    """Drop the audit log's guard triggers; returns their SQL to re-create them later."""
    conn = sqlite3.connect(str(db_path), timeout=30)
    try:
        sqls = [
            r[0]
            for r in conn.execute(
                "select sql from sqlite_master where type = 'trigger' and tbl_name = 'audit_log'"
            )
        ]
        with conn:
            for name in GUARD_TRIGGERS:
                conn.execute(f"drop trigger if exists {name}")
    finally:
        conn.close()
    return sqls


def recreate(db_path: Path, sqls: list[str]) -> None:
    """Re-create triggers from their SQL (covering the tracks)."""
    raw(db_path, *sqls)


def recompute_chain(db_path: Path) -> None:
    """Recompute every prev_hash and hash in id order, as someone without the signing key
    would after rewriting entries (the guards must be dropped first)."""
    conn = sqlite3.connect(str(db_path), timeout=30)
    conn.row_factory = sqlite3.Row
    try:
        rows = [dict(r) for r in conn.execute("select * from audit_log order by id")]
        prev = "0" * 64
        with conn:
            for r in rows:
                r["prev_hash"] = prev
                prev = entry_hash({c: r[c] for c in HASHED})
                conn.execute(
                    "update audit_log set prev_hash = ?, hash = ? where id = ?",
                    [r["prev_hash"], prev, r["id"]],
                )
    finally:
        conn.close()
