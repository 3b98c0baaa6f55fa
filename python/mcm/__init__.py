"""mcm: a model-compression and compile advisor.

Measure a model, check a deployment target's constraints, and plan (then apply) the optimizations that meet them.
"""

from __future__ import annotations

from mcm._core import __version__
from mcm.exceptions import CallableError, McmError, MeasurementError, StatsError
from mcm.timing import LatencyReport, time_callable

__all__ = [
    "CallableError",
    "LatencyReport",
    "McmError",
    "MeasurementError",
    "StatsError",
    "__version__",
    "time_callable",
]
