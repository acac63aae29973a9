"""Tiny argparse helpers shared by the three role CLIs (stdlib only)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

#: Exit codes with a meaning, shared by every CityWatch command.
EXIT_OK = 0
EXIT_FAILURE = 1  # the work ran and found a problem (a failed self-test, a bad config)
EXIT_USAGE = 2  # wrong arguments
EXIT_UNAVAILABLE = 3  # a dependency (broker, coordinator, camera, model) is unreachable


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the ``Example:`` blocks in descriptions as written."""


def make_parser(prog: str, description: str, version: str, example: str) -> argparse.ArgumentParser:
    """Top-level parser with ``--version`` and an ``Example:`` epilog."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description=description,
        epilog=f"Example:\n  {example}",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{prog} {version}")
    return parser


def add_command(
    sub: argparse._SubParsersAction,
    name: str,
    help_text: str,
    example: str,
    func: Callable[[argparse.Namespace], int],
) -> argparse.ArgumentParser:
    """Add a kebab-case subcommand whose help ends with an example."""
    p: argparse.ArgumentParser = sub.add_parser(
        name,
        help=help_text,
        description=help_text,
        epilog=f"Example:\n  {example}",
        formatter_class=HelpFormatter,
    )
    p.set_defaults(func=func)
    return p


def run(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> int:
    """Parse ``argv`` and call the chosen subcommand; no subcommand prints help (exit 2)."""
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return EXIT_USAGE
    return int(func(args))
