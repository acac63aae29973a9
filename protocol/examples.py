"""One literal example per payload kind: published in asyncapi.yaml and docs/protocol.md."""

from __future__ import annotations

from typing import Any

from .topics import Channel

EXAMPLES: dict[Channel, list[dict[str, Any]]] = {
    Channel.EVENT: [
        {
            "v": 1,
            "id": "019ac8f0a1b27c3d8e4f5a6b7c8d9e0f",
            "seq": 18342,
            "ts": 1795846825123,
            "dev": "cam-010234",
            "k": "intrusion",
            "ph": "start",
            "l": "person",
            "c": 0.873,
            "t": 412,
            "b": [123, 200, 333, 900],
            "z": "depot-gate",
        },
        {
            "v": 1,
            "id": "019ac8f0b3c47d5e8f6a7b8c9d0e1f20",
            "seq": 18343,
            "ts": 1795846901777,
            "dev": "cam-010234",
            "k": "loitering",
            "ph": "update",
            "l": "person",
            "c": 0.91,
            "t": 412,
            "b": [140, 210, 350, 905],
            "z": "atm-hall",
            "dw": 94.2,
        },
        {
            "v": 1,
            "id": "019ac8f0c4d57e6f9a7b8c9d0e1f2a31",
            "seq": 77,
            "ts": 1795846999001,
            "dev": "gw-futian-03.ch2",
            "k": "crowd",
            "ph": "start",
            "l": "person",
            "c": 0.7,
            "t": 0,
            "b": [0, 300, 1000, 1000],
            "z": "market-east",
            "n": 23,
        },
        {
            "v": 1,
            "id": "019ac8f0d5e67f8a9b8c9d0e1f2a3b42",
            "seq": 18350,
            "ts": 1795847012345,
            "dev": "cam-010234",
            "k": "intrusion",
            "ph": "start",
            "l": "vehicle",
            "c": 0.58,
            "t": 415,
            "b": [410, 380, 690, 720],
            "z": "depot-gate",
            "sub": "truck",
        },
    ],
    Channel.STATE: [
        {
            "v": 1,
            "st": "online",
            "ts": 1795846800000,
            "fw": "0.1.0",
            "model": "nanodet-g-416@human-models-3.0.4",
            "prof": "raspberry-pi-5",
            "cfg": 7,
        },
        {"v": 1, "st": "offline"},
        {
            "v": 1,
            "st": "online",
            "ts": 1795846800000,
            "cfg": 7,
            "err": "config rev 8 rejected: zones[0].points: expected at least 2 points",
        },
    ],
    Channel.HEALTH: [
        {
            "v": 1,
            "ts": 1795846830000,
            "fps": 9.8,
            "inf": 23.4,
            "motion": 0.12,
            "spool": 0,
            "drops": 0,
            "outages": 1,
            "src": True,
            "temp": 61.2,
            "up": 86400,
            "cpu": 0.41,
            "sf": 1042,
        },
    ],
    Channel.COMMITTED: [{"v": 1, "seq": 1041, "ts": 1795846831000}],
    Channel.CONFIG: [
        {
            "v": 1,
            "rev": 8,
            "min_score": 0.55,
            "thresholds": {"person": 0.6},
            "zones": [
                {
                    "name": "depot-gate",
                    "rule": "intrusion",
                    "points": [[0.1, 0.2], [0.5, 0.2], [0.5, 0.9], [0.1, 0.9]],
                    "labels": ["person", "vehicle"],
                    "schedule": "night",
                },
                {
                    "name": "atm-hall",
                    "rule": "loitering",
                    "points": [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]],
                    "dwell_s": 90,
                },
                {
                    "name": "market-east",
                    "rule": "crowd",
                    "points": [[0.0, 0.3], [1.0, 0.3], [1.0, 1.0], [0.0, 1.0]],
                    "min_count": 20,
                },
                {
                    "name": "lane-in",
                    "rule": "line_crossing",
                    "points": [[0.2, 0.6], [0.8, 0.6]],
                    "direction": "in",
                },
            ],
            "schedules": {
                "night": [{"days": [0, 1, 2, 3, 4, 5, 6], "start": "22:00", "end": "06:00"}]
            },
            "health_interval_s": 30,
        }
    ],
    Channel.SNAPSHOT_REQ: [
        {
            "v": 1,
            "req": "019ac8f1000070008000000000000001",
            "ts": 1795846830000,
            "event": "019ac8f0a1b27c3d8e4f5a6b7c8d9e0f",
        },
    ],
    Channel.SNAPSHOT: [
        {
            "v": 1,
            "req": "019ac8f1000070008000000000000001",
            "ts": 1795846830412,
            "event": "019ac8f0a1b27c3d8e4f5a6b7c8d9e0f",
            "ok": True,
            "mime": "image/jpeg",
            "w": 2,
            "h": 2,
            "data": "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAP8=",
        },
        {
            "v": 1,
            "req": "019ac8f1000070008000000000000002",
            "ts": 1795846830500,
            "ok": False,
            "err": "snapshot expired from the ring buffer",
        },
    ],
    Channel.POSITION: [
        {
            "v": 1,
            "ts": 1795846830000,
            "lat": 29.3068,
            "lon": 120.0752,
            "spd": 8.3,
            "hdg": 92.0,
            "st": "en_route",
            "acc": 5.0,
        },
    ],
    Channel.DISPATCH: [
        {
            "v": 1,
            "id": "019ac8f2000070008000000000000001",
            "ts": 1795846831000,
            "inc": "INC-20261128-0042",
            "k": "intrusion",
            "pri": 2,
            "lat": 29.3071,
            "lon": 120.0761,
            "eta": 140.0,
            "note": "person inside depot gate after hours",
        },
    ],
    Channel.ACK: [
        {
            "v": 1,
            "order": "019ac8f2000070008000000000000001",
            "ts": 1795846833000,
            "st": "accepted",
        },
        {
            "v": 1,
            "order": "019ac8f2000070008000000000000001",
            "ts": 1795846971000,
            "st": "on_scene",
        },
    ],
    Channel.WARNINGS: [
        {
            "v": 1,
            "ts": 1795846900000,
            "alerts": [
                {
                    "identifier": "cw-fraud-2026-0038",
                    "sender": "market-police@yiwu.example",
                    "sent": "2026-11-28T10:15:00+08:00",
                    "status": "Actual",
                    "msgType": "Alert",
                    "scope": "Public",
                    "info": [
                        {
                            "language": "zh-CN",
                            "category": ["Security"],
                            "event": "Trade fraud warning",
                            "urgency": "Expected",
                            "severity": "Severe",
                            "certainty": "Likely",
                            "headline": "Wobicha Trading is Green Airline under a new name",
                            "description": "Unpaid orders reported by 7 merchants; shares phone "
                            "and contact person with a company warned in 2025.",
                            "parameter": [{"valueName": "company", "value": "Wobicha Trading"}],
                        }
                    ],
                }
            ],
        }
    ],
}
