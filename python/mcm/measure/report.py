"""The measurement report: a versioned JSON document whose ``metrics`` object ``mcm advise --baseline`` reads.

``metrics`` is flat: canonical metric names (``mcm.metrics``) to plain numbers in canonical units. Every other
metric of the catalogue is listed under ``unavailable`` with the reason, so each name appears in exactly one of
the two. The detailed sections (latency per batch with percentiles and intervals, throughput, size, FLOPs,
memory, health, stability, power, cost, accuracy, runtime, provenance) and the warnings follow.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mcm import metrics as catalogue
from mcm.exceptions import MeasurementError
from mcm.measure.unavailable import Unavailable

SCHEMA = "mcm.measure/1"

#: Why ``mcm measure`` leaves a catalogue metric out even when everything else was measured.
NOT_MEASURED = {
    "map": "mAP needs a detection model and ground-truth boxes; mcm measure computes top-1 accuracy",
    "bleu": "BLEU needs a translation model and reference texts; mcm measure computes top-1 accuracy",
    "hardware_cost_usd": "a given fact (what the hardware costs), not something a run can measure",
    "engineering_cost_usd": "a given fact (what the work costs), not something a run can measure",
}


@dataclass
class MeasureReport:
    """One model measured: canonical metrics, what was unavailable and why, the detailed sections, warnings."""

    model: dict[str, Any]
    settings: dict[str, Any]
    metrics: dict[str, float]
    unavailable: dict[str, str]
    sections: dict[str, Any]
    warnings: list[str]
    partial: bool = False
    stop_reason: str | None = None
    samples: dict[int, npt.NDArray[np.int64]] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (per-call samples left out)."""
        return {
            "schema": SCHEMA,
            "partial": self.partial,
            "stop_reason": self.stop_reason,
            "model": self.model,
            "settings": self.settings,
            "metrics": self.metrics,
            "unavailable": self.unavailable,
            **self.sections,
            "warnings": self.warnings,
        }

    def env_facts(self) -> dict[str, bool | float | str]:
        """The ``env.*`` facts this measurement establishes: the machine's (from the provenance) and
        ``model_kind`` when the graph said which kind of model it is."""
        from mcm.measure.environment import env_facts

        provenance = self.sections.get("provenance", {})
        facts = env_facts(provenance if isinstance(provenance, dict) else {})
        if self.model.get("kind") is not None:
            facts["model_kind"] = self.model["kind"]
        return facts

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(_plain(self.to_dict()), indent=indent, allow_nan=False)


def split_metrics(values: Mapping[str, float | Unavailable]) -> tuple[dict[str, float], dict[str, str]]:
    """Canonical values that pass the catalogue's range checks, and a reason for every other catalogue metric."""
    measured: dict[str, float] = {}
    missing: dict[str, str] = {}
    for name, metric in catalogue.METRICS.items():
        value = values.get(name)
        if value is None:
            missing[name] = NOT_MEASURED.get(name, "not measured by mcm measure")
        elif isinstance(value, Unavailable):
            missing[name] = value.reason
        else:
            problem = metric.range_problem(float(value))
            if problem is None:
                measured[name] = float(value)
            else:
                missing[name] = f"measured an invalid value: {problem}"
    unknown = sorted(set(values) - set(catalogue.METRICS))
    if unknown:
        raise MeasurementError(f"internal: metrics not in the catalogue: {', '.join(unknown)}")
    return measured, missing


def _plain(obj: Any) -> Any:
    """Numpy scalars and arrays, tuples, paths and non-finite floats as plain JSON values (non-finite → None)."""
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _plain(obj.tolist())
    if isinstance(obj, np.generic):
        return _plain(obj.item())
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else None
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, Unavailable):
        return str(obj)
    return obj


__all__ = ["NOT_MEASURED", "SCHEMA", "MeasureReport", "split_metrics"]
