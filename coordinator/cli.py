"""``coordinator``: the command centre's command line."""

from __future__ import annotations

from collections.abc import Sequence

from protocol.cli_util import make_parser, run

from . import __version__


def build_parser():  # noqa: ANN201 - argparse type
    """The coordinator parser; subcommands register themselves here."""
    parser = make_parser(
        "coordinator",
        "Run the CityWatch command-centre coordinator: ingest, incidents, dispatch, records, API.",
        __version__,
        "coordinator run --settings /etc/citywatch/coordinator.env",
    )
    parser.add_subparsers(title="commands", metavar="COMMAND")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``coordinator`` console script."""
    return run(build_parser(), argv)


if __name__ == "__main__":
    raise SystemExit(main())
