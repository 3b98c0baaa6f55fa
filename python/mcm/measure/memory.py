"""Peak CPU memory from the kernel's high-water mark, measured the same way every time: in a fresh process.

``tracemalloc`` cannot see native allocations (ONNX Runtime, torch) and ``ru_maxrss`` only ever grows, so a
window is opened by writing ``5`` to ``/proc/self/clear_refs`` (which resets ``VmHWM`` to the current RSS) and
closed by reading ``VmHWM`` from ``/proc/self/status``.

What a model adds to a process depends on what that process ran before: the first model a process loads pays for
the runtime's one-time set-up (its global environment, the pages of its libraries), a second one does not, and
memory freed earlier may be reused. Measured inside a long-lived process (the TUI measuring twice), the same model
read 19.9 MB and then 0.34 MB. So :func:`fresh_peak` measures a model named by a path or an entry point in a new
Python process: it imports the runtime, reads its RSS (the baseline), opens the window, loads the model, runs the
check calls at every batch size with the parent's inputs, and reports ``VmHWM`` and the baseline. The metric is the
growth: what loading and running the model adds to a fresh process that has its runtime imported
(:data:`FRESH_METHOD`); it does not depend on what ran before in the measuring process.

A model given as a Python object (a torch module, a callable) cannot be loaded in another process: its window is
in this process (:class:`PeakWindow`, :data:`IN_PROCESS_METHOD`), and the report says so. Free heap memory is
handed back to the kernel first (glibc ``malloc_trim``), so that memory freed earlier and reused still counts.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mcm.measure.size import MIB
from mcm.measure.unavailable import Unavailable

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")
_WINDOW = "VmHWM from /proc/self/status after resetting it through /proc/self/clear_refs"
#: How ``memory_mb`` is measured for a model named by a path or an entry point (see the module docstring).
FRESH_METHOD = (
    "peak RSS of a fresh process loading the model and running the check calls at every batch size, "
    f"over its RSS once the runtime was imported ({_WINDOW})"
)
#: How it is measured for a model given as a Python object, which cannot be loaded in another process.
IN_PROCESS_METHOD = (
    "RSS growth of the measuring process while loading the model and running the check calls at every batch "
    f"size (the model is a Python object, so it cannot be loaded in a fresh process; {_WINDOW}); lower when "
    "this process ran the same runtime before"
)
#: Longest a fresh process may take to load and check a model before its peak is reported unavailable.
FRESH_TIMEOUT_S = 600.0
#: A check call: the batch size, its feeds and how many calls to make.
Check = tuple[int, Mapping[str, npt.NDArray[Any]], int]


@dataclass(frozen=True)
class CpuPeak:
    """Resident memory at the start of the window and its peak during it, in MB (MiB), and how it was taken."""

    baseline_mb: float
    peak_mb: float
    method: str = IN_PROCESS_METHOD

    @property
    def increase_mb(self) -> float:
        return max(0.0, self.peak_mb - self.baseline_mb)

    def to_dict(self) -> dict[str, Any]:
        return {
            "peak_increase_mb": self.increase_mb,
            "process_peak_rss_mb": self.peak_mb,
            "baseline_rss_mb": self.baseline_mb,
            "fresh_process": self.method == FRESH_METHOD,
            "method": self.method,
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


def fresh_peak(model: str, threads: int, checks: Sequence[Check]) -> CpuPeak | Unavailable:
    """Load ``model`` (a path, ``demo`` or ``package.module:factory``, as :func:`mcm.measure.loader.resolve`
    takes it) in a new Python process with ``threads`` threads and make the ``checks`` calls there; the peak over
    the process's RSS once its runtime was imported (:data:`FRESH_METHOD`). Unavailable, with the reason, when
    the process fails. Ctrl-C stops the process and propagates."""
    with tempfile.TemporaryDirectory(prefix="mcm-memory-") as work:
        folder = Path(work)
        arrays: dict[str, npt.NDArray[Any]] = {}
        calls: list[dict[str, Any]] = []
        for i, (batch, feeds, count) in enumerate(checks):
            names = list(feeds)
            arrays.update({f"c{i}_{j}": np.asarray(feeds[name]) for j, name in enumerate(names)})
            calls.append({"batch": batch, "names": names, "count": count})
        np.savez(folder / "feeds.npz", **arrays)  # type: ignore[arg-type]
        request = {"model": model, "threads": threads, "calls": calls, "folder": str(folder)}
        (folder / "request.json").write_text(json.dumps(request), encoding="utf-8")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if isinstance(p, str) and p)
        try:
            done = subprocess.run(
                [sys.executable, "-c", "from mcm.measure.memory import _child; _child()", str(folder)],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                timeout=FRESH_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return Unavailable(f"loading the model in a fresh process took over {FRESH_TIMEOUT_S:.0f} s")
        except OSError as e:
            return Unavailable(f"cannot start a fresh process to measure it ({_describe(e)})")
        try:
            found = json.loads((folder / "result.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            last = (done.stderr or b"").decode("utf-8", "replace").strip().splitlines()[-1:] or [
                f"exit status {done.returncode}"
            ]
            return Unavailable(f"the fresh process measuring it failed ({last[0][:300]})")
    if "unavailable" in found:
        return Unavailable(str(found["unavailable"]))
    return CpuPeak(float(found["baseline_mb"]), float(found["peak_mb"]), FRESH_METHOD)


def _child() -> None:
    """The fresh process of :func:`fresh_peak`: its folder is ``sys.argv[1]``; writes ``result.json`` there."""
    folder = Path(sys.argv[1])
    request = json.loads((folder / "request.json").read_text(encoding="utf-8"))
    result: dict[str, Any]
    try:
        result = _child_peak(request, folder)
    except Exception as e:  # the model's own failure, reported to the parent as the reason
        result = {
            "unavailable": f"the fresh process could not load or run the model ({type(e).__name__}: {e})"
        }
    (folder / "result.json").write_text(json.dumps(result), encoding="utf-8")


def _child_peak(request: Mapping[str, Any], folder: Path) -> dict[str, Any]:
    from mcm.measure import loader

    source = loader.resolve(request["model"])  # imports the runtime, before the window opens
    with np.load(folder / "feeds.npz", allow_pickle=False) as data:
        checks = [
            (c["batch"], {name: data[f"c{i}_{j}"] for j, name in enumerate(c["names"])}, c["count"])
            for i, c in enumerate(request["calls"])
        ]
    window = PeakWindow()
    window.start()
    runner = source.open(int(request["threads"]))
    with runner.session():
        for _, feeds, count in checks:
            fn, args = runner.bind(dict(feeds))
            for _ in range(count):
                with contextlib.suppress(Exception):  # a model that fails now and then (the parent counts it)
                    runner.outputs(fn(*args))
    peak = window.stop()
    if isinstance(peak, Unavailable):
        return peak.to_dict()
    return {"baseline_mb": peak.baseline_mb, "peak_mb": peak.peak_mb}


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


__all__ = ["FRESH_METHOD", "IN_PROCESS_METHOD", "CpuPeak", "PeakWindow", "fresh_peak"]
