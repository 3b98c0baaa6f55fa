"""A paired speed comparison of two ONNX models: rounds alternate between them, so a noisy shared machine slows
both alike and the ratio stays trustworthy when absolute throughputs drift between measurements.

Each round compares median call times: a preemption by another process lands in a few samples and moves a mean
(measured here: two paired means of the same pair 1.66× and 1.88× under load) but not the median."""

from __future__ import annotations

import statistics
from pathlib import Path

from mcm.measure.inputs import load_npz, plan
from mcm.measure.onnx_runner import OnnxRunner
from mcm.timing import time_callable

ROUNDS = 7


def speedup(
    reference: Path,
    candidate: Path,
    *,
    batch: int,
    threads: int,
    data: Path | None,
    rounds: int = ROUNDS,
    round_time: float = 0.2,
) -> float:
    """Median over ``rounds`` of (reference / candidate median call time) at ``batch``: above 1, faster."""
    dataset = load_npz(data) if data is not None else None
    runners = [OnnxRunner(p, threads=threads) for p in (reference, candidate)]
    feeds = plan(runners[0].inputs, data=dataset, batches=(batch,)).feeds(batch)
    ratios = []
    for _ in range(rounds):
        medians = []
        for runner in runners:
            fn, args = runner.bind(feeds)
            rep = time_callable(fn, args=args, warmup=5, min_count=20, min_time=round_time, bootstrap=0)
            if rep.stop_reason == "interrupted":  # the harness stops quietly on Ctrl-C; the loop must not
                raise KeyboardInterrupt
            medians.append(rep.median_ns)
        ratios.append(medians[0] / medians[1])
    return statistics.median(ratios)
