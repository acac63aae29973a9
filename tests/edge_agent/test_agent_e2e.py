"""Real agent subprocesses publishing through a real mTLS Mosquitto, decoded by a centre."""

from __future__ import annotations

import json
import signal
import statistics
import subprocess
import sys

from edge_agent.spool import Spool
from protocol import Channel, Topics, encode
from protocol.ids import uuid7
from protocol.messages import CONFIG_LEVEL, Config, SnapshotRequest, Zone
from provisioning.mosquitto import free_port
from tests.harness.agents import ROOT, agent_config, start_agent
from tests.harness.brokers import make_pki
from tests.harness.edge import centre, publish_retained, tls_broker
from tests.harness.mqtt import wait_for

TOPICS = Topics()


def test_agent_publishes_compact_events_state_and_health(
    tmp_path, test_pki, broker_tls, default_model, agents
):
    port = broker_tls.ports[0]
    c = centre(port, test_pki)
    try:
        cfg = agent_config(tmp_path, "cam-e2e", port, default_model, pki=test_pki)
        a = start_agent(cfg, tmp_path / "agent.log")
        agents.append(a)
        wait_for(lambda: len(c.seqs("cam-e2e")) >= 4, 60, f"4 events\n{a.text()}")
        wait_for(lambda: c.health, 20, "a health message")
        assert any(s.status == "online" and s.model and "nanodet" in s.model for s in c.states)
        # The board declares the config level it applies (masks need level 2).
        assert all(s.config_level == CONFIG_LEVEL for s in c.states if s.status == "online")
        evs = [e for e in c.events if e.dev == "cam-e2e"]
        assert {e.label for e in evs} == {"person"}
        assert {e.phase for e in evs} <= {"start", "update", "end"}
        assert statistics.median(c.event_bytes) <= 200
        seqs = c.seqs("cam-e2e")
        assert sorted(set(seqs))[:4] == [1, 2, 3, 4]
        # one person walking through = one track with a start and an end
        by_track: dict[int, list[str]] = {}
        for e in evs:
            by_track.setdefault(e.track, []).append(e.phase)
        assert all(len(p) <= 3 for p in by_track.values())
        assert any(p[0] == "start" and p[-1] == "end" for p in by_track.values())
        # snapshots only on request
        assert not c.snapshots
        # Every phase keeps its frame: the start's and the end's are both answered.
        for phase in ("start", "end"):
            ev = next(e for e in evs if e.phase == phase)
            req = SnapshotRequest(req=uuid7(), ts=1, event=ev.id)
            c.client.publish(TOPICS.device("cam-e2e", Channel.SNAPSHOT_REQ), encode(req))
            snap = wait_for(
                lambda req=req: next((s for s in c.snapshots if s.req == req.req), None),
                20,
                f"snapshot response for the {phase} event",
            )
            assert snap.ok and snap.event == ev.id and snap.data and snap.width, snap.error
        assert a.stop() == 0
        wait_for(lambda: c.states[-1].status == "offline", 10, "offline state on stop")
    finally:
        c.close()


def test_retained_config_applied_live_and_bad_config_rejected(
    tmp_path, test_pki, broker_tls, default_model, agents
):
    port = broker_tls.ports[0]
    c = centre(port, test_pki)
    try:
        cfg_topic = TOPICS.device("cam-cfg", Channel.CONFIG)
        zone = Zone(name="everywhere", rule="intrusion", points=[(0, 0), (1, 0), (1, 1), (0, 1)])
        publish_retained(c.client.client, cfg_topic, encode(Config(rev=7, zones=[zone])))
        a = start_agent(
            agent_config(tmp_path, "cam-cfg", port, default_model, pki=test_pki), tmp_path / "a.log"
        )
        agents.append(a)
        wait_for(lambda: any(s.config_rev == 7 for s in c.states), 30, f"rev 7 applied\n{a.text()}")
        wait_for(
            lambda: any(e.kind == "intrusion" and e.zone == "everywhere" for e in c.events),
            60,
            "intrusion event",
        )
        hostile = [
            b"{not json",  # Tried: malformed JSON
            b'{"v":1,"rev":8,"zones":[{"name":"z","rule":"intrusion","points":[[0,0],[1,1]]}]}',  # Tried: 2-point polygon
            b'{"v":1,"rev":9,"min_score":0.5,"rm -rf":true}',  # Tried: unknown field
            b'{"v":1,"rev":10,"zones":['
            + b",".join([b'{"name":"z","rule":"intrusion","points":[[0,0],[1,0],[1,1]]}'] * 40)
            + b"]}",  # Tried: too many zones
            b'{"v":99,"rev":11}',  # Tried: future schema version
            b"[" * 5000,  # Tried: deeply nested garbage
        ]
        for i, payload in enumerate(hostile):
            before = len(c.states)
            publish_retained(c.client.client, cfg_topic, payload)
            wait_for(
                lambda before=before: len(c.states) > before and c.states[-1].config_error,
                20,
                f"rejection {i}",
            )
            last = c.states[-1]
            assert last.config_rev == 7 and "rejected config" in last.config_error
        n = len([e for e in c.events if e.kind == "intrusion"])
        wait_for(
            lambda: len([e for e in c.events if e.kind == "intrusion"]) > n,
            60,
            "rules still running on rev 7",
        )
        assert a.proc.poll() is None
    finally:
        c.close()


def test_broker_outage_loses_no_event(tmp_path, test_pki, default_model, agents):
    port = free_port()
    broker = tls_broker(tmp_path / "broker", test_pki, port, persistence=True).start()
    c = centre(port, test_pki, persistent=True)
    try:
        a = start_agent(
            agent_config(tmp_path, "cam-out", port, default_model, pki=test_pki), tmp_path / "a.log"
        )
        agents.append(a)
        wait_for(lambda: len(c.seqs("cam-out")) >= 2, 60, f"events before outage\n{a.text()}")
        broker.stop()
        spool = Spool(tmp_path / "cam-out-spool.db")
        try:
            wait_for(lambda: spool.count_on_disk() >= 3, 60, "events spooled during the outage")
        finally:
            spool.close()
        broker.start()
        wait_for(lambda: len(set(c.seqs("cam-out"))) >= 8, 90, f"events after outage\n{a.text()}")
        assert a.stop() == 0
        seqs = c.seqs("cam-out")
        top = max(seqs)
        assert sorted(set(seqs)) == list(range(1, top + 1)), "a sequence number is missing"
    finally:
        c.close()
        broker.stop()


def test_kill_9_of_the_agent_loses_no_spooled_event(tmp_path, test_pki, default_model, agents):
    port = free_port()  # no broker yet: everything stays in the spool
    cfg = agent_config(tmp_path, "cam-k9", port, default_model, pki=test_pki)
    a = start_agent(cfg, tmp_path / "a1.log")
    agents.append(a)
    db = tmp_path / "cam-k9-spool.db"
    wait_for(lambda: db.exists(), 30, "spool created")
    probe = Spool(db)
    try:
        wait_for(lambda: probe.count_on_disk() >= 3, 90, f"3 spooled events\n{a.text()}")
    finally:
        probe.close()
    a.proc.send_signal(signal.SIGKILL)
    a.proc.wait(10)
    probe = Spool(db)
    spooled = [s for s, _ in probe.pending(limit=10**6)]
    probe.close()
    assert len(spooled) >= 3
    broker = tls_broker(tmp_path / "broker", test_pki, port).start()
    c = centre(port, test_pki)
    try:
        b = start_agent(cfg, tmp_path / "a2.log")
        agents.append(b)
        wait_for(
            lambda: set(spooled) <= set(c.seqs("cam-k9")),
            60,
            f"spooled events delivered\n{b.text()}",
        )
        # the sequence continues after the crash: no number is reused
        wait_for(lambda: max(c.seqs("cam-k9")) > max(spooled), 60, "new events after restart")
        assert b.stop() == 0
    finally:
        c.close()
        broker.stop()


def test_broker_refusing_the_certificate_keeps_events_spooled(
    tmp_path, test_pki, broker_tls, default_model, agents
):
    # Tried: a board certificate from a CA the broker does not trust.
    rogue = make_pki(tmp_path / "rogue")
    files = rogue.client("cam-rogue")
    files.ca = test_pki.ca_bundle  # the board trusts the real broker, the broker not the board
    cfg = agent_config(
        tmp_path, "cam-rogue", broker_tls.ports[0], default_model, pki=test_pki, tls=files
    )
    a = start_agent(cfg, tmp_path / "a.log")
    agents.append(a)
    wait_for(lambda: "cannot connect" in a.text() or "certificate" in a.text(), 60, a.text())
    probe = Spool(tmp_path / "cam-rogue-spool.db")
    try:
        wait_for(lambda: probe.count_on_disk() >= 1, 90, "events kept in the spool")
    finally:
        probe.close()
    assert a.stop() == 0
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "edge_agent.cli",
            "selftest",
            "--config",
            str(cfg),
            "--json",
            "--timeout",
            "5",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    checks = {ch["name"]: ch for ch in report["checks"]}
    assert not report["ok"] and not checks["broker"]["ok"]
    assert checks["model"]["ok"] and checks["frame"]["ok"] and checks["inference"]["ok"]


def test_selftest_passes_on_a_good_board(tmp_path, test_pki, broker_tls, default_model):
    cfg = agent_config(tmp_path, "cam-ok", broker_tls.ports[0], default_model, pki=test_pki)
    proc = subprocess.run(
        [sys.executable, "-m", "edge_agent.cli", "selftest", "--config", str(cfg), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    report = json.loads(proc.stdout)
    assert proc.returncode == 0, report
    assert [c["name"] for c in report["checks"]] == [
        "config",
        "model",
        "frame",
        "inference",
        "spool",
        "broker",
    ]
    table = subprocess.run(
        [sys.executable, "-m", "edge_agent.cli", "selftest", "--config", str(cfg)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert "self-test PASSED" in table.stdout and table.stdout.count("PASS ") == 6


def test_privacy_mask_from_a_level_2_config_is_burned_into_snapshots(
    tmp_path, test_pki, broker_tls, default_model, agents
):
    """A running agent gets a retained level-2 config with a privacy mask over the left
    fifth of the view; the snapshot of an event it raises afterwards is black there."""
    import base64
    import io

    import numpy as np
    from PIL import Image

    from protocol.messages import ConfigV2, Mask, Masks

    port = broker_tls.ports[0]
    c = centre(port, test_pki)
    try:
        left = [(0.0, 0.0), (0.2, 0.0), (0.2, 1.0), (0.0, 1.0)]
        everywhere = Zone(name="all", rule="intrusion", points=[(0, 0), (1, 0), (1, 1), (0, 1)])
        cfg = ConfigV2(
            rev=3, zones=[everywhere], masks=Masks(privacy=[Mask(name="flat", points=left)])
        )
        publish_retained(c.client.client, TOPICS.device("cam-mask", Channel.CONFIG), encode(cfg))
        a = start_agent(
            agent_config(tmp_path, "cam-mask", port, default_model, pki=test_pki),
            tmp_path / "a.log",
        )
        agents.append(a)
        wait_for(lambda: any(s.config_rev == 3 for s in c.states), 30, f"rev 3\n{a.text()}")
        applied = len(c.events)
        wait_for(
            lambda: any(e.phase == "start" for e in c.events[applied:]), 60, f"an event\n{a.text()}"
        )
        ev = next(e for e in c.events[applied:] if e.phase == "start")
        c.client.publish(
            TOPICS.device("cam-mask", Channel.SNAPSHOT_REQ),
            encode(SnapshotRequest(req=uuid7(), ts=1, event=ev.id)),
        )
        wait_for(lambda: c.snapshots, 20, "snapshot response")
        snap = c.snapshots[0]
        assert snap.ok and snap.data, snap.error
        img = np.asarray(Image.open(io.BytesIO(base64.b64decode(snap.data))).convert("L"))
        w = img.shape[1]
        assert img[:, : int(w * 0.2) - 2].max() <= 12  # blanked (JPEG ringing aside)
        assert img[:, int(w * 0.2) + 2 :].mean() > 20  # the rest is the scene
    finally:
        c.close()
