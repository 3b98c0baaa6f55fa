"""Peak CPU memory from the kernel's high-water mark.

``tracemalloc`` cannot see native allocations (ONNX Runtime, torch) and ``ru_maxrss`` only ever grows, so the
window is opened by writing ``5`` to ``/proc/self/clear_refs`` (which resets ``VmHWM`` to the current RSS) and
closed by reading ``VmHWM`` from ``/proc/self/status``. The reported peak is the growth over the RSS at the
start: what loading and running the model added to a process that already had its runtime imported. Free heap
memory is handed back to the kernel first (glibc ``malloc_trim``), so that memory freed earlier in a long-lived
process and reused by the model still counts.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcm.measure.size import MIB
from mcm.measure.unavailable import Unavailable

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


@dataclass(frozen=True)
class CpuPeak:
    """Resident memory at the start of the window and its peak during it, in MB (MiB)."""

    baseline_mb: float
    peak_mb: float

    @property
    def increase_mb(self) -> float:
        return max(0.0, self.peak_mb - self.baseline_mb)

    def to_dict(self) -> dict[str, Any]:
        return {
            "peak_increase_mb": self.increase_mb,
            "process_peak_rss_mb": self.peak_mb,
            "baseline_rss_mb": self.baseline_mb,
            "method": "VmHWM from /proc/self/status after resetting it through /proc/self/clear_refs",
        }


class PeakWindow:
    """Open with :meth:`start`, close with :meth:`stop`; unavailable where the kernel interface is missing."""

    def __init__(self) -> None:
        self._baseline: float | None = None
        self._problem: Unavailable | None = None

    def start(self) -> None:
        _trim_heap()
        try:
            self._baseline = _status_mb("VmRSS")
            _CLEAR_REFS.write_text("5")
        except OSError as e:
            self._problem = Unavailable(f"cannot reset the kernel's memory high-water mark ({_describe(e)})")

    def stop(self) -> CpuPeak | Unavailable:
        if self._problem is not None:
            return self._problem
        if self._baseline is None:
            return Unavailable("the memory window was never opened")
        try:
            return CpuPeak(self._baseline, _status_mb("VmHWM"))
        except OSError as e:
            return Unavailable(f"cannot read the memory high-water mark ({_describe(e)})")


def _trim_heap() -> None:
    """Return the allocator's free memory to the kernel (glibc ``malloc_trim``), so that memory freed before the
    window and reused inside it shows as growth; a no-op where the C library has no such call."""
    try:
        libc = ctypes.CDLL(None)
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return
    trim.argtypes = [ctypes.c_size_t]
    trim(0)


def _status_mb(key: str) -> float:
    for line in _STATUS.read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024 / MIB
    raise OSError(f"{key} missing from {_STATUS}")


def _describe(e: OSError) -> str:
    where = f"{e.filename}: " if e.filename else ""
    return f"{where}{e.strerror or e}"


__all__ = ["CpuPeak", "PeakWindow"]
