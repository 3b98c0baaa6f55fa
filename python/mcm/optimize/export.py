"""PyTorch → ONNX: one file (no external data), every input of ``forward`` under its own name with a free batch
dimension (``batch``) and, for integer ``[batch, sequence]`` inputs (token ids, masks, token types, positions), a
free sequence length (``sequence``) that they share; the exporter's stack traces dropped.

A model whose export fixes the length (a reshape to a constant size, say) is exported again with only the batch
free, and :attr:`Exported.notes` says so."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcm.exceptions import OptimizeError
from mcm.measure.inputs import InputSpec, ShapeArg
from mcm.optimize.base import quiet

if TYPE_CHECKING:
    from onnx import ModelProto


@dataclass(frozen=True)
class Exported:
    """What :func:`export` wrote: the ONNX file, each input's example shape under its ONNX name (as ``--shape``
    takes it: what fills the free sequence length when nothing else does), and what to tell the user."""

    path: Path
    shapes: tuple[ShapeArg, ...]
    notes: tuple[str, ...] = ()


def to_onnx(module: Any, example: Any, out_dir: Path) -> Path:
    """:func:`export`'s ONNX file."""
    return export(module, example, out_dir).path


def export(module: Any, example: Any, out_dir: Path) -> Exported:
    """Export ``module`` (eval mode) called on ``example`` (one tensor or array, or a sequence of them in
    ``forward``'s order) to ``out_dir/model.onnx``; inputs are named after ``forward``'s parameters and share one
    dynamic batch dimension, and the inputs :func:`mcm.measure.inputs.sequence_inputs` picks share one dynamic
    sequence length; a single output is named ``output``."""
    import torch

    from mcm.measure.inputs import SEQUENCE, sequence_inputs
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
    names = (names + [f"input_{i}" for i in range(len(names), len(example))])[: len(example)]
    shapes = tuple(ShapeArg(n, tuple(t.shape)) for n, t in zip(names, example, strict=True))
    sequence = sequence_inputs(
        [
            InputSpec(n, str(t.dtype).removeprefix("torch."), tuple(t.shape))
            for n, t in zip(names, example, strict=True)
        ]
    )
    # batch 2: export specializes a dimension of size 1 (sequence_inputs leaves a length of 1 fixed)
    args = tuple(t.expand(2, *t.shape[1:]).contiguous() if t.shape[0] == 1 else t for t in example)
    module = module.eval()
    with torch.no_grad():
        single = isinstance(module(*args), torch.Tensor)
    batch = torch.export.Dim("batch")
    only_batch: list[dict[int, Any]] = [{0: batch} for _ in names]
    if not sequence:
        _save(_export(module, args, names, single, only_batch), out)
        return Exported(out, shapes)
    length = torch.export.Dim(SEQUENCE)
    axes = [{0: batch, 1: length} if n in sequence else {0: batch} for n in names]
    try:
        model = _export(module, args, names, single, axes)
    except OptimizeError:  # exported again with only the batch free, which raises if the model cannot export
        model = None
    if model is not None and all(_is_free(model, name, 1) for name in sequence):
        _save(model, out)
        return Exported(out, shapes)
    _save(_export(module, args, names, single, only_batch), out)
    fixed = dict(zip(names, example, strict=True))[sequence[0]].shape[1]
    note = (
        f"exported with the sequence length fixed at {fixed} ({', '.join(sequence)}): the model does not export "
        "with it free (a reshape to a fixed size, say)"
    )
    return Exported(out, shapes, (note,))


def _export(
    module: Any, args: tuple[Any, ...], names: list[str], single: bool, axes: list[dict[int, Any]]
) -> ModelProto:
    """The ONNX model of ``module`` on ``args`` with the dynamic ``axes`` of each input."""
    import torch

    try:
        with warnings.catch_warnings(), quiet("torch.onnx"), quiet("onnxscript"):
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                module,
                args,
                dynamo=True,
                external_data=False,
                input_names=names,
                output_names=["output"] if single else None,
                dynamic_shapes=tuple(axes),
                verbose=False,
            )
    except Exception as e:  # the exporter raises many types
        raise OptimizeError(f"export to ONNX failed: {str(e).splitlines()[0]}") from e
    if program is None:
        raise OptimizeError("export to ONNX returned no program")
    model: ModelProto = program.model_proto  # a property that builds a new proto on each access
    return model


def _is_free(model: ModelProto, name: str, axis: int) -> bool:
    """Whether input ``name`` of ``model`` has a symbolic dimension at ``axis``."""
    found = [i for i in model.graph.input if i.name == name]
    dims = found[0].type.tensor_type.shape.dim if found else []
    return len(dims) > axis and bool(dims[axis].dim_param)


def _save(model: ModelProto, out: Path) -> None:
    """Write ``model`` to ``out`` without the exporter's stack traces and metadata."""
    import onnx

    graph = model.graph
    for item in (*graph.node, *graph.input, *graph.output, *graph.value_info, *graph.initializer):
        del item.metadata_props[:]
        item.doc_string = ""
    del graph.metadata_props[:]
    onnx.save(model, str(out))
