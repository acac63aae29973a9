"""Camera rules reaching real boards: a real Mosquitto, the real centre, the real edge Link.

A board offline during three edits applies the latest when it reconnects and the centre
shows no drift; a board on today's firmware (config level 1) gets a config it accepts and
the fleet view says it cannot apply the camera's masks; when it reports level 2 after a
firmware update, the centre publishes the masks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from edge_agent.config import BrokerSection
from edge_agent.link import Link
from edge_agent.spool import Spool
from protocol import (
    CONFIG_LEVEL,
    Channel,
    Config,
    ConfigV2,
    SnapshotResponse,
    State,
    Topics,
    encode,
)
from tests.harness import firmware_v1_messages as v1
from tests.harness.core import core_settings, register, running_core
from tests.harness.mqtt import connect, wait_for

SQUARE = [[0.1, 0.1], [0.6, 0.1], [0.6, 0.9], [0.1, 0.9]]
MASKS = {"privacy": [{"name": "flat", "points": [[0.7, 0.0], [1.0, 0.0], [1.0, 0.3]]}]}


def _rules(n: int, masks: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "thresholds": {"person": 0.5, "vehicle": 0.35},
        "zones": [{"name": f"gate-{n}", "rule": "intrusion", "points": SQUARE}],
    }
    if masks:
        out["masks"] = MASKS
    return out


def _board(port: int, dev: str, spool: Spool, applied: list[Config]) -> Link:
    return Link(
        BrokerSection(host="127.0.0.1", port=port, keepalive_s=5),
        dev,
        spool,
        state_fields={"firmware": "test", "config_level": CONFIG_LEVEL},
        on_config=applied.append,
        on_snapshot=lambda req: SnapshotResponse(req=req.req, ts=1, ok=False, error="none"),
        log=lambda msg: None,
    )


def test_a_board_offline_during_three_edits_applies_the_latest_on_reconnect(tmp_path: Path, broker):
    settings = core_settings(tmp_path / "c", broker.ports[0])
    spool = Spool(tmp_path / "spool.db")
    applied: list[Config] = []
    with running_core(settings) as svc:
        register(svc, {"cam-0": (29.3, 120.07)})
        cams = svc.camrules
        board = _board(broker.ports[0], "cam-0", spool, applied)
        board.start()
        try:
            wait_for(lambda: cams.status("cam-0")["applied_rev"] == 1, 15, "seeded rev applied")
            assert not cams.status("cam-0")["drift"]
        finally:
            board.stop()
        assert not board.connected.is_set()  # offline for the three edits
        for n in (2, 3, 4):
            cams.set("cam-0", _rules(n, masks=n == 4), "tech", f"edit {n} while offline")
        st = cams.status("cam-0")
        assert st["desired_rev"] == 4 and st["applied_rev"] == 1 and st["drift"]
        _wait_retained(broker.ports[0], "cam-0", 4)
        applied.clear()
        board = _board(broker.ports[0], "cam-0", spool, applied)
        board.start()
        try:
            wait_for(lambda: cams.status("cam-0")["applied_rev"] == 4, 15, "latest applied")
        finally:
            board.stop()
        st = cams.status("cam-0")
        assert not st["drift"] and st["error"] is None and st["config_level"] == CONFIG_LEVEL
        # The retained config carried only the latest: revisions 2 and 3 never reached it.
        assert [c.rev for c in applied] == [4]
        assert isinstance(applied[0], ConfigV2) and applied[0].masks.privacy[0].name == "flat"
        assert not st["masks_unsupported"]
    spool.close()


def test_a_level_1_board_gets_a_config_it_accepts_until_it_reports_level_2(tmp_path: Path, broker):
    settings = core_settings(tmp_path / "c", broker.ports[0])
    topics = Topics()
    v1_board = msgspec.json.Decoder(v1.Config | v1._V0)
    with running_core(settings) as svc:
        register(svc, {"cam-7": (29.3, 120.07)})
        cams = svc.camrules
        # Today's firmware: its state has no cfgv.
        board = connect(broker.ports[0], "cam-7")
        try:
            board.subscribe(topics.device("cam-7", Channel.CONFIG))
            board.publish(
                topics.device("cam-7", Channel.STATE),
                encode(State(status="online", config_rev=0)),
                qos=1,
                retain=True,
            )
            cams.set("cam-7", _rules(1, masks=True), "tech", "a privacy mask on the flat")
            got = wait_for(lambda: _last_config(board, 2), 10, "rev 2 on the config topic")
            cfg = v1_board.decode(got)  # would raise on masks or v: 2
            assert isinstance(cfg, v1.Config) and cfg.rev == 2
            assert [z.name for z in cfg.zones] == ["gate-1"]
            wait_for(lambda: cams.status("cam-7")["reported_at"] is not None, 10, "state seen")
            st = cams.status("cam-7")
            assert st["config_level"] == 1 and st["masks_unsupported"]
            view = svc.fleet.get("cam-7")
            assert view["rules"]["masks_unsupported"] is True
            # A firmware update: the board now declares level 2 and gets the masks.
            board.publish(
                topics.device("cam-7", Channel.STATE),
                encode(State(status="online", config_rev=2, config_level=2)),
                qos=1,
                retain=True,
            )
            got = wait_for(lambda: _last_config(board, 2, level=2), 10, "level-2 config")
            assert msgspec.json.decode(got)["masks"] == MASKS
            wait_for(lambda: not cams.status("cam-7")["masks_unsupported"], 10, "level 2 seen")
        finally:
            board.close()


def _wait_retained(port: int, dev: str, rev: int) -> None:
    """Wait until the broker holds ``rev`` as the retained config (the centre's publish
    is queued when ``set`` returns, not yet stored at the broker)."""
    topic = Topics().device(dev, Channel.CONFIG)

    def retained() -> bool:
        c = connect(port, f"{dev}-peek")
        try:
            c.subscribe(topic)
            m = c.get(2)
            return bool(m.retain and msgspec.json.decode(m.payload)["rev"] == rev)
        finally:
            c.close()

    wait_for(retained, 10, f"retained config rev {rev}")


def _last_config(board: Any, rev: int, level: int = 1) -> bytes | None:
    """The newest config received so far with ``rev`` at ``level``, else None."""
    while True:
        try:
            m = board.get(0.2)
        except Exception:  # noqa: BLE001 - nothing more queued yet
            return None
        obj = msgspec.json.decode(m.payload)
        if obj.get("rev") == rev and obj.get("v") == level:
            return bytes(m.payload)


def test_a_revision_saved_by_the_command_line_is_published_by_the_running_centre(
    tmp_path: Path, broker
):
    from coordinator.cli import main

    settings = core_settings(tmp_path / "c", broker.ports[0])
    with running_core(settings) as svc:
        register(svc, {"cam-3": (29.3, 120.07)})
        cams = svc.camrules
        wait_for(lambda: cams.status("cam-3")["published_rev"] == 1, 10, "seeded rev published")
        rules = tmp_path / "rules.yaml"
        rules.write_text(
            "zones:\n  - {name: gate, rule: intrusion, points: [[0, 0], [1, 0], [1, 1]]}\n"
        )
        conf = tmp_path / "s.yaml"
        conf.write_text(
            f"data_dir: {settings.data_dir}\ndev_mode: true\nsecret_key: {settings.secret_key}\n"
            f"data_key: {settings.data_key}\nmqtt_port: {broker.ports[0]}\n"
        )
        assert (
            main(["rules", "set", "cam-3", str(rules), "--reason", "gate", "--settings", str(conf)])
            == 0
        )
        assert cams.status("cam-3")["published_rev"] == 1  # the command line publishes nothing
        assert cams.publish_pending() == 1  # the centre's job
        _wait_retained(broker.ports[0], "cam-3", 2)
        assert cams.publish_pending() == 0


def test_a_config_error_is_cleared_once_a_good_config_applies(tmp_path: Path, broker):
    settings = core_settings(tmp_path / "c", broker.ports[0])
    topics = Topics()
    with running_core(settings) as svc:
        register(svc, {"cam-5": (29.3, 120.07)})
        board = connect(broker.ports[0], "cam-5")
        state = topics.device("cam-5", Channel.STATE)
        try:
            bad = State(status="online", config_rev=1, config_error="rejected config: zones")
            board.publish(state, encode(bad), qos=1, retain=True)
            wait_for(lambda: (svc.fleet.get("cam-5") or {}).get("config_error"), 10, "error shown")
            # The next config applies: the board's state carries no error any more.
            board.publish(state, encode(State(status="online", config_rev=2)), qos=1, retain=True)
            wait_for(lambda: svc.fleet.get("cam-5")["config_rev"] == 2, 10, "rev 2 recorded")
            assert svc.fleet.get("cam-5")["config_error"] is None
            assert svc.camrules.status("cam-5")["error"] is None
            # A Last Will (stale by nature) neither sets nor clears it.
            board.publish(state, encode(State(status="offline", config_rev=2)), qos=1, retain=True)
            wait_for(lambda: svc.fleet.get("cam-5")["status"] == "offline", 10, "offline")
            assert svc.fleet.get("cam-5")["config_error"] is None
        finally:
            board.close()


def test_only_a_level_3_board_is_named_the_served_model(
    tmp_path: Path, broker, default_model: Path
):
    import shutil

    from modelkit.build import NANODET
    from protocol import ConfigV3

    settings = core_settings(tmp_path / "c", broker.ports[0])
    settings.model_store_dir.mkdir(parents=True)
    shutil.copyfile(default_model, settings.model_store_dir / NANODET.name)
    topics = Topics()
    # Today's firmware decodes configs of levels 1 and 2 only, strictly.
    todays_board = msgspec.json.Decoder(Config | ConfigV2)
    with running_core(settings) as svc:
        register(svc, {"cam-8": (29.3, 120.07)})
        board = connect(broker.ports[0], "cam-8")
        state = topics.device("cam-8", Channel.STATE)
        try:
            board.subscribe(topics.device("cam-8", Channel.CONFIG))
            st2 = State(status="online", config_rev=1, config_level=2, detector="nanodet")
            board.publish(state, encode(st2), qos=1, retain=True)
            got = wait_for(lambda: _last_config(board, 1, level=2), 10, "level-2 config")
            cfg = todays_board.decode(got)  # would raise on v: 3 or a model field
            assert "model" not in msgspec.json.decode(got)
            assert svc.camrules.status("cam-8")["model_named"] is None
            # After a firmware update it declares level 3: the config names the model.
            st3 = State(status="online", config_rev=1, config_level=3, detector="nanodet")
            board.publish(state, encode(st3), qos=1, retain=True)
            got = wait_for(lambda: _last_config(board, 1, level=3), 10, "level-3 config")
            cfg = msgspec.json.decode(got, type=ConfigV3)
            assert cfg.model is not None and cfg.model.sha256 == NANODET.sha256
            assert cfg.model.size == default_model.stat().st_size
            assert cfg.model.url == f"/api/enrolment/models/{NANODET.name}"
            wait_for(lambda: svc.camrules.status("cam-8")["model_named"], 10, "named")
            assert svc.camrules.status("cam-8")["model_drift"]  # it has not reported it yet
        finally:
            board.close()
