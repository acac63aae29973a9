"""The general detectors on real footage and photographs, and their accelerator load paths.

The street clip is ``vtest.avi`` from Debian's ``opencv-doc`` package (people walking on a
campus road, filmed from a first floor, 768x576): ``make system-deps`` installs it. The
photographs ship inside scikit-image. This is a test, not a benchmark: it fails when a
change blinds the default detector, it does not measure how good it is.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from skimage import data

from edge_agent.config import AgentConfig
from edge_agent.detectors import ModelError, build_detector
from edge_agent.detectors import litert as litert_mod
from edge_agent.postprocess import iou_matrix
from tests.harness.footage import street_frames

FRAMES = (0, 120, 240, 360)


@pytest.fixture(scope="module")
def street() -> list[np.ndarray]:
    """A few real frames of the street clip, as RGB."""
    return street_frames(FRAMES)


@pytest.fixture(scope="module")
def default_detector(default_model: Path):
    """The detector a board gets from a config that does not name one."""
    cfg = AgentConfig.model_validate({"device_id": "cam-t", "source": {"kind": "synthetic"}})
    d = cfg.detector
    assert cfg.model_path() == default_model
    return build_detector(
        d.kind, cfg.model_path(), threads=1, min_score=d.min_score, thresholds=d.thresholds
    )


def test_default_detector_is_nanodet_not_the_pose_model(default_detector) -> None:
    assert default_detector.name == "nanodet"
    assert "nanodet" in default_detector.model_version


def test_default_detector_finds_the_people_walking_in_a_real_street_clip(
    default_detector, street
) -> None:
    counts = []
    for rgb in street:
        dets = default_detector.detect(rgb)
        people = [d for d in dets if d.label == "person"]
        counts.append(len(people))
        for p in people:
            x1, y1, x2, y2 = p.box
            # walkers seen from a first floor: small, upright boxes inside the frame
            assert 0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1
            assert (y2 - y1) > (x2 - x1) * 576 / 768
    # 3-7 people are visible on each of these frames
    assert min(counts) >= 3 and sum(counts) >= 16, counts


def test_default_detector_sees_the_parked_car_as_a_vehicle(default_detector, street) -> None:
    vehicles = [d for rgb in street for d in default_detector.detect(rgb) if d.label == "vehicle"]
    assert vehicles and all(v.subtype in {"car", "truck", "bus"} for v in vehicles)
    # parked at the top right of the view
    assert all(v.box[0] > 0.7 and v.box[3] < 0.3 for v in vehicles)


def test_letterbox_keeps_boxes_where_they_are_on_a_wider_frame(default_detector, street) -> None:
    # The same scene on a 2:1 canvas (black bars left and right): the people must be found
    # at the same place once the boxes are mapped back.
    rgb = street[0]
    h, w = rgb.shape[:2]
    wide = np.zeros((h, 2 * w, 3), np.uint8)
    wide[:, w // 2 : w // 2 + w] = rgb
    base = [d.box for d in default_detector.detect(rgb) if d.label == "person"]
    moved = [
        ((x1 * 2 - 0.5), y1, (x2 * 2 - 0.5), y2)
        for x1, y1, x2, y2 in (d.box for d in default_detector.detect(wide) if d.label == "person")
    ]
    assert len(base) >= 3 and moved
    best = iou_matrix(np.array(moved), np.array(base)).max(axis=1)
    assert np.median(best) > 0.6, best


@pytest.mark.parametrize(
    ("photo", "want"),
    [
        ("astronaut", [("person", None)]),
        ("motorcycle", [("vehicle", "motorcycle")]),
        ("coffee", []),
        ("chelsea", []),
        ("rocket", []),
    ],
)
def test_real_photographs(default_detector, photo, want) -> None:
    img = data.stereo_motorcycle()[0] if photo == "motorcycle" else getattr(data, photo)()
    got = [(d.label, d.subtype) for d in default_detector.detect(img)]
    assert got == want


def test_centernet_and_the_light_ssd_find_people_in_the_street_clip(
    centernet_model, ssd_oid_model, street
) -> None:
    thresholds = {"person": 0.4}
    for kind, model in (("centernet", centernet_model), ("ssd_oid", ssd_oid_model)):
        det = build_detector(kind, model, threads=1, thresholds=thresholds)
        counts = [sum(d.label == "person" for d in det.detect(rgb)) for rgb in street]
        assert min(counts) >= 2, (kind, counts)


# --- accelerator load paths (the hardware cannot exist here: only its library is faked) ---


def test_jetson_providers_fall_back_to_the_cpu_and_say_so(default_model) -> None:
    said: list[str] = []
    det = build_detector(
        "nanodet", default_model, threads=1, providers=["tensorrt", "cuda", "cpu"], log=said.append
    )
    assert det.providers() == ["CPUExecutionProvider"]
    assert said and "tensorrt" in said[0] and "cuda" in said[0]
    assert det.detect(data.astronaut())[0].label == "person"


def test_tensorrt_is_requested_first_with_an_engine_cache(default_model, monkeypatch) -> None:
    import onnxruntime as ort

    real = ort.InferenceSession
    asked: list[object] = []

    def session(path, so, providers):
        asked.append(providers)
        return real(path, so, providers=["CPUExecutionProvider"])

    monkeypatch.setattr(
        ort,
        "get_available_providers",
        lambda: ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"],
    )
    monkeypatch.setattr(ort, "InferenceSession", session)
    build_detector("nanodet", default_model, providers=["tensorrt", "cuda", "cpu"])
    (providers,) = asked
    assert isinstance(providers, list)
    trt, cuda, cpu = providers
    assert trt[0] == "TensorrtExecutionProvider"
    assert trt[1]["trt_engine_cache_path"] == str(default_model.parent / "trt-cache")
    assert (cuda, cpu) == ("CUDAExecutionProvider", "CPUExecutionProvider")


def test_coral_delegate_missing_falls_back_to_the_cpu(ssd_oid_model, monkeypatch) -> None:
    interpreter, _ = litert_mod._interpreter_class()

    def no_stick(lib: str):
        raise ValueError(f"Failed to load delegate from {lib}")

    monkeypatch.setattr(litert_mod, "_interpreter_class", lambda: (interpreter, no_stick))
    said: list[str] = []
    det = build_detector("ssd_oid", ssd_oid_model, edgetpu=True, log=said.append)
    assert "running on the CPU" in said[0]
    assert [d.label for d in det.detect(data.astronaut())] == ["person"]


def test_coral_compiled_model_without_the_stick_is_refused(tmp_path, monkeypatch) -> None:
    src = Path(__file__).parent / "fixtures" / "tiny_ssd_tf1.tflite"
    compiled = tmp_path / "m_edgetpu.tflite"
    compiled.write_bytes(src.read_bytes() + litert_mod.EDGETPU_OP)
    interpreter, _ = litert_mod._interpreter_class()

    def no_stick(lib: str):
        raise ValueError("no EdgeTPU found")

    monkeypatch.setattr(litert_mod, "_interpreter_class", lambda: (interpreter, no_stick))
    with pytest.raises(ModelError, match="EdgeTPU delegate could not be loaded"):
        build_detector("ssd", compiled, edgetpu=True)


def test_coral_delegate_is_handed_to_the_interpreter(ssd_oid_model, monkeypatch) -> None:
    made: dict[str, object] = {}
    delegate = object()

    class FakeInterpreter:  # stands in for the EdgeTPU-backed interpreter
        def __init__(self, model_path, num_threads, experimental_delegates):
            made.update(path=model_path, threads=num_threads, delegates=experimental_delegates)

        def allocate_tensors(self) -> None:
            pass

    monkeypatch.setattr(
        litert_mod, "_interpreter_class", lambda: (FakeInterpreter, lambda lib: delegate)
    )
    litert_mod.load_interpreter(ssd_oid_model, threads=1, edgetpu=True)
    assert made == {"path": str(ssd_oid_model), "threads": 1, "delegates": [delegate]}
