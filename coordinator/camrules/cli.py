"""``coordinator rules show|set|rollback``: a camera's rules from the command line.

The same service as the API: ``set`` and ``rollback`` append a revision (author ``cli``
unless ``--author``). The running centre publishes it as the board's retained config within
15 seconds (its ``camrules-publish`` job): this command never opens a second MQTT session
under the centre's client id.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from protocol.cli_util import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, add_command

from .service import RulesError

Opener = Callable[[argparse.Namespace], Any]


def _show(services: Any, args: argparse.Namespace) -> int:
    svc = services.camrules
    revs = svc.revisions(args.device)
    out = {"status": svc.status(args.device), "revisions": revs[: args.last]}
    if args.json:
        print(json.dumps(out, indent=2))
        return EXIT_OK
    st = out["status"]
    flag = "DRIFT" if st["drift"] else "in sync"
    print(f"{args.device}: desired rev {st['desired_rev']}, applied {st['applied_rev']} ({flag})")
    if st["error"]:
        print(f"  board rejected its last config: {st['error']}")
    if st["masks_unsupported"]:
        print("  its firmware (config level 1) cannot apply the masks")
    for r in out["revisions"]:
        back = f" (rollback to {r['rolled_back_to']})" if r["rolled_back_to"] else ""
        zones = ", ".join(z["name"] for z in r["rules"].get("zones", [])) or "no zones"
        print(f"  rev {r['rev']} by {r['author']}: {r['reason']}{back} — {zones}")
    return EXIT_OK


def _set(services: Any, args: argparse.Namespace) -> int:
    text = Path(args.file).read_text() if args.file != "-" else sys.stdin.read()
    rules = yaml.safe_load(text)
    if not isinstance(rules, dict):
        print(f"coordinator: {args.file}: the rules must be a mapping", file=sys.stderr)
        return EXIT_USAGE
    row = services.camrules.set(
        args.device,
        rules,
        args.author,
        args.reason,
        confirm_no_incident_rules=args.confirm_no_incident_rules,
    )
    print(json.dumps(row) if args.json else f"{args.device}: revision {row['rev']} stored")
    return EXIT_OK


def _rollback(services: Any, args: argparse.Namespace) -> int:
    row = services.camrules.rollback(
        args.device,
        args.to_rev,
        args.author,
        args.reason,
        confirm_no_incident_rules=args.confirm_no_incident_rules,
    )
    print(json.dumps(row) if args.json else f"{args.device}: revision {row['rev']} stored")
    return EXIT_OK


def _runner(
    opener: Opener, fn: Callable[[Any, argparse.Namespace], int]
) -> Callable[[argparse.Namespace], int]:
    def go(args: argparse.Namespace) -> int:
        services = opener(args)
        try:
            return fn(services, args)
        except RulesError as exc:
            print(f"coordinator: {exc}", file=sys.stderr)
            return EXIT_FAILURE
        except (OSError, yaml.YAMLError) as exc:
            print(f"coordinator: cannot read the rules: {exc}", file=sys.stderr)
            return EXIT_USAGE
        finally:
            services.close()

    return go


def _usage(p: argparse.ArgumentParser) -> int:
    p.print_help()
    return EXIT_USAGE


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("device", help="camera (device id)")
    p.add_argument("--settings", help="YAML settings file")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def add_commands(sub: argparse._SubParsersAction, opener: Opener) -> None:
    """Register ``rules show|set|rollback``; ``opener(args)`` opens the services."""
    p = add_command(
        sub,
        "rules",
        "Show, set or roll back a camera's rules (revisions kept at the centre).",
        "coordinator rules show cam-0012 --settings coordinator.yaml",
        lambda args: _usage(p),
    )
    rules = p.add_subparsers(title="rules commands", metavar="ACTION")
    show = add_command(
        rules,
        "show",
        "A camera's drift status and latest revisions.",
        "coordinator rules show cam-0012 --last 5",
        _runner(opener, _show),
    )
    _common(show)
    show.add_argument("--last", type=int, default=10, help="revisions to list (default 10)")
    for name, fn, example in (
        (
            "set",
            _set,
            "coordinator rules set cam-0012 rules.yaml --reason 'depot gate only at night'",
        ),
        (
            "rollback",
            _rollback,
            "coordinator rules rollback cam-0012 --to-rev 3 --reason 'undo the new mask'",
        ),
    ):
        q = add_command(
            rules,
            name,
            "Store a new revision and publish it."
            if name == "set"
            else "Store a new revision with an older revision's content.",
            example,
            _runner(opener, fn),
        )
        _common(q)
        if name == "set":
            q.add_argument("file", help="YAML or JSON rules (protocol config fields), - = stdin")
        else:
            q.add_argument("--to-rev", type=int, required=True, help="the revision to restore")
        q.add_argument("--reason", required=True, help="why (kept with the revision)")
        q.add_argument("--author", default="cli", help="who (default: cli)")
        q.add_argument(
            "--confirm-no-incident-rules",
            action="store_true",
            help="allow rules under which the camera raises no incident",
        )
