"""Power and energy per inference from hardware energy counters, read around a timed window.

GPU runs: NVML's ``nvmlDeviceGetTotalEnergyConsumption`` (mJ since driver load; Volta and newer). CPU runs: RAPL
package counters under ``/sys/class/powercap`` where readable (usually root only). These count the whole device
or package, not only this process. Without a counter the answer is :class:`Unavailable` with the reason — never 0
and never an estimate.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcm.measure import gpu
from mcm.measure.unavailable import Unavailable

_POWERCAP = Path("/sys/class/powercap")
#: NVML's counter is good for windows of about this length and more.
NVML_MIN_WINDOW_S = 0.1


@dataclass(frozen=True)
class Meter:
    """A monotonically increasing energy counter in millijoules."""

    source: str
    read_mj: Callable[[], float]


@dataclass(frozen=True)
class Energy:
    """Energy over a window in which ``inferences`` samples were processed."""

    source: str
    energy_mj: float
    seconds: float
    inferences: int

    @property
    def power_w(self) -> float:
        return self.energy_mj / 1000 / self.seconds

    @property
    def per_inference_mj(self) -> float:
        return self.energy_mj / self.inferences

    def to_dict(self) -> dict[str, Any]:
        return {
            "power_w": self.power_w,
            "energy_mj_per_inference": self.per_inference_mj,
            "window_energy_mj": self.energy_mj,
            "window_s": self.seconds,
            "inferences": self.inferences,
            "source": self.source,
            "scope": "the whole device / CPU package, other work included",
        }


def meter_for(device: str) -> Meter | Unavailable:
    """The energy counter for a run on ``device`` (``cpu`` or ``cuda:N``)."""
    if device.startswith("cuda"):
        return _nvml_meter(int(device.partition(":")[2] or 0))
    return _rapl_meter()


def measure(meter: Meter, run: Callable[[], int]) -> Energy | Unavailable:
    """Energy while ``run()`` executes; ``run`` returns how many samples it processed."""
    e0, t0 = meter.read_mj(), time.perf_counter()
    inferences = run()
    seconds, e1 = time.perf_counter() - t0, meter.read_mj()
    if inferences <= 0 or seconds <= 0:
        return Unavailable("nothing ran in the energy window")
    if e1 <= e0:
        return Unavailable(f"the {meter.source} counter did not advance in a {seconds:.3f} s window")
    return Energy(meter.source, e1 - e0, seconds, inferences)


def _nvml_meter(index: int) -> Meter | Unavailable:
    lib = gpu.nvml()
    if isinstance(lib, Unavailable):
        return Unavailable(f"no NVML energy counter: {lib.reason}")
    try:
        handle = lib.nvmlDeviceGetHandleByIndex(index)
        lib.nvmlDeviceGetTotalEnergyConsumption(handle)
    except Exception as e:  # NVMLError_NotSupported on GPUs before Volta
        return Unavailable(f"GPU {index} has no NVML energy counter ({e})")
    return Meter(
        f"NVML total energy, GPU {index}", lambda: float(lib.nvmlDeviceGetTotalEnergyConsumption(handle))
    )


def _rapl_meter() -> Meter | Unavailable:
    if not _POWERCAP.is_dir():
        return Unavailable(f"no RAPL interface on this machine ({_POWERCAP} does not exist)")
    zones = [z for z in sorted(_POWERCAP.glob("*rapl:*")) if z.name.count(":") == 1]
    if not zones:
        return Unavailable(f"no RAPL package zones under {_POWERCAP}")
    try:
        ranges = [int((z / "max_energy_range_uj").read_text()) for z in zones]
        starts = [int((z / "energy_uj").read_text()) for z in zones]
    except OSError as e:
        return Unavailable(f"RAPL counters are not readable ({e.filename}: {e.strerror}; usually root only)")
    total = [0.0]
    last = list(starts)

    def read() -> float:
        for i, z in enumerate(zones):
            now = int((z / "energy_uj").read_text())
            total[0] += (now - last[i]) % (ranges[i] + 1) / 1000
            last[i] = now
        return total[0]

    return Meter(f"RAPL {', '.join(z.name for z in zones)}", read)


__all__ = ["NVML_MIN_WINDOW_S", "Energy", "Meter", "measure", "meter_for"]
