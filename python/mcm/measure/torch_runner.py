"""PyTorch models: TorchScript files, ``torch.export`` programs and modules built by an entry point.

Eager modules and TorchScript run on CUDA when torch sees a GPU, else on the CPU; exported programs run where
they were exported. Runs happen under ``torch.inference_mode()`` with the thread count set (and restored after).
On CUDA each timed call ends with ``torch.cuda.synchronize()`` so the sample covers the kernels, and peak memory
comes from ``torch.cuda.max_memory_allocated``.
"""

from __future__ import annotations

import contextlib
import inspect
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mcm.exceptions import ModelError
from mcm.measure import flops, params, torch_archive
from mcm.measure.inputs import Dim, Feeds, InputSpec
from mcm.measure.runner import Bound, as_arrays
from mcm.measure.size import MIB
from mcm.measure.unavailable import Unavailable


class TorchRunner:
    """A torch module (or anything torch can call) on one device."""

    kind = "torch"

    def __init__(
        self,
        module: Any,
        *,
        threads: int,
        inputs: Sequence[InputSpec],
        files: list[Path] | Unavailable,
        source: str,
        param_tensors: Callable[[], Any],
        movable: bool = True,
    ) -> None:
        import torch

        self.threads = threads
        self.source = source
        self.device = "cuda:0" if movable and torch.cuda.is_available() else "cpu"
        self._cuda_reason = (
            None
            if self.device != "cpu"
            else "exported programs run on the device they were exported for"
            if not movable
            else "torch sees no CUDA device"
        )
        if self.device != "cpu":
            # A module without parameters never touches CUDA before it runs, and the peak-memory counters refuse
            # an uninitialised device ("Invalid device argument", seen on an H100).
            torch.cuda.init()  # type: ignore[no-untyped-call]
        self._module = module.to(self.device) if movable else module
        self._inputs = tuple(inputs)
        self._files = files
        self._param_tensors = param_tensors
        self._version = torch.__version__

    @property
    def inputs(self) -> tuple[InputSpec, ...]:
        return self._inputs

    @contextlib.contextmanager
    def _session(self) -> Iterator[None]:
        import torch

        before = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            with torch.inference_mode():
                yield
        finally:
            torch.set_num_threads(before)

    def session(self) -> contextlib.AbstractContextManager[None]:
        return self._session()

    def bind(self, feeds: Feeds) -> Bound:
        import torch

        args = tuple(
            torch.from_numpy(np.ascontiguousarray(feeds[s.name])).to(self.device) for s in self._inputs
        )
        if self.device == "cpu":
            return self._module, args
        module, sync = self._module, torch.cuda.synchronize

        def call(*a: Any) -> Any:
            out = module(*a)
            sync()
            return out

        return call, args

    def outputs(self, result: Any) -> list[npt.NDArray[Any]]:
        return as_arrays(result)

    def describe(self) -> dict[str, Any]:
        import torch

        return {
            "runtime": "torch",
            "version": self._version,
            "source": self.source,
            "device": self.device,
            "cuda": "active" if self._cuda_reason is None else f"unavailable: {self._cuda_reason}",
            "intra_op_threads": self.threads,
            "inter_op_threads": torch.get_num_interop_threads(),
            "mode": "torch.inference_mode()",
            "timed_call": "module(*inputs)" + (" + torch.cuda.synchronize()" if self.device != "cpu" else ""),
        }

    def files(self) -> list[Path] | Unavailable:
        return self._files

    def params(self) -> params.ParamCount | Unavailable:
        return params.count_tensors(self._param_tensors(), "torch parameters (buffers excluded)")

    def flops(self, feeds: Feeds) -> flops.FlopCount | Unavailable:
        fn, args = self.bind(feeds)
        batch = args[0].shape[0] if args and args[0].dim() else 1
        return flops.count_torch(fn, args, int(batch))

    def reset_gpu_peak(self) -> None:
        if self.device != "cpu":
            import torch

            torch.cuda.reset_peak_memory_stats(self.device)

    def gpu_peak_mb(self) -> float | Unavailable:
        if self.device == "cpu":
            return Unavailable(f"the model runs on the CPU ({self._cuda_reason})")
        import torch

        return float(torch.cuda.max_memory_allocated(self.device)) / MIB


def from_module(module: Any, *, threads: int, example: Sequence[Any] | None, source: str) -> TorchRunner:
    """An eager ``nn.Module``; ``example`` inputs (tensors) give the shapes, dimension 0 taken as the batch."""
    module.eval()
    names = forward_names(module.forward)
    if example is not None:
        vocabulary = _vocabulary(module)
        specs = [_spec_of_tensor(n, t, vocabulary) for n, t in zip(names, example, strict=False)]
    else:
        specs = [InputSpec(n, None, None) for n in names]
    return TorchRunner(
        module,
        threads=threads,
        inputs=specs,
        files=Unavailable("the model comes from an entry point or a Python object, not a file"),
        source=source,
        param_tensors=module.parameters,
    )


def load_torchscript(path: Path, *, threads: int) -> TorchRunner:
    import torch

    load: Callable[..., Any] = torch.jit.load  # untyped in torch's stubs
    try:
        with warnings.catch_warnings():
            # "torch.jit.load is deprecated": a FutureWarning in some torch versions, a DeprecationWarning in others
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            module = load(str(path), map_location="cpu")
    except Exception as e:  # torch raises RuntimeError with a long, multi-line message
        raise ModelError(f"{path}: not a loadable TorchScript file: {first_line(e)}") from e
    names = [a.name for a in module.forward.schema.arguments][1:]
    return TorchRunner(
        module.eval(),
        threads=threads,
        inputs=[InputSpec(n, None, None) for n in names],
        files=[path],
        source="TorchScript",
        param_tensors=module.parameters,
    )


def load_exported(path: Path, *, threads: int) -> TorchRunner:
    """A ``torch.export`` program that :func:`torch_archive.check` accepted, opened with every pickle inside
    loaded ``weights_only``."""
    import torch

    load: Callable[[Any], Any] = torch.export.load  # untyped in torch's stubs
    with path.open(
        "rb"
    ) as f:  # one open file, checked and then loaded (torch refuses a path not ending in .pt2)
        torch_archive.check(path, f)
        try:
            with warnings.catch_warnings(), torch_archive.forced_weights_only():
                warnings.simplefilter("ignore", UserWarning)  # torch 2.11: "the given buffer is not writable"
                program = load(f)
        except Exception as e:  # a corrupt archive fails in many ways inside torch
            if "Weights only load failed" in str(e):
                raise ModelError(
                    f"{path}: refused: its sample inputs hold {torch_archive.weights_only_reason(str(e))}, "
                    "which only an unrestricted unpickler (one that can run code) would load"
                ) from e
            raise ModelError(f"{path}: not a loadable torch.export program: {first_line(e)}") from e
    user = set(program.graph_signature.user_inputs)
    specs = [
        _spec_of_tensor(n.name, n.meta["val"])
        for n in program.graph.nodes
        if n.op == "placeholder" and n.name in user and "val" in n.meta
    ]
    return TorchRunner(
        program.module(),
        threads=threads,
        inputs=specs,
        files=[path],
        source="torch.export",
        param_tensors=program.parameters,
        movable=False,
    )


def first_line(error: BaseException) -> str:
    """The first non-blank line of an exception's message (torch's often start with a blank line), or its type."""
    return next((line.strip() for line in str(error).splitlines() if line.strip()), type(error).__name__)


def _spec_of_tensor(name: str, t: Any, vocabulary: int | None = None) -> InputSpec:
    shape: tuple[Dim, ...] = tuple(d if isinstance(d, int) else str(d) for d in t.shape)
    if shape and isinstance(shape[0], int) and not hasattr(t, "fake_mode"):
        shape = ("batch", *shape[1:])  # an example tensor: eager modules take any batch size
    integer = not (t.dtype.is_floating_point or t.dtype.is_complex) and str(t.dtype) != "torch.bool"
    return InputSpec(name, str(t.dtype).removeprefix("torch."), shape, vocabulary if integer else None)


def _vocabulary(module: Any) -> int | None:
    """The rows of the table token ids index: a transformers model's input embeddings, else the module's first
    ``nn.Embedding`` (the word embeddings come first in every encoder mcm has met); None without one."""
    import torch

    found = getattr(module, "get_input_embeddings", None)
    table = found() if callable(found) else None
    if not isinstance(table, torch.nn.Embedding):
        table = next((m for m in module.modules() if isinstance(m, torch.nn.Embedding)), None)
    return int(table.num_embeddings) if table is not None else None


def forward_names(forward: Callable[..., Any]) -> list[str]:
    """The names of ``forward``'s required positional parameters (the model's inputs); ``["x"]`` when unknown."""
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    try:
        ps = inspect.signature(forward).parameters.values()
    except (TypeError, ValueError):
        return ["x"]
    return [p.name for p in ps if p.kind in kinds and p.default is inspect.Parameter.empty] or ["x"]


__all__ = ["TorchRunner", "forward_names", "from_module", "load_exported", "load_torchscript"]
