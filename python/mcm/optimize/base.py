"""What every technique takes and returns: the model artifact, the run's inputs, and what a step changed."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcm.exceptions import OptimizeError


@dataclass(frozen=True)
class Artifact:
    """A model in the loop: the ONNX file ONNX Runtime runs, and the PyTorch module it was exported from when
    the chain is still in PyTorch (techniques on weights need it)."""

    onnx: Path
    torch_module: Any = None


class OutOfTime(OptimizeError):
    """The run's budget ran out while a technique was being applied; what it had written is discarded."""

    def __init__(self, technique: str) -> None:
        super().__init__(f"stopped while being applied: the budget ran out ({technique})")


def _never() -> bool:
    return False


@dataclass(frozen=True)
class Context:
    """The run's inputs every technique may need: data files, threads, this CPU's flags, and the budget."""

    threads: int = 1
    calib: Path | None = None
    train: Path | None = None
    eval_set: Path | None = None
    cpu_flags: Mapping[str, bool] = field(default_factory=dict)
    arch: str = ""
    #: The example inputs (batch 1, in ``forward``'s order) for exporting PyTorch models.
    example: tuple[Any, ...] | None = None
    #: Whether the run's budget is spent; long techniques ask between units of work (a calibration batch, a
    #: training batch) through :meth:`checkpoint`.
    out_of_time: Callable[[], bool] = _never

    def checkpoint(self, technique: str) -> None:
        """Raise :class:`OutOfTime` when the budget is spent."""
        if self.out_of_time():
            raise OutOfTime(technique)


@dataclass(frozen=True)
class Applied:
    """One technique's result: the new model, what changed, and caveats (such as "size only on this CPU")."""

    technique: str
    model: Artifact
    changes: tuple[str, ...]
    notes: tuple[str, ...] = ()
    checks: Mapping[str, int | float | str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "technique": self.technique,
            "model": str(self.model.onnx),
            "changes": list(self.changes),
            "notes": list(self.notes),
            "checks": dict(self.checks),
        }


def need_onnx(path: Path, technique: str) -> Path:
    """``path`` when it is an existing ``.onnx`` file; otherwise an :class:`OptimizeError` naming the technique."""
    if path.suffix.lower() != ".onnx":
        raise OptimizeError(f"{technique} takes an ONNX model, not {path.name}")
    if not path.is_file():
        raise OptimizeError(f"{technique}: {path}: no such model file")
    return path


def need_torch(model: Artifact, technique: str) -> Any:
    """The PyTorch module of ``model``, or an :class:`OptimizeError` saying why the technique cannot run."""
    if model.torch_module is None:
        raise OptimizeError(
            f"{technique} needs the PyTorch model; {model.onnx.name} has none",
            hint="give a PyTorch entry point (package.module:factory) or demo",
        )
    return model.torch_module


def need_data(path: Path | None, technique: str, what: str, flag: str) -> Path:
    """The data file ``path``, or an :class:`OptimizeError` saying the technique needs it."""
    if path is None:
        raise OptimizeError(f"{technique} needs {what}", hint=f"pass {flag} FILE.npz")
    if not path.is_file():
        raise OptimizeError(f"{technique}: {path}: no such data file")
    return path


@contextlib.contextmanager
def quiet(name: str | None = None) -> Iterator[None]:
    """Silence a logger (None: the root) below ERROR for a block: libraries log advice at WARNING."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
