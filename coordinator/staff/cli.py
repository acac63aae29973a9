"""``coordinator users …``: staff administration on the host.

The host holds the keys and the database, so it is where the first administrator is made
(``bootstrap-admin``), and it may act as the second person on a request an administrator
filed (``approve``). Every command is audited as ``host:<login name>``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from protocol.cli_util import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, add_command

from ..errors import DomainError

Opener = Callable[[argparse.Namespace], Any]


def host_actor() -> str:
    """Who acts on the host (the audit log's actor for these commands)."""
    return f"host:{getpass.getuser()}"


def _password(args: argparse.Namespace, prompt: str) -> str:
    if getattr(args, "password_file", None):
        return Path(args.password_file).read_text().strip()
    if os.environ.get("CITYWATCH_NEW_USER_PASSWORD"):
        return os.environ["CITYWATCH_NEW_USER_PASSWORD"]
    return getpass.getpass(prompt)


def _run(args: argparse.Namespace, work: Callable[[Any], Any]) -> int:
    """Open the services, do ``work``, print its answer (JSON with --json), close."""
    services = args.open_services(args)
    try:
        out = work(services)
    except (DomainError, ValueError) as exc:
        print(f"coordinator: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        services.close()
    if getattr(args, "json", False):
        print(json.dumps(out, default=str, ensure_ascii=False))
    else:
        print(_text(out))
    return EXIT_OK


def _text(out: Any) -> str:
    if isinstance(out, list):
        return "\n".join(_text(o) for o in out) or "(none)"
    if isinstance(out, dict) and "username" in out and "state" in out:
        roles = ",".join(out.get("role_list", []))
        zones = ",".join(out.get("zone_list", [])) or "-"
        return f"{out['id']:>4} {out['username']:<20} {out['state']:<17} {roles} zones={zones}"
    if isinstance(out, dict) and "kind" in out:
        return (
            f"request {out['id']} [{out['state']}] {out['title']}: {out['subject_type']} "
            f"{out['subject_id']} by {out['requested_by']} — {out['reason']}"
        )
    return json.dumps(out, default=str, ensure_ascii=False)


def _user_id(services: Any, name_or_id: str) -> int:
    if name_or_id.isdigit():
        return int(name_or_id)
    rows = services.db.query("select id from users where username = ?", [name_or_id])
    if not rows:
        raise ValueError(f"no user {name_or_id!r}")
    return int(rows[0]["id"])


def cmd_create(args: argparse.Namespace) -> int:
    """Create an account (pending a second administrator for personal-data roles)."""
    from .service import NewUser

    password = _password(args, f"password for {args.username}: ")
    expires = _date(args.expires) if args.expires else None
    new = NewUser(args.username, password, args.role, zones=args.zone or [],
                  merchant_id=args.merchant_id, unit_id=args.unit_id, expires_at=expires,
                  reason=args.reason)  # fmt: skip
    return _run(args, lambda s: s.staff.create_user(host_actor(), new))


def cmd_bootstrap(args: argparse.Namespace) -> int:
    """Create the first administrator (refused once an active one exists)."""
    password = _password(args, f"password for {args.username}: ")
    return _run(
        args,
        lambda s: {"id": s.staff.bootstrap_admin(host_actor(), args.username, password),
                   "username": args.username, "roles": ["admin"]},
    )  # fmt: skip


def _date(text: str) -> float:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise SystemExit(f"coordinator: --expires wants YYYY-MM-DD, not {text!r}") from None
    # The account works through the given day (local time on the host).
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time()).timestamp()


def _lifecycle(args: argparse.Namespace) -> int:
    """Disable, enable, new password, expiry, end sessions, reset second factor."""
    actor = host_actor()

    def work(s: Any) -> Any:
        uid = _user_id(s, args.user)
        match args.action:
            case "disable":
                return s.staff.disable(actor, uid, args.reason)
            case "enable":
                return s.staff.enable(actor, uid)
            case "set-password":
                return s.staff.set_password(actor, uid, _password(args, "new password: "))
            case "expire":
                when = None if args.date == "never" else _date(args.date)
                return s.staff.set_expiry(actor, uid, when)
            case "end-sessions":
                return s.staff.end_sessions(actor, uid, args.reason)
            case _:
                return s.staff.reset_second_factor(actor, uid, args.reason)

    return _run(args, work)


def _approvals(args: argparse.Namespace) -> int:
    """List pending requests, or approve / reject one as the host."""
    actor = host_actor()

    def work(s: Any) -> Any:
        from ..approvals.service import State

        if args.action == "pending":
            return s.approvals.search(actor, state=State.PENDING)
        if args.action == "approve":
            return s.approvals.approve(actor, args.request, args.note)
        return s.approvals.reject(actor, args.request, args.note)

    return _run(args, work)


def cmd_list(args: argparse.Namespace) -> int:
    """Every account with its state."""
    return _run(args, lambda s: s.staff.users())


def add_commands(sub: argparse._SubParsersAction, open_services: Opener) -> None:
    """Register ``coordinator users`` and its subcommands."""
    users = add_command(
        sub, "users", "Staff administration on the host: accounts, access, approvals.",
        "coordinator users list --settings coordinator.yaml", lambda a: EXIT_USAGE,
    )  # fmt: skip
    inner = users.add_subparsers(title="users commands", metavar="COMMAND")

    def usage(_args: argparse.Namespace) -> int:
        users.print_help()
        return EXIT_USAGE

    users.set_defaults(func=usage)

    def cmd(name: str, text: str, example: str, fn: Callable[[argparse.Namespace], int]) -> Any:
        p = add_command(inner, name, text, f"coordinator users {example}", fn)
        p.add_argument("--settings", help="YAML settings file")
        p.add_argument("--json", action="store_true", help="print the result as JSON")
        p.set_defaults(open_services=open_services)
        return p

    cmd("list", "List accounts with roles, zones and state.", "list", cmd_list)
    p = cmd("create", "Create an account; personal-data roles wait for an administrator's "
            "approval.", "create officer-wu --role population_officer --zone Z01 "
            "--reason 'new counter officer, Beiyuan station'", cmd_create)  # fmt: skip
    add_create_arguments(p)
    p = cmd("bootstrap-admin", "Create the first administrator (on the host, with the keys).",
            "bootstrap-admin admin-zhao --password-file pw.txt", cmd_bootstrap)  # fmt: skip
    p.add_argument("username")
    p.add_argument("--password-file", help="read the password from this file")
    for action, text, example in (
        ("disable", "Disable an account; its sessions end.", "disable op-3 --reason 'left'"),
        ("enable", "Enable a disabled account.", "enable op-3"),
        ("set-password", "Set a new password; every session ends.", "set-password op-3"),
        ("expire", "Set the last day the account works (or 'never').",
         "expire temp-1 2026-12-31"),
        ("end-sessions", "End every session of an account.",
         "end-sessions op-3 --reason 'lost laptop'"),
        ("reset-second-factor", "Forget an account's authenticator (enrols again at login).",
         "reset-second-factor officer-wu --reason 'lost phone'"),
    ):  # fmt: skip
        p = cmd(action, text, example, _lifecycle)
        p.add_argument("user", help="username or id")
        p.set_defaults(action=action)
        if action == "expire":
            p.add_argument("date", help="YYYY-MM-DD (last working day) or 'never'")
        if action in ("disable", "end-sessions", "reset-second-factor"):
            p.add_argument("--reason", required=True, help="recorded in the audit log")
        if action == "set-password":
            p.add_argument("--password-file", help="read the password from this file")
    p = cmd("pending", "Requests waiting for a second person.", "pending", _approvals)
    p.set_defaults(action="pending")
    for action in ("approve", "reject"):
        p = cmd(action, f"{action.title()} a pending request as the host (the second person).",
                f"{action} 12 --note 'confirmed with the bureau'", _approvals)  # fmt: skip
        p.add_argument("request", type=int, help="request id (see `coordinator users pending`)")
        p.add_argument("--note", help="recorded with the decision")
        p.set_defaults(action=action)


def add_create_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of ``users create`` (and the older ``create-user``)."""
    p.add_argument("username")
    p.add_argument("--role", action="append", required=True, help="role (repeatable)")
    p.add_argument("--zone", action="append", help="jurisdiction zone (repeatable)")
    p.add_argument("--merchant-id")
    p.add_argument("--unit-id")
    p.add_argument("--expires", help="last day the account works, YYYY-MM-DD")
    p.add_argument("--reason", help="why (needed when a second administrator must approve)")
    p.add_argument("--password-file", help="read the password from this file")
