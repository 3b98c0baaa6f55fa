"""Measuring a model: latency and throughput per batch size, size, parameters, FLOPs / MACs, peak memory,
numeric health, stability, error rate, power and energy, cost, accuracy, and provenance (DESIGN.md §6).

    from mcm.measure import measure_model
    report = measure_model("demo", batches=(1, 8))
    report.metrics["latency_p99_ms"], report.unavailable.get("power_w")

Importing this package imports neither torch nor ONNX Runtime; they load with the first model that needs them.
"""

from __future__ import annotations

from mcm.files import write_atomic
from mcm.measure.api import OnLatency, Progress, Settings, measure_model
from mcm.measure.report import SCHEMA, MeasureReport
from mcm.measure.unavailable import Unavailable

__all__ = [
    "SCHEMA",
    "MeasureReport",
    "OnLatency",
    "Progress",
    "Settings",
    "Unavailable",
    "measure_model",
    "write_atomic",
]
