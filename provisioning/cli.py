"""``provision``: the field technicians' command line."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from protocol.cli_util import (
    EXIT_USAGE,
    add_command,
    make_parser,
    run,
)

from . import __version__
from .commands import (
    cmd_batch,
    cmd_broker_config,
    cmd_ca_init,
    cmd_ca_server_cert,
    cmd_enroll,
    cmd_revoke,
    cmd_rotate,
    cmd_status,
    cmd_token,
)

COORD_HELP = "coordinator URL (env CITYWATCH_COORDINATOR)"


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
        "Certificate authority commands (init, server-cert).",
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
        ca_sub,
        "server-cert",
        "Issue the coordinator's HTTPS certificate (API and dashboard) from the issuing CA.",
        "provision ca server-cert --ca-dir /srv/citywatch/pki --out /etc/citywatch/tls --host centre.yiwu.example --host 10.20.0.5",
        cmd_ca_server_cert,
    )
    p.add_argument("--ca-dir", required=True)
    p.add_argument("--out", required=True, help="folder for server.crt, server.key, ca-bundle.pem")
    p.add_argument(
        "--host",
        action="append",
        help="DNS name or IP clients use to reach the coordinator (repeatable; first = CN)",
    )
    p.add_argument("--days", type=int, default=397, help="validity (default 397 days)")
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
        "--profile",
        required=True,
        help="board profile (provisioning/firmware_configs/<profile>.yaml)",
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
    p.add_argument(
        "--firmware-dir",
        help="folder of board profiles (*.yaml); default: the ones installed with provision",
    )
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
