"""Fuzzing the production-style city from its own schemas (tests/harness/fuzzing.py):
requests from the OpenAPI document as several roles and anonymously, and MQTT payloads
from the protocol's schemas on a board's own topics. Bounded here (a few hundred
requests); ``bench/fuzz.py`` goes deeper. ``CITYWATCH_FUZZ_EXAMPLES`` raises the bound.

Runs after test_attacks_production.py in the session; the API fuzz may disable or
re-password the accounts it finds, so it runs last.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.harness.fuzzing import fuzz_api, fuzz_mqtt
from tests.harness.mqtt import MqttTestClient, wait_for
from tests.harness.prod_city import ProdCity

API_EXAMPLES = int(os.environ.get("CITYWATCH_FUZZ_EXAMPLES", "300"))
MQTT_EXAMPLES = max(API_EXAMPLES // 2, 100)


@pytest.fixture(scope="module")
def board(prod: ProdCity, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MqttTestClient]:
    """A board enrolled through the real flow, connected for the module."""
    bundle = tmp_path_factory.mktemp("cam-fuzz")
    assert prod.enrol("cam-fuzz", bundle)["ok"]
    c = prod.connect_board(bundle)
    yield c
    c.close()


def test_messages_generated_from_the_protocol_schemas_never_lose_a_good_event(
    prod: ProdCity, board: MqttTestClient, attack
) -> None:
    """Tried: payloads generated from the protocol's schemas (valid, mutated, arbitrary
    bytes) on the board's own event/state/health/snapshot topics, a good event after every
    few. Expected: every good event stored; the coordinator stays up."""
    a = attack("fuzz.mqtt")
    sent, good = fuzz_mqtt(prod, board, "cam-fuzz", MQTT_EXAMPLES)
    wait_for(lambda: prod.stored(good) == good, 60, f"{len(good)} good events stored")
    assert prod.centre.proc.poll() is None and board.connected.is_set()
    a.observed(f"{sent} generated messages, {len(good)} good events among them: "
               f"{len(good)}/{len(good)} stored; coordinator up")  # fmt: skip


#: Requests the deeper fuzzing run (bench/fuzz.py) found answered with 500: ids past
#: SQLite's 64-bit integers; and their kin on other routes.
HUGE_IDS = [
    ("GET", "/api/fraud/public/warnings/9223372036854775808.cap.xml", None),
    ("GET", "/api/fraud/public/warnings/99999999999999999999999.cap.json", None),
    ("POST", "/api/tuning/proposals/449446311507307511414784/reject", "op-chen"),
    ("POST", "/api/tuning/proposals/9223372036854775808/approve", "op-chen"),
    ("GET", "/api/audit/persons/9223372036854775808", "auditor-he"),
    ("GET", "/api/fraud/companies/9223372036854775808", "admin-wang"),
]


@pytest.mark.parametrize(("method", "path", "user"), HUGE_IDS)
def test_ids_past_64_bits_are_bad_input_not_a_fault(
    prod: ProdCity, method: str, path: str, user: str | None, attack
) -> None:
    """Tried: ids of 19 to 24 digits in URLs (found by the deeper fuzzing run: 500 before).
    Expected: never a 500; a 422 names the bound (a search by id may just find nothing)."""
    a = attack("fuzz.openapi")
    with prod.centre.client() as http:
        r = http.request(method, path, headers=prod.headers(user) if user else {}, json={})
    assert r.status_code < 500, (path, r.status_code, r.text)
    if r.status_code == 422:
        assert "out of range" in r.json()["detail"]
    a.observed(f"{method} {path.split('/')[2]}/… with a {len(path.split('/')[-2])}-digit id: "
               f"{r.status_code}")  # fmt: skip


def test_requests_generated_from_the_openapi_document_never_get_a_500(
    prod: ProdCity, attack
) -> None:
    """Tried: requests generated from the OpenAPI document (parameters and bodies valid and
    broken) as five roles and anonymously. Expected: no 500, the coordinator stays up."""
    a = attack("fuzz.openapi")
    stats, n_ops = fuzz_api(prod, API_EXAMPLES)
    assert prod.centre.proc.poll() is None
    with prod.centre.client() as http:
        assert http.get("/api/health").status_code == 200
    codes = ", ".join(f"{k}: {v}" for k, v in sorted(stats.statuses.items()))
    assert len(stats.statuses) > 3  # the generated requests reach past validation
    a.observed(f"{stats.sent} requests over {n_ops} operations in {stats.seconds:.0f} s: "
               f"0 answers of 500 ({codes}); coordinator up")  # fmt: skip
