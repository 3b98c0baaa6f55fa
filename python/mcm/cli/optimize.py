"""`mcm optimize MODEL --rules RULES --out DIR`: the optimization loop (mcm.optimize.loop) on the command line.

Progress goes to stderr; the summary to stdout. Exit 0 when the chosen model meets every hard constraint that
could be checked (with --strict: every one, an unmeasurable one counting as missed), 1 when one is
missed, 2 for bad input, 130 on Ctrl-C (nothing is left half-written).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from mcm.cli.inputs import RULES_HELP
from mcm.exceptions import OptimizeError

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
    parser.add_argument("--calib", type=Path, help="calibration inputs (.npz) for static INT8")
    parser.add_argument("--eval", type=Path, help="evaluation set (.npz with labels y) for accuracy")
    parser.add_argument(
        "--train", type=Path, help="training set (.npz with labels y) for pruning and distillation"
    )
    parser.add_argument("--budget", default="10m", help="time budget: 90s, 10m, 1h (default 10m)")
    parser.add_argument("--out", required=True, type=Path, help="new directory for the model and the reports")
    parser.add_argument("--threads", type=int, default=1, help="threads for every measurement (default 1)")
    parser.add_argument("--batch", type=int, default=32, help="batch size for throughput (default 32)")
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
    if match is None or float(match.group(1)) <= 0:
        raise OptimizeError(f"--budget {text!r}: give a positive time such as 90s, 10m or 1h")
    return float(match.group(1)) * _SECONDS[match.group(2) or "s"]


def run(args: argparse.Namespace) -> int:
    from mcm.optimize.loop import Options
    from mcm.optimize.loop import run as optimize
    from mcm.rulebook import default_rules

    if args.threads < 1 or args.batch < 1 or args.min_time <= 0:
        raise OptimizeError("--threads and --batch must be at least 1, --min-time positive")
    opts = Options(
        model=args.model,
        rules=tuple(args.rules or map(Path, default_rules())),
        out=args.out,
        scenario=args.scenario,
        constraints=tuple(args.constraint),
        calib=args.calib,
        eval=args.eval,
        train=args.train,
        budget_s=parse_budget(args.budget),
        threads=args.threads,
        batch=args.batch,
        min_time=args.min_time,
        max_accuracy_drop_pp=args.max_accuracy_drop,
        strict=args.strict,
    )
    result = optimize(opts, lambda line: print(f"mcm: {line}", file=sys.stderr, flush=True))
    print((args.out / "report.md").read_text(encoding="utf-8"), end="")
    print(f"wrote {args.out}/model.onnx, report.json, report.md")
    return 0 if result.meets_constraints else 1
