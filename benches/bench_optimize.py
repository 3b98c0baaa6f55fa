"""The optimization techniques on the bundled demo, against both baselines measured in the same run.

    python benches/bench_optimize.py [--quick] [--threads N] [--batch B]

Baselines: ONNX Runtime FP32 (the demo's ``digits.onnx``) and PyTorch eager (``mcm.demo.model:build``), same
threads. Speed vs ONNX Runtime FP32 is a paired comparison (alternating rounds in one window, median ratio), since
this machine is shared and noisy; speed vs eager, size and accuracy come from ``measure_model``.
Acceptance (issue 5): static INT8 at >= 1.8x ONNX Runtime FP32 throughput at batch 32, size <= 0.3x, accuracy
drop <= 1 pp. Exits 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from mcm import demo
from mcm.measure import measure_model
from mcm.measure.environment import cpu
from mcm.optimize import (
    compare,
    export,
    fp16,
    int8_dynamic,
    int8_static,
    ort_graph_opt,
    pruning,
    structured_pruning,
)
from mcm.optimize.base import Applied, Artifact, Context
from mcm.optimize.loop import build_entry

SPEED, SIZE, DROP = 1.8, 0.3, 1.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter timing windows")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    min_time, rounds = (0.3, 5) if args.quick else (1.0, 9)
    info = cpu()
    flags = info["flags"] if isinstance(info["flags"], dict) else {}
    print(
        f"CPU: {info['model']}; VNNI: {bool(flags.get('avx512_vnni') or flags.get('avx_vnni'))}; "
        f"AVX-512: {bool(flags.get('avx512f'))}; threads {args.threads}; batch {args.batch}"
    )
    module, example = build_entry(demo.ENTRY_POINT)
    ctx = Context(
        args.threads, demo.CALIB_PATH, demo.TRAIN_PATH, demo.EVAL_PATH, flags, str(info["arch"]), example
    )
    base = Artifact(demo.ONNX_PATH, module)

    def measured(model: object) -> dict[str, float]:
        r = measure_model(
            model, batches=(1, args.batch), data=demo.EVAL_PATH, threads=args.threads, min_time=min_time
        )
        m = dict(r.metrics)
        m["qps"] = float(r.sections["throughput"]["by_batch"][str(args.batch)])
        return m

    eager, fp32 = measured(demo.ENTRY_POINT), measured(str(demo.ONNX_PATH))
    steps: dict[str, Callable[[Path], Applied]] = {
        "ort_graph_opt": lambda d: ort_graph_opt.apply(demo.ONNX_PATH, d),
        "int8_static": lambda d: int8_static.apply(
            demo.ONNX_PATH, d, calib=demo.CALIB_PATH, flags=flags, arch=str(info["arch"])
        ),
        "int8_dynamic": lambda d: int8_dynamic.apply(demo.ONNX_PATH, d),
        "fp16": lambda d: fp16.apply(demo.ONNX_PATH, d),
        "pruning (unstructured 50%)": lambda d: pruning.apply_artifact(base, d, ctx),
        "structured_pruning (50%)": lambda d: structured_pruning.apply_artifact(base, d, ctx),
        "structured_pruning + int8_static": lambda d: int8_static.apply(
            structured_pruning.apply_artifact(base, d / "sp", ctx).model.onnx,
            d,
            calib=demo.CALIB_PATH,
            flags=flags,
            arch=str(info["arch"]),
        ),
    }
    print(
        f"\nbaselines at batch {args.batch}: ONNX Runtime FP32 {fp32['qps']:,.0f}/s "
        f"({fp32['model_size_mb'] * 1024:.1f} KiB, accuracy {fp32['accuracy']:.2%}); "
        f"torch eager {eager['qps']:,.0f}/s"
    )
    print(f"\n{'technique':34} {'× ORT FP32':>10} {'× eager':>8} {'size ×':>7} {'drop pp':>8}  notes")
    ok = True
    with tempfile.TemporaryDirectory(prefix="mcm-bench-") as tmp:
        for i, (name, step) in enumerate(steps.items()):
            out = Path(tmp) / str(i)
            out.mkdir()
            applied = step(out)
            m = measured(str(applied.model.onnx))
            speed = compare.paired(
                demo.ONNX_PATH,
                applied.model.onnx,
                batch=args.batch,
                threads=args.threads,
                data=demo.EVAL_PATH,
                max_rounds=rounds,
                round_time=min_time / 3,
            )["reference"].ratio
            size = m["model_size_mb"] / fp32["model_size_mb"]
            drop = 100 * (fp32["accuracy"] - m["accuracy"])
            note = "; ".join(applied.notes) or ("" if speed >= 0.95 else "slower than FP32: rejected")
            if name == "int8_static":
                hit = speed >= SPEED and size <= SIZE and drop <= DROP
                ok &= hit
                note = f"target >= {SPEED}x, <= {SIZE}x, <= {DROP} pp: {'met' if hit else 'MISSED'}"
            print(f"{name:34} {speed:10.2f} {m['qps'] / eager['qps']:8.2f} {size:7.2f} {drop:8.2f}  {note}")
        mobilenet_int8(Path(tmp), flags, str(info["arch"]), args.batch, args.threads, rounds, min_time)
    return 0 if ok else 1


def mobilenet_int8(
    tmp: Path, flags: dict[str, bool], arch: str, batch: int, threads: int, rounds: int, min_time: float
) -> None:
    """Static INT8 on a MobileNetV2 (64 px, 10 classes, random weights and calibration: speed and size only),
    paired against its ONNX Runtime FP32: depthwise layers are where a quantizer can lose everything."""
    import numpy as np
    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "measure"))
    from archs import mobilenet_v2

    torch.manual_seed(0)
    fp32 = export.to_onnx(mobilenet_v2(10).eval(), torch.randn(1, 3, 64, 64), tmp / "mobilenet_fp32")
    calib = tmp / "mobilenet_calib.npz"
    np.savez(calib, x=np.random.default_rng(0).random((64, 3, 64, 64), dtype=np.float32))
    out = tmp / "mobilenet_int8"
    out.mkdir()
    applied = int8_static.apply(fp32, out, calib=calib, flags=flags, arch=arch)
    speed = compare.paired(
        fp32,
        applied.model.onnx,
        batch=batch,
        threads=threads,
        data=calib,
        max_rounds=rounds,
        round_time=min_time / 3,
    )["reference"].ratio
    size = applied.model.onnx.stat().st_size / fp32.stat().st_size
    print(
        f"\nMobileNetV2 64 px, static INT8 vs its ONNX Runtime FP32: {speed:.2f}x, size {size:.2f}x (information)"
    )


if __name__ == "__main__":
    sys.exit(main())
