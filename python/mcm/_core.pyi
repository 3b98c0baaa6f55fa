"""Type stubs for the native core (rust/src). Checked against the build by `python -m mypy.stubtest mcm._core`."""

from collections.abc import Callable, Sequence
from typing import Any, Literal, TypedDict, final

import numpy as np
import numpy.typing as npt

__all__ = [
    "BUILD_PROFILE",
    "BenchRun",
    "Histogram",
    "__version__",
    "bench",
    "clock_info",
    "min_samples",
    "summarize",
]
__version__: str
BUILD_PROFILE: str

class _IntervalDict(TypedDict):
    low: float
    high: float
    method: str

class _QuantileDict(TypedDict):
    percent: float
    value: float
    ci_low: float | None
    ci_high: float | None
    enough: bool
    min_samples: int

class _OutliersDict(TypedDict):
    q1: float
    q3: float
    low_severe: int
    low_mild: int
    high_mild: int
    high_severe: int
    fences: list[float]

class _SummaryDict(TypedDict):
    count: int
    mean: float
    std: float
    min: float
    max: float
    median: float
    mad: float
    cv: float | None
    confidence: float
    passes: int
    quantiles: list[_QuantileDict]
    mean_ci: _IntervalDict
    median_ci: _IntervalDict
    outliers: _OutliersDict

class _ClockInfoDict(TypedDict):
    clock: str
    read_overhead_ns: float
    resolution_ns: float
    min_step_ns: float
    reads: int

def summarize(
    samples: npt.ArrayLike,
    quantiles: Sequence[float] = ...,
    confidence: float = 0.95,
    bootstrap: int = 1000,
    bootstrap_max_n: int = 10000,
    seed: int = 0,
) -> _SummaryDict: ...
def min_samples(percent: float, confidence: float = 0.95) -> int: ...
def clock_info(reads: int = 100000) -> _ClockInfoDict: ...

@final
class BenchRun:
    @property
    def samples(self) -> npt.NDArray[np.int64]: ...
    @property
    def calls(self) -> int: ...
    @property
    def errors(self) -> int: ...
    @property
    def warmup_calls(self) -> int: ...
    @property
    def warmup_ns(self) -> int: ...
    @property
    def elapsed_ns(self) -> int: ...
    @property
    def stop_reason(
        self,
    ) -> Literal["min_reached", "converged", "max_count", "max_time", "error", "interrupted"]: ...
    @property
    def error(self) -> BaseException | None: ...
    @property
    def first_error(self) -> BaseException | None: ...
    @property
    def rel_half_width(self) -> float | None: ...
    @property
    def clock(self) -> str: ...
    @property
    def clock_cost_ns(self) -> float: ...

def bench(
    fn: Callable[..., Any],
    args: tuple[Any, ...] | None = None,
    *,
    warmup_count: int = 10,
    warmup_time_ns: int = 0,
    min_count: int = 100,
    min_time_ns: int = 0,
    max_count: int | None = None,
    max_time_ns: int | None = None,
    on_error: Literal["raise", "count"] = "raise",
    target_quantile: float | None = None,
    target_rel_width: float = 0.01,
    confidence: float = 0.95,
    subtract_clock_cost: bool = True,
) -> BenchRun: ...

@final
class Histogram:
    def __new__(cls, lowest: int = 1, highest: int = 3600000000000, sigfigs: int = 3) -> Histogram: ...
    @property
    def lowest(self) -> int: ...
    @property
    def highest(self) -> int: ...
    @property
    def sigfigs(self) -> int: ...
    @property
    def count(self) -> int: ...
    @property
    def min(self) -> int | None: ...
    @property
    def max(self) -> int | None: ...
    @property
    def mean(self) -> float | None: ...
    def record(self, value: int, count: int = 1) -> None: ...
    def record_array(self, values: npt.ArrayLike) -> None: ...
    def quantile(self, percent: float) -> float | None: ...
    def quantiles(self, percents: Sequence[float]) -> list[float | None]: ...
    def buckets(self) -> list[tuple[int, int, int]]: ...
    def merge(self, other: Histogram) -> None: ...
    def reset(self) -> None: ...
    def to_bytes(self) -> bytes: ...
    @staticmethod
    def from_bytes(data: bytes) -> Histogram: ...
    def __len__(self) -> int: ...
