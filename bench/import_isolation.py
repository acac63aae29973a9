"""Camera ingest while a population CSV is imported: publish → stored p50/p99 of camera
events during the import against the same load without it, in the same run.

A real Mosquitto, the real coordinator core (MQTT link, ingest batcher, incidents) and a
load generator publishing camera events at a steady rate; the real importer runs either
as ``coordinator population-import`` in a process of its own (the way for large files:
its chunks take SQLite's write lock in turn with the centre's writer) or inside the
coordinator's process on the same single writer (an upload from the dashboard). The issue's figure is for a 1,000,000-row file (``--rows 1000000``); a smaller
``--rows`` gives a quicker run, and the table says which was used. Latency is the board's
event timestamp (same machine clock) to the commit of the event.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import percentile, publish, table  # noqa: E402
from bench.ingest import _broker, _core, _loadgen  # noqa: E402
from coordinator.settings import DEV_SECRET  # noqa: E402
from devtools.population_data import write_csv  # noqa: E402


def _phase(svc: Any, port: int, rate: float, until: Any, lat: list[float]) -> int:
    """Publish bursts of 5 s at ``rate`` until ``until()``; returns events published."""
    sent = 0
    seed = 100
    while True:
        n = int(rate * 5)
        before = svc.ingest.stats.stored
        gen = _loadgen(port, n, rate, seed)
        seed += 1
        gen.wait(120)
        end = time.monotonic() + 60
        while svc.ingest.stats.stored < before + n and time.monotonic() < end:
            time.sleep(0.05)
        sent += n
        if until():
            return sent


def _cli_import(data_dir: Path, csv_path: Path, chunk: int, duty: float) -> dict[str, Any]:
    env = {**os.environ, "CITYWATCH_DEV_MODE": "true", "CITYWATCH_DATA_DIR": str(data_dir),
           "CITYWATCH_SECRET_KEY": DEV_SECRET, "CITYWATCH_DATA_KEY": DEV_SECRET + "-data",
           "CITYWATCH_IMPORT_CHUNK_ROWS": str(chunk), "CITYWATCH_IMPORT_DUTY_CYCLE": str(duty)}  # fmt: skip
    r = subprocess.run([sys.executable, "-m", "coordinator.cli", "population-import", str(csv_path),
                        "--json"], env=env, capture_output=True, text=True, check=False)  # fmt: skip
    if r.returncode not in (0, 1):
        raise RuntimeError(r.stderr)
    return json.loads(r.stdout)


def _import_phase(svc: Any, port: int, rate: float, lat: list[float], work: Any) -> dict[str, Any]:
    """Camera load while ``work()`` imports; returns its summary and duration."""
    lat.clear()
    done: dict[str, Any] = {}

    def go() -> None:
        t = time.monotonic()
        done["summary"] = work()
        done["seconds"] = time.monotonic() - t

    th = threading.Thread(target=go)
    th.start()
    _phase(svc, port, rate, lambda: not th.is_alive(), lat)
    th.join()
    return {**done, "lat": list(lat)}


def run(
    rows: int, rate: float, baseline_s: float, chunk: int, duty: float, modes: list[str]
) -> dict[str, Any]:
    """The baseline and the chosen kinds of import on one broker and one coordinator."""
    with tempfile.TemporaryDirectory(prefix="cw-bench-import-") as tmp:
        d = Path(tmp)
        out: dict[str, Any] = {}
        with _broker(d / "b") as broker:
            port = broker.ports[0]
            svc = _core(d / "c", port, import_chunk_rows=chunk, import_duty_cycle=duty)
            lat: list[float] = []
            svc.ingest.on_committed(lambda rs, t: lat.extend(t - r["ts"] / 1000 for r in rs))
            try:
                t0 = time.monotonic()
                _phase(svc, port, rate, lambda: time.monotonic() - t0 >= baseline_s, lat)
                out["base"] = list(lat)
                if "cli" in modes:
                    cli_csv = write_csv(d / "city-a.csv", rows, seed=5)
                    out["cli"] = _import_phase(
                        svc, port, rate, lat, lambda: _cli_import(d / "c", cli_csv, chunk, duty)
                    )
                if "inproc" in modes:
                    api_csv = write_csv(d / "city-b.csv", rows, seed=6)
                    out["inproc"] = _import_phase(
                        svc, port, rate, lat, lambda: svc.population.importer.run("bench", api_csv)
                    )
            finally:
                svc.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows in the imported file")
    ap.add_argument("--rate", type=float, default=200.0, help="camera events per second")
    ap.add_argument("--baseline-s", type=float, default=30.0)
    ap.add_argument("--chunk", type=int, default=100, help="import rows per transaction")
    ap.add_argument("--duty", type=float, default=0.5, help="import_duty_cycle")
    ap.add_argument(
        "--modes",
        default="cli,inproc",
        help="which imports to measure: cli (a process of its own), inproc (inside the centre)",
    )
    a = ap.parse_args()
    modes = [m for m in a.modes.split(",") if m in ("cli", "inproc")]
    r = run(a.rows, a.rate, a.baseline_s, a.chunk, a.duty, modes)
    load = os.getloadavg()[0]
    ms = lambda xs, p: percentile(xs, p) * 1000  # noqa: E731
    line = lambda name, xs: [name, len(xs), ms(xs, 50), ms(xs, 99), max(xs) * 1000]  # noqa: E731
    label = {"cli": "`coordinator population-import` process",
             "inproc": "inside the coordinator (dashboard upload)"}  # fmt: skip
    rows = [line("without an import", r["base"])] + [
        line(f"during a {a.rows:,}-row import, {label[k]}", r[k]["lat"]) for k in modes
    ]
    speed = {k: r[k]["summary"]["records"] / r[k]["seconds"] for k in modes}
    took = ", ".join(
        f"{r[k]['seconds']:.0f} s {'as a command' if k == 'cli' else 'inside the coordinator'} "
        f"({speed[k]:,.0f} rows/s)"
        for k in modes
    )
    md = (
        table(
            [f"camera events at {a.rate:.0f}/s", "events", "p50 (ms)", "p99 (ms)", "max (ms)"], rows
        )
        + f"\n\nImports of {a.rows:,} rows, {a.chunk} rows per transaction, duty cycle {a.duty}: "
        f"{took}. "
        "Target: p99 publish → stored under 1 s during the import. Load average at the end: "
        f"{load:.1f} on {os.cpu_count()} cores (shared with other work)."
    )
    publish(
        "import_isolation",
        "Camera ingest during a population import",
        md,
        {"rows": a.rows, "rate": a.rate, "chunk": a.chunk, "duty": a.duty, "load": load,
         **{k: {"p50_ms": ms(r[k]["lat"] if k != "base" else r[k], 50),
                "p99_ms": ms(r[k]["lat"] if k != "base" else r[k], 99)} for k in ("base", *modes)},
         "rows_per_s": speed},
    )  # fmt: skip


if __name__ == "__main__":
    main()
