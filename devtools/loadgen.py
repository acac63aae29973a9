"""Load generator: N simulated cameras publishing protocol events through a real broker.

Cameras sit on a grid (default 60 m apart, so neighbours see the same incidents); each runs
tracks that emit ``start``/``update``/``end`` events with per-device sequence numbers.
Many cameras share a few MQTT connections (24,000 sockets from one process would measure
the process, not the centre). Publishing is QoS 1 with a persistent session, so a broker
restart loses nothing: paho resends what was not PUBACKed.

Example::

    python -m devtools.loadgen --port 1883 --cameras 200 --rate 2000 --count 20000 \\
        --fleet-csv fleet.csv
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from protocol import Channel, Event, Topics, encode, uuid7

YIWU = (29.3060, 120.0760)
KINDS = ("intrusion", "loitering", "line_crossing", "crowd")


def make_fleet(
    n: int, *, center: tuple[float, float] = YIWU, spacing_m: float = 60.0, prefix: str = "cam"
) -> list[dict[str, Any]]:
    """``n`` cameras on a square grid around ``center`` (DeviceIn-shaped dicts)."""
    side = max(1, math.ceil(math.sqrt(n)))
    dlat = spacing_m / 111_195
    dlon = dlat / math.cos(math.radians(center[0]))
    owners = ("government", "company", "community")
    out = []
    for i in range(n):
        r, c = divmod(i, side)
        out.append(
            {
                "id": f"{prefix}-{i:05d}",
                "owner_org": f"org-{i % 37}",
                "owner_type": owners[i % 3],
                "lat": round(center[0] + (r - side / 2) * dlat, 6),
                "lon": round(center[1] + (c - side / 2) * dlon, 6),
                "heading": float((i * 37) % 360),
                "zone": f"Z{(r // 10) * 10 + c // 10:03d}",
                "profile": "pi5",
            }
        )
    return out


def write_fleet_csv(devices: Sequence[dict[str, Any]], path: Path) -> None:
    """Write a fleet file ``coordinator load-fleet`` reads."""
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(devices[0]))
        w.writeheader()
        w.writerows(devices)


@dataclass
class _Cam:
    dev: str
    seq: int = 0
    track: int = 0
    left: int = 0  # events left in the current track
    kind: str = "intrusion"


@dataclass
class EventStream:
    """Endless per-camera event sequences (deterministic for a seed)."""

    devices: Sequence[str]
    seed: int = 1
    track_len: int = 5
    cams: list[_Cam] = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self.cams = [_Cam(d) for d in self.devices]

    def __iter__(self) -> Iterator[Event]:
        i = 0
        n = len(self.cams)
        while True:
            cam = self.cams[i % n]
            i += 1
            yield self.next_for(cam)

    def next_for(self, cam: _Cam) -> Event:
        """The next event of one camera."""
        phase = "update"
        if cam.left <= 0:
            cam.track += 1
            cam.left = self.track_len
            cam.kind = self._rng.choice(KINDS)
            phase = "start"
        cam.left -= 1
        if cam.left == 0:
            phase = "end"
        cam.seq += 1
        return Event(
            id=uuid7(),
            seq=cam.seq,
            ts=int(time.time() * 1000),
            dev=cam.dev,
            kind=cam.kind,  # type: ignore[arg-type]
            phase=phase,  # type: ignore[arg-type]
            label="person",
            conf=round(0.5 + self._rng.random() * 0.5, 3),
            track=cam.track,
            box=(100, 120, 300, 800),
        )


class Publisher:
    """``connections`` paho clients publishing QoS 1 with persistent sessions."""

    def __init__(
        self,
        host: str,
        port: int,
        connections: int = 4,
        name: str = "loadgen",
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.topics = Topics()
        self.acked = 0
        self._lock = threading.Lock()
        self.clients: list[mqtt.Client] = []
        for k in range(connections):
            c = mqtt.Client(
                CallbackAPIVersion.VERSION2, client_id=f"{name}-{k}", protocol=mqtt.MQTTv5
            )
            c.max_inflight_messages_set(1000)
            c.max_queued_messages_set(0)
            c.reconnect_delay_set(1, 5)
            c.on_publish = self._on_publish
            if username is not None:
                c.username_pw_set(username, password)
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = 3600
            c.connect(host, port, keepalive=30, clean_start=False, properties=props)
            c.loop_start()
            self.clients.append(c)
        self.sent = 0

    def _on_publish(self, *_a: Any) -> None:
        with self._lock:
            self.acked += 1

    def publish(self, ev: Event) -> None:
        """Publish one event on its device's topic (round-robin over connections)."""
        c = self.clients[self.sent % len(self.clients)]
        c.publish(self.topics.device(ev.dev, Channel.EVENT), encode(ev), qos=1)
        self.sent += 1

    def wait_acked(self, timeout: float = 60.0) -> bool:
        """Wait until every published event is PUBACKed by the broker."""
        deadline = time.monotonic() + timeout
        while self.acked < self.sent:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def close(self) -> None:
        """Disconnect every client."""
        for c in self.clients:
            c.disconnect()
            c.loop_stop()


def run(
    pub: Publisher,
    stream: Iterator[Event],
    *,
    count: int,
    rate: float | None,
    on_event: Any = None,
) -> float:
    """Publish ``count`` events at ``rate``/s (None = as fast as possible); return seconds."""
    t0 = time.perf_counter()
    chunk = max(1, int((rate or 1000) / 100))  # pace in 10 ms steps
    for i in range(count):
        ev = next(stream)
        pub.publish(ev)
        if on_event is not None:
            on_event(ev)
        if rate and (i + 1) % chunk == 0:
            ahead = (i + 1) / rate - (time.perf_counter() - t0)
            if ahead > 0:
                time.sleep(ahead)
    return time.perf_counter() - t0


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point (``python -m devtools.loadgen``)."""
    ap = argparse.ArgumentParser(
        description="Simulate N cameras publishing CityWatch events (QoS 1) to a broker.",
        epilog="Example: python -m devtools.loadgen --port 1883 --cameras 200 --rate 2000 "
        "--count 20000 --fleet-csv fleet.csv",
    )
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=1883)
    ap.add_argument("--cameras", type=int, default=100)
    ap.add_argument("--rate", type=float, default=0, help="events/s (0 = as fast as possible)")
    ap.add_argument("--count", type=int, default=10000, help="events to publish")
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--prefix", default="cam")
    ap.add_argument("--fleet-csv", help="also write the simulated fleet to this CSV and exit")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = ap.parse_args(argv)
    fleet = make_fleet(args.cameras, prefix=args.prefix)
    if args.fleet_csv:
        write_fleet_csv(fleet, Path(args.fleet_csv))
        print(f"wrote {len(fleet)} cameras to {args.fleet_csv}")
        return 0
    pub = Publisher(args.host, args.port, args.connections, name=f"loadgen-{args.seed}")
    try:
        stream = iter(EventStream([d["id"] for d in fleet], seed=args.seed))
        secs = run(pub, stream, count=args.count, rate=args.rate or None)
        ok = pub.wait_acked(120)
    finally:
        pub.close()
    out = {"published": pub.sent, "acked": pub.acked, "seconds": round(secs, 3), "complete": ok}
    print(
        json.dumps(out)
        if args.json
        else f"published {pub.sent} events in {secs:.1f}s, acked {pub.acked}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
