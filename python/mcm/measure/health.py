"""Numeric health and stability of a model's outputs.

Health: NaN and Inf counts in the outputs that were checked (floating-point outputs only), and how many calls
raised. Stability: the same inputs run several times; ``output_std`` is the largest per-element standard
deviation across the runs, ``max_abs_diff`` the largest difference from the first run (finite elements only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from mcm.measure.unavailable import Unavailable


@dataclass
class Tally:
    """Running counts over every checked output and every call (check, timing and evaluation calls)."""

    nan: int = 0
    inf: int = 0
    values: int = 0
    outputs_checked: int = 0
    calls: int = 0
    errors: int = 0
    first_error: str | None = None
    where: list[str] = field(default_factory=list)

    def check(self, outputs: Sequence[npt.NDArray[Any]], where: str) -> None:
        """Count the non-finite values in one call's outputs."""
        self.outputs_checked += 1
        bad = False
        for a in outputs:
            if not np.issubdtype(a.dtype, np.floating) and not np.issubdtype(a.dtype, np.complexfloating):
                continue
            nan = int(np.isnan(a).sum())
            inf = int(np.isinf(a).sum())
            self.nan, self.inf, self.values = self.nan + nan, self.inf + inf, self.values + a.size
            bad = bad or bool(nan or inf)
        if bad and where not in self.where:
            self.where.append(where)

    def record_calls(self, calls: int, errors: int, first_error: str | None) -> None:
        self.calls += calls
        self.errors += errors
        if self.first_error is None:
            self.first_error = first_error

    @property
    def nan_inf_count(self) -> int:
        return self.nan + self.inf

    @property
    def error_rate(self) -> float:
        return self.errors / self.calls if self.calls else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "nan_inf_count": self.nan_inf_count,
            "nan_count": self.nan,
            "inf_count": self.inf,
            "values_checked": self.values,
            "outputs_checked": self.outputs_checked,
            "nonfinite_in": self.where,
            "calls": self.calls,
            "errors": self.errors,
            "error_rate": self.error_rate,
            "first_error": self.first_error,
        }


@dataclass(frozen=True)
class Stability:
    """Spread of repeated outputs for identical inputs."""

    runs: int
    output_std: float
    max_abs_diff: float
    identical: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "output_std": self.output_std,
            "max_abs_diff": self.max_abs_diff,
            "bitwise_identical": self.identical,
        }


def stability(runs: Sequence[Sequence[npt.NDArray[Any]]]) -> Stability | Unavailable:
    """Compare the outputs of repeated runs on the same inputs."""
    if len(runs) < 2:
        return Unavailable(f"needs at least 2 successful runs on the same inputs, got {len(runs)}")
    if any(
        len(r) != len(runs[0]) or any(a.shape != b.shape for a, b in zip(r, runs[0], strict=True))
        for r in runs
    ):
        return Unavailable("repeated runs returned outputs of different shapes")
    std = diff = 0.0
    identical = True
    for i in range(len(runs[0])):
        stack = np.stack([np.asarray(r[i]) for r in runs])
        identical = identical and all(np.array_equal(stack[0], s, equal_nan=True) for s in stack[1:])
        if not np.issubdtype(stack.dtype, np.number) or stack.size == 0:
            continue
        values = stack.astype(np.float64)
        finite = np.isfinite(values).all(axis=0)
        if finite.any():
            std = max(std, float(values.std(axis=0)[finite].max()))
            diff = max(diff, float(np.abs(values - values[0]).max(axis=0)[finite].max()))
    return Stability(len(runs), std, diff, identical)


__all__ = ["Stability", "Tally", "stability"]
