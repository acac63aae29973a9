"""Models reach boards the way firmware does: built once at the centre, served, verified.

A real coordinator (HTTP + MQTT), a real Mosquitto from the generated config, real
enrolment and real ``edge-agent run`` subprocesses. The board side runs with no node or
npm on PATH: it only downloads the finished file (signed with its key) and checks it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import onnx
import pytest
import yaml

from coordinator.cli import main as coordinator_main
from modelkit.build import NANODET, sha256_file
from provisioning.api import Coordinator
from tests.harness.agents import AgentProcess, start_agent
from tests.harness.enrolment import enroll_board
from tests.harness.field import FieldEnv
from tests.harness.mqtt import wait_for


@pytest.fixture
def agents() -> Iterator[list[AgentProcess]]:
    """Agents a test started; any still running at the end are killed."""
    started: list[AgentProcess] = []
    yield started
    for a in started:
        if a.proc.poll() is None:
            a.proc.kill()
            a.proc.wait(10)


@pytest.fixture
def no_node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PATH without node or npm (nor anything else): the board needs neither."""
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("npm") is None and shutil.which("node") is None


def _build_store(env: FieldEnv, model: Path, tmp: Path) -> None:
    """``coordinator models build nanodet`` on the centre's settings (the npm package's
    converted output is already there from the model cache, so the build verifies it)."""
    store = env.services.camrules.models.directory
    store.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(model, store / NANODET.name)
    conf = tmp / "centre.yaml"
    conf.write_text(f"data_dir: {env.services.settings.data_dir}\ndev_mode: true\n")
    assert coordinator_main(["models", "build", "nanodet", "--settings", str(conf)]) == 0
    assert env.services.camrules.models.ref("nanodet").sha256 == NANODET.sha256


def _variant(model: Path, out: Path) -> Path:
    """A loadable NanoDet file with other bytes (another build of the same network)."""
    m = onnx.load(str(model))
    m.doc_string = "an older build"
    onnx.save(m, str(out))
    assert sha256_file(out) != NANODET.sha256
    return out


def _steps(res: dict) -> dict[str, dict]:
    return {s["step"]: s for s in res["steps"]}


def test_a_board_enrolled_before_the_centre_has_models_runs_its_own(
    field_env: FieldEnv, tech: Coordinator, tmp_path: Path, no_node: None
):
    res = enroll_board(field_env, tech, tmp_path / "b0", "cam-md-0", source_kind="synthetic")
    step = _steps(res)["install model"]
    assert (
        res["ok"] and step["status"] == "skipped" and "coordinator models build" in step["detail"]
    )
    assert not (tmp_path / "b0" / "model.json").exists()


def test_enrolment_installs_the_served_model_with_no_node_or_npm(
    field_env: FieldEnv,
    tech: Coordinator,
    tmp_path: Path,
    default_model: Path,
    no_node: None,
    agents,
):
    _build_store(field_env, default_model, tmp_path)
    bundle = tmp_path / "b1"
    res = enroll_board(field_env, tech, bundle, "cam-md-1", source_kind="synthetic")
    assert res["ok"], res["steps"]
    assert _steps(res)["install model"]["status"] == "ok"
    active = json.loads((bundle / "models" / "active.json").read_text())["nanodet"]
    assert active["sha256"] == NANODET.sha256
    assert sha256_file(bundle / "models" / active["file"]) == NANODET.sha256
    agent = start_agent(bundle / "agent.yaml", tmp_path / "a1.log")
    agents.append(agent)
    cams = field_env.services.camrules
    st = wait_for(
        lambda: (s := cams.status("cam-md-1"))["model_sha256"] and s["model_named"] and s,
        60,
        "the board reports its model and the centre names one",
    )
    assert st["config_level"] == 3 and st["detector"] == "nanodet"
    assert st["model_sha256"] == st["model_named"] == NANODET.sha256 and not st["model_drift"]
    assert agent.stop() == 0
    assert "installed" not in agent.text()  # it already ran the model the centre names


def test_a_board_swaps_to_the_model_the_centre_names(
    field_env: FieldEnv,
    tech: Coordinator,
    tmp_path: Path,
    default_model: Path,
    no_node: None,
    agents,
):
    _build_store(field_env, default_model, tmp_path)
    bundle = tmp_path / "b2"
    res = enroll_board(field_env, tech, bundle, "cam-md-2", source_kind="synthetic")
    assert res["ok"], res["steps"]
    # The board runs an older build of its own (as firmware shipped before the centre had one).
    shutil.rmtree(bundle / "models")
    old = _variant(default_model, tmp_path / "older.onnx")
    cfg = yaml.safe_load((bundle / "agent.yaml").read_text())
    cfg["detector"]["model"] = str(old)
    (bundle / "agent.yaml").write_text(yaml.safe_dump(cfg))
    agent = start_agent(bundle / "agent.yaml", tmp_path / "a2.log")
    agents.append(agent)
    cams = field_env.services.camrules
    wait_for(
        lambda: cams.status("cam-md-2")["model_sha256"] == NANODET.sha256,
        90,
        "the board downloaded, verified and swapped to the named model",
    )
    st = cams.status("cam-md-2")
    assert st["model_named"] == NANODET.sha256 and not st["model_drift"] and not st["model_error"]
    assert "installed" in agent.text()
    active = json.loads((bundle / "models" / "active.json").read_text())["nanodet"]
    assert active["sha256"] == NANODET.sha256
    assert sha256_file(old) != NANODET.sha256  # its own file is left as it was
    assert agent.stop() == 0


def test_only_an_enrolled_board_signing_with_its_own_key_gets_a_model(
    field_env: FieldEnv, tech: Coordinator, tmp_path: Path, default_model: Path
):
    import time

    import httpx
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from edge_agent.model_update import BoardSigner

    _build_store(field_env, default_model, tmp_path)
    bundle = tmp_path / "b3"
    assert enroll_board(field_env, tech, bundle, "cam-md-3", source_kind="synthetic")["ok"]
    url = f"{field_env.url}/api/enrolment/models/{NANODET.name}"
    board = BoardSigner("cam-md-3", bundle / "device.crt", bundle / "device.key")
    stranger_key = tmp_path / "other.key"
    stranger_key.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with httpx.Client(timeout=30) as http:
        got = http.get(url, headers=board.headers(NANODET.name))
        assert got.status_code == 200 and len(got.content) == default_model.stat().st_size
        # Another key with the board's certificate; an old request; another board's name.
        forged = BoardSigner("cam-md-3", bundle / "device.crt", stranger_key)
        assert http.get(url, headers=forged.headers(NANODET.name)).status_code == 401
        stale = board.headers(NANODET.name, now=time.time() - 3600)
        assert http.get(url, headers=stale).status_code == 401
        other = {**board.headers(NANODET.name), "X-CW-Device": "cam-md-1"}
        assert http.get(url, headers=other).status_code == 401
        assert http.get(url).status_code == 422  # no credentials at all
        missing = f"{field_env.url}/api/enrolment/models/centernet-mbv3-512.onnx"
        assert (
            http.get(missing, headers=board.headers("centernet-mbv3-512.onnx")).status_code == 404
        )
        # Revoked: its signature is still valid, but the board is not enrolled any more.
        tech_admin = Coordinator(field_env.url)
        try:
            from tests.harness.field import ADMIN_PASSWORD

            tech_admin.login("admin-wang", ADMIN_PASSWORD)
            tech_admin.request("POST", "/api/enrolment/devices/cam-md-3/revoke", {})
        finally:
            tech_admin.close()
        assert http.get(url, headers=board.headers(NANODET.name)).status_code == 401
