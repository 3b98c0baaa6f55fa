"""`mcm measure MODEL`: measure a model (latency, throughput, size, FLOPs, memory, health, power, cost,
accuracy) and print a table or the JSON report that `mcm advise --baseline` reads.

Ctrl-C keeps what was measured: the partial report is printed (or written to --out) and the exit code is 130.
"""

from __future__ import annotations

import argparse
import sys

INTERRUPTED = 130
MODELS = "an .onnx file, a TorchScript file, a torch.export .pt2 program, package.module:factory, or demo"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL", help=f"what to measure: {MODELS}")
    parser.add_argument("--batch", metavar="B[,B...]", help="batch sizes to time, e.g. 1,8,32 (default 1,8)")
    parser.add_argument(
        "--shape",
        action="append",
        default=[],
        metavar="NAME=DIMxDIM[:dtype]",
        help="fill an input's shape, e.g. x=1x3x224x224 (repeatable)",
    )
    parser.add_argument("--data", metavar="FILE.npz", help="real inputs (one array per input) and labels 'y'")
    parser.add_argument("--threads", type=int, help="intra-op threads (default: every usable CPU)")
    parser.add_argument(
        "--min-time", type=float, default=1.0, metavar="S", help="seconds to time each batch size"
    )
    parser.add_argument("--min-count", type=int, default=50, metavar="N", help="calls to time at least")
    parser.add_argument(
        "--max-time", type=float, metavar="S", help="stop a batch size after this many seconds"
    )
    parser.add_argument("--price-per-hour", type=float, metavar="USD", help="instance price, for the cost")
    parser.add_argument(
        "--qps", type=float, metavar="N", help="target queries per second, for the daily cost"
    )
    parser.add_argument(
        "--reference", metavar="OTHER_MODEL", help="compare outputs (and accuracy) with this model"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--out", metavar="FILE", help="write the report here (atomically) instead of stdout")


def run(args: argparse.Namespace) -> int:
    from mcm.measure import inputs, measure_model, render, write_atomic
    from mcm.measure.progress import TerminalProgress

    progress = TerminalProgress(sys.stderr) if sys.stderr.isatty() else None
    try:
        report = measure_model(
            args.model,
            batches=inputs.parse_batches(args.batch) if args.batch else None,
            shapes=args.shape,
            data=args.data,
            threads=args.threads,
            min_time=args.min_time,
            min_count=args.min_count,
            max_time=args.max_time,
            price_per_hour=args.price_per_hour,
            qps=args.qps,
            reference=args.reference,
            progress=progress,
        )
    finally:
        if progress is not None:
            progress.close()
    output = report.to_json() + "\n" if args.format == "json" else render.text(report)
    if args.out:
        write_atomic(args.out, output)
        print(f"mcm: wrote {args.out}" + (" (partial)" if report.partial else ""), file=sys.stderr)
    else:
        sys.stdout.write(output)
    return INTERRUPTED if report.partial else 0
