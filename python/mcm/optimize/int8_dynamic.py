"""Dynamic INT8 quantization of MatMul/Gemm weights only (activations quantized at run time). It belongs to
Linear-heavy models; on convolutions it runs several times slower on CPUs, so Conv is never touched."""

from __future__ import annotations

import warnings
from pathlib import Path

from mcm.exceptions import OptimizeError
from mcm.optimize import graph
from mcm.optimize.base import Applied, Artifact, need_onnx, quiet

NAME = "int8_dynamic"
OPS = ("MatMul", "Gemm")


def apply(input_path: Path, out_dir: Path) -> Applied:
    """Write ``out_dir/model.onnx``: the MatMul/Gemm weights of ``input_path`` in INT8."""
    from onnxruntime.quantization import QuantType, quantize_dynamic  # type: ignore[import-untyped]

    need_onnx(input_path, NAME)
    counts = graph.op_counts(graph.load(input_path))
    targets = sum(counts[op] for op in OPS)
    if targets == 0:
        raise OptimizeError(f"{NAME}: {input_path.name} has no MatMul or Gemm to quantize")
    out = out_dir / "model.onnx"
    with warnings.catch_warnings(), quiet():
        warnings.simplefilter("ignore")
        quantize_dynamic(
            str(input_path), str(out), op_types_to_quantize=list(OPS), weight_type=QuantType.QInt8
        )
    summary = graph.int8_summary(graph.runtime_op_counts(out))
    return Applied(
        NAME,
        Artifact(out),
        (
            f"dynamic INT8 on {targets} MatMul/Gemm ops (convolutions left in FP32)",
            f"in the optimized graph: {summary['int8_ops']} INT8 compute ops, "
            f"{summary['float_ops']} left in floating point",
        ),
        checks=summary,
    )
