"""Each ONNX technique on the bundled demo: a new file, what changed, the INT8 check, and clear refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort  # type: ignore[import-untyped]
import pytest

from mcm import demo
from mcm.exceptions import OptimizeError
from mcm.measure.environment import cpu
from mcm.optimize import Applied, fp16, graph, int8_dynamic, int8_static, ort_graph_opt, tensorrt


def _accuracy(path: Path) -> float:
    with np.load(demo.EVAL_PATH) as z:
        x, y = z["x"], z["y"]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return float((session.run(None, {"x": x})[0].argmax(axis=1) == y).mean())


def _int8(out: Path, calib: Path | None = demo.CALIB_PATH) -> Applied:
    info = cpu()
    return int8_static.apply(demo.ONNX_PATH, out, calib=calib, flags=info["flags"], arch=info["arch"])


def test_int8_static_quantizes_the_demo(tmp_path: Path) -> None:
    before = demo.ONNX_PATH.read_bytes()
    applied = _int8(tmp_path)
    assert applied.model.onnx == tmp_path / "model.onnx"
    assert int(applied.checks["int8_ops"]) >= 3
    assert applied.model.onnx.stat().st_size <= 0.3 * len(before)
    assert _accuracy(demo.ONNX_PATH) - _accuracy(applied.model.onnx) <= 0.01
    assert demo.ONNX_PATH.read_bytes() == before  # the input is never modified


def test_int8_static_stops_between_calibration_batches(tmp_path: Path) -> None:
    from mcm.optimize.base import OutOfTime

    asked: list[int] = []

    def checkpoint() -> None:  # the budget is spent at the third question: inside calibration
        asked.append(1)
        if len(asked) > 2:
            raise OutOfTime(int8_static.NAME)

    flags = cpu()["flags"]
    with pytest.raises(OutOfTime):
        int8_static.apply(
            demo.ONNX_PATH, tmp_path, calib=demo.CALIB_PATH, flags=flags, arch="x86_64", checkpoint=checkpoint
        )
    assert len(asked) == 3 and not list(tmp_path.iterdir())  # its temporary directory is gone too


def test_int8_static_refuses_without_calibration(tmp_path: Path) -> None:
    with pytest.raises(OptimizeError, match="calibration data") as e:
        _int8(tmp_path, calib=None)
    assert e.value.hint == "pass --calib FILE.npz"
    assert not list(tmp_path.iterdir())


def test_int8_static_refuses_calibration_that_does_not_fit(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    np.savez(bad, a=np.zeros((4, 1, 8, 8), np.float32), b=np.zeros((4, 3), np.float32))
    with pytest.raises(OptimizeError, match="the model takes"):
        _int8(tmp_path, calib=bad)


@pytest.mark.parametrize(
    ("flags", "arch", "types"),
    [
        ({"avx2": True, "avx512_vnni": True}, "x86_64", ("U8", "S8", False)),
        ({"avx2": True}, "x86_64", ("U8", "S8", True)),
        ({"asimd": True, "asimddp": True}, "aarch64", ("S8", "S8", False)),
    ],
)
def test_int8_types_follow_the_cpu(flags: dict[str, bool], arch: str, types: tuple[str, str, bool]) -> None:
    chosen = int8_static.choose_types(flags, arch)
    assert (chosen.activation, chosen.weight, chosen.reduce_range) == types


def test_only_ungrouped_shallow_convolutions_stay_in_fp32() -> None:
    """A 1-channel first layer stays FP32; a depthwise 3×3 (depth 9 too) and a narrow 1×1 between INT8 layers are
    quantized with their neighbours."""
    from onnx import TensorProto, helper, numpy_helper

    def conv(name: str, x: str, w: np.ndarray, group: int) -> tuple[object, object]:
        init = numpy_helper.from_array(w.astype(np.float32), f"{name}.w")
        return helper.make_node(
            "Conv", [x, init.name], [name], name=name, group=group, pads=[1, 1, 1, 1]
        ), init

    first, w1 = conv("first", "x", np.ones((8, 1, 3, 3)), 1)
    depthwise, w2 = conv("depthwise", "first", np.ones((8, 1, 3, 3)), 8)
    pointwise, w3 = conv("pointwise", "depthwise", np.ones((16, 8, 1, 1)), 1)
    model = helper.make_model(
        helper.make_graph(
            [first, depthwise, pointwise],
            "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 8, 8])],
            [helper.make_tensor_value_info("pointwise", TensorProto.FLOAT, None)],
            [w1, w2, w3],
        )
    )
    assert int8_static._shallow_convs(model) == {"first": 9}


def test_int8_dynamic_leaves_convolutions_alone(tmp_path: Path) -> None:
    applied = int8_dynamic.apply(demo.ONNX_PATH, tmp_path)
    counts = graph.op_counts(graph.load(applied.model.onnx))
    assert counts["ConvInteger"] == 0 and counts["Conv"] == 3
    assert counts["MatMulInteger"] + counts["DynamicQuantizeLinear"] >= 1


def test_fp16_is_flagged_size_only(tmp_path: Path) -> None:
    applied = fp16.apply(demo.ONNX_PATH, tmp_path)
    assert applied.notes == (fp16.SIZE_ONLY,)
    assert applied.model.onnx.stat().st_size < 0.6 * demo.ONNX_PATH.stat().st_size
    assert _accuracy(applied.model.onnx) >= _accuracy(demo.ONNX_PATH) - 0.01


def test_ort_graph_opt_fuses(tmp_path: Path) -> None:
    applied = ort_graph_opt.apply(demo.ONNX_PATH, tmp_path)
    assert int(applied.checks["nodes_after"]) < int(applied.checks["nodes_before"])
    assert _accuracy(applied.model.onnx) == _accuracy(demo.ONNX_PATH)


@pytest.mark.parametrize("technique", [ort_graph_opt, int8_dynamic, fp16, tensorrt])
def test_techniques_refuse_a_model_they_cannot_take(technique: object, tmp_path: Path) -> None:
    with pytest.raises(OptimizeError, match="takes an ONNX model"):
        technique.apply(demo.WEIGHTS_PATH, tmp_path)  # type: ignore[attr-defined]


def test_tensorrt_says_why_it_is_unavailable(tmp_path: Path) -> None:
    reason = tensorrt.unavailable_reason()
    if reason is None:
        pytest.skip("TensorRT is available here")
    with pytest.raises(OptimizeError, match="unavailable: "):
        tensorrt.apply(demo.ONNX_PATH, tmp_path)


def test_a_graph_onnx_runtime_cannot_load_is_a_reason(tmp_path: Path) -> None:
    from onnx import TensorProto, helper

    node = helper.make_node("NoSuchOp", ["x"], ["y"], domain="com.example")
    graph_proto = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    model = helper.make_model(
        graph_proto, opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("com.example", 1)]
    )
    path = tmp_path / "odd.onnx"
    path.write_bytes(model.SerializeToString())
    with pytest.raises(OptimizeError, match=r"odd\.onnx: ONNX Runtime cannot load it"):
        graph.runtime_op_counts(path)
