"""PyTorch → ONNX: one file (no external data), a free batch dimension, the exporter's stack traces dropped."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from mcm.exceptions import OptimizeError
from mcm.optimize.base import quiet


def to_onnx(module: Any, example: Any, out_dir: Path) -> Path:
    """Export ``module`` (eval mode) called on ``example`` (one tensor) to ``out_dir/model.onnx``."""
    import onnx
    import torch

    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / "model.onnx"
    x = example.expand(2, *example.shape[1:]).contiguous()  # batch 2: export specializes a size-1 dimension
    try:
        with warnings.catch_warnings(), quiet("torch.onnx"):
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                module.eval(),
                (x,),
                dynamo=True,
                external_data=False,
                input_names=["x"],
                output_names=["logits"],
                dynamic_shapes=({0: torch.export.Dim("batch")},),
                verbose=False,
            )
    except Exception as e:  # the exporter raises many types
        raise OptimizeError(f"export to ONNX failed: {str(e).splitlines()[0]}") from e
    if program is None:
        raise OptimizeError("export to ONNX returned no program")
    model = program.model_proto  # a property that builds a new proto on each access
    graph = model.graph
    for item in (*graph.node, *graph.input, *graph.output, *graph.value_info, *graph.initializer):
        del item.metadata_props[:]
        item.doc_string = ""
    del graph.metadata_props[:]
    onnx.save(model, str(out))
    return out
