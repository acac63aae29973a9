"""Owners' sharing agreements on the ingest path: what stamping each event with what its
camera's owner shares costs.

1. Sustained ingest (committed + acked events/s) through a real Mosquitto with the
   agreement check on and off, alternating in the same run (the load generator is a
   separate process on the same cores).
2. The check alone: microseconds per event for 24,000 cameras of ~1,500 organisations with
   recorded agreements (hours, validity), against the fleet's cache lookup it adds to.

Run: ``python bench/owners.py [--quick]`` (or ``make bench``).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import publish, table  # noqa: E402
from bench.ingest import _broker, _core, _loadgen, _wait  # noqa: E402
from coordinator.bootstrap import open_services  # noqa: E402
from coordinator.fleet.service import DeviceIn  # noqa: E402
from coordinator.settings import Settings  # noqa: E402
from devtools.synthetic_owners import agreement  # noqa: E402


def _agreements(svc: Any, seed: int = 3) -> int:
    """Give every organisation of the fleet generated terms (as the demo city does)."""
    rng, now = random.Random(seed), time.time()
    orgs = svc.db.query("select id, kind from owner_orgs")
    rows = [t for o in orgs if (t := agreement(o["id"], o["kind"], rng, now)) is not None]
    if rows:
        cols = list(rows[0])
        svc.db.write(
            lambda db: db.conn.executemany(
                f"insert into sharing_agreements ({', '.join(cols)}) "
                f"values ({', '.join('?' for _ in cols)})",
                [[r[c] for c in cols] for r in rows],
            )
        )
    svc.owners.refresh()
    return len(rows)


def ingest_rate(d: Path, count: int, checked: bool, seed: int) -> float:
    """Committed + acked events/s, with or without the agreement stamp."""
    with _broker(d / "broker") as broker:
        svc = _core(d / "core", broker.ports[0])
        _agreements(svc)
        if not checked:
            svc.ingest.share = None
        commits: list[tuple[float, int]] = []
        svc.ingest.on_committed(lambda rows, t: commits.append((t, len(rows))))
        try:
            gen = _loadgen(broker.ports[0], count, 0, seed)
            _wait(lambda: svc.ingest.stats.stored >= count, 300)
            gen.wait(60)
            stamped = svc.db.query("select count(*) n from events where share is not null")[0]["n"]
            assert (stamped > 0) is checked, "the stamp did not run as asked"
            return (svc.ingest.stats.stored - commits[0][1]) / (commits[-1][0] - commits[0][0])
        finally:
            svc.close()


def check_cost(d: Path, cameras: int, calls: int) -> dict[str, float]:
    """Microseconds per call: the agreement check vs the fleet cache lookup alone."""
    svc = open_services(Settings.for_dev(d))
    try:
        rng = random.Random(5)
        kinds = ["government"] * 15 + ["company"] * 60 + ["community"] * 25
        devs = []
        for i in range(cameras):
            kind = rng.choice(kinds)
            org = f"{kind}-{rng.randrange(cameras // 16)}"
            devs.append(DeviceIn(id=f"cam-{i:05d}", owner_org=org, owner_type=kind,  # type: ignore[arg-type]
                                 lat=29.3, lon=120.0))  # fmt: skip
        svc.fleet.upsert_many(devs)
        n_terms = _agreements(svc)
        ids = [d.id for d in devs]
        now = time.time()
        t0 = time.perf_counter()
        for i in range(calls):
            svc.fleet.location(ids[i % cameras])
        base = time.perf_counter() - t0
        t0 = time.perf_counter()
        for i in range(calls):
            svc.owners.level(ids[i % cameras], now + i)
        check = time.perf_counter() - t0
        orgs = svc.db.query("select count(*) n from owner_orgs")[0]["n"]
        return {"check_us": check / calls * 1e6, "lookup_us": base / calls * 1e6,
                "orgs": orgs, "agreements": n_terms}  # fmt: skip
    finally:
        svc.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer events (a smoke run)")
    args = ap.parse_args()
    count = 4000 if args.quick else 20000
    rounds = 1 if args.quick else 2
    rates: dict[bool, list[float]] = {True: [], False: []}
    with tempfile.TemporaryDirectory(prefix="cw-bench-owners-") as tmp:
        d = Path(tmp)
        for r in range(rounds):
            for checked in (False, True) if r % 2 == 0 else (True, False):
                rates[checked].append(ingest_rate(d / f"r{r}-{checked}", count, checked, 7 + r))
        cost = check_cost(d / "micro", 24000, 200_000)
    off, on = max(rates[False]), max(rates[True])
    rows = [
        ["ingest, agreement check off (events/s, best of runs)", f"{off:,.0f}"],
        ["ingest, agreement check on (events/s, best of runs)", f"{on:,.0f}"],
        ["on / off", f"{on / off:.0%}"],
        ["check per event (µs), 24,000 cameras", f"{cost['check_us']:.2f}"],
        ["fleet cache lookup alone (µs)", f"{cost['lookup_us']:.2f}"],
        ["organisations / recorded agreements", f"{cost['orgs']:,} / {cost['agreements']:,}"],
    ]
    md = (
        f"Each event is stamped on ingest with what its camera's owner shares at that moment "
        f"({count:,} events from 500 cameras through a real Mosquitto, check off and on "
        f"alternating, {rounds} round(s); runs: off {[round(x) for x in rates[False]]}, on "
        f"{[round(x) for x in rates[True]]}).\n\n" + table(["measure", "value"], rows)
    )
    publish("owners", "Owner agreements on the ingest path", md,
            {"off": rates[False], "on": rates[True], **cost, "events": count})  # fmt: skip


if __name__ == "__main__":
    main()
