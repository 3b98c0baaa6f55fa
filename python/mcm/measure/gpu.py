"""NVIDIA GPUs as this process can see them: NVML through ``pynvml`` (package nvidia-ml-py) when installed,
else the driver's ``/proc/driver/nvidia`` entries. Nothing here imports torch or ONNX Runtime."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from mcm.measure.unavailable import Unavailable

_PROC = Path("/proc/driver/nvidia/gpus")


def nvml() -> Any:
    """The initialised ``pynvml`` module, or :class:`Unavailable` with the reason."""
    try:
        pynvml = importlib.import_module("pynvml")
    except ImportError:
        return Unavailable("pynvml is not installed (package nvidia-ml-py)")
    try:
        pynvml.nvmlInit()
    except Exception as e:  # pynvml.NVMLError and its many subclasses: no driver, no device
        return Unavailable(f"NVML cannot start: {e}")
    return pynvml


def gpus() -> list[dict[str, Any]] | Unavailable:
    """Name and memory of each NVIDIA GPU, or why none can be listed."""
    lib = nvml()
    if not isinstance(lib, Unavailable):
        out = []
        for i in range(lib.nvmlDeviceGetCount()):
            h = lib.nvmlDeviceGetHandleByIndex(i)
            name = lib.nvmlDeviceGetName(h)
            out.append(
                {
                    "index": i,
                    "name": name.decode() if isinstance(name, bytes) else str(name),
                    "memory_mb": lib.nvmlDeviceGetMemoryInfo(h).total / 2**20,
                }
            )
        return out or Unavailable("NVML reports no devices")
    if _PROC.is_dir():
        return [{"index": i, "name": _proc_model(d)} for i, d in enumerate(sorted(_PROC.iterdir()))]
    return Unavailable(f"no NVIDIA GPU ({_PROC} does not exist; {lib.reason})")


def _proc_model(d: Path) -> str:
    try:
        for line in (d / "information").read_text().splitlines():
            if line.startswith("Model:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "NVIDIA GPU"


__all__ = ["gpus", "nvml"]
