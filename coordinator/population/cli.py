"""``coordinator population-*`` commands: CSV import and key rotation.

Synthetic test data comes from ``python -m devtools.population_data`` (not shipped).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from protocol.cli_util import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, add_command


def _open(args: argparse.Namespace) -> Any:
    """The centre's services, opened by the ``coordinator`` command that registered us."""
    return args.open_services(args)


def cmd_import(args: argparse.Namespace) -> int:
    """Import a CSV of persons (and registrations); resumable; rejects go to an error file."""
    from .importer import ImportFileError

    services = _open(args)
    try:
        pop = services.population
        actor = f"cli:{getpass.getuser()}"
        summary = pop.importer.run(
            actor, Path(args.file), encoding=args.encoding, fuzzy=not args.no_fuzzy,
            errors_path=Path(args.errors) if args.errors else None,
            progress=not args.json and sys.stderr.isatty(), purpose=args.purpose,
        )  # fmt: skip
    except ImportFileError as exc:
        print(f"coordinator: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        services.close()
    if args.json:
        print(json.dumps(summary))
    else:
        print(
            f"{args.file}: {summary['imported']} imported, {summary['rejected']} rejected"
            + (f" (reasons in {summary['errors_file']})" if summary["errors_file"] else "")
            + (" [resumed]" if summary["resumed"] else "")
        )
    return EXIT_FAILURE if summary["rejected"] else EXIT_OK


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
    p.add_argument("--errors", help="error file (default FILE.errors.csv)")
    p.add_argument("--no-fuzzy", action="store_true", help="exact-ID duplicate check only")
    p.add_argument("--purpose", default="bulk import", help="recorded in the audit log")
    p.add_argument("--settings", help="YAML settings file")
    p.set_defaults(open_services=open_services)
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p = add_command(
        sub, "population-rotate-key",
        "Re-encrypt and re-hash ID numbers under the current data_key after a key change.",
        "coordinator population-rotate-key --old-key-file /run/secrets/old-data-key "
        "--settings coordinator.yaml", cmd_rotate,
    )  # fmt: skip
    p.add_argument("--old-key-file", required=True, help="file holding the previous data_key")
    p.add_argument("--settings", help="YAML settings file")
    p.set_defaults(open_services=open_services)
