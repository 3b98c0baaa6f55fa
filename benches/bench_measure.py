"""`mcm measure` latency against the usual harnesses, on the same model and thread count, in one process.

    python benches/bench_measure.py [--quick] [--threads N] [--batch B]

1. PyTorch: the demo CNN in eager mode (``mcm.demo.model:build``). Median latency from ``measure_model`` over the
   median ``torch.utils.benchmark.Timer.blocked_autorange`` reports for ``model(x)`` under
   ``torch.inference_mode()`` (target within 10%).
2. ONNX Runtime: the demo ONNX model. Median from ``measure_model`` over the median of a plain
   ``perf_counter_ns`` loop around ``session.run`` on a session with the same options (target within 10%).

Rounds are interleaved and the median ratio is reported, since this machine is shared and noisy.
Exits 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np

from mcm import demo
from mcm.measure import measure_model

Result = tuple[str, float, str, bool]
TOLERANCE = 0.10
#: mcm's default warm-up time (mcm.measure.api.Settings.warmup_time); the baselines get the same.
WARMUP_S = 0.2


def mcm_median_ms(model: object, x: np.ndarray, threads: int, min_time: float, batch: int) -> float:
    report = measure_model(
        model,
        inputs={"x": x} if not isinstance(model, str) else None,
        batches=(batch,),
        threads=threads,
        min_time=min_time,
        min_count=200,
        repeats=2,
    )
    return report.metrics["latency_p50_ms"]


def torch_round(threads: int, min_time: float, batch: int) -> tuple[float, float]:
    import torch
    from torch.utils import benchmark

    from mcm.demo.model import build

    model, _ = build()
    x = np.load(demo.EVAL_PATH)["x"][:batch]
    with torch.inference_mode():
        tensor = torch.from_numpy(x)
        warm_up(lambda: model(tensor))
        timer = benchmark.Timer(
            "model(x)", globals={"model": model, "x": torch.from_numpy(x)}, num_threads=threads
        )
        theirs = timer.blocked_autorange(min_run_time=min_time).median * 1e3
    ours = mcm_median_ms(model, x, threads, min_time, batch)
    return ours, theirs


def ort_round(threads: int, min_time: float, batch: int) -> tuple[float, float]:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(demo.ONNX_PATH), so, providers=["CPUExecutionProvider"])
    feeds = {"x": np.load(demo.EVAL_PATH)["x"][:batch]}
    theirs = plain_loop_ms(lambda: session.run(None, feeds), min_time)
    ours = mcm_median_ms("demo", feeds["x"], threads, min_time, batch)
    return ours, theirs


def warm_up(fn: Callable[[], object], seconds: float = WARMUP_S) -> None:
    """Call ``fn`` for as long as mcm warms up, so both sides start with the CPU at the same clock speed."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        fn()


def plain_loop_ms(fn: Callable[[], object], min_time: float) -> float:
    """The cheat sheet's template: perf_counter around each call, after the same warm-up mcm does."""
    warm_up(fn)
    samples: list[int] = []
    clock = time.perf_counter_ns
    end = clock() + int(min_time * 1e9)
    while clock() < end or len(samples) < 200:
        t0 = clock()
        fn()
        samples.append(clock() - t0)
    return float(np.median(samples)) / 1e6


def compare(
    name: str, one_round: Callable[[int, float, int], tuple[float, float]], args: argparse.Namespace
) -> Result:
    ratios, ours, theirs = [], [], []
    for _ in range(args.rounds):
        o, t = one_round(args.threads, args.min_time, args.batch)
        ratios.append(o / t)
        ours.append(o)
        theirs.append(t)
    r = statistics.median(ratios)
    detail = f"mcm {statistics.median(ours):.4f} ms vs {statistics.median(theirs):.4f} ms, rounds {', '.join(f'{x:.3f}' for x in ratios)}"
    return (name, r, detail, abs(r - 1) <= TOLERANCE)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=1)
    args = parser.parse_args()
    args.rounds, args.min_time = (3, 0.3) if args.quick else (5, 1.0)
    results = [
        compare("torch eager: mcm median / torch.utils.benchmark median", torch_round, args),
        compare("ONNX Runtime: mcm median / plain timed loop median", ort_round, args),
    ]
    print(f"demo CNN, batch {args.batch}, {args.threads} thread(s), {args.rounds} interleaved rounds")
    for name, ratio, detail, ok in results:
        print(f"{'ok  ' if ok else 'MISS'} {name}: {ratio:.3f}  ({detail})")
    return 0 if all(ok for *_, ok in results) else 1


if __name__ == "__main__":
    sys.exit(main())
