"""Accuracy without labels: a candidate's outputs against the FP32 baseline's on the same rows.

The rows are the calibration data's when there is some (real inputs), else :data:`SYNTHETIC_ROWS` synthetic rows
(:func:`mcm.measure.inputs.fill_for`). What comes back is what it is: the fraction of rows whose top-1 class
agrees (classifier outputs only) and the largest / mean absolute difference of the outputs, never an accuracy.
The disagreement bounds the accuracy drop (two models' accuracies on any labels differ by at most the fraction of
rows where their top-1 classes differ); it is reported with that bound, not gated on: it is not an accuracy, and
synthetic rows are not the data the model will see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy.typing as npt

from mcm.measure import accuracy
from mcm.measure.health import Tally
from mcm.measure.inputs import Feeds, ShapeArg, load_npz, plan
from mcm.measure.onnx_runner import OnnxRunner
from mcm.measure.unavailable import Unavailable

#: Rows compared when no data is given.
SYNTHETIC_ROWS = 64
#: Rows per call.
CHUNK = 16


@dataclass(frozen=True)
class Agreement:
    """How closely a candidate's outputs follow the FP32 baseline's on ``rows`` rows of ``origin``."""

    rows: int
    origin: str  # "calibration data" | "synthetic inputs"
    max_abs_diff: float
    mean_abs_diff: float
    top1: float | None = None  # the fraction of rows whose top-1 classes agree (classifier outputs)

    def __str__(self) -> str:
        top1 = f"top-1 agreement {self.top1:.1%}, " if self.top1 is not None else ""
        return (
            f"outputs vs FP32 on {self.rows} rows of {self.origin}: {top1}max |Δ| {self.max_abs_diff:.3g}, "
            f"mean |Δ| {self.mean_abs_diff:.3g}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "origin": self.origin,
            "top1_agreement": self.top1,
            "max_abs_diff": self.max_abs_diff,
            "mean_abs_diff": self.mean_abs_diff,
        }


class Reference:
    """The FP32 baseline's outputs on the comparison rows, computed once and compared with each candidate."""

    def __init__(
        self, model: Path, *, calib: Path | None, threads: int, shapes: Sequence[ShapeArg] = ()
    ) -> None:
        self.threads = threads
        runner = OnnxRunner(model, threads=threads)
        dataset = load_npz(calib) if calib is not None else None
        free = all(s.batch_free for s in runner.inputs)
        self.origin = "calibration data" if dataset is not None else "synthetic inputs"
        if dataset is not None:
            self.rows: dict[str, npt.NDArray[Any]] = dict(plan(runner.inputs, data=dataset).rows or {})
        else:
            n = SYNTHETIC_ROWS if free else 1
            self.rows = dict(plan(runner.inputs, shapes=shapes, batches=(n,)).feeds(n))
        self.chunk = CHUNK if free else 1
        self.outputs = self._predict(runner)

    def compare(self, candidate: Path) -> Agreement | Unavailable:
        """``candidate``'s outputs on the same rows against the baseline's."""
        found = accuracy.agreement(self._predict(OnnxRunner(candidate, threads=self.threads)), self.outputs)
        if isinstance(found, Unavailable):
            return found
        return Agreement(
            int(found["rows"]),
            self.origin,
            float(found["max_abs_diff"]),
            float(found["mean_abs_diff"]),
            found.get("top1_agreement"),
        )

    def _predict(self, runner: OnnxRunner) -> accuracy.Predictions:
        def call(feeds: Feeds) -> list[npt.NDArray[Any]]:
            fn, args = runner.bind(feeds)
            return runner.outputs(fn(*args))

        with runner.session():
            return accuracy.predict(call, self.rows, self.chunk, self.chunk == 1, Tally())


__all__ = ["SYNTHETIC_ROWS", "Agreement", "Reference"]
