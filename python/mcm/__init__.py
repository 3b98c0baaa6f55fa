"""mcm: a model-compression and compile advisor.

Measure a model, check a deployment target's constraints, and plan (then apply) the optimizations that meet them.
The names below load on first use, so `import mcm` stays cheap for the command line (no numpy until it is needed).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mcm.exceptions import CallableError, McmError, MeasurementError, RulesError, StatsError

if TYPE_CHECKING:
    from mcm._core import __version__
    from mcm.timing import LatencyReport, time_callable

# The version lives in Cargo.toml only; the native core carries it.
_LAZY = {"LatencyReport": "mcm.timing", "time_callable": "mcm.timing", "__version__": "mcm._core"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mcm' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "CallableError",
    "LatencyReport",
    "McmError",
    "MeasurementError",
    "RulesError",
    "StatsError",
    "__version__",
    "time_callable",
]
