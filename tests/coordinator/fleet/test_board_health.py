"""The simulated boards report health like real ones: every camera once per interval,
spread over it, through a real broker into the real coordinator — so none goes stale."""

from __future__ import annotations

import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from devtools.board_health import BoardHealth
from protocol import Channel, Health, State, Topics, decode, encode
from tests.harness.core import core_settings, register, running_core
from tests.harness.mqtt import wait_for


def test_every_board_reports_once_per_interval_spread_evenly() -> None:
    devs = [f"cam-{i:05d}" for i in range(3000)]
    sent: list[tuple[str, bytes]] = []
    h = BoardHealth(devs, lambda topic, payload, qos: sent.append((topic, payload)), interval_s=30)
    t0 = 1_000_000.0
    slices = [h.due(t0 + k * 0.1, t0 + (k + 1) * 0.1) for k in range(300)]  # one interval
    flat = [d for s in slices for d in s]
    assert sorted(flat) == sorted(devs)  # each board exactly once
    assert max(len(s) for s in slices) <= 3 * len(devs) / 300  # no burst: near the average
    msg = h.message(devs[0], t0)
    again = decode(Channel.HEALTH, encode(msg))
    assert isinstance(again, Health) and 4 < again.fps < 12 and again.cpu is not None


def test_simulated_health_keeps_the_fleet_fresh(broker, tmp_path) -> None:
    settings = core_settings(tmp_path / "c", broker.ports[0], health_stale_s=3.0)
    with running_core(settings) as svc:
        register(svc)
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="sim-boards",
                             protocol=mqtt.MQTTv5)  # fmt: skip
        client.connect("127.0.0.1", broker.ports[0])
        client.loop_start()
        stop = threading.Event()
        devs = ["cam-0", "cam-1", "cam-2", "cam-9"]
        online = encode(State(status="online", ts=int(time.time() * 1000)))
        for d in devs:
            client.publish(Topics().device(d, Channel.STATE), online, qos=1, retain=True)
        wait_for(lambda: all(svc.fleet.get(d)["status"] == "online" for d in devs), 10, "online")
        h = BoardHealth(devs, lambda t, p, q: client.publish(t, p, qos=q), interval_s=1.0)
        th = threading.Thread(target=h.run, args=(stop,))
        th.start()
        try:
            wait_for(lambda: all((svc.fleet.get(d) or {}).get("health") for d in devs), 10,
                     "health of every board")  # fmt: skip
            first = {d: svc.fleet.get(d)["last_health_at"] for d in devs}
            wait_for(lambda: all(svc.fleet.get(d)["last_health_at"] > first[d] for d in devs),
                     10, "a second round")  # fmt: skip
            assert svc.fleet.get("cam-0")["health"]["fps"] > 0
            # past the 3 s staleness bound, the reporting boards are still fresh
            wait_for(lambda: time.time() - min(first.values()) > 4, 6, "past the bound")
            assert svc.fleet.check_stale() == []
            assert {svc.fleet.get(d)["health_status"] for d in devs} == {"online"}
        finally:
            stop.set()
            th.join(5)
            client.disconnect()
            client.loop_stop()
