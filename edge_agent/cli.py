"""``edge-agent``: the camera board's command line."""

from __future__ import annotations

from collections.abc import Sequence

from protocol.cli_util import make_parser, run

from . import __version__


def build_parser():  # noqa: ANN201 - argparse type
    """The edge-agent parser; subcommands register themselves here."""
    parser = make_parser(
        "edge-agent",
        "Run CityWatch detection on a camera board and report compact events over MQTT.",
        __version__,
        "edge-agent run --config /etc/citywatch/agent.yaml",
    )
    parser.add_subparsers(title="commands", metavar="COMMAND")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``edge-agent`` console script."""
    return run(build_parser(), argv)


if __name__ == "__main__":
    raise SystemExit(main())
