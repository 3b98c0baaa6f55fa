"""Static INT8 quantization (QDQ, per-channel weights) calibrated on real inputs.

Types follow the CPU: on x86, unsigned activations with signed weights (the U8S8 kernels; signed activations fused
poorly there), with 7-bit weights (``reduce_range``) where there is no VNNI to avoid saturating the 16-bit
accumulation; on ARM, signed both. A first layer with a shallow reduction (input channels × kernel area below
:data:`SHALLOW_DEPTH`, reading the model input) stays in FP32: it costs little, and the INT8 kernel cannot
amortize its quantize and pack overhead over so few products (measured 5× slower than FP32 on the demo's first
layer). Afterwards the operators ONNX Runtime really runs in INT8 are counted: a quantization that left
every convolution in floating point is refused, not reported as done.

Pre-processing (``quant_pre_process``: shape inference and constant folding, what lets ONNX Runtime fuse the QDQ
pairs) is retried without symbolic shape inference when that gives up, as it does on transformer graphs
(FIELD-NOTES). A failure of pre-processing or quantization is an :class:`OptimizeError` with the library's reason,
never a traceback. Every intermediate file lives in a temporary directory inside ``out_dir``, removed whatever
happens; ONNX Runtime's pre-processing runs with that directory as the current one, because its symbolic shape
inference saves the model it gave up on into the current directory (``sym_shape_infer_temp.onnx``, the model's size).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mcm.exceptions import OptimizeError
from mcm.measure.environment import cpu_arch, int8_dot_product
from mcm.measure.inputs import load_npz
from mcm.optimize import graph
from mcm.optimize.base import Applied, Artifact, OutOfTime, need_data, need_onnx, quiet

NAME = "int8_static"
#: Rows per calibration call.
CALIB_BATCH = 32
#: Convolutions reducing over fewer products than this per output stay in FP32.
SHALLOW_DEPTH = 32


@dataclass(frozen=True)
class Types:
    """Activation and weight types chosen for this CPU, and why."""

    activation: str
    weight: str
    reduce_range: bool
    reason: str


def choose_types(flags: Mapping[str, bool], arch: str) -> Types:
    """INT8 types for a CPU with these flags (``mcm.measure.environment.cpu()["flags"]``) and architecture."""
    vnni = int8_dot_product(flags)
    if cpu_arch(arch) == "arm64" or flags.get("asimd"):
        return Types("S8", "S8", False, "ARM: signed activations and weights (S8S8 kernels)")
    if vnni:
        return Types("U8", "S8", False, "x86 with VNNI: unsigned activations, signed 8-bit weights")
    return Types(
        "U8",
        "S8",
        True,
        "x86 without VNNI: unsigned activations, signed 7-bit weights (no 16-bit accumulation overflow)",
    )


def apply(
    input_path: Path,
    out_dir: Path,
    *,
    calib: Path | None,
    flags: Mapping[str, bool],
    arch: str,
    checkpoint: Callable[[], None] = lambda: None,
) -> Applied:
    """Write ``out_dir/model.onnx``: ``input_path`` quantized to INT8 with calibration data ``calib`` (.npz);
    ``checkpoint`` is called between stages and calibration batches (it raises to stop)."""
    need_onnx(input_path, NAME)
    calib_path = need_data(calib, NAME, "calibration data (a few hundred real inputs)", "--calib")
    model = graph.load(input_path)
    names = [i.name for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}]
    arrays = _calibration_arrays(calib_path, names)
    types = choose_types(flags, arch)
    out = out_dir / "model.onnx"
    fallback, shallow = _quantize(input_path, out, arrays, types, checkpoint)
    summary = _int8_summary(out)
    rows = next(iter(arrays.values())).shape[0]
    return Applied(
        NAME,
        Artifact(out),
        (
            f"QDQ static INT8, per-channel weights, calibrated on {rows} inputs from {calib_path.name}; "
            "saved as ONNX Runtime optimizes it at the EXTENDED level (QLinear operators)",
            f"{types.activation} activations / {types.weight} weights"
            + (" (7-bit range)" if types.reduce_range else "")
            + f": {types.reason}",
            f"in the optimized graph: {summary['int8_ops']} INT8 compute ops, "
            f"{summary['float_ops']} left in floating point",
            *(
                f"kept in FP32: {name} (reduction depth {depth} < {SHALLOW_DEPTH})"
                for name, depth in shallow.items()
            ),
        ),
        notes=() if fallback is None else (fallback,),
        checks={**summary, "activation_type": types.activation, "weight_type": types.weight},
    )


def _quantize(
    input_path: Path,
    out: Path,
    arrays: dict[str, npt.NDArray[Any]],
    types: Types,
    checkpoint: Callable[[], None],
) -> tuple[str | None, dict[str, int]]:
    """Pre-process, quantize to QDQ (shallow first convolutions kept in FP32) and save the QLinear form to
    ``out``, in a temporary directory beside it; returns the pre-processing note and the convolutions kept."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static  # type: ignore[import-untyped]

    qtype = {"U8": QuantType.QUInt8, "S8": QuantType.QInt8}
    with (
        tempfile.TemporaryDirectory(prefix=".int8-", dir=out.parent) as tmp,
        warnings.catch_warnings(),
        quiet(),
    ):
        warnings.simplefilter("ignore")
        prepared = Path(tmp).resolve() / "prepared.onnx"
        fallback = _pre_process(input_path.resolve(), prepared)
        checkpoint()
        shallow = _shallow_convs(graph.load(prepared))
        qdq = prepared.with_name("qdq.onnx")
        try:
            quantize_static(
                str(prepared),
                str(qdq),
                _reader(arrays, checkpoint),
                quant_format=QuantFormat.QDQ,
                per_channel=True,
                reduce_range=types.reduce_range,
                activation_type=qtype[types.activation],
                weight_type=qtype[types.weight],
                nodes_to_exclude=list(shallow),
            )
            checkpoint()
            # QDQ pairs folded into QLinear ops: smaller, any x86/ARM CPU
            graph.optimized(qdq, out, "extended")
        except OutOfTime:
            raise
        except Exception as e:  # the library's failure on this model: a reason, not a traceback
            raise OptimizeError(f"{NAME}: ONNX Runtime could not quantize this model ({_reason(e)})") from e
    return fallback, shallow


def _reader(arrays: dict[str, npt.NDArray[Any]], checkpoint: Callable[[], None]) -> Any:
    """A calibration data reader handing ONNX Runtime the arrays in batches of :data:`CALIB_BATCH`, calling
    ``checkpoint`` before each."""
    from onnxruntime.quantization import CalibrationDataReader

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self._batches: Iterator[dict[str, npt.NDArray[Any]]] = _batches(arrays)

        def get_next(self) -> dict[str, npt.NDArray[Any]] | None:
            checkpoint()
            return next(self._batches, None)

    return Reader()


def _int8_summary(out: Path) -> dict[str, int]:
    """The INT8 / floating-point operator counts of the saved model; refuses one with no INT8 operator."""
    summary = graph.int8_summary(graph.op_counts(graph.load(out)))
    if summary["int8_ops"] == 0:
        raise OptimizeError(
            f"{NAME}: no operator runs in INT8 after ONNX Runtime's optimization "
            f"({summary['float_ops']} stay in floating point)"
        )
    return summary


def _pre_process(model: Path, prepared: Path) -> str | None:
    """``quant_pre_process`` from ``model`` to ``prepared`` (absolute paths), run inside ``prepared``'s directory;
    retried without symbolic shape inference when that fails. Returns a note when the retry was needed."""
    from onnxruntime.quantization.shape_inference import quant_pre_process  # type: ignore[import-untyped]

    with _inside(prepared.parent):
        try:
            quant_pre_process(str(model), str(prepared))
            return None
        except Exception as first:
            try:
                quant_pre_process(str(model), str(prepared), skip_symbolic_shape=True)
            except Exception as second:
                raise OptimizeError(
                    f"{NAME}: ONNX Runtime's pre-processing failed ({_reason(first)}; "
                    f"again without symbolic shape inference: {_reason(second)})"
                ) from second
            return f"pre-processed without symbolic shape inference, which failed: {_reason(first)}"


@contextlib.contextmanager
def _inside(directory: Path) -> Iterator[None]:
    """Run a block with ``directory`` as the current directory (a library writes into the current one)."""
    before = os.getcwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(before)


def _reason(error: Exception) -> str:
    """An exception from a library, in one line: its type and the first line of its message."""
    first = str(error).strip().split("\n")[0][:200]
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def _shallow_convs(model: Any) -> dict[str, int]:
    """Conv node name → reduction depth (input channels × kernel area), for the ungrouped ones that read a model
    input directly with a depth below :data:`SHALLOW_DEPTH` (a first layer on raw pixels). Only there does FP32
    cost nothing extra: the quantize moves after the layer. A shallow layer between INT8 layers (a depthwise or
    a narrow 1×1) in FP32 would put a dequantize and a quantize around it (measured: MobileNetV2 3.5× slower)."""
    weights = {t.name: list(t.dims) for t in model.graph.initializer}
    inputs = {i.name for i in model.graph.input} - set(weights)
    shallow = {}
    for node in model.graph.node:
        dims = weights.get(node.input[1]) if node.op_type == "Conv" and len(node.input) > 1 else None
        grouped = any(a.name == "group" and a.i > 1 for a in node.attribute)
        if dims is not None and len(dims) >= 3 and not grouped and node.input[0] in inputs:
            depth = int(np.prod(dims[1:]))
            if depth < SHALLOW_DEPTH:
                shallow[node.name] = depth
    return shallow


def _calibration_arrays(path: Path, names: list[str]) -> dict[str, npt.NDArray[Any]]:
    data = load_npz(path).arrays
    if all(n in data for n in names):
        return {n: data[n] for n in names}
    if len(names) == 1 and len(data) == 1:
        return {names[0]: next(iter(data.values()))}
    raise OptimizeError(
        f"{NAME}: {path.name} holds {sorted(data)}, the model takes {names}",
        hint="name each array in the .npz after the model input it feeds",
    )


def _batches(arrays: dict[str, npt.NDArray[Any]]) -> Iterator[dict[str, npt.NDArray[Any]]]:
    rows = next(iter(arrays.values())).shape[0]
    for start in range(0, rows, CALIB_BATCH):
        yield {k: np.ascontiguousarray(v[start : start + CALIB_BATCH]) for k, v in arrays.items()}
