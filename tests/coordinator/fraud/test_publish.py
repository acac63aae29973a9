"""Published warnings reach market display boards as a retained board on a real Mosquitto."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from coordinator.bootstrap import role_matrix
from coordinator.container import Services
from coordinator.fraud.filings import CompanyIn
from coordinator.fraud.service import FraudService
from coordinator.fraud.warning_desk import WarningEdit, WarningIn
from coordinator.identity.audit import AuditService
from coordinator.identity.auth import Principal, Role, perms_for
from protocol import Channel, Topics, WarningBoard, decode
from provisioning.mosquitto import MosquittoProcess
from tests.harness.mqtt import MqttTestClient, connect


def _close(tc: MqttTestClient) -> None:
    """Disconnect and close paho's wake-up socket pair now: left to the garbage collector,
    the pair can be finalised before the client and raise ResourceWarning (an error here)."""
    tc.close()
    tc.client._reset_sockets()  # noqa: SLF001 - paho has no public way to close the pair


class PahoPublisher:
    """A minimal coordinator/platform/bus.py Publisher over paho (the shared MQTT link replaces it)."""

    def __init__(self, port: int) -> None:
        self.client: MqttTestClient = connect(port, "centre-fraud-test")

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        """Publish and wait for the PUBACK, so the board is on the broker when this returns."""
        rc = self.client.publish(topic, payload, qos=qos, retain=retain)
        assert rc is None or not rc.is_failure

    def close(self) -> None:
        """Disconnect."""
        _close(self.client)


@pytest.fixture
def fraud_mqtt(services: Services, broker: MosquittoProcess) -> Iterator[FraudService]:
    """A FraudService on the test database publishing to the real broker."""
    pub = PahoPublisher(broker.ports[0])
    yield FraudService(services.db, AuditService(services.db), pub)
    pub.close()


def _p(name: str) -> Principal:
    roles = frozenset({Role.FRAUD_INVESTIGATOR})
    return Principal(user_id=1, username=name, roles=roles, perms=perms_for(roles, role_matrix()))


def _board(port: int, cid: str) -> WarningBoard:
    """What a display board that connects now receives (the retained message)."""
    viewer = connect(port, cid)
    try:
        viewer.subscribe(Topics().warnings())
        msg = viewer.get(timeout=5)
        assert msg.retain
        return decode(Channel.WARNINGS, msg.payload)
    finally:
        _close(viewer)


def test_board_follows_publish_update_cancel(
    fraud_mqtt: FraudService, broker: MosquittoProcess
) -> None:
    """Each publish / update / cancel republishes the full retained board of active warnings."""
    svc, port = fraud_mqtt, broker.ports[0]
    li, chen = _p("inv-li"), _p("inv-chen")
    ids = []
    for name in ("Green Airline Trading", "Blue Sky Imp & Exp"):
        cid = svc.register_company(li, CompanyIn(names=[name], phones=[]))
        wid = svc.desk.draft_warning(
            li,
            WarningIn(
                company_id=cid,
                headline=f"{name} does not pay",
                description="Unpaid orders reported by merchants.",
            ),
        )
        svc.desk.approve_warning(chen, wid)
        svc.desk.publish_warning(li, wid)
        ids.append(wid)
    board = _board(port, "display-1")
    assert [a.info[0].headline for a in board.alerts] == [
        "Green Airline Trading does not pay",
        "Blue Sky Imp & Exp does not pay",
    ]
    svc.desk.update_warning(chen, ids[0], WarningEdit(severity="Extreme"))
    # not on the board until a second investigator approves the change
    assert _board(port, "display-1b").alerts[0].info[0].severity == "Severe"
    svc.desk.approve_warning(li, ids[0])
    board = _board(port, "display-2")
    assert board.alerts[0].msgType == "Update" and board.alerts[0].info[0].severity == "Extreme"
    svc.desk.cancel_warning(li, ids[1])
    board = _board(port, "display-3")
    assert [a.identifier for a in board.alerts] == ["cw-fraud-1-v2"]


def test_unapproved_warning_never_reaches_the_board(
    fraud_mqtt: FraudService, broker: MosquittoProcess
) -> None:
    """Publishing a draft is refused and nothing is sent."""
    from coordinator.errors import Conflict

    svc = fraud_mqtt
    cid = svc.register_company(_p("inv-li"), CompanyIn(names=["Red Co"]))
    wid = svc.desk.draft_warning(
        _p("inv-li"),
        WarningIn(
            company_id=cid, headline="Red Co does not pay", description="Unpaid orders reported."
        ),
    )
    with pytest.raises(Conflict):
        svc.desk.publish_warning(_p("inv-li"), wid)
    viewer = connect(broker.ports[0], "display-x")
    try:
        viewer.subscribe(Topics().warnings())
        with pytest.raises(AssertionError):
            viewer.get(timeout=0.5)  # no retained board exists
    finally:
        _close(viewer)
    assert svc.desk.warning(wid)["state"] == "draft"
