"""``coordinator population-*`` commands: CSV import and key rotation.

Synthetic test data comes from ``python -m devtools.population_data`` (not shipped).
"""

from __future__ import annotations

import argparse
import csv
import getpass
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from protocol.cli_util import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, add_command

EXIT_INTERRUPTED = 4  # stopped by a cancel or SIGTERM: committed chunks kept, run again to resume


def _open(args: argparse.Namespace) -> Any:
    """The centre's services, opened by the ``coordinator`` command that registered us."""
    return args.open_services(args)


def cmd_import(args: argparse.Namespace) -> int:
    """Import a CSV of persons (and registrations) in chunks; resumable; SIGTERM or Ctrl-C
    (or ``population-import-cancel``) stops it at the next chunk, keeping what committed."""
    import signal
    import threading

    from .importer import ImportFileError

    services = _open(args)
    stop = threading.Event()
    old = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        pop = services.population
        actor = f"cli:{getpass.getuser()}"
        summary = pop.importer.run(
            actor, Path(args.file), encoding=args.encoding, fuzzy=not args.no_fuzzy,
            errors_path=Path(args.errors) if args.errors else None,
            progress=not args.json and sys.stderr.isatty(), purpose=args.purpose, cancel=stop,
        )  # fmt: skip
        first_errors = pop.importer.errors(summary["job_id"], 5)
    except ImportFileError as exc:
        print(f"coordinator: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        services.close()
    if args.json:
        print(json.dumps(summary))
    else:
        print(
            f"{args.file}: job {summary['job_id']} {summary['status']}: {summary['imported']} "
            f"imported, {summary['rejected']} rejected"
            + (f" ({summary['existing']} of them documents already on record, not created)"
               if summary["existing"] else "")
            + (f"\n  {summary['historical_rows']} registrations dated before today count from "
               "today until a second officer approves the batch's dates (docs/population.md)"
               if summary["historical_rows"] else "")
            + (" [resumed]" if summary["resumed"] else "")
            + "".join(f"\n  line {e['line']}: {e['reason']} ({e['masked']})" for e in first_errors)
            + (f"\n  (all: coordinator population-import-errors {summary['job_id']})"
               if summary["rejected"] > len(first_errors) else "")
        )  # fmt: skip
    if summary["status"] == "cancelled":
        return EXIT_INTERRUPTED
    # a row for a document already on record is reported, not a failure of the import
    return EXIT_FAILURE if summary["rejected"] > summary["existing"] else EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    """Show an import's progress (works while another process runs it)."""
    from .importer import ImportFileError, NoSuchJob

    services = _open(args)
    try:
        st = services.population.importer.status(args.job)
    except (ImportFileError, NoSuchJob) as exc:
        print(f"coordinator: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        services.close()
    pct = 100.0 * st["bytes_done"] / st["bytes_total"] if st["bytes_total"] else 0.0
    print(json.dumps(st) if args.json else
          f"job {st['job_id']} {st['status']}: {st['records']} records ({pct:.0f}% of the file), "
          f"{st['imported']} imported, {st['rejected']} rejected")  # fmt: skip
    return EXIT_OK


def cmd_cancel(args: argparse.Namespace) -> int:
    """Ask a running import (in any process) to stop at its next chunk."""
    from .importer import ImportFileError, NoSuchJob

    services = _open(args)
    try:
        st = services.population.importer.cancel(f"cli:{getpass.getuser()}", args.job)
    except (ImportFileError, NoSuchJob) as exc:
        print(f"coordinator: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        services.close()
    print(json.dumps(st) if args.json else f"job {st['job_id']}: cancel requested "
          f"(status {st['status']}; it stops at its next chunk)")  # fmt: skip
    return EXIT_OK


def cmd_errors(args: argparse.Namespace) -> int:
    """List an import's rejected rows: line, reason, masked values (audited)."""
    services = _open(args)
    try:
        rows = services.population.importer.errors(args.job, limit=None)
        services.audit.record(f"cli:{getpass.getuser()}", "read_import_errors", "import_job",
                              args.job, detail={"rows": len(rows)})  # fmt: skip
    finally:
        services.close()
    w = csv.writer(sys.stdout)
    w.writerow(["record", "line", "reason", "masked"])
    for r in rows:
        w.writerow([r["record"], r["line"], r["reason"], r["masked"]])
    return EXIT_OK


def cmd_rotate(args: argparse.Namespace) -> int:
    """Re-encrypt every ID number under the current data_key (old key from a file)."""
    from .common import Ctx
    from .crypto import Keyring
    from .rotation import pending, rotate

    old = Path(args.old_key_file).read_text().strip()
    services = _open(args)
    try:
        ctx = Ctx(services.db, Keyring(services.settings.data_key, [old]), services.audit)
        before = pending(ctx)
        n = rotate(ctx)
        left = pending(ctx)
    finally:
        services.close()
    print(json.dumps({"pending_before": before, "rotated": n, "pending_after": left}))
    return EXIT_OK if left == 0 else EXIT_FAILURE


def add_commands(
    sub: argparse._SubParsersAction, open_services: Callable[[argparse.Namespace], Any]
) -> None:
    """Register the population subcommands on the coordinator parser; ``open_services``
    opens the centre's services from the parsed arguments (``--settings``)."""
    p = add_command(
        sub, "population-import",
        "Import persons (and their registrations) from a CSV file; resumable.",
        "coordinator population-import persons.csv --settings coordinator.yaml", cmd_import,
    )  # fmt: skip
    p.add_argument("file", help="CSV with a header row (see docs/population.md)")
    p.add_argument("--encoding", default="utf-8", choices=["utf-8", "gb18030"])
    p.add_argument("--errors", help="also write the rejected rows (line, reason, masked "
                   "values; never the raw line) to this private (0600) CSV")  # fmt: skip
    p.add_argument("--no-fuzzy", action="store_true", help="exact-ID duplicate check only")
    p.add_argument("--purpose", default="bulk import", help="recorded in the audit log")
    p.add_argument("--settings", help="YAML settings file")
    p.set_defaults(open_services=open_services)
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    for name, text, example, fn in (
        ("population-import-status", "Show an import's progress.",
         "coordinator population-import-status 3 --settings coordinator.yaml", cmd_status),
        ("population-import-cancel", "Stop a running import at its next chunk (kept; resumable).",
         "coordinator population-import-cancel 3 --settings coordinator.yaml", cmd_cancel),
        ("population-import-errors", "Print an import's rejected rows (masked) as CSV.",
         "coordinator population-import-errors 3 --settings coordinator.yaml", cmd_errors),
    ):  # fmt: skip
        p = add_command(sub, name, text, example, fn)
        p.add_argument("job", type=int, help="the import job's id")
        p.add_argument("--settings", help="YAML settings file")
        p.add_argument("--json", action="store_true", help="print JSON")
        p.set_defaults(open_services=open_services)
    p = add_command(
        sub, "population-rotate-key",
        "Re-encrypt and re-hash ID numbers under the current data_key after a key change.",
        "coordinator population-rotate-key --old-key-file /run/secrets/old-data-key "
        "--settings coordinator.yaml", cmd_rotate,
    )  # fmt: skip
    p.add_argument("--old-key-file", required=True, help="file holding the previous data_key")
    p.add_argument("--settings", help="YAML settings file")
    p.set_defaults(open_services=open_services)
