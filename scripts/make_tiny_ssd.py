"""Build the tiny SSD test models in tests/edge_agent/fixtures/ (our own, a few KB each).

Each is a real TFLite flatbuffer ending in the standard ``TFLite_Detection_PostProcess``
op (boxes, classes, scores, count — what Coral and common NVR models output). The input
is a 2x2 RGB image; each pixel is one anchor (a quadrant of the frame) and its three
channels are that anchor's background / class-1 / class-2 scores after the usual
(x/127.5 - 1) input normalisation. So a bright-green top-left pixel "detects" class 1 in
the top-left quadrant: tests control detections exactly through ordinary images.

Two variants differ only in output order and names, like TF1 and TF2 exports:
``tiny_ssd_tf1.tflite`` (boxes, classes, scores, count; TFLite_Detection_PostProcess:N)
and ``tiny_ssd_tf2.tflite`` (scores, boxes, count, classes; StatefulPartitionedCall:N).
Needs the ``tflite`` (generated schema builders) and ``flatbuffers`` packages:
``pip install tflite flatbuffers`` then ``python scripts/make_tiny_ssd.py``.
"""

from __future__ import annotations

from pathlib import Path

import flatbuffers
import numpy as np
from flatbuffers import flexbuffers

OUT = Path(__file__).resolve().parent.parent / "tests" / "edge_agent" / "fixtures"
FLOAT32, INT32 = 0, 2  # tflite TensorType
RESHAPE, CUSTOM = 22, 32  # tflite BuiltinOperator
MAX_DET = 4


def _vec(b: flatbuffers.Builder, start, items, prepend) -> int:
    start(b, len(items))
    for it in reversed(items):
        prepend(it)
    return b.EndVector()


def build(order: list[str], names: dict[str, str]) -> bytes:
    """One model: RESHAPE(image) → class scores; PostProcess(boxes, scores, anchors)."""
    import importlib

    # tflite/__init__ re-exports each class under its module's name: load the modules.
    Buf, Mdl, Op, OpCode, Sg, Ten = (
        importlib.import_module(f"tflite.{m}")
        for m in ("Buffer", "Model", "Operator", "OperatorCode", "SubGraph", "Tensor")
    )

    b = flatbuffers.Builder(4096)
    anchors = np.array(  # (ycenter, xcenter, h, w): the four quadrants
        [
            [0.25, 0.25, 0.5, 0.5],
            [0.25, 0.75, 0.5, 0.5],
            [0.75, 0.25, 0.5, 0.5],
            [0.75, 0.75, 0.5, 0.5],
        ],
        dtype=np.float32,
    )
    consts = {
        "shape": np.array([1, 4, 3], dtype=np.int32),
        "box_encodings": np.zeros((1, 4, 4), dtype=np.float32),  # boxes = anchors
        "anchors": anchors,
    }
    # tensors: 0 image, 1 shape, 2 class_predictions, 3 box_encodings, 4 anchors, 5..8 outputs
    tensors = [
        ("image", [1, 2, 2, 3], FLOAT32, None),
        ("shape", [3], INT32, "shape"),
        ("class_predictions", [1, 4, 3], FLOAT32, None),
        ("box_encodings", [1, 4, 4], FLOAT32, "box_encodings"),
        ("anchors", [4, 4], FLOAT32, "anchors"),
        (names["boxes"], [1, MAX_DET, 4], FLOAT32, None),
        (names["classes"], [1, MAX_DET], FLOAT32, None),
        (names["scores"], [1, MAX_DET], FLOAT32, None),
        (names["count"], [1], FLOAT32, None),
    ]
    out_index = {"boxes": 5, "classes": 6, "scores": 7, "count": 8}
    buffers = [b""]  # buffer 0 is the empty buffer by convention
    buf_of: dict[int, int] = {}
    for i, (_, _, _, const) in enumerate(tensors):
        if const is not None:
            buf_of[i] = len(buffers)
            buffers.append(consts[const].tobytes())
    buf_offsets = []
    for data in buffers:
        d = b.CreateByteVector(data) if data else None
        Buf.BufferStart(b)
        if d is not None:
            Buf.BufferAddData(b, d)
        buf_offsets.append(Buf.BufferEnd(b))
    ten_offsets = []
    for i, (name, shape, ttype, _) in enumerate(tensors):
        n = b.CreateString(name)
        s = _vec(b, Ten.TensorStartShapeVector, shape, b.PrependInt32)
        Ten.TensorStart(b)
        Ten.TensorAddShape(b, s)
        Ten.TensorAddType(b, ttype)
        Ten.TensorAddBuffer(b, buf_of.get(i, 0))
        Ten.TensorAddName(b, n)
        ten_offsets.append(Ten.TensorEnd(b))
    opts = flexbuffers.Dumps(
        {
            "max_detections": MAX_DET,
            "max_classes_per_detection": 1,
            "detections_per_class": MAX_DET,
            "use_regular_nms": False,
            "nms_score_threshold": 0.3,
            "nms_iou_threshold": 0.5,
            "num_classes": 2,
            "y_scale": 10.0,
            "x_scale": 10.0,
            "h_scale": 5.0,
            "w_scale": 5.0,
        }
    )
    custom = b.CreateByteVector(bytes(opts))
    ops = []
    for code, ins, outs, copts in (
        (0, [0, 1], [2], None),
        (1, [3, 2, 4], [5, 6, 7, 8], custom),
    ):
        iv = _vec(b, Op.OperatorStartInputsVector, ins, b.PrependInt32)
        ov = _vec(b, Op.OperatorStartOutputsVector, outs, b.PrependInt32)
        Op.OperatorStart(b)
        Op.OperatorAddOpcodeIndex(b, code)
        Op.OperatorAddInputs(b, iv)
        Op.OperatorAddOutputs(b, ov)
        if copts is not None:
            Op.OperatorAddCustomOptions(b, copts)
        ops.append(Op.OperatorEnd(b))
    tv = _vec(b, Sg.SubGraphStartTensorsVector, ten_offsets, b.PrependUOffsetTRelative)
    inv = _vec(b, Sg.SubGraphStartInputsVector, [0], b.PrependInt32)
    outv = _vec(b, Sg.SubGraphStartOutputsVector, [out_index[k] for k in order], b.PrependInt32)
    opv = _vec(b, Sg.SubGraphStartOperatorsVector, ops, b.PrependUOffsetTRelative)
    Sg.SubGraphStart(b)
    Sg.SubGraphAddTensors(b, tv)
    Sg.SubGraphAddInputs(b, inv)
    Sg.SubGraphAddOutputs(b, outv)
    Sg.SubGraphAddOperators(b, opv)
    sg = Sg.SubGraphEnd(b)
    pp_name = b.CreateString("TFLite_Detection_PostProcess")
    codes = []
    for builtin, cname in ((RESHAPE, None), (CUSTOM, pp_name)):
        OpCode.OperatorCodeStart(b)
        OpCode.OperatorCodeAddDeprecatedBuiltinCode(b, builtin)
        OpCode.OperatorCodeAddBuiltinCode(b, builtin)
        OpCode.OperatorCodeAddVersion(b, 1)
        if cname is not None:
            OpCode.OperatorCodeAddCustomCode(b, cname)
        codes.append(OpCode.OperatorCodeEnd(b))
    cv = _vec(b, Mdl.ModelStartOperatorCodesVector, codes, b.PrependUOffsetTRelative)
    sv = _vec(b, Mdl.ModelStartSubgraphsVector, [sg], b.PrependUOffsetTRelative)
    bv = _vec(b, Mdl.ModelStartBuffersVector, buf_offsets, b.PrependUOffsetTRelative)
    desc = b.CreateString("CityWatch tiny SSD test model")
    Mdl.ModelStart(b)
    Mdl.ModelAddVersion(b, 3)
    Mdl.ModelAddOperatorCodes(b, cv)
    Mdl.ModelAddSubgraphs(b, sv)
    Mdl.ModelAddDescription(b, desc)
    Mdl.ModelAddBuffers(b, bv)
    b.Finish(Mdl.ModelEnd(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def main() -> None:
    """Write both variants and the label file."""
    OUT.mkdir(parents=True, exist_ok=True)
    tf1 = {
        k: f"TFLite_Detection_PostProcess{s}"
        for k, s in (("boxes", ""), ("classes", ":1"), ("scores", ":2"), ("count", ":3"))
    }
    tf2 = {
        k: f"StatefulPartitionedCall:{i}"
        for k, i in (("scores", 0), ("boxes", 1), ("count", 2), ("classes", 3))
    }
    (OUT / "tiny_ssd_tf1.tflite").write_bytes(build(["boxes", "classes", "scores", "count"], tf1))
    (OUT / "tiny_ssd_tf2.tflite").write_bytes(build(["scores", "boxes", "count", "classes"], tf2))
    (OUT / "tiny_ssd_labels.txt").write_text("person\ncar\n")
    print(f"wrote {sorted(p.name for p in OUT.iterdir())} to {OUT}")


if __name__ == "__main__":
    main()
