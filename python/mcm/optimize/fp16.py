"""FP16 conversion of weights and compute, with FP32 inputs and outputs kept. ONNX Runtime's CPU execution
provider has few FP16 kernels: there it is a storage saving, so the result is flagged size-only."""

from __future__ import annotations

import warnings
from pathlib import Path

import onnx

from mcm.optimize import graph
from mcm.optimize.base import Applied, Artifact, need_onnx

NAME = "fp16"
SIZE_ONLY = (
    "size only on the CPU execution provider: FP16 runs through casts or FP32 kernels, no speed-up expected"
)


def apply(input_path: Path, out_dir: Path) -> Applied:
    """Write ``out_dir/model.onnx``: ``input_path`` in FP16 with FP32 inputs and outputs."""
    from onnxruntime.transformers.float16 import convert_float_to_float16  # type: ignore[import-untyped]

    need_onnx(input_path, NAME)
    model = graph.load(input_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        converted = convert_float_to_float16(model, keep_io_types=True)
    out = out_dir / "model.onnx"
    onnx.save(graph.toposort(converted), str(out))
    return Applied(
        NAME,
        Artifact(out),
        ("weights and compute in FP16, inputs and outputs kept FP32",),
        notes=(SIZE_ONLY,),
    )
