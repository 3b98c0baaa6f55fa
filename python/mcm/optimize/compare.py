"""Paired speed comparisons of ONNX models: rounds alternate between them (the order turns each round), so a noisy
shared machine slows all alike and the ratios stay trustworthy when absolute throughputs drift.

Each round compares median call times: a preemption by another process lands in a few samples and moves a mean
(measured here: two paired means of the same pair 1.66× and 1.88× under load) but not the median. The answer is
the median of the per-round ratios with its distribution-free confidence interval (order statistics, from the
Rust ``summarize``).

Each round opens fresh sessions: two sessions of one model run at different speeds for as long as they live (measured
here: a 4×256 MatMul chain against itself, sessions kept, 1.17× [1.16, 1.17] at batch 1; with a second session of
the reference as a control in the same rounds, 1.11× [1.11, 1.12]: one session's layout in memory, not noise).
With new sessions in every round that effect becomes round-to-round variation, which the interval covers (the same
pairs: 1.00× [0.93, 1.04] and 1.02× [0.99, 1.04] over 12 rounds).

Rounds are added until the interval excludes 1.0, or lies inside ``[1/EQUIVALENT, EQUIVALENT]`` (any change is too
small to matter), or the rounds, ``max_time`` or the budget run out. The interval is read only at the rounds in
:data:`LOOKS`, each at confidence ``1 - (1 - CONFIDENCE) / len(LOOKS)``: looking after every round and stopping at
the first interval that excludes 1.0 would call two runs of one model different far more often than 5 % of the
time (measured here: 1 in 7 A/A comparisons read after each of rounds 6 to 12); with the correction the chance
of that stays below 1 - CONFIDENCE over all looks (Bonferroni).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mcm.measure.inputs import ShapeArg, load_npz, plan
from mcm.measure.onnx_runner import OnnxRunner
from mcm.timing import time_callable

#: The rounds after which the interval is read (the first is the fewest that give an order-statistic interval of
#: the median at the per-look confidence: 2 * 0.5**8 < 0.0125).
LOOKS = (8, 12, 18, 27)
#: A ratio interval inside [1/EQUIVALENT, EQUIVALENT] means the models run at the same speed for any decision.
EQUIVALENT = 1.03
#: The chance, over all looks, that a comparison of a model with itself is called a change is below 1 - this.
CONFIDENCE = 0.95
#: The confidence of each look's interval (Bonferroni over LOOKS).
PER_LOOK = 1 - (1 - CONFIDENCE) / len(LOOKS)


@dataclass(frozen=True)
class Paired:
    """Reference time / candidate time (above 1, the candidate is faster): the median over ``rounds`` alternating
    rounds and its ``confidence`` interval ``[low, high]``."""

    ratio: float
    low: float
    high: float
    rounds: int
    batch: int
    #: The overall confidence the decision is made at (each look's interval: :data:`PER_LOOK`).
    confidence: float = CONFIDENCE

    @property
    def faster(self) -> bool:
        """The interval lies above 1: the candidate is faster, beyond the noise."""
        return self.low > 1.0

    @property
    def slower(self) -> bool:
        """The interval lies below 1: the candidate is slower, beyond the noise."""
        return self.high < 1.0

    def __str__(self) -> str:
        return (
            f"{self.ratio:.2f}× [{self.low:.2f}, {self.high:.2f}] "
            f"({self.confidence:.0%} paired interval, {self.rounds} rounds at batch {self.batch})"
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def interval(ratios: Sequence[float], batch: int) -> Paired:
    """The median of ``ratios`` and its order-statistic interval; ``[0, inf]`` while too few rounds give one."""
    from mcm import _core

    summary = _core.summarize(list(ratios), [50.0], confidence=PER_LOOK, bootstrap=0)
    ci = summary.median_ci
    low, high = (ci.low, ci.high) if ci.method == "order-statistic" else (0.0, math.inf)
    return Paired(summary.median, low, high, len(ratios), batch)


def settled(p: Paired) -> bool:
    """Whether more rounds cannot change the decision: the interval excludes 1.0, or says "the same speed"."""
    return p.faster or p.slower or (p.low >= 1 / EQUIVALENT and p.high <= EQUIVALENT)


def paired(
    reference: Path,
    candidate: Path,
    *,
    others: Mapping[str, Path] | None = None,
    batch: int,
    threads: int,
    data: Path | None,
    shapes: Sequence[ShapeArg] = (),
    round_time: float = 0.05,
    max_rounds: int = LOOKS[-1],
    max_time: float = 60.0,
    should_stop: Callable[[], bool] = lambda: False,
) -> dict[str, Paired]:
    """``candidate`` against ``reference`` (key ``"reference"``) and against each of ``others`` (by key), timed
    in the same rounds, each round on fresh sessions (fed ``data``'s rows, else synthetic inputs of ``shapes``); rounds stop when the comparison with ``reference`` is
    :func:`settled` at one of :data:`LOOKS`, at ``max_rounds``, or once past the first look after ``max_time``
    seconds or when ``should_stop()`` says so (a budget)."""
    dataset = load_npz(data) if data is not None else None
    models = {"reference": reference, **(others or {}), "candidate": candidate}
    first = OnnxRunner(candidate, threads=threads)
    feeds = plan(first.inputs, data=dataset, shapes=() if dataset else shapes, batches=(batch,)).feeds(batch)
    del first
    ratios: dict[str, list[float]] = {k: [] for k in models if k != "candidate"}
    started = time.monotonic()
    for n in range(max_rounds):
        order = list(models) if n % 2 == 0 else list(reversed(models))
        bound = {k: OnnxRunner(models[k], threads=threads).bind(feeds) for k in order}
        medians = {k: _median_ns(*bound[k], round_time) for k in order}
        del bound  # the sessions of this round
        for k in ratios:
            ratios[k].append(medians[k] / medians["candidate"])
        done = n + 1
        out_of_time = time.monotonic() - started > max_time or should_stop()
        if (done in LOOKS and settled(interval(ratios["reference"], batch))) or (
            done >= LOOKS[0] and out_of_time
        ):
            break
    return {k: interval(v, batch) for k, v in ratios.items()}


def _median_ns(fn: Callable[..., Any], args: Sequence[Any], round_time: float) -> float:
    # one warm-up call after the session opened and at least one timed; fast models get many in round_time
    rep = time_callable(fn, args=args, warmup=1, min_count=1, min_time=round_time, bootstrap=0)
    if rep.stop_reason == "interrupted":  # the harness stops quietly on Ctrl-C; the loop must not
        raise KeyboardInterrupt
    return rep.median_ns
