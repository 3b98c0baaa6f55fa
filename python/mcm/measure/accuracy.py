"""Accuracy against labels and agreement with a reference model, over every row of the data.

Top-1: the arg-max of the first output (``[batch, classes]`` scores) against integer labels. Agreement: the
fraction of rows where the two models' top-1 classes match, and the largest / mean absolute output difference.
Rows whose call raised are left out (and counted as errors); agreement needs every row from both models.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from mcm.measure.health import Tally
from mcm.measure.inputs import Feeds
from mcm.measure.unavailable import Unavailable

#: One model call: feeds in, host arrays out.
Call = Callable[[Feeds], list[npt.NDArray[Any]]]


@dataclass(frozen=True)
class Predictions:
    """Outputs over the rows whose calls succeeded (concatenated per output), and which rows those were."""

    outputs: list[npt.NDArray[Any]]
    ok: npt.NDArray[np.bool_]

    @property
    def complete(self) -> bool:
        return bool(self.ok.all())


@dataclass(frozen=True)
class Top1:
    correct: int
    evaluated: int
    rows: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.evaluated

    def to_dict(self) -> dict[str, Any]:
        return {
            "top1": self.accuracy,
            "correct": self.correct,
            "evaluated": self.evaluated,
            "rows": self.rows,
        }


def predict(
    call: Call, rows: Mapping[str, npt.NDArray[Any]], chunk: int, fixed: bool, tally: Tally
) -> Predictions:
    """Run every row in chunks of ``chunk`` (padding the last one when the batch size is fixed)."""
    n = next(iter(rows.values())).shape[0]
    ok = np.zeros(n, dtype=bool)
    parts: list[list[npt.NDArray[Any]]] = []
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        feeds = {k: v[start:stop] for k, v in rows.items()}
        if fixed and stop - start < chunk:
            feeds = {
                k: np.concatenate([v, np.repeat(v[-1:], chunk - len(v), axis=0)]) for k, v in feeds.items()
            }
        try:
            outs = call(feeds)
        except Exception as e:  # the model's own failure: counted, the rows left out
            tally.record_calls(1, 1, f"{type(e).__name__}: {e}")
            continue
        tally.record_calls(1, 0, None)
        outs = [
            o[: stop - start] if o.ndim and o.shape[0] == len(next(iter(feeds.values()))) else o for o in outs
        ]
        tally.check(outs, "data")
        parts.append(outs)
        ok[start:stop] = True
    outputs = [np.concatenate(col) for col in zip(*parts, strict=True)] if parts else []
    return Predictions(outputs, ok)


def top1(pred: Predictions, labels: npt.NDArray[np.integer]) -> Top1 | Unavailable:
    """Top-1 accuracy of the rows that ran."""
    if not pred.outputs or not pred.ok.any():
        return Unavailable("no evaluation call succeeded")
    scores = pred.outputs[0]
    if scores.ndim != 2 or scores.shape[0] != int(pred.ok.sum()):
        return Unavailable(
            f"the first output is not [batch, classes] scores (its shape is {list(scores.shape)})"
        )
    correct = int((scores.argmax(axis=1) == labels[pred.ok]).sum())
    return Top1(correct, int(pred.ok.sum()), len(labels))


def agreement(pred: Predictions, ref: Predictions) -> dict[str, Any] | Unavailable:
    """How closely the model's outputs follow the reference's on the same rows."""
    if not (pred.complete and ref.complete):
        return Unavailable("some evaluation calls raised, so the rows of the two models do not line up")
    if len(pred.outputs) != len(ref.outputs) or any(
        a.shape != b.shape for a, b in zip(pred.outputs, ref.outputs, strict=True)
    ):
        shapes = ([list(a.shape) for a in pred.outputs], [list(b.shape) for b in ref.outputs])
        return Unavailable(
            f"the outputs differ in number or shape (model {shapes[0]}, reference {shapes[1]})"
        )
    out: dict[str, Any] = {"rows": int(pred.ok.size)}
    a, b = pred.outputs[0], ref.outputs[0]
    if a.ndim == 2 and a.shape[1] > 1:
        out["top1_agreement"] = float((a.argmax(axis=1) == b.argmax(axis=1)).mean())
    diffs = [
        np.abs(x.astype(np.float64) - y.astype(np.float64))
        for x, y in zip(pred.outputs, ref.outputs, strict=True)
    ]
    out["max_abs_diff"] = max(float(d.max()) if d.size else 0.0 for d in diffs)
    out["mean_abs_diff"] = (
        float(np.mean([d.mean() for d in diffs if d.size])) if any(d.size for d in diffs) else 0.0
    )
    return out


__all__ = ["Call", "Predictions", "Top1", "agreement", "predict", "top1"]
