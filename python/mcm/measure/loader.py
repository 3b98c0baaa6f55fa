"""From what the user names (a file, an entry point, ``demo``, a Python object) to a :class:`Runner`.

Loading is two steps so that the memory window can open between them: :func:`resolve` checks the name, refuses
unsafe files and imports the runtime; :meth:`ModelSource.open` loads the model. Model files are untrusted: pickled
checkpoints are only ever read with ``torch.load(weights_only=True)``, and one that needs more is refused with the
reason; a safe state dict is refused too, since it holds weights but no architecture.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, cast

import numpy as np
import numpy.typing as npt

from mcm.exceptions import ModelError
from mcm.files.read import regular_file
from mcm.measure import torch_archive, zoo
from mcm.measure.runner import CallableRunner, Runner

_ENTRY_POINT = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
_TORCH_SUFFIXES = {".pt", ".pth", ".pts", ".ts", ".jit", ".torchscript", ".ckpt", ".bin"}
_PICKLE_MAGIC = b"\x80"
SUPPORTED = (
    ".onnx, a TorchScript file (.pt/.ts), a torch.export program (.pt2), package.module:factory, "
    "torchvision:NAME, timm:NAME, or demo"
)


@dataclass(frozen=True)
class ModelSource:
    """A model ready to load: what it is (``format``), where it came from, and how to open it."""

    name: str
    format: str
    path: Path | None
    opener: Callable[[int], Runner]

    def open(self, threads: int) -> Runner:
        return self.opener(threads)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "format": self.format,
            "path": None if self.path is None else str(self.path),
        }


def resolve(model: Any, *, example: Mapping[str, npt.NDArray[Any]] | None = None) -> ModelSource:
    """Check ``model`` and import its runtime; raises :class:`ModelError` for anything that cannot be measured.
    ``example`` arrays (by input name) give a torch module, a callable or an entry point its inputs' shapes (an
    entry point's in place of its factory's example)."""
    if isinstance(model, (str, os.PathLike)):
        return _resolve_name(os.fspath(model), example)
    if _is_torch_module(model):
        from mcm.measure import torch_runner

        arrays = None if example is None else list(example.values())
        name = type(model).__name__
        return ModelSource(
            name,
            "torch module",
            None,
            lambda t: torch_runner.from_module(
                model, threads=t, example=as_tensors(arrays), source="torch module"
            ),
        )
    if callable(model):
        name = getattr(model, "__qualname__", type(model).__name__)
        return ModelSource(name, "python callable", None, lambda t: CallableRunner(model, name, example))
    raise ModelError(
        f"cannot measure a {type(model).__name__}: give {SUPPORTED}, a torch module or a callable"
    )


@dataclass(frozen=True)
class Named:
    """What a model argument names: ``kind`` is ``demo`` (``path`` is its ONNX file), ``file`` (``path``, a
    regular file) or ``entry point`` (``text`` is ``package.module:factory`` or a zoo name, ``path`` None; or a
    Hugging Face model directory, ``path`` that directory)."""

    text: str
    kind: str
    path: Path | None


def locate(text: str, supported: str = SUPPORTED) -> Named:
    """What ``text`` names, the one reading of a model argument (``mcm measure`` and ``mcm optimize``); raises
    :class:`ModelError` for a missing file or a directory (``supported`` says what to give instead) and
    :class:`mcm.files.read.InputFileError` for a file that is not regular. Nothing is opened or imported."""
    if text == "demo":
        from mcm import demo

        return Named(text, "demo", demo.ONNX_PATH)
    path = Path(text)
    if not path.exists() and (_ENTRY_POINT.match(text) or zoo.matches(text)):
        return Named(text, "entry point", None)
    if not path.exists():
        raise ModelError(f"{text}: no such file (give {supported})")
    if zoo.is_model_dir(path):
        return Named(text, "entry point", path)
    if path.is_dir():
        raise ModelError(
            f"{text}: is a directory, not a model file (nor a model directory with a config.json)"
        )
    regular_file(path, "model file")  # a FIFO or a device would block or never end
    return Named(text, "file", path)


def _resolve_name(text: str, example: Mapping[str, npt.NDArray[Any]] | None = None) -> ModelSource:
    named = locate(text)
    if named.kind == "entry point":
        return _entry_point(text, example)
    assert named.path is not None
    if named.kind == "demo":
        return _onnx(named.path, "demo")
    path = named.path
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        return _onnx(path, text)
    if suffix == ".pt2":
        return _torch_file(path, text, "torch.export")
    if suffix in _TORCH_SUFFIXES:
        return _torch_file(path, text, _sniff(path))
    raise ModelError(f"{text}: unsupported model file type '{suffix or 'none'}' (give {SUPPORTED})")


def _onnx(path: Path, name: str) -> ModelSource:
    try:  # imported here, before the memory window opens
        import onnx  # noqa: F401
        import onnxruntime  # type: ignore[import-untyped]  # noqa: F401
    except ImportError as e:
        raise ModelError(
            f"{name}: measuring an ONNX model needs onnx and onnxruntime (pip install 'mcm[onnx]')"
        ) from e
    from mcm.measure.onnx_runner import OnnxRunner

    return ModelSource(name, "onnx", path, lambda t: OnnxRunner(path, threads=t))


def _torch_file(path: Path, name: str, kind: str) -> ModelSource:
    _require_torch(name)
    from mcm.measure import torch_runner

    if kind == "torch.export":
        torch_archive.check(path)
        return ModelSource(name, kind, path, lambda t: torch_runner.load_exported(path, threads=t))
    if kind == "TorchScript":
        torch_archive.check_torchscript(path)
        return ModelSource(name, kind, path, lambda t: torch_runner.load_torchscript(path, threads=t))
    _refuse_checkpoint(path)


def _sniff(path: Path) -> str:
    """``TorchScript``, ``torch.export`` or ``checkpoint`` (anything torch.save wrote), from the archive's names."""
    if not zipfile.is_zipfile(path):
        with path.open("rb") as f:
            if f.read(1) != _PICKLE_MAGIC:
                raise ModelError(f"{path}: not a TorchScript file, torch.export program or torch checkpoint")
        return "checkpoint"
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
    if any(n.endswith("/constants.pkl") for n in names) and any("/code/" in n for n in names):
        return "TorchScript"
    if any(n.endswith("/archive_format") or "serialized_exported_program" in n for n in names):
        return "torch.export"
    return "checkpoint"


def _refuse_checkpoint(path: Path) -> NoReturn:
    """Explain why a ``torch.save`` file cannot be measured; never unpickles more than weights_only allows."""
    import torch

    try:
        obj = torch.load(str(path), weights_only=True, map_location="cpu")
    except Exception as e:  # UnpicklingError for unsafe globals; RuntimeError / EOFError for damaged files
        reason = torch_archive.weights_only_reason(str(e))
        raise ModelError(
            f"{path}: refused: this pickled checkpoint does not load with torch.load(weights_only=True) "
            f"({reason}). Loading it fully would run code stored in the file. Save the model with "
            "torch.export.save or as TorchScript, or give a package.module:factory entry point that builds it"
        ) from e
    tensors = _count_tensors(obj)
    raise ModelError(
        f"{path}: holds weights only ({tensors} tensors, loaded safely with weights_only=True) but no "
        "architecture to run: give a package.module:factory entry point that builds the model and loads them"
    )


def factory(text: str) -> Callable[[], Any]:
    """The factory a ``package.module:factory`` entry point (or a :mod:`mcm.measure.zoo` name) names, its module
    imported (from the current directory too, as ``python -c`` would); :class:`ModelError` when the module cannot
    be imported or has no such callable."""
    if zoo.matches(text) or zoo.is_model_dir(Path(text)):
        return zoo.factory(text)
    module_name, _, attr = text.partition(":")
    try:
        module = _import(module_name)
    except Exception as e:  # the user's module may raise anything while importing
        raise ModelError(f"{text}: cannot import {module_name} ({type(e).__name__}: {e})") from e
    found: Any = module
    for part in attr.split("."):
        found = getattr(found, part, None)
    if not callable(found):
        raise ModelError(f"{text}: {module_name} has no callable '{attr}'")
    return cast("Callable[[], Any]", found)


def _import(name: str) -> Any:
    """``importlib.import_module(name)``, looking in the current directory when the installed path lacks it."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        here = os.getcwd()
        if e.name != name.split(".")[0] or here in sys.path or "" in sys.path:
            raise
        sys.path.append(here)  # after the installed packages: a local file never shadows one
        return importlib.import_module(name)


def build(text: str, make: Callable[[], Any] | None = None) -> tuple[Any, Any]:
    """``(model, example inputs or None)`` from calling an entry point's factory (``make``, else
    :func:`factory`'s): it returns the model, or ``(model, example)``. :class:`ModelError` when it raises."""
    make = factory(text) if make is None else make
    try:
        made = make()
    except ModelError:  # a zoo factory's own, already saying what went wrong
        raise
    except Exception as e:  # the factory is user code
        raise ModelError(f"{text}: the factory raised {type(e).__name__}: {e}") from e
    return (made[0], made[1]) if isinstance(made, tuple) and len(made) == 2 else (made, None)


def _entry_point(text: str, given: Mapping[str, npt.NDArray[Any]] | None = None) -> ModelSource:
    make = factory(text)  # imported now, before the memory window opens

    def open_runner(threads: int) -> Runner:
        model, example = build(text, make)
        example = list(given.values()) if given is not None else example
        if _is_torch_module(model):
            from mcm.measure import torch_runner

            return torch_runner.from_module(model, threads=threads, example=as_tensors(example), source=text)
        if callable(model):
            names = CallableRunner(model, text).inputs
            arrays = (
                None
                if example is None
                else dict(zip((s.name for s in names), _as_arrays(example), strict=False))
            )
            return CallableRunner(model, text, arrays)
        raise ModelError(
            f"{text}: the factory returned a {type(model).__name__}, not a torch module or a callable"
        )

    return ModelSource(text, "entry point", None, open_runner)


def _is_torch_module(obj: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


def as_tensors(example: Any) -> list[Any] | None:
    """A factory's example inputs (one tensor or array, or a sequence of them) as a list of tensors."""
    if example is None:
        return None
    items = list(example) if isinstance(example, (list, tuple)) else [example]
    import torch

    return [t if isinstance(t, torch.Tensor) else torch.from_numpy(t) for t in items]


def _as_arrays(example: Any) -> list[npt.NDArray[Any]]:
    items = list(example) if isinstance(example, (list, tuple)) else [example]
    return [np.asarray(a) for a in items]


def _require_torch(name: str) -> None:
    try:
        import torch  # noqa: F401
    except ImportError as e:
        raise ModelError(f"{name}: measuring a PyTorch model needs torch (pip install 'mcm[torch]')") from e


def _count_tensors(obj: Any) -> int:
    if isinstance(obj, Mapping):
        return sum(_count_tensors(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(_count_tensors(v) for v in obj)
    return 1 if hasattr(obj, "numel") else 0


__all__ = ["SUPPORTED", "ModelSource", "Named", "as_tensors", "build", "factory", "locate", "resolve"]
