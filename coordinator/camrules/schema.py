"""The camera-rules tables as numbered migrations: revisions per camera, and what each
board reported about them (the config level it applies, the revision it applied)."""

from __future__ import annotations

import json
import time

import sqlite_utils
from sqlite_utils.migrations import Migrations

migrations = Migrations("camrules")


@migrations()
def m001_revisions(db: sqlite_utils.Database) -> None:
    """Revisions (never updated, only appended) and the boards' reports."""
    db.table("camera_rule_revisions").create(
        {
            "device_id": str,
            "rev": int,
            # The rules as protocol Config builtins without ``v`` and ``rev`` (masks included).
            "rules": str,
            "author": str,
            "reason": str,
            "rolled_back_to": int,  # the revision whose content this one restores
            "created_at": float,
        },
        pk=("device_id", "rev"),
        not_null={"rules", "author", "reason", "created_at"},
    )
    db.table("camera_rule_boards").create(
        {
            "device_id": str,
            "config_level": int,  # from state.cfgv; 1 when the firmware does not say
            "applied_rev": int,  # state.cfg
            "error": str,  # state.err: the last config the board rejected
            "reported_at": float,
            "published_rev": int,
            "published_level": int,
            "published_at": float,
        },
        pk="device_id",
    )


@migrations()
def m002_import_pushed_configs(db: sqlite_utils.Database) -> None:
    """Configs pushed before camera rules existed become each camera's first revision."""
    if "device_configs" not in db.table_names():
        return
    now = time.time()
    for row in db.query("select device_id, rev, config, pushed_by from device_configs"):
        rules = {k: v for k, v in json.loads(row["config"]).items() if k not in ("v", "rev")}
        db.execute(
            "insert into camera_rule_revisions (device_id, rev, rules, author, reason, "
            "created_at) values (?, ?, ?, ?, ?, ?) on conflict (device_id, rev) do nothing",
            [
                row["device_id"],
                max(1, int(row["rev"] or 0)),
                json.dumps(rules, sort_keys=True),
                row["pushed_by"] or "system",
                "imported: config pushed before camera rules",
                now,
            ],
        )


@migrations()
def m003_board_models(db: sqlite_utils.Database) -> None:
    """What each board reports about its model, and which model the centre last named."""
    table = db.table("camera_rule_boards")
    for col in ("detector", "model_sha256", "model_error", "published_model"):
        if col not in table.columns_dict:
            table.add_column(col, str)
