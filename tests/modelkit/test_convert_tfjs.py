"""The TF.js → ONNX converter: every op against a numpy reference, weights, determinism, errors.

Each test writes a tiny graph model (model.json + .bin shards) the way TF.js lays one
out, converts it, runs it on onnxruntime and compares with a direct numpy computation of
what TensorFlow defines the op to do (NHWC, SAME padding with the extra row/column at the
end, TF's resize coordinate rules).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelkit.tfjs import ConversionError, decode_weights
from modelkit.tfjs_onnx import convert, to_bytes
from tests.harness.tfjs_models import ints, node, s, write_model

RNG = np.random.default_rng(7)


def run(model_json: Path, x: np.ndarray, outputs: list[str] | None = None) -> list[np.ndarray]:
    sess = ort.InferenceSession(
        to_bytes(convert(model_json, outputs)), providers=["CPUExecutionProvider"]
    )
    return sess.run(None, {sess.get_inputs()[0].name: x.astype(np.float32)})


# --- numpy references of the TensorFlow ops ------------------------------------------


def tf_pads(size: int, k: int, stride: int, padding: str) -> tuple[int, int]:
    if padding == "VALID":
        return 0, 0
    out = -(-size // stride)
    total = max((out - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


def ref_conv(
    x: np.ndarray, w: np.ndarray, stride: int, padding: str, depthwise: bool = False
) -> np.ndarray:
    kh, kw = w.shape[:2]
    (t, b), (lf, rt) = (
        tf_pads(x.shape[1], kh, stride, padding),
        tf_pads(x.shape[2], kw, stride, padding),
    )
    xp = np.pad(x, ((0, 0), (t, b), (lf, rt), (0, 0)))
    oh, ow = (xp.shape[1] - kh) // stride + 1, (xp.shape[2] - kw) // stride + 1
    out_c = w.shape[2] * w.shape[3] if depthwise else w.shape[3]
    y = np.zeros((x.shape[0], oh, ow, out_c), np.float64)
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, i * stride : i * stride + kh, j * stride : j * stride + kw, :]
            if depthwise:
                y[:, i, j] = np.einsum("nhwc,hwcm->ncm", patch, w).reshape(x.shape[0], -1)
            else:
                y[:, i, j] = np.einsum("nhwc,hwco->no", patch, w)
    return y


def ref_maxpool(x: np.ndarray, k: int, stride: int, padding: str) -> np.ndarray:
    (t, b), (lf, rt) = (
        tf_pads(x.shape[1], k, stride, padding),
        tf_pads(x.shape[2], k, stride, padding),
    )
    xp = np.pad(x, ((0, 0), (t, b), (lf, rt), (0, 0)), constant_values=-np.inf)
    oh, ow = (xp.shape[1] - k) // stride + 1, (xp.shape[2] - k) // stride + 1
    return np.array(
        [
            [
                xp[:, i * stride : i * stride + k, j * stride : j * stride + k].max(axis=(1, 2))
                for j in range(ow)
            ]
            for i in range(oh)
        ]
    ).transpose(2, 0, 1, 3)


def ref_resize_bilinear(x: np.ndarray, oh: int, ow: int, align: bool, half: bool) -> np.ndarray:
    """TensorFlow's ResizeBilinear coordinate rules, written out."""

    def coords(out: int, inp: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        scale = (inp - 1) / (out - 1) if align and out > 1 else inp / out
        o = np.arange(out, dtype=np.float64)
        src = (o + 0.5) * scale - 0.5 if half else o * scale
        lo = np.floor(src)
        frac = src - lo
        lo_i = np.clip(lo, 0, inp - 1).astype(int)
        hi_i = np.clip(lo + 1, 0, inp - 1).astype(int)
        lo_i = np.where(src < 0, 0, lo_i)
        frac = np.where(src < 0, 0.0, frac)
        return lo_i, hi_i, frac

    y0, y1, fy = coords(oh, x.shape[1])
    x0, x1, fx = coords(ow, x.shape[2])
    top = (
        x[:, y0][:, :, x0] * (1 - fx)[None, None, :, None]
        + x[:, y0][:, :, x1] * fx[None, None, :, None]
    )
    bot = (
        x[:, y1][:, :, x0] * (1 - fx)[None, None, :, None]
        + x[:, y1][:, :, x1] * fx[None, None, :, None]
    )
    return top * (1 - fy)[None, :, None, None] + bot * fy[None, :, None, None]


def close(got: np.ndarray, want: np.ndarray) -> None:
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


# --- ops ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "k", "stride", "padding"),
    [
        (6, 3, 2, "SAME"),
        (7, 3, 2, "SAME"),
        (6, 3, 1, "SAME"),
        (6, 2, 2, "SAME"),
        (7, 3, 2, "VALID"),
        (5, 1, 1, "VALID"),
    ],
)
def test_conv2d_matches_tensorflow_padding(tmp_path, size, k, stride, padding) -> None:
    # (6, 3, 2, SAME) pads 0 before and 1 after: the asymmetric case.
    x = RNG.normal(size=(1, size, size + 1, 3))
    w = RNG.normal(size=(k, k, 3, 4)).astype(np.float32)
    attrs = {"strides": ints(1, stride, stride, 1), "padding": s(padding), "data_format": s("NHWC")}
    m = write_model(tmp_path, [node("y", "Conv2D", "x", "w", **attrs)], {"w": w}, x.shape, ["y"])
    close(run(m, x)[0], ref_conv(x, w, stride, padding))


@pytest.mark.parametrize(
    ("fused", "act"),
    [
        (["BiasAdd"], lambda v: v),
        (["BiasAdd", "Relu"], lambda v: np.maximum(v, 0)),
        (["BiasAdd", "Relu6"], lambda v: np.clip(v, 0, 6)),
        (["BiasAdd", "LeakyRelu"], lambda v: np.where(v > 0, v, 0.1 * v)),
    ],
)
@pytest.mark.parametrize("depthwise", [False, True])
def test_fused_convolutions(tmp_path, fused, act, depthwise) -> None:
    x = RNG.normal(size=(1, 8, 8, 3)) * 3
    w = RNG.normal(size=(3, 3, 3, 2)).astype(np.float32)
    out_c = 6 if depthwise else 2
    bias = RNG.normal(size=(out_c,)).astype(np.float32)
    op = "FusedDepthwiseConv2dNative" if depthwise else "_FusedConv2D"
    attrs = {
        "strides": ints(1, 2, 2, 1),
        "padding": s("SAME"),
        "fused_ops": {"list": {"s": [s(f)["s"] for f in fused]}},
        "leakyrelu_alpha": {"f": 0.1},
    }
    m = write_model(
        tmp_path, [node("y", op, "x", "w", "b", **attrs)], {"w": w, "b": bias}, x.shape, ["y"]
    )
    close(run(m, x)[0], act(ref_conv(x, w, 2, "SAME", depthwise) + bias))


def test_depthwise_with_channel_multiplier(tmp_path) -> None:
    x = RNG.normal(size=(1, 7, 5, 4))
    w = RNG.normal(size=(3, 3, 4, 3)).astype(np.float32)
    attrs = {"strides": ints(1, 1, 1, 1), "padding": s("SAME")}
    m = write_model(
        tmp_path, [node("y", "DepthwiseConv2dNative", "x", "w", **attrs)], {"w": w}, x.shape, ["y"]
    )
    close(run(m, x)[0], ref_conv(x, w, 1, "SAME", depthwise=True))


@pytest.mark.parametrize(
    ("k", "stride", "padding"), [(3, 2, "SAME"), (3, 2, "VALID"), (3, 1, "SAME"), (2, 2, "VALID")]
)
def test_maxpool(tmp_path, k, stride, padding) -> None:
    x = RNG.normal(size=(1, 8, 9, 2))
    attrs = {
        "ksize": ints(1, k, k, 1),
        "strides": ints(1, stride, stride, 1),
        "padding": s(padding),
    }
    m = write_model(tmp_path, [node("y", "MaxPool", "x", **attrs)], {}, x.shape, ["y"])
    close(run(m, x)[0], ref_maxpool(x, k, stride, padding))


@pytest.mark.parametrize(
    ("align", "half", "size"),
    [
        (False, True, (8, 10)),
        (False, False, (8, 10)),
        (True, False, (8, 10)),
        (False, True, (3, 2)),
    ],
)
def test_resize_bilinear_coordinate_rules(tmp_path, align, half, size) -> None:
    x = RNG.normal(size=(1, 4, 5, 2))
    attrs = {"align_corners": {"b": align}, "half_pixel_centers": {"b": half}}
    consts = {"size": np.array(size, np.int32)}
    m = write_model(
        tmp_path, [node("y", "ResizeBilinear", "x", "size", **attrs)], consts, x.shape, ["y"]
    )
    close(run(m, x)[0], ref_resize_bilinear(x, *size, align, half))


X = RNG.normal(size=(1, 4, 6, 3)).astype(np.float32)
C3 = RNG.normal(size=(3,)).astype(np.float32)
ELEMENTWISE = [
    ("Add", lambda x: x + C3),
    ("AddV2", lambda x: x + C3),
    ("Sub", lambda x: x - C3),
    ("Mul", lambda x: x * C3),
]


@pytest.mark.parametrize(("op", "ref"), ELEMENTWISE)
def test_elementwise_with_broadcast_constant(tmp_path, op, ref) -> None:
    m = write_model(tmp_path, [node("y", op, "x", "c")], {"c": C3}, X.shape, ["y"])
    close(run(m, X)[0], ref(X))


@pytest.mark.parametrize(
    ("op", "attrs", "ref"),
    [
        ("Relu", {}, lambda x: np.maximum(x, 0)),
        ("Relu6", {}, lambda x: np.clip(x, 0, 6)),
        ("LeakyRelu", {"alpha": {"f": 0.2}}, lambda x: np.where(x > 0, x, 0.2 * x)),
        ("Sigmoid", {}, lambda x: 1 / (1 + np.exp(-x))),
        ("Identity", {}, lambda x: x),
    ],
)
def test_unary(tmp_path, op, attrs, ref) -> None:
    x = X * 4
    m = write_model(tmp_path, [node("y", op, "x", **attrs)], {}, x.shape, ["y"])
    close(run(m, x)[0], ref(x))


def test_pad_padv2_mean_concat_transpose(tmp_path) -> None:
    consts = {
        "p": np.array([[0, 0], [1, 2], [0, 1], [0, 0]], np.int32),
        "v": np.array(-3.0, np.float32),
        "axes": np.array([1, 2], np.int32),
        "axis": np.array(-1, np.int32),
        "perm": np.array([0, 3, 1, 2], np.int32),
    }
    nodes = [
        node("pad", "Pad", "x", "p"),
        node("pad2", "PadV2", "x", "p", "v"),
        node("mean", "Mean", "x", "axes", keep_dims={"b": True}),
        node("cat", "ConcatV2", "x", "x", "axis", N={"i": "2"}),
        node("tr", "Transpose", "x", "perm"),
    ]
    m = write_model(tmp_path, nodes, consts, X.shape, ["pad", "pad2", "mean", "cat", "tr"])
    got = run(m, X, ["pad", "pad2", "mean", "cat", "tr"])
    widths = ((0, 0), (1, 2), (0, 1), (0, 0))
    close(got[0], np.pad(X, widths))
    close(got[1], np.pad(X, widths, constant_values=-3.0))
    close(got[2], X.mean(axis=(1, 2), keepdims=True))
    close(got[3], np.concatenate([X, X], axis=-1))
    close(got[4], X.transpose(0, 3, 1, 2))


def test_split_v_reshape_and_folded_shape_arithmetic(tmp_path) -> None:
    # NanoDet computes its reshape targets from constants (SparseToDense + Cast + AddV2):
    # they must fold to numbers at conversion time.
    consts = {
        "sizes": np.array([1, -1], np.int32),
        "dim": np.array(3, np.int32),
        "idx": np.zeros((0, 1), np.int32),
        "dshape": np.array([3], np.int32),
        "dvals": np.zeros((0,), np.int32),
        "dflt": np.array(0, np.int32),
        "base": np.array([1, 24, 2], np.int32),
    }
    nodes = [
        node("sp", "SplitV", "x", "sizes", "dim", num_split={"i": "2"}),
        node("zeros", "SparseToDense", "idx", "dshape", "dvals", "dflt"),
        node("zc", "Cast", "zeros", DstT={"type": "DT_INT64"}),
        node("shape", "AddV2", "base", "zc"),
        node("r", "Reshape", "sp:1", "shape"),
    ]
    m = write_model(tmp_path, nodes, consts, X.shape, ["sp", "r"])
    got = run(m, X, ["sp", "r"])
    close(got[0], X[..., :1])
    close(got[1], X[..., 1:].reshape(1, 24, 2))


# --- weights --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quant", "tol"),
    [
        (None, 0.0),
        ({"dtype": "float16"}, 2e-3),
        ({"dtype": "uint8", "min": -2.0, "scale": 4.0 / 255}, 4.0 / 255 / 2 + 1e-6),
        ({"dtype": "uint16", "min": -2.0, "scale": 4.0 / 65535}, 1e-4),
    ],
)
@pytest.mark.parametrize("shards", [1, 3])
def test_quantised_weights_in_several_shards(tmp_path, quant, tol, shards) -> None:
    w = np.clip(RNG.normal(size=(1, 1, 3, 5)), -2, 2).astype(np.float32)
    b = np.arange(5, dtype=np.float32)
    q = {"w": quant} if quant else {}
    attrs = {
        "strides": ints(1, 1, 1, 1),
        "padding": s("VALID"),
        "fused_ops": {"list": {"s": [s("BiasAdd")["s"]]}},
    }
    m = write_model(
        tmp_path,
        [node("y", "_FusedConv2D", "x", "w", "b", **attrs)],
        {"w": w, "b": b},
        X.shape,
        ["y"],
        q,
        shards,
    )
    got = run(m, X)[0]
    np.testing.assert_allclose(got, ref_conv(X, w, 1, "VALID") + b, atol=tol * 3 * 4 + 1e-4)


def test_uint8_dequantisation_is_min_plus_scale_times_value() -> None:
    manifest = [
        {
            "weights": [
                {
                    "name": "w",
                    "shape": [3],
                    "dtype": "float32",
                    "quantization": {"dtype": "uint8", "min": -1.0, "scale": 0.5},
                }
            ]
        }
    ]
    np.testing.assert_array_equal(
        decode_weights(manifest, bytes([0, 2, 255]))["w"], [-1.0, 0.0, 126.5]
    )


def test_conversion_is_byte_identical_on_every_run(tmp_path) -> None:
    w = RNG.normal(size=(3, 3, 3, 4)).astype(np.float32)
    attrs = {"strides": ints(1, 2, 2, 1), "padding": s("SAME")}
    nodes = [node("c", "Conv2D", "x", "w", **attrs), node("y", "Sigmoid", "c")]
    m = write_model(tmp_path, nodes, {"w": w}, X.shape, ["y"], {"w": {"dtype": "float16"}})
    first = to_bytes(convert(m))
    assert all(to_bytes(convert(m)) == first for _ in range(3))


# --- errors ---------------------------------------------------------------------------


def test_unsupported_op_is_named(tmp_path) -> None:
    m = write_model(tmp_path, [node("y", "Erf", "x")], {}, X.shape, ["y"])
    with pytest.raises(ConversionError, match="unsupported op Erf"):
        convert(m)


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda p: p.write_text("{not json"), "not a readable model.json"),
        (lambda p: p.write_text(json.dumps({"format": "layers-model"})), "not a graph model"),
        (lambda p: (p.parent / "group1-shard1of1.bin").write_bytes(b"\0" * 5), "hold only 5"),
        (lambda p: (p.parent / "group1-shard1of1.bin").unlink(), "weight shard"),
        (
            lambda p: (p.parent / "group1-shard1of1.bin").write_bytes(b"\0" * 4096),
            "manifest describes",
        ),
    ],
)
def test_malformed_files_fail_clearly(tmp_path, breakage, message) -> None:
    w = RNG.normal(size=(1, 1, 3, 2)).astype(np.float32)
    m = write_model(
        tmp_path,
        [node("y", "Conv2D", "x", "w", strides=ints(1, 1, 1, 1), padding=s("VALID"))],
        {"w": w},
        X.shape,
        ["y"],
    )
    breakage(m)
    with pytest.raises(ConversionError, match=message):
        convert(m)


def test_unknown_quantisation_and_missing_output(tmp_path) -> None:
    manifest = [
        {
            "weights": [
                {"name": "w", "shape": [2], "dtype": "float32", "quantization": {"dtype": "int4"}}
            ]
        }
    ]
    with pytest.raises(ConversionError, match="unsupported quantisation"):
        decode_weights(manifest, b"\0\0")
    m = write_model(tmp_path, [node("y", "Relu", "x")], {}, X.shape, ["y"])
    with pytest.raises(ConversionError, match="not a node"):
        convert(m, ["nope"])


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    h=st.integers(3, 9),
    w=st.integers(3, 9),
    k=st.integers(1, 3),
    stride=st.integers(1, 3),
    padding=st.sampled_from(["SAME", "VALID"]),
    depthwise=st.booleans(),
)
def test_any_convolution_geometry_matches_tensorflow(tmp_path, h, w, k, stride, padding, depthwise):
    x = RNG.normal(size=(1, h, w, 2))
    filt = RNG.normal(size=(k, k, 2, 3)).astype(np.float32)
    op = "DepthwiseConv2dNative" if depthwise else "Conv2D"
    attrs = {"strides": ints(1, stride, stride, 1), "padding": s(padding)}
    m = write_model(tmp_path, [node("y", op, "x", "w", **attrs)], {"w": filt}, x.shape, ["y"])
    close(run(m, x)[0], ref_conv(x, filt, stride, padding, depthwise))
