"""What every runner offers (ONNX Runtime, PyTorch, a plain Python callable), and the callable runner itself.

A runner binds feeds once (converting them to its own tensors) and hands the timing loop a function and its
arguments, so that a timed call is the model call and nothing else.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from mcm.measure.flops import FlopCount
from mcm.measure.inputs import Feeds, InputSpec
from mcm.measure.params import ParamCount
from mcm.measure.unavailable import Unavailable

#: A bound call: the function the timing loop calls and its positional arguments.
Bound = tuple[Callable[..., Any], tuple[Any, ...]]


class Runner(Protocol):
    """A loaded model, ready to run on one device."""

    @property
    def kind(self) -> str:
        """``onnxruntime``, ``torch`` or ``python``."""
        ...

    @property
    def inputs(self) -> tuple[InputSpec, ...]: ...

    @property
    def device(self) -> str:
        """``cpu`` or ``cuda:N``."""
        ...

    def session(self) -> contextlib.AbstractContextManager[None]:
        """Entered once around every run (thread count, inference mode); restores what it changed."""
        ...

    def bind(self, feeds: Feeds) -> Bound: ...

    def outputs(self, result: Any) -> list[npt.NDArray[Any]]:
        """A call's result as numpy arrays on the host."""
        ...

    def describe(self) -> dict[str, Any]:
        """Runtime, versions, device, providers and thread counts, for the report."""
        ...

    def files(self) -> list[Path] | Unavailable:
        """Every file the model is made of (external data included)."""
        ...

    def params(self) -> ParamCount | Unavailable: ...

    def flops(self, feeds: Feeds) -> FlopCount | Unavailable:
        """Operation counts for one call with ``feeds``."""
        ...

    def reset_gpu_peak(self) -> None: ...

    def gpu_peak_mb(self) -> float | Unavailable:
        """Peak GPU memory since :meth:`reset_gpu_peak`, from the framework's counters."""
        ...


def as_arrays(result: Any) -> list[npt.NDArray[Any]]:
    """Flatten a call's result (array, tensor, scalar, or nested list / tuple / dict of them) into arrays."""
    if isinstance(result, Mapping):
        return [a for v in result.values() for a in as_arrays(v)]
    if isinstance(result, (list, tuple)):
        return [a for v in result for a in as_arrays(v)]
    if result is None:
        return []
    if hasattr(result, "detach"):  # a torch tensor, without importing torch
        return [result.detach().cpu().numpy()]
    return [np.asarray(result)]


class HostRunner:
    """What a runner without a session of its own, whose calls return host values, shares (ONNX Runtime, a
    Python callable): its inputs as read at load, a session that changes nothing, results as numpy arrays."""

    _inputs: tuple[InputSpec, ...]

    @property
    def inputs(self) -> tuple[InputSpec, ...]:
        return self._inputs

    def session(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def outputs(self, result: Any) -> list[npt.NDArray[Any]]:
        return as_arrays(result)


class CallableRunner(HostRunner):
    """Any Python callable, called with one positional array per input."""

    kind = "python"
    device = "cpu"

    def __init__(
        self, fn: Callable[..., Any], name: str, example: Mapping[str, npt.NDArray[Any]] | None = None
    ) -> None:
        self._fn = fn
        self.name = name
        if example is not None:
            self._inputs = tuple(
                InputSpec(k, str(v.dtype), ("batch", *v.shape[1:]) if v.ndim else ())
                for k, v in example.items()
            )
        else:
            self._inputs = tuple(InputSpec(p, None, None) for p in _positional(fn))

    def bind(self, feeds: Feeds) -> Bound:
        return self._fn, tuple(feeds[s.name] for s in self._inputs)

    def describe(self) -> dict[str, Any]:
        return {"runtime": "python", "callable": self.name, "device": "cpu"}

    def files(self) -> list[Path] | Unavailable:
        return Unavailable("a Python callable has no model file")

    def params(self) -> ParamCount | Unavailable:
        return Unavailable("a Python callable exposes no parameters")

    def flops(self, feeds: Feeds) -> FlopCount | Unavailable:
        return Unavailable("no operation counter for an arbitrary Python callable")

    def reset_gpu_peak(self) -> None:
        return None

    def gpu_peak_mb(self) -> float | Unavailable:
        return Unavailable("a Python callable runs on the CPU as far as mcm can tell")


def _positional(fn: Callable[..., Any]) -> Sequence[str]:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return ["x"]
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    names = [p.name for p in params if p.kind in kinds and p.default is inspect.Parameter.empty]
    return names or ["x"]


__all__ = ["Bound", "CallableRunner", "HostRunner", "Runner", "as_arrays"]
