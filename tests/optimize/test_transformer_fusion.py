"""ONNX Runtime's transformer optimizer as a technique, and dynamic INT8 after it: a BERT-shaped model exported by
the TorchScript exporter (as optimum exports) fuses attention; one exported by dynamo has nothing the session does
not fuse itself, and is skipped with that reason."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import onnxruntime as ort  # type: ignore[import-untyped]
import pytest
import torch

from mcm.exceptions import OptimizeError
from mcm.optimize import export, graph, int8_dynamic, ort_transformer_opt

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "measure"))
import archs

SEQ = 16


def _bert() -> tuple[torch.nn.Module, tuple[torch.Tensor, torch.Tensor]]:
    torch.manual_seed(0)
    module = archs.Bert(layers=2, hidden=64, heads=4, intermediate=128).eval()
    ids = torch.randint(1000, 30522, (1, SEQ))
    return module, (ids, torch.ones_like(ids))


@pytest.fixture(scope="module")
def torchscript_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The model as optimum and ``torch.onnx.export(dynamo=False)`` write it."""
    module, example = _bert()
    path = tmp_path_factory.mktemp("ts") / "bert.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            example,
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=["output"],
            dynamic_axes={name: {0: "batch", 1: "sequence"} for name in ("input_ids", "attention_mask")},
            opset_version=17,
            dynamo=False,
        )
    return path


def _run(path: Path, ids: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0])


def _ids(batch: int = 3) -> np.ndarray:
    return np.random.default_rng(1).integers(1000, 30522, (batch, SEQ)).astype(np.int64)


def test_the_transformer_optimizer_fuses_attention_of_a_torchscript_export(
    torchscript_export: Path, tmp_path: Path
) -> None:
    applied = ort_transformer_opt.apply(torchscript_export, tmp_path)
    counts = graph.op_counts(graph.load(applied.model.onnx))
    assert counts["Attention"] == 2 and counts["EmbedLayerNormalization"] == 1
    assert applied.checks["Attention"] == 2
    assert "2 Attention" in applied.changes[0]
    np.testing.assert_allclose(_run(applied.model.onnx, _ids()), _run(torchscript_export, _ids()), atol=1e-4)


def test_dynamic_int8_quantizes_a_fused_graph(torchscript_export: Path, tmp_path: Path) -> None:
    fused = ort_transformer_opt.apply(torchscript_export, tmp_path / "fused").model.onnx
    (tmp_path / "int8").mkdir()
    applied = int8_dynamic.apply(fused, tmp_path / "int8")
    assert "8 MatMul/Gemm/Attention ops and 3 embedding tables" in applied.changes[0]  # fused ones too
    assert applied.checks["int8_ops"] >= 8 and applied.checks["float_ops"] == 0
    ops = graph.op_counts(graph.load(applied.model.onnx))
    assert ops["QAttention"] == 2 and ops["Attention"] == 0  # the fused attention's weights in INT8 too
    reference, quantized = _run(torchscript_export, _ids()), _run(applied.model.onnx, _ids())
    assert np.abs(quantized - reference).mean() < 0.1 * np.abs(reference).mean()


def test_a_dynamo_export_has_nothing_more_to_fuse(tmp_path: Path) -> None:
    module, example = _bert()
    path = export.to_onnx(module, example, tmp_path / "dynamo")
    with pytest.raises(OptimizeError, match="nothing to fuse that ONNX Runtime does not fuse itself") as e:
        ort_transformer_opt.apply(path, tmp_path / "out")
    assert "TorchScript exporter" in (e.value.hint or "")
    assert not (tmp_path / "out" / "model.onnx").exists()


def test_optimize_measures_the_fusion_as_a_candidate(torchscript_export: Path, tmp_path: Path) -> None:
    from mcm.optimize.loop import Options, run

    rules = (Path(__file__).resolve().parents[2] / "rules",)
    options = Options(
        model=str(torchscript_export),
        rules=rules,
        out=tmp_path / "out",
        scenario="mobile",  # size is core: dynamic INT8's 4x smaller file is kept whatever its speed
        only=("ort_transformer_opt", "int8_dynamic"),
        shapes=(f"input_ids=1x{SEQ}", f"attention_mask=1x{SEQ}"),
        min_time=0.03,
        min_count=10,
    )
    result = run(options, lambda line: None)
    first, fused = (c for c in result.candidates if "int8_dynamic" in c.chain)
    assert first.chain == ("int8_dynamic",) and first.status == "kept", first.reason  # tried first, kept
    # the fusion needs the float graph: it goes before the quantization, which is applied again on top
    assert fused.chain == ("ort_transformer_opt", "int8_dynamic")
    assert fused.status in {"kept", "rejected"}, fused.reason  # measured, then judged on its paired interval
    assert fused.applied[0].checks["Attention"] == 2
    (published,) = (tmp_path / "out" / "candidates").glob("*-ort_transformer_opt/int8_dynamic/model.onnx")
    ops = graph.op_counts(graph.load(published))
    assert ops["QAttention"] == 2
