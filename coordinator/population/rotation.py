"""Data-key rotation: re-encrypt and re-hash every ID number under the current key.

Run with the new key configured as ``data_key`` and the old one given as retired
(``coordinator population-rotate-key --old-key-file``). Rows are done in batches, each
committed, and picked by the key id in their ciphertext, so an interrupted rotation
simply resumes where it stopped. See docs/population.md for the procedure.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

from .common import Ctx
from .crypto import KID_LEN

BATCH = 2000


def pending(ctx: Ctx) -> int:
    """Rows whose ID number is still encrypted under another key than the current one."""
    return ctx.db.query(
        "select count(*) n from pop_persons where id_enc is not null and substr(id_enc, 1, ?) != ?",
        [KID_LEN, ctx.keyring.current.kid],
    )[0]["n"]


def rotate(ctx: Ctx, progress: Callable[[int], None] | None = None) -> int:
    """Re-encrypt and re-hash all pending rows; returns how many were rotated."""
    kid = ctx.keyring.current.kid
    done = 0
    while True:
        rows = ctx.db.query(
            "select id, id_type, id_enc from pop_persons where id_enc is not null "
            "and substr(id_enc, 1, ?) != ? limit ?",
            [KID_LEN, kid, BATCH],
        )
        if not rows:
            return done
        updates = []
        for r in rows:
            number = ctx.keyring.decrypt(r["id_type"], r["id_enc"])
            updates.append((ctx.keyring.encrypt(r["id_type"], number),
                            ctx.keyring.lookup_hash(r["id_type"], number), r["id"]))  # fmt: skip

        def write(db: sqlite_utils.Database, updates: list = updates) -> None:
            db.conn.executemany(
                "update pop_persons set id_enc = ?, id_hash = ? where id = ?", updates
            )
            Ctx.entry(db, "key-rotation", "rotate_key", "person", None, "key rotation",
                      {"rows": len(updates), "to_key": kid.hex()})  # fmt: skip

        ctx.db.write(write)
        done += len(rows)
        if progress:
            progress(len(rows))
