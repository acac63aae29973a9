"""The composition root: wiring at start, subscriptions that can be undone, closing in order."""

from __future__ import annotations

import asyncio
import json

from coordinator.bootstrap import open_services
from coordinator.container import Services
from coordinator.settings import Settings
from tests.harness.core import event, inject, register
from tests.harness.mqtt import wait_for


def test_the_live_stream_is_subscribed_at_start_without_any_request(services: Services):
    """A change reaches a stream queue on the hub: no browser request wired anything."""
    register(services)

    async def one_message() -> dict:
        _sid, q = services.stream.subscribe()
        inject(services, [event("cam-0", 1, track=1)])
        while True:
            msg = await asyncio.wait_for(q.get(), timeout=10)
            assert msg is not None
            if msg.startswith("event: incident"):
                return json.loads(msg.split("data: ", 1)[1])

    got = asyncio.run(one_message())
    assert got["change"] == "created" and got["incident"]["status"] == "new"


def test_an_incident_listener_can_be_undone(services: Services):
    register(services)
    seen: list[str] = []
    undo = services.incidents.on_change(lambda inc, change: seen.append(inc["id"]))
    inject(services, [event("cam-0", 1, track=1)])
    wait_for(lambda: seen, 10, "first change")
    services.incidents.flush()
    undo()
    undo()  # a second undo is harmless
    before = len(seen)
    later = event("cam-1", 1, track=7)  # creates or updates an incident: a change either way
    inject(services, [later])
    sql = "select count(*) n from events where id = ? and incident_id is not null"
    wait_for(lambda: services.db.query(sql, [later.id])[0]["n"] == 1, 10, "second event stored")
    services.incidents.flush()
    assert len(seen) == before


def test_an_mqtt_handler_can_be_undone(services: Services):
    from protocol import Channel

    link = services.mqtt
    assert Channel.SNAPSHOT in link._handlers  # noqa: SLF001 - registered by bootstrap
    services.close()  # runs every undo registered by the composition root, last first
    assert Channel.SNAPSHOT not in link._handlers  # noqa: SLF001
    assert not link._sinks  # noqa: SLF001


def test_every_periodic_job_is_on_the_one_scheduler(settings: Settings):
    s = open_services(settings)
    try:
        assert set(s.jobs.names) >= {
            "fleet-stale",
            "purge-raw-events",
            "expire-snapshots",
            "trim-dead-letters",
            "purge-sessions",
            "population-retention",
            "fraud-overdue",
            "hall-deadlines",
            "purge-documents",
            "purge-hall-enquiries",
        }
    finally:
        s.close()
