"""PyTorch → ONNX: one file (no external data), every input of ``forward`` under its own name with a free batch
dimension, the exporter's stack traces dropped."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from mcm.exceptions import OptimizeError
from mcm.optimize.base import quiet


def to_onnx(module: Any, example: Any, out_dir: Path) -> Path:
    """Export ``module`` (eval mode) called on ``example`` (one tensor or array, or a sequence of them in
    ``forward``'s order) to
    ``out_dir/model.onnx``; inputs are named after ``forward``'s parameters and share one dynamic batch
    dimension; a single output is named ``output``."""
    import onnx
    import torch

    from mcm.measure.loader import as_tensors
    from mcm.measure.torch_runner import forward_names

    example = as_tensors(example)
    if not example:
        raise OptimizeError(
            "export to ONNX needs example inputs", hint="return (module, example) from the factory"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / "model.onnx"
    names = forward_names(module.forward)
    names += [f"input_{i}" for i in range(len(names), len(example))]
    # batch 2: export specializes a dimension of size 1
    args = tuple(t.expand(2, *t.shape[1:]).contiguous() if t.shape[0] == 1 else t for t in example)
    batch = torch.export.Dim("batch")
    module = module.eval()
    with torch.no_grad():
        single = isinstance(module(*args), torch.Tensor)
    try:
        with warnings.catch_warnings(), quiet("torch.onnx"), quiet("onnxscript"):
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                module,
                args,
                dynamo=True,
                external_data=False,
                input_names=names[: len(args)],
                output_names=["output"] if single else None,
                dynamic_shapes=tuple({0: batch} for _ in args),
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
