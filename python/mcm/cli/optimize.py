"""`mcm optimize MODEL --rules RULES --out DIR`: the optimization loop (mcm.optimize.loop) on the command line.

Progress goes to stderr; the summary to stdout. Exit 0 when the chosen model meets every hard constraint that
could be checked (with --strict: every one, an unmeasurable one counting as missed), 1 when one is
missed, 2 for bad input, 130 on Ctrl-C and 143 on SIGTERM (nothing is left half-written).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import re
import sys
from pathlib import Path

from mcm.cli.inputs import add_data_arguments, data_file
from mcm.exceptions import OptimizeError
from mcm.rulebook import RULES_HELP
from mcm.sanitize import inline

_BUDGET = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h)?\s*$")
_SECONDS = {"s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="an .onnx file, a PyTorch entry point (package.module:factory) or demo")
    parser.add_argument(
        "--rules",
        nargs="+",
        type=Path,
        help=RULES_HELP,
    )
    parser.add_argument("--scenario", help="the scenario whose constraints must hold")
    parser.add_argument(
        "--constraint",
        action="append",
        default=[],
        metavar="'METRIC<VALUE UNIT'",
        help="add or override a constraint",
    )
    parser.add_argument(
        "--calib", type=Path, help="calibration inputs (.npz, an image folder or a text file) for static INT8"
    )
    parser.add_argument(
        "--eval",
        type=Path,
        help="evaluation set (.npz with labels y, an image folder, or a .jsonl with labels) for accuracy",
    )
    parser.add_argument(
        "--train",
        type=Path,
        help="training set (.npz with labels y, or an image folder) for pruning and distillation",
    )
    add_data_arguments(parser)
    parser.add_argument("--budget", default="10m", help="time budget: 90s, 10m, 1h (default 10m)")
    parser.add_argument("--out", required=True, type=Path, help="new directory for the model and the reports")
    parser.add_argument("--threads", type=int, default=1, help="threads for every measurement (default 1)")
    parser.add_argument(
        "--batch",
        type=int,
        help="batch size for throughput and the paired comparisons (default: 8 where the scenario is judged on "
        "throughput or cost, else 1; batch 1 is timed too)",
    )
    parser.add_argument(
        "--shape",
        action="append",
        default=[],
        metavar="NAME=DIMS",
        help="fill an input's symbolic dimensions when no data does, e.g. input_ids=1x128 (repeatable)",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="TECHNIQUE[,TECHNIQUE]",
        help="try only these techniques",
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="TECHNIQUE[,TECHNIQUE]",
        help="never try these techniques",
    )
    parser.add_argument(
        "--env", action="append", default=[], metavar="KEY=VALUE", help="a target fact, e.g. nvidia_gpu=true"
    )
    parser.add_argument(
        "--min-time", type=float, default=1.0, help="seconds timed per batch size (default 1)"
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="a hard constraint that cannot be measured here (power without an energy counter) counts as missed",
    )
    parser.add_argument(
        "--max-accuracy-drop", type=float, default=1.0, help="largest accuracy drop kept, in pp (default 1)"
    )


def parse_budget(text: str) -> float:
    """Seconds in ``90s``, ``10m``, ``1.5h`` or a bare number of seconds."""
    match = _BUDGET.match(text)
    seconds = float(match.group(1)) * _SECONDS[match.group(2) or "s"] if match is not None else math.nan
    if not 0 < seconds < math.inf:
        raise OptimizeError(f"--budget {text!r}: give a positive time such as 90s, 10m or 1h")
    return seconds


def run(args: argparse.Namespace) -> int:
    from mcm.measure.api import check_threads

    check_threads(args.threads, "--threads")  # before the heavy imports: too many threads is refused at once
    if (args.batch is not None and args.batch < 1) or args.min_time <= 0:
        raise OptimizeError("--batch must be at least 1, --min-time positive")
    _check_data_files(args)
    _check_numbers(args)

    with contextlib.ExitStack() as stack:
        data = {
            flag: stack.enter_context(data_file(path, flag, args))
            for flag, path in (("--calib", args.calib), ("--eval", args.eval), ("--train", args.train))
        }
        return _optimize(args, data["--calib"], data["--eval"], data["--train"])


def _optimize(args: argparse.Namespace, calib: Path | None, eval_set: Path | None, train: Path | None) -> int:
    from mcm.cli import inputs
    from mcm.measure.inputs import BatchSizeError
    from mcm.optimize.loop import Options
    from mcm.optimize.loop import run as optimize
    from mcm.rulebook import default_rules

    opts = Options(
        model=args.model,
        rules=tuple(args.rules or map(Path, default_rules())),
        out=args.out,
        scenario=args.scenario,
        constraints=tuple(args.constraint),
        calib=calib,
        eval_set=eval_set,
        train=train,
        budget_s=parse_budget(args.budget),
        threads=args.threads,
        batch=args.batch,
        min_time=args.min_time,
        env=tuple(inputs.assignments(args.env, "--env").items()),
        only=_names(args.only),
        shapes=tuple(args.shape),
        skip=_names(args.skip),
        max_accuracy_drop_pp=args.max_accuracy_drop,
        strict=args.strict,
    )
    try:
        result = optimize(opts, lambda line: print(f"mcm: {inline(line)}", file=sys.stderr, flush=True))
    except BatchSizeError as e:
        given = f"--batch {args.batch}" if args.batch is not None else f"batch {max(e.asked)}, the scenario's"
        error = BatchSizeError(f"{e} (mcm optimize times batch 1 and {given})", e.fixed, e.asked)
        error.hint = (
            "give --batch 1"
            if e.fixed == 1
            else "mcm optimize always times batch 1: export the model with a free batch dimension"
        )
        raise error from e
    print((args.out / "report.md").read_text(encoding="utf-8"), end="")
    print(f"wrote {inline(str(args.out))}/model.onnx, report.json, report.md")
    return 0 if result.meets_constraints else 1


def _names(values: list[str]) -> tuple[str, ...]:
    """Technique names from repeated, comma-separated flags."""
    return tuple(n.strip() for v in values for n in v.split(",") if n.strip())


def _check_data_files(args: argparse.Namespace) -> None:
    """Refuse a missing or non-regular --calib, --eval or --train file (a FIFO would block) before any work."""
    from mcm.files.read import InputFileError, regular_file

    for flag, path in (("--calib", args.calib), ("--eval", args.eval), ("--train", args.train)):
        if path is not None and not path.is_dir():  # a folder: images, read with --preprocess
            try:
                regular_file(path)
            except InputFileError as e:
                raise OptimizeError(f"{flag} {e}") from e


def _check_numbers(args: argparse.Namespace) -> None:
    """Refuse a threshold or time that is not a finite number in its range (``nan`` would disable a limit)."""
    if not 0 <= args.max_accuracy_drop <= 100:
        raise OptimizeError(
            f"--max-accuracy-drop {args.max_accuracy_drop}: give the largest accuracy drop to keep, "
            "in percentage points from 0 to 100"
        )
    if not 0 < args.min_time < math.inf:
        raise OptimizeError(f"--min-time {args.min_time}: give a positive number of seconds")
    parse_budget(args.budget)
