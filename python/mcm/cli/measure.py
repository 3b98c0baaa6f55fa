"""`mcm measure MODEL`: measure a model (latency, throughput, size, FLOPs, memory, health, power, cost,
accuracy) and print a table or the JSON report that `mcm advise --baseline` reads; with `--sweep`, once per value
of one input dimension, in one table (:mod:`mcm.measure.sweep`).

Ctrl-C keeps what was measured: the partial report is printed (or written to --out) and the exit code is 130.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcm.cli.inputs import add_data_arguments, data_file
from mcm.exceptions import ExitStatus
from mcm.sanitize import inline

if TYPE_CHECKING:
    from mcm.files import StrPath
    from mcm.measure.report import MeasureReport

MODELS = (
    "an .onnx file, a TorchScript file, a torch.export .pt2 program, package.module:factory, torchvision:NAME, "
    "timm:NAME, or demo"
)


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
    parser.add_argument(
        "--sweep",
        metavar="NAME=V1,V2,...",
        help="measure once per value of one input dimension and print one table, e.g. sequence=32,64,128: a "
        "dimension the model's inputs name, or for an entry point, zoo name or model directory sequence (axis 1 "
        "of its integer inputs)",
    )
    parser.add_argument(
        "--data",
        metavar="FILE.npz|DIR|FILE.txt|FILE.jsonl",
        help="real inputs: an .npz (one array per input, labels 'y'), an image folder (class sub-folders; "
        'give --preprocess) or a text file (.txt: a line per example; .jsonl: {"text": ..., "label": N})',
    )
    parser.add_argument(
        "--counts",
        action="store_true",
        help="only count: size, parameters, FLOPs/MACs and the model kind, in about the time loading takes",
    )
    add_data_arguments(parser)
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
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        help="text (a table) or json (the report); default: json for an --out ending in .json, else text",
    )
    parser.add_argument(
        "--out",
        metavar="FILE",
        help="write the report to FILE instead of stdout: atomically, as a regular file, never one of the inputs "
        "(the model, its data, --data, --reference); FILE.json gets JSON unless --format says otherwise",
    )


def run(args: argparse.Namespace) -> int:
    from mcm.files import check_target
    from mcm.measure import inputs, measure_model, render
    from mcm.measure.progress import TerminalProgress

    stack = contextlib.ExitStack()
    read = _inputs(args)
    if args.out:
        check_target(args.out, read)  # before measuring, not after
    if args.sweep:
        return _sweep(args, read)
    progress = TerminalProgress(sys.stderr) if sys.stderr.isatty() else None
    try:
        data = stack.enter_context(data_file(Path(args.data) if args.data else None, "--data", args))
        report = measure_model(
            args.model,
            batches=inputs.parse_batches(args.batch) if args.batch else None,
            shapes=args.shape,
            data=data,
            progress=progress,
            **_options(args),
        )
    finally:
        stack.close()
        if progress is not None:
            progress.close()
    output = report.to_json() + "\n" if _format(args) == "json" else render.text(report)
    return _emit(args, output, {**read, **_model_files(report)}, report.partial)


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """The measurement settings ``measure_model`` takes from the command line, the same with and without
    ``--sweep``."""
    return {
        "threads": args.threads,
        "min_time": args.min_time,
        "min_count": args.min_count,
        "max_time": args.max_time,
        "price_per_hour": args.price_per_hour,
        "qps": args.qps,
        "reference": args.reference,
        "counts_only": args.counts,
    }


def _sweep(args: argparse.Namespace, read: dict[StrPath, str]) -> int:
    """``--sweep``: the model measured once per value, as one table (or one JSON object)."""
    from mcm.measure import inputs, sweep
    from mcm.measure.progress import TerminalProgress

    progress = TerminalProgress(sys.stderr) if sys.stderr.isatty() else None
    try:
        found = sweep.measure_sweep(
            args.model,
            sweep.parse_sweep(args.sweep),
            shapes=args.shape,
            data=args.data,
            batches=inputs.parse_batches(args.batch) if args.batch else None,
            progress=progress,
            **_options(args),
        )
    finally:
        if progress is not None:
            progress.close()
    output = found.to_json() + "\n" if _format(args) == "json" else sweep.text(found)
    files = {path: what for r in found.reports for path, what in _model_files(r).items()}
    status = ExitStatus.BAD_INPUT if found.stopped else None  # a value the model refused
    return _emit(args, output, {**read, **files}, found.partial, status)


def _emit(
    args: argparse.Namespace,
    output: str,
    read: dict[StrPath, str],
    partial: bool,
    status: ExitStatus | None = None,
) -> int:
    """Print ``output``, or write it to ``--out`` (never over one of the ``read`` files); the exit status
    (``status`` when given, else by ``partial``)."""
    from mcm.files import write_atomic

    if args.out:
        write_atomic(args.out, output, read)
        print(f"mcm: wrote {inline(args.out)}" + (" (partial)" if partial else ""), file=sys.stderr)
    else:
        sys.stdout.write(output)
    if status is not None:
        return status
    return ExitStatus.INTERRUPTED if partial else ExitStatus.OK


def _format(args: argparse.Namespace) -> str:
    """``--format``, else JSON for an ``--out`` ending in ``.json``, else text."""
    if args.format:
        return str(args.format)
    return "json" if args.out and Path(args.out).suffix.lower() == ".json" else "text"


def _inputs(args: argparse.Namespace) -> dict[StrPath, str]:
    """The files this measurement reads, as far as the arguments tell (``--out`` must be none of them)."""
    from mcm import demo

    found: dict[StrPath, str] = (
        {demo.ONNX_PATH: "the model being measured", demo.EVAL_PATH: "the demo's data"}
        if args.model == "demo"
        else {args.model: "the model being measured"}
    )
    if args.data:
        found[args.data] = "the --data file"
    if args.reference:
        found[args.reference] = "the --reference model"
        found.update(dict.fromkeys(_external_data(args.reference), "the --reference model's external data"))
    return found


def _external_data(model: str) -> list[str]:
    """The external-data files an ONNX model names (read without loading them); none for anything else."""
    if Path(model).suffix.lower() != ".onnx" or not Path(model).is_file():
        return []
    import onnx

    try:
        graph = onnx.load(model, load_external_data=False).graph
    except Exception:  # not loadable: measuring it fails with its own message
        return []
    locations = {
        entry.value
        for tensor in graph.initializer
        for entry in tensor.external_data
        if entry.key == "location"
    }
    return [str(Path(model).parent / location) for location in sorted(locations)]


def _model_files(report: MeasureReport) -> dict[StrPath, str]:
    """The files the measured model was loaded from (ONNX external data included), as the report lists them."""
    size = report.sections.get("size")
    files = size.get("files", []) if isinstance(size, dict) else []
    found: dict[StrPath, str] = {f["path"]: "a file of the model being measured" for f in files}
    if report.model.get("path"):
        found[report.model["path"]] = "the model being measured"
    return found
