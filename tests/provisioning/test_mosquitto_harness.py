"""The broker harness runs real Mosquitto processes: plain, password and mTLS + ACL + CRL."""

from __future__ import annotations

from pathlib import Path

import pytest

from protocol import Channel, State, Topics, decode, encode
from provisioning.mosquitto import BrokerConfig, BrokerError, MosquittoProcess, PlainListener
from tests.harness.brokers import PkiFixture, make_pki
from tests.harness.mqtt import connect, wait_for
from tests.harness.samples import sample_event

NOT_AUTHORIZED = 0x87


def test_plain_broker_round_trips_an_encoded_event(broker: MosquittoProcess, topics: Topics):
    sub = connect(broker.ports[0], "centre")
    pub = connect(broker.ports[0], "cam-1")
    try:
        sub.subscribe(topics.filter(Channel.EVENT))
        ev = sample_event(dev="cam-1")
        rc = pub.publish(topics.device("cam-1", Channel.EVENT), encode(ev))
        assert rc is not None and not rc.is_failure
        msg = sub.get()
        assert topics.parse(msg.topic).ident == "cam-1"
        assert decode(Channel.EVENT, msg.payload) == ev
    finally:
        pub.close()
        sub.close()


def test_last_will_is_published_retained_when_a_board_dies(
    broker: MosquittoProcess, topics: Topics
):
    state_topic = topics.device("cam-2", Channel.STATE)
    board = connect(
        broker.ports[0], "cam-2", will=(state_topic, encode(State(status="offline")), 1, True)
    )
    board.publish(state_topic, encode(State(status="online", ts=1)), retain=True)
    # Drop the TCP connection without DISCONNECT, as a power cut would.
    board.client.socket().close()
    board.client.loop_stop()
    late = connect(broker.ports[0], "late-subscriber")
    try:
        late.subscribe(state_topic)
        msg = wait_for(lambda: _last_state(late), 15, "offline state")
        assert msg.status == "offline"
    finally:
        late.close()


def _last_state(client):
    try:
        m = client.get(timeout=0.2)
    except AssertionError:
        return None
    st = decode(Channel.STATE, m.payload)
    return st if st.status == "offline" else None


def test_password_broker_accepts_only_known_users(broker_auth: MosquittoProcess):
    port = broker_auth.ports[0]
    ok = connect(port, "alice-1", username="alice", password="correct horse")
    ok.close()
    wrong = connect(port, "alice-2", username="alice", password="wrong", expect_success=False)
    anon = connect(port, "anon", expect_success=False)
    for refused in (wrong, anon):
        assert not refused.connected.is_set()
        assert refused.connect_rc is not None and refused.connect_rc.is_failure
        refused.close()


def test_tls_device_writes_only_its_own_topics(
    broker_tls: MosquittoProcess, test_pki: PkiFixture, topics: Topics
):
    port = broker_tls.ports[0]
    centre = connect(port, "coordinator", tls=test_pki.client("coordinator"))
    cam = connect(port, "cam-7", tls=test_pki.client("cam-7"))
    try:
        centre.subscribe(topics.filter(Channel.EVENT))
        # Publishing as another device is refused by the ACL and never delivered.
        rc = cam.publish(topics.device("cam-8", Channel.EVENT), encode(sample_event(dev="cam-8")))
        assert rc is not None and rc.value == NOT_AUTHORIZED
        own = sample_event(dev="cam-7")
        rc = cam.publish(topics.device("cam-7", Channel.EVENT), encode(own))
        assert rc is not None and not rc.is_failure
        first = centre.get()
        assert decode(Channel.EVENT, first.payload) == own  # the forged one never arrived
        # Mosquitto grants any SUBACK but filters delivery by the ACL's read rights:
        # a board subscribed to another board's config, or to all events, gets none of it.
        cam.subscribe(topics.device("cam-8", Channel.CONFIG))
        cam.subscribe(topics.filter(Channel.EVENT))
        cam.subscribe(topics.device("cam-7", Channel.CONFIG))
        centre.publish(topics.device("cam-8", Channel.CONFIG), b"for-cam-8")
        centre.publish(topics.device("cam-7", Channel.EVENT), b"an-event")
        centre.publish(topics.device("cam-7", Channel.CONFIG), b"for-cam-7")
        got = cam.get()
        assert (got.topic, got.payload) == (topics.device("cam-7", Channel.CONFIG), b"for-cam-7")
    finally:
        cam.close()
        centre.close()


def test_tls_refuses_missing_foreign_and_revoked_certificates(
    broker_tls: MosquittoProcess, test_pki: PkiFixture, tmp_path: Path
):
    port = broker_tls.ports[0]
    no_cert = connect(port, "cam-x", tls=_ca_only(test_pki), expect_success=False)
    assert not no_cert.connected.is_set()
    no_cert.close()

    other = make_pki(tmp_path / "other-ca")
    foreign = other.client("cam-9")
    foreign_client = connect(
        port,
        "cam-9",
        tls=type(foreign)(test_pki.ca_bundle, foreign.cert, foreign.key),
        expect_success=False,
    )
    assert not foreign_client.connected.is_set()
    foreign_client.close()

    files = test_pki.client("cam-10")
    good = connect(port, "cam-10", tls=files)
    good.close()
    test_pki.revoke(files.cert)
    broker_tls.reload()

    # The CRL is reread on SIGHUP; new connections with the revoked certificate fail.
    def refused() -> bool:
        c = connect(port, "cam-10", tls=files, expect_success=False)
        ok = not c.connected.is_set()
        c.close()
        return ok

    wait_for(refused, 10, "revoked certificate refused")


def _ca_only(test_pki: PkiFixture):
    from tests.harness.mqtt import TlsFiles

    return TlsFiles(ca=test_pki.ca_bundle)


def test_broken_config_gives_a_clear_error(tmp_path: Path):
    cfg = BrokerConfig(tmp_path, [PlainListener(1)])  # port 1: not ours to bind
    cfg.listeners[0].host = "203.0.113.1"  # an address this machine does not have
    with pytest.raises(BrokerError, match="mosquitto"):
        MosquittoProcess(cfg).start(timeout=5)
