"""A paired speed comparison of two ONNX models: rounds alternate between them, so a noisy shared machine slows
both alike and the ratio stays trustworthy when absolute throughputs drift between measurements."""

from __future__ import annotations

import statistics
from pathlib import Path

from mcm.measure.inputs import load_npz, plan
from mcm.measure.onnx_runner import OnnxRunner
from mcm.timing import time_callable

ROUNDS = 5


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
    """Median over ``rounds`` of (reference time / candidate time) per call at ``batch``: above 1, faster."""
    dataset = load_npz(data) if data is not None else None
    runners = [OnnxRunner(p, threads=threads) for p in (reference, candidate)]
    feeds = plan(runners[0].inputs, data=dataset, batches=(batch,)).feeds(batch)
    ratios = []
    for _ in range(rounds):
        means = []
        for runner in runners:
            fn, args = runner.bind(feeds)
            rep = time_callable(fn, args=args, warmup=5, min_count=20, min_time=round_time, bootstrap=0)
            if rep.stop_reason == "interrupted":  # the harness stops quietly on Ctrl-C; the loop must not
                raise KeyboardInterrupt
            means.append(rep.mean_ns)
        ratios.append(means[0] / means[1])
    return statistics.median(ratios)
