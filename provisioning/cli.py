"""``provision``: the field technicians' command line."""

from __future__ import annotations

from collections.abc import Sequence

from protocol.cli_util import make_parser, run

from . import __version__


def build_parser():  # noqa: ANN201 - argparse type
    """The provision parser; subcommands register themselves here."""
    parser = make_parser(
        "provision",
        "Provision CityWatch camera boards: PKI, broker config, enrolment, revocation, rotation.",
        __version__,
        "provision enroll --token TOKEN --profile raspberry-pi-5 --location 29.30,120.07 --zone Z12 --owner gov",
    )
    parser.add_subparsers(title="commands", metavar="COMMAND")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``provision`` console script."""
    return run(build_parser(), argv)


if __name__ == "__main__":
    raise SystemExit(main())
