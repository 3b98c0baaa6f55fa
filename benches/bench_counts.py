"""Counts (parameters, MACs) of torchvision models: mcm against torch's FlopCounterMode and fvcore, timed.

    python benches/bench_counts.py [--models resnet50,efficientnet_b0,mobilenet_v3_small] [--repeats 3]

For each model (random weights, 1×3×224×224): MACs from ``torch.utils.flop_counter.FlopCounterMode`` (the
reference, FLOPs / 2), from mcm's ONNX graph counter on the model exported as ``mcm optimize`` exports it
(``mcm measure model.onnx --counts``), and from ``mcm measure torchvision:NAME --counts``. Time: the counts-only
answer of ``mcm measure torchvision:NAME --counts`` (``measure_model(counts_only=True)``: builds the model and counts)
against fvcore's ``FlopCountAnalysis(...).total()`` with the model built the same way, the median of ``--repeats``.
fvcore counts one multiply-add as one flop and skips ops it has no handle for, so its figure is printed for
information. Targets (issue #13): ONNX MACs within 1 % of FlopCounterMode; counts-only time <= 2x fvcore's. Exits 1
when a target is missed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> int:
    import torch
    import torchvision  # type: ignore[import-untyped]
    from torch.utils.flop_counter import FlopCounterMode

    from mcm.measure import measure_model
    from mcm.optimize import export

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="resnet50,efficientnet_b0,mobilenet_v3_small")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    try:
        from fvcore.nn import FlopCountAnalysis  # type: ignore[import-not-found]
    except ImportError:
        FlopCountAnalysis = None
        print("fvcore is not installed (pip install fvcore): its time is not measured")
    ok = True
    print(
        f"{'model':20} {'FlopCounterMode':>15} {'mcm ONNX':>10} {'Δ':>7} {'mcm torch':>10} {'fvcore':>8}  time"
    )
    with tempfile.TemporaryDirectory(prefix="mcm-counts-") as tmp:
        for name in args.models.split(","):
            torch.manual_seed(0)
            module = torchvision.models.get_model(name).eval()
            x = torch.randn(1, 3, 224, 224)
            with FlopCounterMode(display=False) as counter, torch.no_grad():
                module(x)
            reference = counter.get_total_flops() / 2 / 1e9
            onnx_path = export.to_onnx(module, (x,), Path(tmp) / name)
            onnx_macs = measure_model(str(onnx_path), counts_only=True).metrics["macs_g"]

            def ours(name: str = name) -> float:
                return measure_model(f"torchvision:{name}", counts_only=True).metrics["macs_g"]

            mcm_s, torch_macs = timed(ours, args.repeats)
            delta = onnx_macs / reference - 1
            within = abs(delta) <= 0.01
            line = f"{name:20} {reference:15.4f} {onnx_macs:10.4f} {delta:+7.2%} {torch_macs:10.4f} "
            if FlopCountAnalysis is not None:

                def theirs(name: str = name) -> float:
                    torch.manual_seed(0)
                    built = torchvision.models.get_model(name).eval()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        analysis = FlopCountAnalysis(built, torch.randn(1, 3, 224, 224))
                        analysis.unsupported_ops_warnings(False)
                        analysis.uncalled_modules_warnings(False)
                        return float(analysis.total()) / 1e9

                fv_s, fv_macs = timed(theirs, args.repeats)
                fast = mcm_s <= 2 * fv_s
                ok &= fast
                line += f"{fv_macs:8.4f}  mcm {mcm_s:.2f} s vs fvcore {fv_s:.2f} s = {mcm_s / fv_s:.2f}x"
                line += f" (<= 2x: {'met' if fast else 'MISSED'})"
            else:
                line += f"{'-':>8}  mcm {mcm_s:.2f} s"
            ok &= within
            print(line + ("" if within else "  MACs MISSED (> 1 %)"), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
