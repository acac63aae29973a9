"""Operations commands: ``coordinator init``, ``backup``, ``restore``, ``check`` and
``audit verify|checkpoint|export`` (registered by ``cli.py``)."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from protocol.cli_util import EXIT_FAILURE, EXIT_OK, EXIT_UNAVAILABLE, add_command

SettingsFn = Callable[[argparse.Namespace], Any]


def cmd_init(args: argparse.Namespace) -> int:
    """Create a new, empty database (and the audit signing key)."""
    from .bootstrap import open_services
    from .platform.integrity import header_problem

    settings = args.load_settings(args)
    if header_problem(settings.db_path) is None and not args.replace:
        print(f"coordinator: {settings.db_path} already holds a database (use --replace to "
              "start over; the old file is kept beside it)", file=sys.stderr)  # fmt: skip
        return EXIT_FAILURE
    services = open_services(settings, init=True)
    try:
        services.audit.record(f"cli:{getpass.getuser()}", "init", "database", None)
        key = services.audit.key
    finally:
        services.close()
    print(f"created {settings.db_path}; audit signing key {key.path if key else '-'}")
    return EXIT_OK


def cmd_backup(args: argparse.Namespace) -> int:
    """Take an online backup (SQLite's backup API) while the coordinator runs."""
    from .bootstrap import online_backup
    from .platform.db import Database

    settings = args.load_settings(args)
    _existing(settings)
    db = Database(settings.db_path).open()
    try:
        dest = online_backup(settings, db, Path(args.out) if args.out else None)
    finally:
        db.close()
    size = dest.stat().st_size
    if args.json:
        print(json.dumps({"backup": str(dest), "bytes": size}))
    else:
        print(f"backup {dest} ({size} bytes, checked)")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    """Replace the database with a checked backup (the coordinator must be stopped)."""
    from .platform import integrity
    from .platform.db import Database

    settings = args.load_settings(args)
    src, target = Path(args.backup), settings.db_path
    problem = integrity.header_problem(src)
    problems = [f"{src} {problem}"] if problem else Database(src).quick_check()
    if problems:
        print(f"coordinator: the backup is not usable: {problems[0]}", file=sys.stderr)
        return EXIT_FAILURE
    if integrity.live_processes(target):
        print("coordinator: a coordinator process still has the database open: stop it "
              "first", file=sys.stderr)  # fmt: skip
        return EXIT_UNAVAILABLE
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    tmp = target.with_name(target.name + ".restoring")
    shutil.copyfile(src, tmp)
    os.chmod(tmp, 0o600)
    with tmp.open("rb") as f:
        os.fsync(f.fileno())
    if target.exists():
        target.rename(target.with_name(f"{target.name}.before-restore-{stamp}"))
    for suffix in ("-wal", "-shm"):
        target.with_name(target.name + suffix).unlink(missing_ok=True)
    os.replace(tmp, target)
    _after_restore(settings, src, stamp)
    print(f"restored {target} from {src}")
    return EXIT_OK


def _after_restore(settings: Any, src: Path, stamp: str) -> None:
    """Mark the database as in use, set the outside checkpoint copy aside (it covers
    entries the backup predates), bring back document bodies the data folder lacks from
    the backup's ``files/`` mirror, and audit the restore in the restored log."""
    from .identity.audit import AuditKey, AuditService
    from .platform import integrity
    from .platform.db import Database
    from .platform.filestore import mirror_bodies

    mirror_bodies(src.parent / "files", settings.data_dir / "files")

    integrity.prepare(settings.db_path, init=False, allow_fresh=False)
    service = AuditService(Database(settings.db_path).open(), AuditKey(settings.audit_key_path))
    try:
        outside = service.checkpoint_file
        if outside is not None and outside.exists():
            outside.rename(outside.with_name(f"{outside.name}.before-restore-{stamp}"))
        service.record(f"cli:{getpass.getuser()}", "restore", "database", None,
                       detail={"backup": src.name})  # fmt: skip
        service.checkpoint(force=True)
    finally:
        service.db.close()
    integrity.record_check(settings.db_path, [], reason="restored from a checked backup")


def cmd_check(args: argparse.Namespace) -> int:
    """Run SQLite's quick_check now (on a reader connection) and record the result."""
    from .platform import integrity
    from .platform.db import Database

    settings = args.load_settings(args)
    problem = integrity.header_problem(settings.db_path)
    problems = [f"{settings.db_path} {problem}"] if problem else Database(
        settings.db_path).quick_check()  # fmt: skip
    result = integrity.record_check(settings.db_path, problems, reason="command")
    print(json.dumps(result) if args.json else f"integrity: {result['status']}"
          + "".join(f"\n  {p}" for p in result["problems"]))  # fmt: skip
    return EXIT_OK if not problems else EXIT_FAILURE


def _existing(settings: Any) -> None:
    """Refuse (instead of creating an empty file) when there is no database to work on."""
    from .platform.integrity import DatabaseMissing, header_problem

    problem = header_problem(settings.db_path)
    if problem:
        raise DatabaseMissing(f"database {settings.db_path} {problem}")


def _audit_service(args: argparse.Namespace) -> Any:
    from .identity.audit import AuditKey, AuditService
    from .platform.db import Database

    settings = args.load_settings(args)
    _existing(settings)
    return AuditService(Database(settings.db_path).open(), AuditKey(settings.audit_key_path))


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Verify the audit chain and its signed checkpoints."""
    from .identity.audit import load_public
    from .identity.audit_chain import read_jsonl

    service = _audit_service(args)
    try:
        public = load_public(Path(args.public_key)) if args.public_key else None
        exported = None
        if args.checkpoints:
            with Path(args.checkpoints).open(encoding="utf-8") as f:
                exported = list(read_jsonl(f))
        report = service.verify(public, exported)
    finally:
        service.db.close()
    if args.json:
        print(json.dumps(report.as_dict()))
    else:
        print(f"audit log: {report.entries} entries, {report.checkpoints} signed checkpoints: "
              + ("intact" if report.ok else "TAMPERED OR DAMAGED"))  # fmt: skip
        for p in report.problems:
            print(f"  - {p}")
    return EXIT_OK if report.ok else EXIT_FAILURE


def cmd_audit_checkpoint(args: argparse.Namespace) -> int:
    """Sign the chain's head now."""
    service = _audit_service(args)
    try:
        cp = service.checkpoint(force=True)
    finally:
        service.db.close()
    print(json.dumps(cp))
    return EXIT_OK


def cmd_audit_export(args: argparse.Namespace) -> int:
    """Write the checkpoints (JSON lines) and the public key for the auditor to keep."""
    from .identity.audit import public_pem

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    service = _audit_service(args)
    try:
        cps = service.checkpoints()
        assert service.key is not None
        (out / "audit-signing.pub").write_bytes(public_pem(service.key.public()))
    finally:
        service.db.close()
    with (out / "audit-checkpoints.jsonl").open("w", encoding="utf-8") as f:
        for cp in cps:
            f.write(json.dumps(cp, separators=(",", ":")) + "\n")
    print(f"exported {len(cps)} checkpoints and the public key to {out}")
    return EXIT_OK


def add_commands(sub: argparse._SubParsersAction, load_settings: SettingsFn) -> None:
    """Register the operations commands; ``load_settings`` reads ``--settings``."""
    simple = [
        ("init", "Create a new, empty database and the audit signing key (first start, or "
         "replacing a lost database: the marker then allows it).",
         "coordinator init --settings coordinator.yaml", cmd_init),
        ("backup", "Take an online, checked backup of the database while the centre runs.",
         "coordinator backup --settings coordinator.yaml", cmd_backup),
        ("restore", "Replace the database with a backup (stop the coordinator first).",
         "coordinator restore var/coordinator/backups/citywatch-20260101T030000.db "
         "--settings coordinator.yaml", cmd_restore),
        ("check", "Run SQLite's quick_check on the database now; health reports the result.",
         "coordinator check --settings coordinator.yaml", cmd_check),
    ]  # fmt: skip
    for name, text, example, fn in simple:
        p = add_command(sub, name, text, example, fn)
        p.add_argument("--settings", help="YAML settings file")
        p.add_argument("--json", action="store_true", help="print the result as JSON")
        p.set_defaults(load_settings=load_settings)
        if name == "init":
            p.add_argument("--replace", action="store_true",
                           help="start over even though a database exists (kept aside)")  # fmt: skip
        elif name == "backup":
            p.add_argument("--out", help="backup file (default: backup_dir, timestamped)")
        elif name == "restore":
            p.add_argument("backup", help="a file written by `coordinator backup`")
    audit = sub.add_parser("audit", help="Verify, checkpoint and export the audit log.")
    asub = audit.add_subparsers(title="audit commands", metavar="ACTION")
    p = add_command(asub, "verify", "Check the hash chain and every signed checkpoint: "
                    "finds rewritten, deleted and inserted entries and a recomputed chain.",
                    "coordinator audit verify --public-key /secure/audit-signing.pub", cmd_audit_verify)  # fmt: skip
    p.add_argument("--public-key", help="the auditor's copy of the public key (PEM)")
    p.add_argument("--checkpoints", help="checkpoints exported earlier (JSON lines)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p2 = add_command(asub, "checkpoint", "Sign the audit chain's head now.",
                     "coordinator audit checkpoint --settings coordinator.yaml", cmd_audit_checkpoint)  # fmt: skip
    p3 = add_command(asub, "export", "Write the checkpoints and the public key to a folder.",
                     "coordinator audit export --out /media/dpo/audit", cmd_audit_export)  # fmt: skip
    p3.add_argument("--out", required=True, help="folder to write to")
    for q in (p, p2, p3):
        q.add_argument("--settings", help="YAML settings file")
        q.set_defaults(load_settings=load_settings)
