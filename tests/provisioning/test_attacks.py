"""The attack matrix, against a real TLS Mosquitto started from ``provision broker-config``'s
output and a real coordinator API. Every attempt must be denied while a legitimate board
(``cam-legit``) stays connected and its events keep reaching the centre. The matrix is
printed at the end of the run (see conftest.pytest_terminal_summary)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization

from protocol import Channel, decode, encode
from provisioning import pki
from provisioning.api import ApiError, Coordinator
from provisioning.ca import init_ca, load_issuing
from tests.harness.enrolment import enroll_board
from tests.harness.field import ADMIN_PASSWORD, TECH_PASSWORD, FieldEnv
from tests.harness.mqtt import MqttTestClient, TlsFiles, connect, wait_for
from tests.harness.samples import sample_event

NOT_AUTHORIZED = 0x87
MATRIX: list[tuple[str, str, str]] = []  # (attack, outcome, legit board)
_seq = itertools.count(1)


@pytest.fixture(scope="module")
def legit(field_env: FieldEnv, tmp_path_factory) -> Iterator[tuple[MqttTestClient, MqttTestClient]]:
    """The legitimate board, connected for the whole module, and a centre event reader."""
    with Coordinator(field_env.url) as api:
        api.login("tech-li", TECH_PASSWORD)
        bundle = tmp_path_factory.mktemp("legit")
        assert enroll_board(field_env, api, bundle, "cam-legit")["ok"]
    centre = field_env.connect_service("centre-2")
    centre.subscribe(field_env.topics.filter(Channel.EVENT))
    board = field_env.connect_board(bundle)
    yield board, centre
    board.close()
    centre.close()


@pytest.fixture(scope="module")
def evil_bundle(field_env: FieldEnv, tmp_path_factory) -> Path:
    """A stolen-but-valid board: properly enrolled, then used to attack."""
    with Coordinator(field_env.url) as api:
        api.login("tech-li", TECH_PASSWORD)
        bundle = tmp_path_factory.mktemp("evil")
        assert enroll_board(field_env, api, bundle, "cam-evil")["ok"]
    return bundle


def legit_still_works(env: FieldEnv, legit: tuple[MqttTestClient, MqttTestClient]) -> str:
    """The legit board is still connected and a fresh event of its reaches the centre."""
    board, centre = legit
    assert board.connected.is_set(), "the legitimate board was disconnected"
    ev = sample_event(dev="cam-legit", seq=next(_seq))
    rc = board.publish(env.topics.device("cam-legit", Channel.EVENT), encode(ev))
    assert rc is not None and not rc.is_failure
    wait_for(lambda: _got(centre, ev.id), 10, "legit event at the centre")
    return "kept working"


def _got(centre: MqttTestClient, event_id: str) -> bool:
    while True:
        try:
            m = centre.get(timeout=0.2)
        except AssertionError:
            return False
        if m.topic.endswith("/event") and decode(Channel.EVENT, m.payload).id == event_id:
            return True


def record(attack: str, outcome: str, env: FieldEnv, legit) -> None:  # noqa: ANN001
    """Check the legit board, then add the row to the matrix."""
    MATRIX.append((attack, outcome, legit_still_works(env, legit)))


def _refused(port: int, tls: TlsFiles, cid: str = "x") -> bool:
    c = connect(port, cid, tls=tls, expect_success=False)
    ok = not c.connected.is_set()
    c.close()
    return ok


# --- enrolment tokens -------------------------------------------------------------------


def _csr(device_id: str) -> str:
    return pki.make_csr(pki.new_key(), device_id).public_bytes(serialization.Encoding.PEM).decode()


REG = dict(
    owner_org="x",
    owner_type="community",
    lat=29.3,
    lon=120.1,
    heading=0,
    zone="Z1",
    profile="raspberry-pi-5",
)


def _enrol(env: FieldEnv, token: str, device_id: str) -> httpx.Response:
    return httpx.post(
        f"{env.url}/api/enrolment/enrol", json={"token": token, "csr": _csr(device_id), **REG}
    )


def test_expired_token_is_refused(field_env: FieldEnv, tech: Coordinator, legit):
    tok = tech.enrolment_token("cam-late")
    assert tok["ttl_s"] == 300  # default lifetime: 5 minutes
    svc = field_env.enrolment
    real = svc.clock
    svc.clock = lambda: real() + 301  # the technician waited 5 min 1 s
    try:
        r = _enrol(field_env, tok["token"], "cam-late")
    finally:
        svc.clock = real
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    record(
        "expired enrolment token",
        f"refused {r.status_code}: {r.json()['detail'][:40]}…",
        field_env,
        legit,
    )


def test_reused_token_is_refused(field_env: FieldEnv, tech: Coordinator, legit):
    tok = tech.enrolment_token("cam-once")["token"]
    assert _enrol(field_env, tok, "cam-once").status_code == 201
    r = _enrol(field_env, tok, "cam-once")
    assert r.status_code == 401 and "already used" in r.json()["detail"]
    record("reused enrolment token", f"refused {r.status_code}", field_env, legit)


@pytest.mark.parametrize("token", ["cwe_" + "A" * 43, "not-a-token", "", "cwe_" + "x" * 200])
def test_forged_token_is_refused(field_env: FieldEnv, token, legit):
    r = _enrol(field_env, token, "cam-forged")
    assert r.status_code in (401, 422)
    assert (
        field_env.services.db.query("select 1 from enrolments where device_id = 'cam-forged'") == []
    )
    record(f"forged enrolment token {token[:12]!r}", f"refused {r.status_code}", field_env, legit)


def test_token_is_stored_hashed_and_bound_to_the_technician(field_env: FieldEnv, tech: Coordinator):
    tok = tech.enrolment_token("cam-bound")
    rows = field_env.services.db.query("select * from enrol_tokens where device_id = 'cam-bound'")
    assert rows and tok["token"] not in str(rows[0]) and rows[0]["issued_by_name"] == "tech-li"


def test_token_of_a_disabled_technician_is_refused(field_env: FieldEnv, legit):
    field_env.services.auth.create_user("tech-gone", TECH_PASSWORD, ["technician"])
    with Coordinator(field_env.url) as api:
        api.login("tech-gone", TECH_PASSWORD)
        tok = api.enrolment_token("cam-orphan")["token"]
    field_env.services.db.execute_write("update users set active = 0 where username = 'tech-gone'")
    r = _enrol(field_env, tok, "cam-orphan")
    assert r.status_code == 401 and "disabled" in r.json()["detail"]
    record("token of a disabled technician", f"refused {r.status_code}", field_env, legit)


def test_csr_for_another_id_is_refused_and_token_kept(
    field_env: FieldEnv, tech: Coordinator, legit
):
    tok = tech.enrolment_token("cam-assigned")["token"]
    r = _enrol(field_env, tok, "cam-legit")  # a CSR claiming the legitimate board's identity
    assert r.status_code == 422 and "differs from the assigned device id" in r.json()["detail"]
    assert _enrol(field_env, tok, "cam-assigned").status_code == 201  # token was not burnt
    record("CSR with CN ≠ assigned id", f"refused {r.status_code}", field_env, legit)


@pytest.mark.parametrize("bad_id", ["cam+1", "#", "cam/1", "+", "$SYS", "a b"])
def test_wildcards_in_ids_are_refused_at_enrolment(tech: Coordinator, bad_id, field_env, legit):
    with pytest.raises(ApiError) as exc:
        tech.enrolment_token(bad_id)
    assert exc.value.status == 422
    record(f"device id {bad_id!r} at enrolment", "refused 422", field_env, legit)


# --- the broker ---------------------------------------------------------------------------


def test_no_certificate_is_refused(field_env: FieldEnv, legit):
    assert _refused(field_env.device_port, TlsFiles(ca=field_env.ca_dir / "ca-bundle.pem"))
    record("no client certificate", "TLS handshake refused", field_env, legit)


def test_certificate_from_another_ca_is_refused(field_env: FieldEnv, tmp_path, legit):
    other = tmp_path / "other-ca"
    init_ca(other)
    rogue = pki.issue(load_issuing(other), "cam-legit")  # same CN as the legit board
    files = _write(tmp_path, "rogue", rogue, load_issuing(other), field_env)
    assert _refused(field_env.device_port, files, "cam-legit")
    record("certificate from another CA (CN = legit id)", "TLS handshake refused", field_env, legit)


def test_expired_certificate_is_refused(field_env: FieldEnv, tmp_path, legit):
    issuing = load_issuing(field_env.ca_dir)
    now = dt.datetime.now(dt.UTC)
    key = pki.new_key()
    cert = pki.sign_leaf(
        issuing, key.public_key(), "cam-expired",
        not_before=now - dt.timedelta(days=400), not_after=now - dt.timedelta(days=1),
    )  # fmt: skip
    files = _write(tmp_path, "expired", pki.CertAndKey(cert, key), issuing, field_env)
    assert _refused(field_env.device_port, files)
    record("expired certificate", "TLS handshake refused", field_env, legit)


def _write(
    tmp: Path, name: str, ck: pki.CertAndKey, issuing: pki.CertAndKey, env: FieldEnv
) -> TlsFiles:
    pki.write_pem(tmp / f"{name}.crt", ck.cert, issuing.cert)
    pki.write_private_key(tmp / f"{name}.key", ck.key)
    return TlsFiles(
        ca=env.ca_dir / "ca-bundle.pem", cert=tmp / f"{name}.crt", key=tmp / f"{name}.key"
    )


def test_publishing_to_another_devices_topic_is_refused(field_env: FieldEnv, evil_bundle, legit):
    evil = field_env.connect_board(evil_bundle)
    try:
        for ch in (Channel.EVENT, Channel.STATE, Channel.CONFIG):
            rc = evil.publish(
                field_env.topics.device("cam-legit", ch), encode(sample_event(dev="cam-legit"))
            )
            assert rc is not None and rc.value == NOT_AUTHORIZED, ch
        rc = evil.publish(field_env.topics.unit("car-1", Channel.POSITION), b"{}")
        assert rc is not None and rc.value == NOT_AUTHORIZED
    finally:
        evil.close()
    record(
        "publish to another board's / a unit's topics",
        "PUBACK 0x87 not authorised",
        field_env,
        legit,
    )


def test_subscribing_to_other_devices_topics_gets_nothing(field_env: FieldEnv, evil_bundle, legit):
    evil = field_env.connect_board(evil_bundle)
    ops = field_env.connect_service("ops")
    try:
        for flt in (
            "#",
            "cw/v1/dev/+/event",
            "cw/v1/dev/cam-legit/config",
            "cw/v1/dev/cam-legit/snapshot/req",
            "$SYS/#",
        ):
            evil.subscribe(flt)
        ops.publish(field_env.topics.device("cam-legit", Channel.CONFIG), b"secret-config")
        ops.publish(field_env.topics.device("cam-legit", Channel.SNAPSHOT_REQ), b"req")
        legit_still_works(field_env, legit)  # a legit event flows while evil listens
        with pytest.raises(AssertionError, match="no message"):
            m = evil.get(timeout=1.0)
            raise RuntimeError(f"evil board received {m.topic}")
    finally:
        ops.close()
        evil.close()
    record(
        "subscribe to #, dev/+/event, another board's config", "nothing delivered", field_env, legit
    )


def test_client_id_takeover_is_impossible(field_env: FieldEnv, evil_bundle, legit):
    # A board asking for the legit board's client id gets its own (CN) instead.
    evil = field_env.connect_board(evil_bundle, client_id="cam-legit")
    # So does a patrol unit on the services' listener.
    unit = field_env.connect_service("car-1", client_id="cam-legit")
    try:
        assert legit[0].connected.is_set()
        rc = evil.publish(field_env.topics.device("cam-evil", Channel.HEALTH), b"x", qos=1)
        assert rc is not None and not rc.is_failure  # evil is connected as itself
    finally:
        unit.close()
        evil.close()
    assert "as cam-legit" not in field_env.broker.log_text().split("cam-evil")[-1]
    record(
        "client-id takeover (board and patrol unit ask for cam-legit)",
        "got own id; legit kept",
        field_env,
        legit,
    )


def test_wildcard_common_name_gets_no_access(field_env: FieldEnv, tmp_path, legit):
    """A certificate with CN '+' or '#' (as if the CA were misused) reads and writes nothing."""
    issuing = load_issuing(field_env.ca_dir)
    ops = field_env.connect_service("ops")
    try:
        for cn in ("+", "#"):
            files = _write(tmp_path, "wild", pki.issue(issuing, cn), issuing, field_env)
            c = connect(field_env.device_port, "w", tls=files, expect_success=False)
            if c.connected.is_set():
                c.subscribe("cw/v1/dev/+/config")
                c.subscribe("cw/v1/dev/cam-legit/config")
                ops.publish(field_env.topics.device("cam-legit", Channel.CONFIG), b"cfg")
                rc = c.publish(field_env.topics.device("cam-legit", Channel.EVENT), b"x")
                assert rc is not None and rc.value == NOT_AUTHORIZED
                with pytest.raises(AssertionError, match="no message"):
                    c.get(timeout=1.0)
            c.close()
    finally:
        ops.close()
    record("certificate CN '+' / '#' (pattern ACL abuse)", "no read, no write", field_env, legit)


def test_revoked_board_is_dropped_while_legit_keeps_working(
    field_env: FieldEnv, tech, tmp_path, legit
):
    bundle = tmp_path / "thief"
    assert enroll_board(field_env, tech, bundle, "cam-thief")["ok"]
    thief = field_env.connect_board(bundle)
    try:
        with Coordinator(field_env.url) as admin:
            admin.login("admin-wang", ADMIN_PASSWORD)
            out = admin.request("POST", "/api/enrolment/devices/cam-thief/revoke", {"reason": "t"})
        wait_for(thief.disconnected.is_set, 60, "revoked board dropped")
        assert out["session_dropped"] and "broker_error" not in out
        tls = TlsFiles(bundle / "ca-bundle.pem", bundle / "device.crt", bundle / "device.key")
        assert _refused(field_env.device_port, tls, "cam-thief")
    finally:
        thief.close()
    record(
        "revoked certificate (live session + reconnect)",
        f"dropped in {out['disconnected_ms']:.0f} ms; reconnect refused",
        field_env,
        legit,
    )


def test_one_token_raced_by_two_boards_enrols_exactly_one(field_env: FieldEnv, tech, legit):
    from concurrent.futures import ThreadPoolExecutor

    tok = tech.enrolment_token("cam-race")["token"]
    with ThreadPoolExecutor(4) as pool:
        codes = sorted(pool.map(lambda _: _enrol(field_env, tok, "cam-race").status_code, range(4)))
    assert codes == [201, 401, 401, 401]
    certs = field_env.services.db.query("select 1 from device_certs where device_id = 'cam-race'")
    assert len(certs) == 1
    record("one token used by 4 boards at once", "1 enrolled, 3 refused 401", field_env, legit)
