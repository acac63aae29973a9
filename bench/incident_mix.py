"""The cost of judging an incident's priority as it grows: the running mix ingest keeps
(a few rows per incident) against counting the incident's events on every event it gains,
in the same run, on a real SQLite file with the writer's settings.

An incident that stays open for hours (a loitering alarm on a busy plaza, a crowd that
lasts the afternoon) gains an event every few seconds; each one re-judges its priority
inside the writer's transaction, so what that read costs is paid by every camera's event
waiting behind it.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import percentile, publish, table  # noqa: E402
from coordinator.bootstrap import open_services  # noqa: E402
from coordinator.incidents import priority  # noqa: E402
from coordinator.ingest.schema import count_events  # noqa: E402
from coordinator.settings import Settings  # noqa: E402

SIZES = (100, 1_000, 10_000, 100_000)
KINDS = ("intrusion", "loitering", "line_crossing", "crowd")


def _grow(svc, incident: str, n: int, rng: random.Random) -> None:  # noqa: ANN001
    """Store ``n`` events of ``incident`` from 12 cameras, counted as ingest counts them."""

    def write(db):  # noqa: ANN001, ANN202
        evs = [{"id": f"{incident}-{i}", "dev": f"cam-{rng.randrange(12)}", "seq": i,
                "ts": i, "t": float(i), "recv": float(i), "kind": rng.choice(KINDS),
                "conf": rng.random(), "incident_id": incident} for i in range(n)]  # fmt: skip
        db.conn.executemany(
            "insert into events (id, dev, seq, ts, t, recv, kind, conf, incident_id) "
            "values (:id, :dev, :seq, :ts, :t, :recv, :kind, :conf, :incident_id)", evs)  # fmt: skip
        count_events(db, evs)

    svc.db.write(write, timeout=600)


def _counted(conn, incident: str) -> int:  # noqa: ANN001
    """The former read: every event of the incident, grouped."""
    rows = conn.execute(
        "select kind, dev, count(*), sum(conf) from events where incident_id = ? "
        "group by kind, dev", [incident]).fetchall()  # fmt: skip
    return sum(r[2] for r in rows)


def main() -> int:
    rng = random.Random(5)
    out, data = [], {}
    with tempfile.TemporaryDirectory(prefix="cw-bench-mix-") as tmp:
        svc = open_services(Settings.for_dev(Path(tmp)))
        try:
            for n in SIZES:
                inc = f"inc-{n}"
                _grow(svc, inc, n, rng)
                conn = svc.db.read().conn
                ours, plain = [], []
                reps = 200 if n <= 10_000 else 40
                for _ in range(reps):
                    t0 = time.perf_counter()
                    total = priority.mix_of(conn, inc).total
                    t1 = time.perf_counter()
                    counted = _counted(conn, inc)
                    t2 = time.perf_counter()
                    assert total == counted == n, (total, counted, n)
                    ours.append(t1 - t0)
                    plain.append(t2 - t1)
                row = [f"{n:,}", percentile(ours, 50) * 1e3, percentile(ours, 99) * 1e3,
                       percentile(plain, 50) * 1e3, percentile(plain, 99) * 1e3]  # fmt: skip
                out.append(row)
                data[n] = {"ours_p50_ms": row[1], "ours_p99_ms": row[2],
                           "counted_p50_ms": row[3], "counted_p99_ms": row[4]}  # fmt: skip
        finally:
            svc.close()
    md = table(["events in the incident", "running mix p50 (ms)", "p99 (ms)",
                "counting the events p50 (ms)", "p99 (ms)"], out)  # fmt: skip
    md += ("\n\nOne priority judgement's read of the incident's mix (12 cameras, 4 kinds), "
           "both answers checked equal to the incident's size. The judgement runs inside the "
           "writer's transaction on every event the incident gains, so the counting read's "
           "growth was paid by every camera's event queued behind it (it was most of the "
           "writer's time in a long import benchmark, where the load generator's incidents "
           "stayed open for an hour).")  # fmt: skip
    publish("incident_mix", "Incident priority: the mix read as an incident grows", md, data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
