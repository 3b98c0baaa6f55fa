"""ONNX models through ONNX Runtime: checked with the ONNX checker, run on the best execution provider present.

Providers are chosen automatically: TensorRT, then CUDA, when the build has them and an NVIDIA GPU is present,
and the CPU provider always last. The thread count is set (intra-op; inter-op 1, sequential execution) and
recorded, with the providers that were asked for, the ones that became active, and why a GPU one was not used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcm.exceptions import ModelError
from mcm.measure import flops, gpu, params, size
from mcm.measure.inputs import Dim, Feeds, InputSpec
from mcm.measure.runner import Bound, HostRunner
from mcm.measure.unavailable import Unavailable

if TYPE_CHECKING:
    import onnx

_GPU_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider")
_DTYPES = {
    "tensor(float)": "float32",
    "tensor(float16)": "float16",
    "tensor(double)": "float64",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(int16)": "int16",
    "tensor(int8)": "int8",
    "tensor(uint8)": "uint8",
    "tensor(bool)": "bool",
}


def choose_providers(available: list[str], gpu_reason: str | None) -> tuple[list[str], dict[str, str]]:
    """Providers to ask for, best first, and a note per GPU provider (``available`` or ``unavailable: why``)."""
    chosen: list[str] = []
    notes: dict[str, str] = {}
    for p in _GPU_PROVIDERS:
        if p not in available:
            notes[p] = f"unavailable: not in this onnxruntime build (it has {', '.join(available)})"
        elif gpu_reason is not None:
            notes[p] = f"unavailable: {gpu_reason}"
        else:
            chosen.append(p)
            notes[p] = "requested"
    return [*chosen, "CPUExecutionProvider"], notes


class OnnxRunner(HostRunner):
    """One ``InferenceSession`` over a checked ONNX file."""

    kind = "onnxruntime"

    def __init__(self, path: Path, *, threads: int, providers: list[str] | None = None) -> None:
        import onnx
        import onnxruntime as ort  # type: ignore[import-untyped]

        self.path = path
        self.threads = threads
        try:
            onnx.checker.check_model(str(path))
        except onnx.checker.ValidationError as e:
            raise ModelError(f"{path}: not a valid ONNX model: {_first_line(e)}") from e
        except Exception as e:  # protobuf DecodeError and friends: not an ONNX file at all
            raise ModelError(f"{path}: not a valid ONNX model (cannot parse it: {_first_line(e)})") from e
        available = ort.get_available_providers()
        gpu_list = gpu.gpus()
        gpu_reason = gpu_list.reason if isinstance(gpu_list, Unavailable) else None
        asked, self.provider_notes = choose_providers(available, gpu_reason)
        if providers is not None:
            asked = providers
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(str(path), so, providers=asked)
        except Exception as e:  # onnxruntime raises its own Fail / InvalidGraph / RuntimeException types
            raise ModelError(f"{path}: ONNX Runtime cannot load it: {_first_line(e)}") from e
        self.active = list(self._session.get_providers())
        for p in asked:
            if p in _GPU_PROVIDERS and p not in self.active:
                self.provider_notes[p] = "unavailable: requested, but ONNX Runtime could not start it"
            elif p in self.active and p in _GPU_PROVIDERS:
                self.provider_notes[p] = "active"
        self.device = "cuda:0" if any(p in _GPU_PROVIDERS for p in self.active) else "cpu"
        self._inputs = tuple(self._spec(i) for i in self._session.get_inputs())
        self._version = ort.__version__
        self._model: onnx.ModelProto | None = None
        self._with_vocab: tuple[InputSpec, ...] | None = None

    @property
    def inputs(self) -> tuple[InputSpec, ...]:
        """The signature, each integer input with the vocabulary it indexes: read from the graph on first use, and
        only for a model with integer inputs (a fresh process that only runs the model never reads the graph)."""
        if self._with_vocab is None:
            integer = [
                s.name for s in self._inputs if s.dtype is not None and s.dtype.startswith(("int", "uint"))
            ]
            rows = _vocabularies(self._graph(), integer) if integer else {}
            self._with_vocab = tuple(replace(s, ids_below=rows.get(s.name)) for s in self._inputs)
        return self._with_vocab

    def bind(self, feeds: Feeds) -> Bound:
        return self._session.run, (None, dict(feeds))

    def describe(self) -> dict[str, Any]:
        return {
            "runtime": "onnxruntime",
            "version": self._version,
            "device": self.device,
            "providers_active": self.active,
            "providers": self.provider_notes,
            "intra_op_threads": self.threads,
            "inter_op_threads": 1,
            "execution_mode": "sequential",
            "graph_optimization": "ORT_ENABLE_ALL",
            "timed_call": "InferenceSession.run(None, feeds)"
            + (" (host-device copies included)" if self.device != "cpu" else ""),
            "outputs": [
                {"name": o.name, "type": o.type, "shape": list(o.shape)} for o in self._session.get_outputs()
            ],
        }

    def files(self) -> list[Path] | Unavailable:
        return size.onnx_files(self._graph(), self.path)

    def params(self) -> params.ParamCount | Unavailable:
        return params.count_onnx(self._graph())

    def flops(self, feeds: Feeds) -> flops.FlopCount | Unavailable:
        batch = next(iter(feeds.values())).shape[0] if feeds else 1
        return flops.count_onnx(self._graph(), {k: v.shape for k, v in feeds.items()}, batch)

    def reset_gpu_peak(self) -> None:
        return None

    def gpu_peak_mb(self) -> float | Unavailable:
        if self.device == "cpu":
            return Unavailable("the model runs on the CPU")
        return Unavailable("ONNX Runtime exposes no peak-memory counter for its GPU providers")

    def _graph(self) -> onnx.ModelProto:
        """The graph without external weights, read on first use: the static counts (after the memory window) or
        :attr:`inputs` of a model with integer inputs (whose memory peak the fresh process measures)."""
        if self._model is None:
            import onnx

            self._model = onnx.load(str(self.path), load_external_data=False)
        return self._model

    @staticmethod
    def _spec(arg: Any) -> InputSpec:
        dtype = _DTYPES.get(arg.type)
        if dtype is None:
            raise ModelError(f"input '{arg.name}' has type {arg.type}, which mcm cannot feed (tensors only)")
        shape: tuple[Dim, ...] = tuple(d if isinstance(d, (int, str)) else None for d in arg.shape)
        return InputSpec(arg.name, dtype, shape)


def _vocabularies(model: onnx.ModelProto, names: Sequence[str]) -> dict[str, int]:
    """The rows of the table each input indexes: a Gather whose indices are the input (directly or through Casts)
    and whose data is an initializer (an embedding table); the fewest rows where it indexes several tables."""
    graph = model.graph
    tables = {t.name: tuple(t.dims) for t in graph.initializer}
    source = {n: n for n in names}
    for node in graph.node:
        if node.op_type == "Cast" and node.input and node.input[0] in source:
            source.update({out: source[node.input[0]] for out in node.output})
    found: dict[str, int] = {}
    for node in graph.node:
        if node.op_type != "Gather" or len(node.input) != 2 or node.input[1] not in source:
            continue
        dims = tables.get(node.input[0])
        axis = next((a.i for a in node.attribute if a.name == "axis"), 0)
        if dims is None or not -len(dims) <= axis < len(dims):
            continue
        name, rows = source[node.input[1]], int(dims[axis])
        found[name] = min(found.get(name, rows), rows)
    return found


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


__all__ = ["OnnxRunner", "choose_providers"]
