"""Staff administration: accounts, their access, and their life cycle.

Access that reads personal data needs two administrators. Creating an account that holds a
role of ``SENSITIVE_ROLES`` or the administrator role, adding such a role to an account, or
adding zones to an account that holds one, is a *request* through the approvals service:
the account stays inactive (or unchanged) until a second administrator — not the requester,
not the account itself — approves. So no administrator alone can mint a population officer
with every zone, or a second fraud investigator to satisfy the desk's two-person rule.
Taking access away never waits. Disabling, a new password and a second-factor reset end
every session of the account; an expiry date stops it working after that date. Every change
is audited. The first administrator is created on the host (``coordinator users
bootstrap-admin``), where the keys are.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from ..approvals.service import ApprovalsService, Kind
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..identity.audit import AuditService
from ..identity.auth import AuthService, Principal, Role, UserInvalid, needs_second_factor
from ..identity.permissions import SENSITIVE_ROLES
from ..platform.db import Database
from .permissions import Perm

KIND_CREATE = "staff:create-user"
KIND_GRANT = "staff:grant"
#: Roles whose grant needs a second administrator: those that read personal data, and the
#: administrator itself (else one administrator mints a second to approve their requests).
TWO_ADMIN_ROLES = SENSITIVE_ROLES | {Role.ADMIN}
Actor = Principal | str


@dataclass
class NewUser:
    """An account to create."""

    username: str
    password: str
    roles: list[Role]
    zones: list[str] = field(default_factory=list)
    merchant_id: str | None = None
    unit_id: str | None = None
    display_name: str | None = None
    expires_at: float | None = None
    reason: str | None = None


def needs_two_admins(roles: set[Role], zones: set[str]) -> bool:
    """True when an account with ``roles`` and ``zones`` gets access a second administrator
    must approve (zones only matter to roles that read personal data)."""
    return bool(roles & TWO_ADMIN_ROLES)


class StaffService:
    """Accounts and their access, with two administrators where it matters."""

    def __init__(
        self, db: Database, auth: AuthService, audit: AuditService, approvals: ApprovalsService
    ) -> None:
        self.db, self.auth, self.audit, self.approvals = db, auth, audit, approvals

    def kinds(self) -> list[Kind]:
        """The approval kinds staff administration files (registered by the composition root)."""
        return [
            Kind(KIND_CREATE, "a new account with access to personal data or administration",
                 Perm.USERS_ADMIN, Perm.USERS_ADMIN, self._apply_create, self._close_create,
                 pending_ttl_s=7 * 86400.0),
            Kind(KIND_GRANT, "more access for an account (roles or zones)", Perm.USERS_ADMIN,
                 Perm.USERS_ADMIN, self._apply_grant, pending_ttl_s=7 * 86400.0),
        ]  # fmt: skip

    # ---- accounts -----------------------------------------------------------------------

    def create_user(self, actor: Actor, new: NewUser) -> dict[str, Any]:
        """Create an account: at once when no second administrator is needed, else inactive
        and pending until one approves. Returns ``{id, state, request}``."""
        roles = {Role(r) for r in new.roles}
        pending = needs_two_admins(roles, set(new.zones))
        if Role.ADMIN in roles and not self._active_admins():
            raise Invalid(
                "no administrator exists yet: create the first on the host with "
                "`coordinator users bootstrap-admin NAME`"
            )
        if pending and not (new.reason or "").strip():
            raise Invalid(
                "an account with these roles needs a second administrator: state the reason "
                "(who the person is and why they need this access)"
            )
        if pending:
            # The reason is checked before an account row exists.
            from ..approvals.reasons import reason_problem

            if problem := reason_problem(new.reason):
                raise Invalid(problem)
        uid = self.auth.create_user(
            new.username, new.password, list(roles), zones=new.zones,
            merchant_id=new.merchant_id, unit_id=new.unit_id, display_name=new.display_name,
            pending=pending, expires_at=new.expires_at,
        )  # fmt: skip
        detail = {"roles": sorted(r.value for r in roles), "zones": sorted(new.zones),
                  "expires_at": new.expires_at, "pending": pending}  # fmt: skip
        self.audit.record(actor, "create_user", "user", uid, None, detail)
        if not pending:
            return {"id": uid, "state": "active", "request": None}
        try:
            req = self.approvals.request(
                actor, KIND_CREATE, subject_type="user", subject_id=uid,
                reason=new.reason or "", scope={"user_id": uid, "username": new.username, **detail},
                beneficiary=new.username,
            )  # fmt: skip
        except Exception:
            self.db.execute_write("delete from users where id = ? and pending_approval = 1", [uid])
            raise
        self.db.execute_write(
            "update users set pending_approval = ? where id = ?", [req["id"], uid]
        )
        return {"id": uid, "state": "pending_approval", "request": req["id"]}

    def change_access(
        self, actor: Actor, uid: int, *, add_roles: list[Role], remove_roles: list[Role],
        add_zones: list[str], remove_zones: list[str], reason: str | None,
    ) -> dict[str, Any]:  # fmt: skip
        """Take access away at once; give access at once or, where a second administrator
        is needed, as a pending request. Returns ``{id, state, request}``."""
        user = self.user(uid)
        roles = {Role(r) for r in json.loads(user["roles"])}
        zones = set(json.loads(user["zones"] or "[]"))
        self._check_removal(user, roles, set(remove_roles), set(add_roles))
        if remove_roles or remove_zones:
            self._set_access(uid, roles - set(remove_roles), zones - set(remove_zones))
            self.audit.record(actor, "remove_access", "user", uid, None,
                              {"roles": sorted(r.value for r in remove_roles),
                               "zones": sorted(remove_zones)})  # fmt: skip
            roles, zones = roles - set(remove_roles), zones - set(remove_zones)
        new_roles, new_zones = set(add_roles) - roles, set(add_zones) - zones
        if not new_roles and not new_zones:
            return {"id": uid, "state": "applied", "request": None}
        after = roles | new_roles
        if not (new_roles & TWO_ADMIN_ROLES) and not (new_zones and after & SENSITIVE_ROLES):
            self._set_access(uid, after, zones | new_zones)
            self.audit.record(actor, "grant_access", "user", uid, None,
                              {"roles": sorted(r.value for r in new_roles),
                               "zones": sorted(new_zones)})  # fmt: skip
            return {"id": uid, "state": "applied", "request": None}
        req = self.approvals.request(
            actor, KIND_GRANT, subject_type="user", subject_id=uid, reason=reason or "",
            scope={"user_id": uid, "username": user["username"],
                   "add_roles": sorted(r.value for r in new_roles), "add_zones": sorted(new_zones)},
            beneficiary=user["username"],
        )  # fmt: skip
        return {"id": uid, "state": "pending_approval", "request": req["id"]}

    def _check_removal(
        self, user: dict[str, Any], roles: set[Role], remove: set[Role], add: set[Role]
    ) -> None:
        if remove and not (roles - remove) and not (add - TWO_ADMIN_ROLES):
            raise Invalid("an account keeps at least one role: disable it instead")
        if Role.ADMIN in remove & roles:
            self._keep_an_admin(user["id"])

    def _keep_an_admin(self, uid: int) -> None:
        others = self.db.query(
            "select count(*) n from users where id != ? and active = 1 and "
            "exists (select 1 from json_each(users.roles) where value = 'admin')",
            [uid],
        )[0]["n"]
        if not others:
            raise Conflict("this is the last active administrator")

    def _set_access(self, uid: int, roles: set[Role], zones: set[str]) -> None:
        self.db.execute_write(
            "update users set roles = ?, zones = ? where id = ?",
            [json.dumps(sorted(r.value for r in roles)), json.dumps(sorted(zones)), uid],
        )

    # ---- the approval kinds' effects ----------------------------------------------------

    @staticmethod
    def _apply_create(db: sqlite_utils.Database, req: dict[str, Any]) -> dict[str, Any]:
        uid = json.loads(req["scope"])["user_id"]
        cur = db.conn.execute(
            "update users set active = 1, pending_approval = null where id = ? and "
            "pending_approval is not null",
            [uid],
        )
        if cur.rowcount != 1:
            raise Conflict(f"account {uid} is no longer waiting for approval")
        return {"user_id": uid, "active": True}

    @staticmethod
    def _close_create(db: sqlite_utils.Database, req: dict[str, Any]) -> None:
        uid = json.loads(req["scope"])["user_id"]
        # Never active, so it has no sessions or history: the name is free again.
        db.conn.execute("delete from login_challenges where user_id = ?", [uid])
        db.conn.execute("delete from users where id = ? and pending_approval is not null", [uid])

    @staticmethod
    def _apply_grant(db: sqlite_utils.Database, req: dict[str, Any]) -> dict[str, Any]:
        scope = json.loads(req["scope"])
        uid = scope["user_id"]
        cur = db.conn.execute(
            "select roles, zones, totp_enrolled_at from users where id = ?", [uid]
        )
        row = cur.fetchone()
        if row is None:
            raise NotFound(f"no user {uid}")
        roles = sorted(set(json.loads(row[0])) | set(scope["add_roles"]))
        zones = sorted(set(json.loads(row[1] or "[]")) | set(scope["add_zones"]))
        db.conn.execute(
            "update users set roles = ?, zones = ? where id = ?",
            [json.dumps(roles), json.dumps(zones), uid],
        )
        ended = 0
        if needs_second_factor(scope["add_roles"]):
            # Sessions opened without a second factor end: the next login asks for a code
            # (or enrols an authenticator).
            ended = AuthService.end_sessions_in(db, uid)
        return {"user_id": uid, "roles": roles, "zones": zones, "sessions_ended": ended}

    # ---- life cycle ---------------------------------------------------------------------

    def disable(self, actor: Actor, uid: int, reason: str) -> dict[str, Any]:
        """Disable an account; its sessions end at once."""
        user = self.user(uid)
        if isinstance(actor, Principal) and actor.user_id == uid:
            raise Forbidden("you cannot disable your own account")
        if "admin" in json.loads(user["roles"]):
            self._keep_an_admin(uid)
        ended = self.auth.set_active(uid, False, _name(actor), reason)
        self.audit.record(actor, "disable_user", "user", uid, None,
                          {"reason": reason, "sessions_ended": ended})  # fmt: skip
        return self.user(uid)

    def enable(self, actor: Actor, uid: int) -> dict[str, Any]:
        """Enable a disabled account again."""
        self.auth.set_active(uid, True, _name(actor), None)
        self.audit.record(actor, "enable_user", "user", uid)
        return self.user(uid)

    def set_password(self, actor: Actor, uid: int, password: str) -> dict[str, Any]:
        """A new password; every session of the account ends."""
        try:
            ended = self.auth.set_password(uid, password)
        except UserInvalid:
            raise
        self.audit.record(actor, "set_password", "user", uid, None, {"sessions_ended": ended})
        return self.user(uid)

    def set_expiry(self, actor: Actor, uid: int, expires_at: float | None) -> dict[str, Any]:
        """The account stops working after ``expires_at`` (None: never)."""
        self.auth.set_expiry(uid, expires_at)
        self.audit.record(actor, "set_expiry", "user", uid, None, {"expires_at": expires_at})
        return self.user(uid)

    def end_sessions(self, actor: Actor, uid: int, reason: str) -> dict[str, Any]:
        """End every session of the account (it logs in again)."""
        self.user(uid)
        ended = self.auth.end_sessions(uid)
        self.audit.record(actor, "end_sessions", "user", uid, None,
                          {"reason": reason, "sessions_ended": ended})  # fmt: skip
        return self.user(uid)

    def reset_second_factor(self, actor: Actor, uid: int, reason: str) -> dict[str, Any]:
        """Forget the account's authenticator (lost phone): it enrols again at its next
        login; its sessions end."""
        self.user(uid)
        ended = self.auth.reset_second_factor(uid)
        self.audit.record(actor, "reset_second_factor", "user", uid, None,
                          {"reason": reason, "sessions_ended": ended})  # fmt: skip
        return self.user(uid)

    def bootstrap_admin(self, host: str, username: str, password: str) -> int:
        """The first administrator, created on the host (refused once one exists)."""
        if self._active_admins():
            raise Conflict(
                "an administrator exists: another one is requested by an administrator and "
                "approved by a second (or on the host: `coordinator users approve ID`)"
            )
        uid = self.auth.create_user(username, password, [Role.ADMIN])
        self.audit.record(host, "bootstrap_admin", "user", uid, None, {"username": username})
        return uid

    def _active_admins(self) -> int:
        return self.db.query(
            "select count(*) n from users where active = 1 and "
            "exists (select 1 from json_each(users.roles) where value = 'admin')"
        )[0]["n"]

    # ---- reading ------------------------------------------------------------------------

    def users(self) -> list[dict[str, Any]]:
        """Every account with its state (never a password hash or secret)."""
        return [self._view(r) for r in self.db.query(_USERS_SQL + " order by u.id")]

    def user(self, uid: int) -> dict[str, Any]:
        """One account with its state."""
        rows = self.db.query(_USERS_SQL + " where u.id = ?", [uid])
        if not rows:
            raise NotFound(f"no user {uid}")
        return self._view(rows[0])

    @staticmethod
    def _view(row: dict[str, Any]) -> dict[str, Any]:
        now = time.time()
        if row["pending_approval"]:
            state = "pending_approval"
        elif not row["active"]:
            state = "disabled"
        elif row["expires_at"] is not None and row["expires_at"] < now:
            state = "expired"
        else:
            state = "active"
        roles = json.loads(row["roles"])
        if not needs_second_factor(roles):
            factor = "not_required"
        else:
            factor = "enrolled" if row["totp_enrolled_at"] else "not_enrolled"
        return {**row, "state": state, "second_factor": factor, "role_list": roles,
                "zone_list": json.loads(row["zones"] or "[]"),
                "pending_request": row["pending_approval"]}  # fmt: skip


_USERS_SQL = (
    "select u.id, u.username, u.roles, u.zones, u.merchant_id, u.unit_id, u.display_name, "
    "u.active, u.created_at, u.expires_at, u.pending_approval, u.disabled_at, u.disabled_by, "
    "u.disabled_reason, u.password_changed_at, u.totp_enrolled_at, "
    "(select count(*) from sessions s where s.user_id = u.id and s.revoked = 0 and "
    "s.expires_at > strftime('%s','now')) live_sessions from users u"
)


def _name(actor: Actor) -> str:
    return actor.username if isinstance(actor, Principal) else str(actor)
