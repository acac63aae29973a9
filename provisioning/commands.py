"""The ``provision`` subcommands' implementations (parsing lives in cli.py)."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any

from protocol.cli_util import EXIT_FAILURE, EXIT_OK, EXIT_UNAVAILABLE, EXIT_USAGE


def _emit(args: argparse.Namespace, data: Any, lines: list[str]) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, indent=2, default=str))
    else:
        for line in lines:
            print(line)


def _fail(msg: str, code: int = EXIT_FAILURE) -> int:
    print(f"provision: {msg}", file=sys.stderr)
    return code


def _api(args: argparse.Namespace, login: bool = True):  # noqa: ANN202
    from .api import Coordinator

    url = args.coordinator or os.environ.get("CITYWATCH_COORDINATOR")
    if not url:
        raise SystemExit(_fail("pass --coordinator URL (or set CITYWATCH_COORDINATOR)", EXIT_USAGE))
    api = Coordinator(url, verify=args.cacert or True)
    if login:
        user = args.user or os.environ.get("CITYWATCH_USER")
        if not user:
            raise SystemExit(_fail("pass --user (your technician login)", EXIT_USAGE))
        if args.password_file:
            password = Path(args.password_file).read_text().strip()
        else:
            password = os.environ.get("CITYWATCH_PASSWORD") or getpass.getpass(
                f"password for {user}: "
            )
        api.login(user, password)
    return api


def _api_call(args: argparse.Namespace, fn: Any, login: bool = True) -> int:
    from .api import ApiError
    from .ca import ProvisionError

    try:
        with _api(args, login) as api:
            return int(fn(api))
    except ApiError as exc:
        return _fail(str(exc), EXIT_UNAVAILABLE if exc.status == 0 else EXIT_FAILURE)
    except (ProvisionError, ValueError) as exc:
        return _fail(str(exc))


def cmd_ca_init(args: argparse.Namespace) -> int:
    """Create the root and issuing CA."""
    from .ca import ProvisionError, init_ca

    try:
        out = init_ca(
            Path(args.ca_dir),
            root_key_out=Path(args.root_key_out) if args.root_key_out else None,
            org=args.org,
            force=args.force,
        )
    except ProvisionError as exc:
        return _fail(str(exc))
    _emit(
        args,
        out,
        [f"{k:<13} {v}" for k, v in out.items()]
        + [
            f"Move {out['root_key']} to offline storage: it is needed only to renew the issuing CA."
        ],
    )
    return EXIT_OK


def cmd_ca_server_cert(args: argparse.Namespace) -> int:
    """Issue the coordinator's HTTPS certificate."""
    from .ca import ProvisionError, server_cert

    try:
        out = server_cert(Path(args.ca_dir), Path(args.out), args.host or [], days=args.days)
    except ProvisionError as exc:
        return _fail(str(exc))
    _emit(
        args,
        out,
        [f"{k:<12} {v}" for k, v in out.items()]
        + [
            f"Start the coordinator with --tls-cert {out['cert']} --tls-key {out['key']}; "
            "install root.crt in the operators' browsers."
        ],
    )
    return EXIT_OK


def cmd_broker_config(args: argparse.Namespace) -> int:
    """Write the Mosquitto config for the boards' and services' listeners."""
    from .ca import BrokerPlan, ProvisionError, broker_config

    accounts = {}
    for acc in args.account or ["coordinator:centre"]:
        name, _, role = acc.partition(":")
        accounts[name] = role or "unit"
    plan = BrokerPlan(
        ca_dir=Path(args.ca_dir),
        out_dir=Path(args.out),
        hostnames=args.host or ["localhost", "127.0.0.1"],
        device_port=args.device_port,
        service_port=args.service_port,
        bind=args.bind,
        accounts=accounts,
        topic_root=args.topic_root,
        coordinator_dir=Path(args.coordinator_dir) if args.coordinator_dir else None,
    )
    try:
        out, _cfg = broker_config(plan)
    except (ProvisionError, ValueError) as exc:
        return _fail(str(exc))
    _emit(args, out, [f"{k:<17} {v}" for k, v in out.items()])
    return EXIT_OK


def cmd_token(args: argparse.Namespace) -> int:
    """Obtain a one-time enrolment token."""

    def go(api: Any) -> int:
        t = api.enrolment_token(args.device_id, args.ttl)
        _emit(
            args,
            t,
            [
                f"token      {t['token']}",
                f"device id  {t['device_id']}",
                f"valid for  {t['ttl_s']} s, once",
            ],
        )
        return EXIT_OK

    return _api_call(args, go)


def _enroll_opts(args: argparse.Namespace):  # noqa: ANN202
    from .enroll import EnrollOptions, parse_location

    lat, lon = parse_location(args.location)
    if not 0 <= args.heading < 360:
        raise ValueError(f"heading {args.heading} must be 0..359.9 degrees from north")
    url = args.coordinator or os.environ.get("CITYWATCH_COORDINATOR")
    if not url:
        raise ValueError("pass --coordinator URL (or set CITYWATCH_COORDINATOR)")
    return EnrollOptions(
        coordinator=url,
        token=args.token,
        profile=args.profile,
        lat=lat,
        lon=lon,
        heading=args.heading,
        zone=args.zone,
        owner=args.owner,
        owner_type=args.owner_type,
        bundle_dir=Path(args.bundle_dir),
        firmware_dir=Path(args.firmware_dir) if args.firmware_dir else None,
        confirm_timeout=args.confirm_timeout,
        selftest=not args.no_selftest,
        broker_host=args.broker_host,
        source_kind=args.source_kind,
        source_uri=args.source_uri,
        verify=args.cacert or True,
    )


def cmd_enroll(args: argparse.Namespace) -> int:
    """Enrol this board."""
    from .enroll import enroll, print_json

    try:
        opts = _enroll_opts(args)
    except ValueError as exc:
        return _fail(str(exc), EXIT_USAGE)
    result = enroll(opts, quiet=args.json)
    if args.json:
        print_json(result)
    elif result["ok"]:
        print(
            f"Board {result['device_id']} is trusted and reporting. Start the agent: edge-agent run --config {opts.bundle_dir}/agent.yaml"
        )
    else:
        print("Enrolment did not complete: follow the `next:` line of the failed step.")
    unreachable = any(
        s["status"] == "failed" and "cannot reach" in s["detail"] for s in result["steps"]
    )
    return EXIT_OK if result["ok"] else (EXIT_UNAVAILABLE if unreachable else EXIT_FAILURE)


def cmd_batch(args: argparse.Namespace) -> int:
    """Enrol every row of a CSV."""
    from .batch import BatchOptions, run_batch

    def go(api: Any) -> int:
        opts = BatchOptions(
            coordinator=api.url,
            results=Path(args.results),
            bundles=Path(args.bundles or Path(args.results) / "bundles"),
            firmware_dir=Path(args.firmware_dir) if args.firmware_dir else None,
            selftest=args.selftest,
            confirm_timeout=args.confirm_timeout,
        )
        out = run_batch(Path(args.csv), api, opts, progress=not args.json)
        lines = [
            f"{out['rows']} rows: {out['ok']} enrolled, {out['skipped']} skipped, {out['failed']} failed ({out['per_minute']}/min)"
        ]
        lines += [
            f"  FAILED line {f['line']} {f['device_id']}: {f['reason']} -> {f['next']}"
            for f in out["failures"]
        ]
        _emit(args, out, lines)
        return EXIT_FAILURE if out["failed"] else EXIT_OK

    return _api_call(args, go)


def cmd_revoke(args: argparse.Namespace) -> int:
    """Revoke a board."""
    from .lifecycle import revoke

    def go(api: Any) -> int:
        out = revoke(api, args.device, args.reason)
        lines = [
            f"{out['device_id']}: {out['certificates_revoked']} certificate(s) revoked, CRL written"
        ]
        if "broker_error" in out:
            lines.append(
                f"!! broker: {out['broker_error']} - reload Mosquitto by hand (systemctl reload mosquitto)"
            )
        else:
            lines.append(
                f"broker reloaded ({out['reload']}); CRL live after {out['crl_live_ms']:.0f} ms; "
                f"session of {out['device_id']} taken over and closed after {out['disconnected_ms']:.0f} ms "
                "(a connected board is dropped; its reconnects are refused)"
            )
        _emit(args, out, lines)
        return EXIT_FAILURE if "broker_error" in out else EXIT_OK

    return _api_call(args, go)


def cmd_rotate(args: argparse.Namespace) -> int:
    """Rotate this board's key and certificate."""
    from .lifecycle import rotate

    def go(api: Any) -> int:
        out = rotate(Path(args.bundle_dir), api, args.device)
        _emit(
            args,
            out,
            [
                f"{out['device_id']}: new key and certificate {out['serial'][:16]}… valid until {out['not_after']}; old certificate revoked",
                "Restart the agent so it reconnects with the new certificate.",
            ],
        )
        return EXIT_OK

    return _api_call(args, go, login=False)


def cmd_status(args: argparse.Namespace) -> int:
    """Show a board's enrolment status."""
    from .lifecycle import status, status_lines

    def go(api: Any) -> int:
        s = status(api, args.device)
        _emit(args, s, status_lines(s))
        return EXIT_OK if s["status"] == "enrolled" else EXIT_FAILURE

    return _api_call(args, go)
