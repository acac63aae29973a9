"""``provision``: the field technicians' command line."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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

COORD_HELP = "coordinator URL (env CITYWATCH_COORDINATOR)"


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


def _usage(p: argparse.ArgumentParser) -> int:
    p.print_help()
    return EXIT_USAGE


def _coord(p: argparse.ArgumentParser, login: bool = True) -> None:
    p.add_argument("--coordinator", help=COORD_HELP)
    p.add_argument("--cacert", help="CA file to verify the coordinator's HTTPS certificate")
    if login:
        p.add_argument("--user", help="your login (env CITYWATCH_USER)")
        p.add_argument("--password-file", help="file holding your password (else env or prompt)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def build_parser() -> argparse.ArgumentParser:
    """The provision parser with every subcommand."""
    parser = make_parser(
        "provision",
        "Provision CityWatch camera boards: PKI, broker config, enrolment, revocation, rotation.",
        __version__,
        "provision enroll --token TOKEN --profile raspberry-pi-5 --location 29.30,120.07 --heading 90 --zone Z12 --owner gov",
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    p_ca = add_command(
        sub,
        "ca",
        "Certificate authority commands (init).",
        "provision ca init --ca-dir /srv/citywatch/pki",
        lambda a: _usage(p_ca),
    )
    ca_sub = p_ca.add_subparsers(title="ca commands", metavar="COMMAND")
    p = add_command(
        ca_sub,
        "init",
        "Create the root and issuing CA (keep the root key offline).",
        "provision ca init --ca-dir /srv/citywatch/pki --root-key-out /media/usb/root.key",
        cmd_ca_init,
    )
    p.add_argument("--ca-dir", required=True)
    p.add_argument("--root-key-out", help="where to write the root key (move it offline)")
    p.add_argument("--org", default="CityWatch")
    p.add_argument("--force", action="store_true", help="replace an existing CA")
    p.add_argument("--json", action="store_true")
    p = add_command(
        sub,
        "broker-config",
        "Write the Mosquitto config: boards' mTLS listener, services' password listener, ACLs, CRL.",
        "provision broker-config --ca-dir pki --out /etc/mosquitto/citywatch --host broker.city.example --account coordinator:centre --account car-12:unit --coordinator-dir /var/lib/citywatch",
        cmd_broker_config,
    )
    p.add_argument("--ca-dir", required=True)
    p.add_argument("--out", required=True, help="folder for mosquitto.conf and its files")
    p.add_argument(
        "--host",
        action="append",
        help="broker DNS name or IP (repeatable; first is what boards use)",
    )
    p.add_argument("--device-port", type=int, default=8883)
    p.add_argument("--service-port", type=int, default=8884)
    p.add_argument("--bind", default="0.0.0.0")
    p.add_argument("--account", action="append", help="NAME:centre or NAME:unit (repeatable)")
    p.add_argument("--topic-root", default="cw/v1")
    p.add_argument("--coordinator-dir", help="coordinator data_dir: write enrolment.yaml there")
    p.add_argument("--json", action="store_true")
    p = add_command(
        sub,
        "token",
        "Log in and obtain a one-time enrolment token (5 minutes).",
        "provision token --coordinator https://centre.example --user tech-li --device-id cam-z12-0042",
        cmd_token,
    )
    _coord(p)
    p.add_argument("--device-id", help="id to assign (generated when omitted)")
    p.add_argument("--ttl", type=int, help="token lifetime in seconds (default 300)")
    p = add_command(
        sub,
        "enroll",
        "Enrol this board: key, CSR, certificate, registration, bundle, self-test, first publish.",
        "provision enroll --coordinator https://centre.example --token cwe_... --profile raspberry-pi-5 --location 29.3066,120.0764 --heading 135 --zone Z12 --owner 'Futian Market Co.' --owner-type company",
        cmd_enroll,
    )
    _coord(p, login=False)
    p.add_argument("--token", required=True)
    p.add_argument(
        "--profile", required=True, help="board profile (firmware_configs/<profile>.yaml)"
    )
    p.add_argument("--location", required=True, help="LAT,LON in degrees")
    p.add_argument(
        "--heading", type=float, required=True, help="camera heading, degrees from north"
    )
    p.add_argument("--zone", required=True)
    p.add_argument("--owner", required=True, help="owning organisation")
    p.add_argument(
        "--owner-type", default="government", choices=["government", "company", "community"]
    )
    p.add_argument(
        "--bundle-dir", default="/etc/citywatch", help="where the board keeps its credentials"
    )
    p.add_argument("--firmware-dir", help="folder of firmware_configs/*.yaml")
    p.add_argument("--broker-host", help="override the broker address the coordinator gives")
    p.add_argument(
        "--source-kind",
        choices=["picamera2", "opencv", "replay", "synthetic"],
        help="override the profile's frame source",
    )
    p.add_argument(
        "--source-uri",
        help="this site's camera: rtsp://user:${RTSP_PASSWORD}@host/stream, /dev/video0 index, file",
    )
    p.add_argument("--no-selftest", action="store_true")
    p.add_argument("--confirm-timeout", type=float, default=30.0)
    p = add_command(
        sub,
        "batch",
        "Enrol every site of a CSV (re-runnable, a result file per row).",
        "provision batch sites.csv --coordinator https://centre.example --user tech-li --results results/",
        cmd_batch,
    )
    _coord(p)
    p.add_argument(
        "csv", help="columns: device_id,profile,lat,lon,heading,zone,owner[,owner_type,bundle_dir]"
    )
    p.add_argument("--results", required=True)
    p.add_argument("--bundles", help="folder for the bundles (default RESULTS/bundles)")
    p.add_argument("--firmware-dir")
    p.add_argument("--selftest", action="store_true", help="run the edge agent self-test per row")
    p.add_argument("--confirm-timeout", type=float, default=30.0)
    p = add_command(
        sub,
        "revoke",
        "Revoke a board: CRL, broker reload, live session dropped.",
        "provision revoke cam-z12-0042 --coordinator https://centre.example --user admin-wang --reason 'stolen from pole'",
        cmd_revoke,
    )
    _coord(p)
    p.add_argument("device")
    p.add_argument("--reason", default="")
    p = add_command(
        sub,
        "rotate",
        "New key and certificate for this board (no re-registration).",
        "provision rotate cam-z12-0042 --coordinator https://centre.example --bundle-dir /etc/citywatch",
        cmd_rotate,
    )
    _coord(p, login=False)
    p.add_argument("device", nargs="?", help="device id (default: the bundle's)")
    p.add_argument("--bundle-dir", default="/etc/citywatch")
    p = add_command(
        sub,
        "status",
        "A board's enrolment, certificate expiry and first sighting.",
        "provision status cam-z12-0042 --coordinator https://centre.example --user tech-li",
        cmd_status,
    )
    _coord(p)
    p.add_argument("device")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``provision`` console script."""
    return run(build_parser(), argv)


if __name__ == "__main__":
    raise SystemExit(main())
