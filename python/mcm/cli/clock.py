"""`mcm clock`: what timing costs on this machine (clock read overhead, harness floor per call)."""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--calls", type=int, default=200_000, help="no-op calls to time for the floor")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from mcm import _core

    info = _core.clock_info()
    floor = _core.bench(lambda: None, min_count=args.calls, warmup_count=1000)
    result = {
        "clock": info.clock,
        "read_overhead_ns": info.read_overhead_ns,
        "resolution_ns": info.resolution_ns,
        "min_step_ns": info.min_step_ns,
        "reads": info.reads,
        "harness_floor_median_ns": float(np.median(floor.samples)),
        "harness_floor_p99_ns": float(np.percentile(floor.samples, 99)),
        "core_version": _core.__version__,
        "core_build": _core.BUILD_PROFILE,
    }
    if args.format == "json":
        print(json.dumps(result, indent=2))
        return 0
    print(f"clock               {info.clock}")
    print(f"read overhead       {info.read_overhead_ns:.1f} ns (median of back-to-back reads)")
    print(f"resolution          {info.resolution_ns:.2f} ns")
    print(
        f"harness floor       {result['harness_floor_median_ns']:.0f} ns median, "
        f"{result['harness_floor_p99_ns']:.0f} ns p99 per no-op call"
    )
    print(f"native core         {_core.__version__} ({_core.BUILD_PROFILE} build)")
    return 0
