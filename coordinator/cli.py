"""``coordinator``: the command centre's command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from protocol.cli_util import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    add_command,
    make_parser,
    run,
)

from . import __version__


def _settings(args: argparse.Namespace):  # noqa: ANN202
    from .settings import SettingsError, load_settings

    try:
        settings = load_settings(Path(args.settings) if args.settings else None)
    except SettingsError as exc:
        print(f"coordinator: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE) from None
    problem = settings.database_problem()
    if problem:
        print(f"coordinator: {problem}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)
    return settings


def _open_services(args: argparse.Namespace):  # noqa: ANN202
    """Every service of the centre, from ``--settings`` (domain commands get this opener)."""
    from .bootstrap import open_services

    return open_services(_settings(args))


def _open_db(args: argparse.Namespace):  # noqa: ANN202
    """The centre's database with every migration applied, and nothing else started."""
    from .bootstrap import migration_sets
    from .platform.db import Database

    db = Database(_settings(args).db_path).open()
    try:
        db.migrate(*migration_sets())
    except Exception:
        db.close()
        raise
    return db


def openapi_document() -> dict:
    """The API's OpenAPI document, from an app built over a throw-away data folder.

    Nothing connects and no job starts: the services are only built, then closed.
    """
    import tempfile

    from .app import create_app
    from .bootstrap import open_services
    from .settings import Settings

    with tempfile.TemporaryDirectory(prefix="citywatch-openapi-") as tmp:
        services = open_services(Settings.for_dev(Path(tmp) / "coord"))
        try:
            return create_app(services).openapi()
        finally:
            services.close()


def cmd_openapi(args: argparse.Namespace) -> int:
    """Print (or write) the OpenAPI document of the API."""
    text = json.dumps(openapi_document(), indent=1, ensure_ascii=False) + "\n"
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _run_settings(args: argparse.Namespace):  # noqa: ANN202
    """The settings of ``coordinator run``: the file and environment, then the flags."""
    from .settings import Settings

    settings = _settings(args)
    flags = {
        "tls_cert": args.tls_cert,
        "tls_key": args.tls_key,
        "public_url": args.public_url,
        "allow_plain_http": True if args.allow_plain_http else None,
    }
    over = {k: v for k, v in flags.items() if v is not None}
    if over:
        try:
            settings = Settings(**{**settings.model_dump(), **over})
        except ValueError as exc:
            print(f"coordinator: {exc}", file=sys.stderr)
            raise SystemExit(EXIT_USAGE) from None
    problem = settings.listener_problem()
    if (
        problem is None
        and settings.tls_key is not None
        and Path(settings.tls_key).stat().st_mode & 0o077
    ):
        problem = f"tls_key {settings.tls_key} is readable by others: chmod 600 it"
    if problem:
        print(f"coordinator: {problem}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)
    return settings


def cmd_run(args: argparse.Namespace) -> int:
    """Start the API (HTTPS), the MQTT link with ingest, and the background jobs."""
    import uvicorn

    from .app import create_app
    from .bootstrap import open_services, start_core, start_mqtt

    settings = _run_settings(args)
    services = open_services(settings, init=args.init)
    try:
        app = create_app(services)
        if args.no_jobs:
            start_mqtt(services)  # the periodic jobs run in a `coordinator jobs` process
        else:
            start_core(services)
        print(
            f"coordinator: MQTT {settings.mqtt_host}:{settings.mqtt_port} "
            f"as {settings.mqtt_client_id}",
            flush=True,
        )
        scheme = "https" if settings.serves_tls else "http"
        print(f"coordinator: API on {scheme}://{settings.api_host}:{settings.api_port}", flush=True)
        uvicorn.run(
            app,
            host=settings.api_host,
            port=settings.api_port,
            log_level="warning",
            ssl_certfile=str(settings.tls_cert) if settings.tls_cert else None,
            ssl_keyfile=str(settings.tls_key) if settings.tls_key else None,
            # X-Forwarded-For is read by http/client.py, from trusted_proxies only; uvicorn's
            # own rewrite would believe it from any local process.
            proxy_headers=False,
            server_header=False,
        )
    finally:
        services.close()
    return EXIT_OK


def cmd_jobs(args: argparse.Namespace) -> int:
    """Run only the periodic jobs against the database, until SIGTERM or Ctrl-C."""
    import signal
    import threading

    from .bootstrap import open_services, start_jobs

    services = open_services(_settings(args))
    stop = threading.Event()
    try:
        if args.once:
            services.jobs.on_run = lambda name: print(f"ran {name}", flush=True)
            services.jobs.run_all()
            return EXIT_OK
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        services.jobs.on_run = lambda name: print(f"ran {name}", flush=True)
        start_jobs(services)
        print(f"coordinator jobs: {', '.join(services.jobs.names)}", flush=True)
        stop.wait()
    finally:
        services.close()
    return EXIT_OK


def cmd_load_fleet(args: argparse.Namespace) -> int:
    """Register (upsert) every camera of a CSV or GeoJSON file."""
    from .bootstrap import open_services
    from .fleet.files import FleetFileError, load_file

    settings = _settings(args)
    try:
        devices = load_file(Path(args.file))
    except FleetFileError as exc:
        print(f"coordinator: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    services = open_services(settings)
    try:
        services.fleet.upsert_many(devices)
        services.audit.record(
            "cli", "load_fleet", "device", None, detail={"file": args.file, "count": len(devices)}
        )
    finally:
        services.close()
    if args.json:
        print(json.dumps({"loaded": len(devices), "file": args.file}))
    else:
        print(f"loaded {len(devices)} devices from {args.file}")
    return EXIT_OK


def _add_run(sub: argparse._SubParsersAction) -> None:
    """The ``run`` command and its flags."""
    p = add_command(
        sub,
        "run",
        "Start the coordinator (settings from a YAML file and CITYWATCH_* env).",
        "CITYWATCH_SECRET_KEY_FILE=/run/secrets/key coordinator run --settings coordinator.yaml "
        "--tls-cert /etc/citywatch/tls/server.crt --tls-key /etc/citywatch/tls/server.key",
        cmd_run,
    )
    p.add_argument("--settings", help="YAML settings file (env CITYWATCH_* overrides it)")
    p.add_argument(
        "--no-jobs",
        action="store_true",
        help="leave the periodic jobs to a separate `coordinator jobs` process",
    )
    p.add_argument("--tls-cert", help="certificate chain to serve HTTPS with (settings: tls_cert)")
    p.add_argument("--tls-key", help="its private key, mode 0600 (settings: tls_key)")
    p.add_argument(
        "--public-url",
        help="the address clients use, for absolute links (settings: public_url)",
    )
    p.add_argument(
        "--allow-plain-http",
        action="store_true",
        help="serve plain HTTP: loopback address (behind a reverse proxy) or dev mode only",
    )
    p.add_argument("--init", action="store_true", help="create a new, empty database first")


def build_parser() -> argparse.ArgumentParser:
    """The coordinator parser."""
    parser = make_parser(
        "coordinator",
        "Run the CityWatch command-centre coordinator: ingest, incidents, dispatch, records, API.",
        __version__,
        "coordinator run --settings /etc/citywatch/coordinator.yaml",
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    _add_run(sub)
    p = add_command(
        sub,
        "jobs",
        "Run only the periodic jobs (purges, expiries, staleness, sweeps, CRL refresh) "
        "against the database; pair with `coordinator run --no-jobs`.",
        "coordinator jobs --settings coordinator.yaml",
        cmd_jobs,
    )
    p.add_argument("--settings", help="YAML settings file (env CITYWATCH_* overrides it)")
    p.add_argument("--once", action="store_true", help="run every job once now and exit")
    from .staff.cli import add_commands as add_staff_commands
    from .staff.cli import add_create_arguments, cmd_create

    p = add_command(
        sub,
        "create-user",
        "Create a user with one or more roles (the same as `coordinator users create`; "
        "roles that read personal data wait for an administrator's approval).",
        "coordinator create-user duty-op-1 --role operator --zone Z01 --settings coordinator.yaml",
        cmd_create,
    )
    add_create_arguments(p)
    p.add_argument("--settings", help="YAML settings file")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(open_services=_open_services)
    add_staff_commands(sub, _open_services)
    p = add_command(
        sub,
        "load-fleet",
        "Register or update cameras from a CSV or GeoJSON file (all rows or none).",
        "coordinator load-fleet cameras.csv --settings coordinator.yaml",
        cmd_load_fleet,
    )
    p.add_argument("file", help=".csv (header = field names) or .geojson FeatureCollection")
    p.add_argument("--settings", help="YAML settings file")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p = add_command(
        sub,
        "openapi",
        "Print the API's OpenAPI document (request and response models of every route).",
        "coordinator openapi --out openapi.json",
        cmd_openapi,
    )
    p.add_argument("--out", help="write the document to this file instead of stdout")
    from .camrules.cli import add_commands as add_rules_commands
    from .camrules.cli import add_model_commands
    from .geo.cli import add_commands as add_geo_commands
    from .ops_cli import add_commands as add_ops_commands
    from .population.cli import add_commands as add_population_commands

    add_ops_commands(sub, _settings)
    add_population_commands(sub, _open_services)
    add_geo_commands(sub, _open_db)
    add_rules_commands(sub, _open_services)
    add_model_commands(sub, _settings)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``coordinator`` console script."""
    from .platform.files import PRIVATE_UMASK
    from .platform.integrity import DatabaseMissing

    # Whatever a command creates (database, -wal/-shm, keys, backups, exports) is the
    # owner's alone, from the first byte.
    os.umask(PRIVATE_UMASK)
    try:
        return run(build_parser(), argv)
    except DatabaseMissing as exc:
        print(f"coordinator: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE


if __name__ == "__main__":
    raise SystemExit(main())
