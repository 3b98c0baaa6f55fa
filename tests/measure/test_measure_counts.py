"""FLOPs / MACs and parameter counts: published figures for standard architectures, and hand-counted graphs.

Published figures (224×224, 1000 classes): ResNet-18 11.69 M parameters and 1.82 G multiply-adds (He et al.;
torchvision lists "1.81 GFLOPS", which are MACs); MobileNetV2 3.50 M parameters and 0.30 G multiply-adds
(Sandler et al., 300 M). Both counters must land within 2%, and report FLOPs = 2 × MACs.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from archs import Bert, bert_macs, mobilenet_v2, resnet18
from onnx import helper

from conftest import RunCli, save_graph, tensor, weight
from mcm.measure import flops, params

PUBLISHED = {"resnet18": (resnet18, 11.69e6, 1.82e9), "mobilenet_v2": (mobilenet_v2, 3.50e6, 0.30e9)}
TOLERANCE = 0.02


def within(value: float, published: float) -> bool:
    return abs(value - published) / published <= TOLERANCE


@pytest.mark.parametrize("arch", sorted(PUBLISHED))
def test_torch_counter_matches_published_figures(arch: str) -> None:
    build, n_params, n_macs = PUBLISHED[arch]
    with torch.device("meta"):
        model = build().eval()
    counted = flops.count_torch(model, (torch.empty(1, 3, 224, 224, device="meta"),), 1)
    p = params.count_tensors(model.parameters(), "torch")
    assert within(counted.macs_per_sample, n_macs), counted.macs_per_sample
    assert counted.to_dict()["flops_per_sample"] == 2 * counted.macs_per_sample
    assert within(p.count, n_params), p.count


@pytest.mark.parametrize("arch", sorted(PUBLISHED))
def test_onnx_counter_matches_published_figures(arch: str, tmp_path: Path) -> None:
    build, n_params, n_macs = PUBLISHED[arch]
    path = _export_fast(build().eval(), tmp_path / f"{arch}.onnx")
    model = onnx.load(str(path), load_external_data=False)
    counted = flops.count_onnx(model, {"x": (1, 3, 224, 224)}, 1)
    p = params.count_onnx(model)
    assert counted.uncounted == []
    assert within(counted.macs_per_sample, n_macs), counted.macs_per_sample
    assert within(p.count, n_params), p.count
    with torch.device("meta"):
        meta = build().eval()
    assert counted.macs == flops.count_torch(meta, (torch.empty(1, 3, 224, 224, device="meta"),), 1).macs


@pytest.mark.slow
@pytest.mark.parametrize("arch", sorted(PUBLISHED))
def test_onnx_counter_on_the_dynamo_export(arch: str, tmp_path: Path) -> None:
    build, n_params, n_macs = PUBLISHED[arch]
    program = torch.onnx.export(
        build().eval(),
        (torch.randn(2, 3, 224, 224),),
        dynamo=True,
        external_data=False,
        dynamic_shapes=({0: torch.export.Dim("batch")},),
        verbose=False,
    )
    assert program is not None
    model = program.model_proto
    name = model.graph.input[0].name
    counted = flops.count_onnx(model, {name: (4, 3, 224, 224)}, 4)
    assert counted.uncounted == [] and within(counted.macs_per_sample, n_macs)
    assert within(params.count_onnx(model).count, n_params)


def test_a_transformer_exported_with_run_time_shapes_is_counted_exactly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A BERT-base layer exported as transformers' models export (batch and sequence dynamic, token types gathered
    from a buffer): ONNX shape inference alone leaves the batch unknown and the projections uncounted; ONNX
    Runtime's symbolic shape inference gives the analytic count at each sequence length."""
    ids, mask = torch.randint(0, 30522, (2, 128)), torch.ones(2, 128, dtype=torch.int64)
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq", max=512)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            Bert(layers=1).eval(),
            (ids, mask),
            dynamo=True,
            external_data=False,
            dynamic_shapes=({0: batch, 1: seq}, {0: batch, 1: seq}),
            verbose=False,
        )
    assert program is not None
    model = program.model_proto
    for length in (128, 64):
        counted = flops.count_onnx(model, {"input_ids": (1, length), "attention_mask": (1, length)}, 1)
        assert counted.macs == bert_macs(1, length) and counted.uncounted == []
        assert "symbolic" in counted.counter and counted.incomplete is None
    monkeypatch.setattr(flops, "_symbolic", lambda model: None)  # as without ONNX Runtime
    partial = flops.count_onnx(model, {"input_ids": (1, 128), "attention_mask": (1, 128)}, 1)
    assert 0 < partial.macs < bert_macs(1, 128)
    assert partial.incomplete is not None and "MatMul" in partial.incomplete


def test_onnx_runtimes_symbolic_inference_still_has_the_steps_mcm_runs() -> None:
    """flops._symbolic runs SymbolicShapeInference's steps itself (its public infer_shapes writes files into the
    working directory): fail loudly, not with quietly uncounted models, if ONNX Runtime renames them."""
    from onnxruntime.tools.symbolic_shape_infer import SymbolicShapeInference

    inference = SymbolicShapeInference(2**31 - 1, True, False, 0)
    for name in ("_preprocess", "_infer_impl", "_update_output_from_vi", "run_"):
        assert hasattr(inference, name), name


def test_the_demo_counts_agree_across_counters() -> None:
    from mcm import demo
    from mcm.demo.model import build

    model, (example,) = build()
    by_torch = flops.count_torch(model, (example,), 1)
    by_onnx = flops.count_onnx(onnx.load(str(demo.ONNX_PATH)), {"x": (1, 1, 8, 8)}, 1)
    assert by_torch.macs == by_onnx.macs == 456_704


def test_hand_counted_operators(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], pads=[1, 1, 1, 1]),  # 8×3×3×3 on 16×16 → 8×16×16
        helper.make_node("Conv", ["c1", "w2"], ["c2"], group=8, pads=[1, 1, 1, 1]),  # depthwise 3×3
        helper.make_node("ConvTranspose", ["c2", "wt"], ["up"], strides=[2, 2]),  # 8 → 4 channels, 2×2
        helper.make_node("Flatten", ["up"], ["f"]),
        helper.make_node("Gemm", ["f", "g"], ["y"], transB=1),
        helper.make_node("MatMul", ["a", "b"], ["m"]),  # batched 3×(5×6 @ 6×7)
    ]
    path = save_graph(
        tmp_path / "ops.onnx",
        nodes,
        [tensor("x", [1, 3, 16, 16]), tensor("a", [3, 5, 6]), tensor("b", [3, 6, 7])],
        [tensor("y", [1, 10]), tensor("m", [3, 5, 7])],
        [
            weight("w1", [8, 3, 3, 3]),
            weight("w2", [8, 1, 3, 3]),
            weight("wt", [8, 4, 2, 2]),
            weight("g", [10, 4 * 32 * 32]),
        ],
    )
    c = flops.count_onnx(onnx.load(str(path)), {}, 1)
    conv = 8 * 16 * 16 * 3 * 9
    depthwise = 8 * 16 * 16 * 1 * 9
    transpose = (8 * 16 * 16) * 4 * 4
    gemm = 10 * 4 * 32 * 32
    matmul = 3 * 5 * 7 * 6
    assert c.by_op == {"Conv": conv + depthwise, "ConvTranspose": transpose, "Gemm": gemm, "MatMul": matmul}
    assert (
        c.macs == conv + depthwise + transpose + gemm + matmul
        and c.to_dict()["flops_per_sample"] == 2 * c.macs_per_sample
    )
    assert c.zero_by_convention == {"Flatten": 1}


def test_lstm_macs(tmp_path: Path) -> None:
    seq, batch, inp, hidden = 5, 2, 3, 4
    node = helper.make_node("LSTM", ["x", "w", "r"], ["", "h"], hidden_size=hidden)
    path = save_graph(
        tmp_path / "lstm.onnx",
        [node],
        [tensor("x", [seq, batch, inp])],
        [tensor("h", [1, batch, hidden])],
        [weight("w", [1, 4 * hidden, inp]), weight("r", [1, 4 * hidden, hidden])],
    )
    c = flops.count_onnx(onnx.load(str(path)), {}, batch)
    assert c.macs == seq * batch * 4 * hidden * (inp + hidden)


def test_what_cannot_be_counted_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nodes = [
        helper.make_node("Einsum", ["x", "x"], ["e"], equation="ij,ij->i"),
        helper.make_node("Relu", ["x"], ["r"]),
        helper.make_node("MatMul", ["r", "dyn"], ["m"]),
    ]
    path = save_graph(
        tmp_path / "odd.onnx",
        nodes,
        [tensor("x", [2, 3]), tensor("dyn", [3, "n"])],
        [tensor("e", [2]), tensor("m", [2, "n"])],
    )
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)  # ONNX Runtime's own infer_shapes would write its half-inferred model here
    c = flops.count_onnx(onnx.load(str(path)), {"x": (2, 3)}, 1)
    assert list(work.iterdir()) == []
    assert c.incomplete is not None and "MatMul" in c.incomplete
    reasons = {u["op"]: u["reason"] for u in c.uncounted}
    assert reasons == {"Einsum": "no MAC formula for Einsum", "MatMul": "shape unknown after shape inference"}
    assert c.zero_by_convention == {"Relu": 1}


def test_onnx_params_exclude_statistics_and_shape_constants(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"]),
        helper.make_node("BatchNormalization", ["c", "scale", "bias", "mean", "var"], ["b"]),
        helper.make_node("Reshape", ["b", "shape"], ["y"]),
    ]
    shape = onnx.numpy_helper.from_array(np.array([1, -1], np.int64), "shape")
    path = save_graph(
        tmp_path / "bn.onnx",
        nodes,
        [tensor("x", [1, 2, 4, 4])],
        [tensor("y", [1, 48])],
        [
            weight("w", [3, 2, 1, 1]),
            weight("scale", [3]),
            weight("bias", [3]),
            weight("mean", [3]),
            weight("var", [3]),
            shape,
        ],
    )
    p = params.count_onnx(onnx.load(str(path)))
    assert p.count == 6 + 3 + 3
    assert p.excluded == {"statistics and quantization parameters": 6, "int64 constants": 2}


def _export_fast(model: torch.nn.Module, path: Path) -> Path:
    """The TorchScript-based exporter: a second where the dynamo one takes several (see the slow test)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (torch.randn(1, 3, 224, 224),),
            str(path),
            dynamo=False,
            input_names=["x"],
            dynamic_axes={"x": {0: "batch"}},
        )
    return path


def test_counts_only_counts_and_says_the_rest_was_not_measured(run_cli: RunCli) -> None:
    import json

    rc, out, err = run_cli(["measure", "demo", "--counts", "--format", "json"])
    assert rc == 0, err
    report = json.loads(out)
    assert set(report["metrics"]) == {"flops_g", "macs_g", "model_size_mb", "params_m"}
    assert report["metrics"]["params_m"] == pytest.approx(0.019178)
    for name in ("latency_ms", "throughput_qps", "memory_mb", "nan_inf_count", "error_rate", "output_std"):
        assert "counts only (--counts)" in report["unavailable"][name], name
