"""``provision batch``: enrol many sites from a CSV, safe to re-run.

One result file per row (``<results>/<device_id>.json``); a row whose result says ``ok``
and whose board the coordinator still lists as enrolled is skipped on a re-run. Failures
are listed at the end with their reason and next step; the exit code is 1 if any failed.
Keys are generated where this runs: use it on a staging bench where each row's bundle
folder is the board's mounted storage, or on an RTSP gateway serving several cameras.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from protocol import is_valid_id

from .api import ApiError, Coordinator
from .ca import ProvisionError, private_dir
from .enroll import EnrollOptions, enroll, firmware_profile, write_private

REQUIRED = ("device_id", "profile", "lat", "lon", "heading", "zone", "owner")


class Progress:
    """A one-line progress bar on a terminal stream (plain lines when not a tty)."""

    def __init__(self, total: int, stream: TextIO = sys.stderr, width: int = 30) -> None:
        self.total, self.stream, self.width = total, stream, width
        self.t0 = time.monotonic()
        self.tty = stream.isatty()

    def update(self, done: int, counts: dict[str, int], current: str) -> None:
        """Redraw the bar after ``done`` rows."""
        filled = int(self.width * done / max(1, self.total))
        rate = done / max(1e-9, time.monotonic() - self.t0) * 60
        line = (
            f"[{'#' * filled}{'.' * (self.width - filled)}] {done}/{self.total} "
            f"ok {counts['ok']} skipped {counts['skipped']} failed {counts['failed']} "
            f"({rate:.0f}/min) {current}"
        )
        self.stream.write(("\r" + line.ljust(110)) if self.tty else line + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line."""
        if self.tty:
            self.stream.write("\n")


@dataclass
class BatchOptions:
    """What the batch needs beyond the CSV."""

    coordinator: str
    results: Path
    bundles: Path
    firmware_dir: Path | None = None
    selftest: bool = False
    confirm_timeout: float = 30.0
    verify: str | bool = True


def read_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """Rows with their line numbers; raises ValueError when the header lacks a column."""
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: CSV header lacks column(s) {', '.join(missing)}")
        return [(i + 2, row) for i, row in enumerate(reader)]


def _row_options(row: dict[str, str], opts: BatchOptions) -> EnrollOptions:
    dev = row["device_id"].strip()
    bundle = Path(row["bundle_dir"]) if row.get("bundle_dir") else opts.bundles / dev
    return EnrollOptions(
        coordinator=opts.coordinator,
        token="",
        profile=row["profile"].strip(),
        lat=float(row["lat"]),
        lon=float(row["lon"]),
        heading=float(row["heading"]),
        zone=row["zone"].strip(),
        owner=row["owner"].strip(),
        owner_type=(row.get("owner_type") or "government").strip(),
        bundle_dir=bundle,
        firmware_dir=opts.firmware_dir,
        confirm_timeout=opts.confirm_timeout,
        selftest=opts.selftest,
        verify=opts.verify,
    )


def run_batch(
    csv_path: Path, api: Coordinator, opts: BatchOptions, progress: bool = True
) -> dict[str, Any]:
    """Enrol every row; returns counts, failures and per-row results (also on disk)."""
    rows = read_rows(csv_path)
    private_dir(opts.results)
    counts = {"ok": 0, "skipped": 0, "failed": 0}
    failures: list[dict[str, Any]] = []
    bar = Progress(len(rows)) if progress else None
    t0 = time.monotonic()
    for n, (line, row) in enumerate(rows, 1):
        dev = (row.get("device_id") or "").strip()
        result = _one_row(line, dev, row, api, opts)
        counts[result["outcome"]] += 1
        if result["outcome"] == "failed":
            failures.append(
                {
                    "line": line,
                    "device_id": dev,
                    "reason": result["reason"],
                    "next": result.get("next", ""),
                }
            )
        if is_valid_id(dev) and result["outcome"] != "skipped":
            write_private(
                opts.results / f"{dev}.json", json.dumps(result, indent=2, default=str).encode()
            )
        if bar:
            bar.update(n, counts, dev)
    if bar:
        bar.close()
    elapsed = time.monotonic() - t0
    return {
        "rows": len(rows),
        **counts,
        "failures": failures,
        "seconds": round(elapsed, 2),
        "per_minute": round(counts["ok"] / elapsed * 60, 1) if elapsed else None,
    }


def _one_row(
    line: int, dev: str, row: dict[str, str], api: Coordinator, opts: BatchOptions
) -> dict[str, Any]:
    if not is_valid_id(dev):
        return {
            "outcome": "failed",
            "line": line,
            "reason": f"line {line}: device_id {dev!r} is not a valid id",
            "next": "fix the CSV row",
        }
    previous = opts.results / f"{dev}.json"
    if previous.exists():
        try:
            done = json.loads(previous.read_text()).get("outcome") == "ok"
        except ValueError:
            done = False
        if done:
            try:
                if api.status(dev)["status"] == "enrolled":
                    return {"outcome": "skipped", "reason": "already enrolled"}
            except ApiError:
                pass  # not known any more: enrol again
    try:
        eo = _row_options(row, opts)
        firmware_profile(eo)  # before a token is minted for a row that cannot succeed
    except (ValueError, TypeError, ProvisionError) as exc:
        return {
            "outcome": "failed",
            "line": line,
            "reason": f"line {line}: {exc}",
            "next": "fix the CSV row",
        }
    try:
        eo.token = api.enrolment_token(dev)["token"]
    except ApiError as exc:
        if exc.status == 409:
            return {"outcome": "skipped", "reason": f"{dev} is already enrolled at the coordinator"}
        return {
            "outcome": "failed",
            "line": line,
            "reason": str(exc),
            "next": "check your login and the coordinator",
        }
    res = enroll(eo, quiet=True, client=api)
    failed = [s for s in res["steps"] if s["status"] == "failed"]
    return {
        "outcome": "ok" if res["ok"] else "failed",
        "line": line,
        "reason": "; ".join(f"{s['step']}: {s['detail']}" for s in failed),
        "next": failed[0]["next"] if failed else "",
        **res,
    }
