"""The audit log's hash chain: write cost with the chain against without it, and the speed
of ``coordinator audit verify``.

Both variants run in the same database and run, through the one writer: the chained
``audit.append`` (head read inside the transaction, SHA-256, the guard trigger, the
per-subject index for list reads) against a plain INSERT into a copy of the table as it
was before the chain (no hash columns, no insert guard). Two shapes: one entry per
transaction (a single read's audit, committed before the data is returned) and 1,000
entries per transaction (an export writes one per person).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import percentile, publish, table  # noqa: E402
from coordinator.bootstrap import open_services  # noqa: E402
from coordinator.identity.audit import AuditService, append, append_many  # noqa: E402
from coordinator.settings import Settings  # noqa: E402

PLAIN = """create table audit_plain (id integer primary key, ts float not null, actor text not
null, actor_roles text, action text not null, subject_type text not null, subject_id text,
purpose text, detail text)"""


def _entry(i: int) -> dict:
    return AuditService.entry("officer-7", "view", "person", 1000 + i, "case 2026-117",
                              {"zone": "Z03"})  # fmt: skip


def _plain(db, row: dict) -> None:  # noqa: ANN001
    cols = list(row)
    db.conn.execute(f"insert into audit_plain ({', '.join(cols)}) values "
                    f"({', '.join('?' * len(cols))})", [row[c] for c in cols])  # fmt: skip


def _plain_many(db, rows: list[dict]) -> None:  # noqa: ANN001
    cols = list(rows[0])
    db.conn.executemany(f"insert into audit_plain ({', '.join(cols)}) values "
                        f"({', '.join('?' * len(cols))})", [[r[c] for c in cols] for r in rows])  # fmt: skip


def singles(svc, fn, n: int) -> list[float]:  # noqa: ANN001
    """Latency of ``n`` one-entry transactions."""
    out = []
    for i in range(n):
        row = _entry(i)
        t0 = time.perf_counter()
        svc.db.write(lambda db, r=row: fn(db, r))
        out.append(time.perf_counter() - t0)
    return out


def batches(svc, fn, n: int, per: int = 1000) -> float:  # noqa: ANN001
    """Entries per second written ``per`` to a transaction (``fn(db, rows)``)."""
    t0 = time.perf_counter()
    for b in range(n // per):
        rows = [_entry(b * per + i) for i in range(per)]
        svc.db.write(lambda db, rs=rows: fn(db, rs))
    return (n // per) * per / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--singles", type=int, default=3000)
    ap.add_argument("--bulk", type=int, default=100_000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="cw-bench-audit-") as tmp:
        svc = open_services(Settings.for_dev(Path(tmp) / "coord"))
        try:
            svc.db.execute_write(PLAIN)
            # interleaved, so drift on a shared machine hits both alike
            chain_s, plain_s = [], []
            for _ in range(3):
                chain_s += singles(svc, append, a.singles // 3)
                plain_s += singles(svc, _plain, a.singles // 3)
            chain_b = batches(svc, append_many, a.bulk)
            plain_b = batches(svc, _plain_many, a.bulk)
            svc.audit.checkpoint()
            n = svc.db.query("select count(*) n from audit_log")[0]["n"]
            t0 = time.perf_counter()
            report = svc.audit.verify()
            verify_rate = n / (time.perf_counter() - t0)
            assert report.ok, report.problems
        finally:
            svc.close()
    rows = [
        ["one entry per transaction, p50 (ms)", percentile(chain_s, 50) * 1000,
         percentile(plain_s, 50) * 1000],
        ["one entry per transaction, p99 (ms)", percentile(chain_s, 99) * 1000,
         percentile(plain_s, 99) * 1000],
        ["1,000 entries per transaction (entries/s)", chain_b, plain_b],
    ]  # fmt: skip
    md = (
        table(["audit write", "hash chain", "plain insert (before)"], rows)
        + f"\n\n`coordinator audit verify` walked {n:,} entries at {verify_rate:,.0f} entries/s "
        "(chain, every checkpoint's signature, the triggers)."
    )
    publish(
        "audit",
        "Audit log: write cost of the hash chain",
        md,
        {"singles_chain_ms": [percentile(chain_s, p) * 1000 for p in (50, 99)],
         "singles_plain_ms": [percentile(plain_s, p) * 1000 for p in (50, 99)],
         "bulk_chain_per_s": chain_b, "bulk_plain_per_s": plain_b,
         "verify_entries_per_s": verify_rate, "entries": n},
    )  # fmt: skip


if __name__ == "__main__":
    main()
