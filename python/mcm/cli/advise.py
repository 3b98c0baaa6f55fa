"""`mcm advise RULES...`: check a scenario's constraints on the given facts, decide, plan, and explain.

Exit status: 0 when the best plan (or the model as it is) meets every hard constraint pessimistically, 1 when none
does, 3 when one would with facts or measurements not given (``Decision.undecided``), 2 on bad input. Only the rules engine is imported here: no numpy, torch, onnxruntime or textual unless
``--model`` asks for a measurement.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from mcm.cli import inputs
from mcm.engine.fact_inputs import baseline_metrics
from mcm.exceptions import ExitStatus
from mcm.present import decision as present
from mcm.present.language import Lang, default_lang
from mcm.present.terminal import Style
from mcm.rulebook import add_rules_argument, default_rules
from mcm.sanitize import json_text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_rules_argument(parser)
    parser.add_argument(
        "--scenario", help="the scenario to advise for (needed when the files define several)"
    )
    parser.add_argument(
        "--baseline", metavar="FILE.json", help="measured metrics: an `mcm measure --format json` report"
    )
    parser.add_argument(
        "--reference",
        metavar="FILE.json",
        help="the metrics before optimization (an `mcm measure` report): read as baseline.*, so that the"
        " accuracy lost so far (accuracy_drop) is known",
    )
    parser.add_argument(
        "--model", metavar="MODEL", help="measure this model first (a file, or `demo`) and advise on it"
    )
    parser.add_argument(
        "--set",
        action="append",
        metavar="METRIC=VALUE",
        help="a measured value, e.g. latency_ms=120ms;"
        " baseline.METRIC=VALUE for one before optimization (baseline.accuracy=94.5%%)",
    )
    parser.add_argument(
        "--constraint", action="append", metavar="'METRIC<VALUE UNIT'", help="add or override a constraint"
    )
    parser.add_argument(
        "--env", action="append", metavar="KEY=VALUE", help="a target fact, e.g. nvidia_gpu=true"
    )
    parser.add_argument(
        "--data", action="append", metavar="KEY=VALUE", help="available data, e.g. calibration=true"
    )
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    parser.add_argument("--lang", choices=("en", "zh"), default=default_lang())


def run(args: argparse.Namespace) -> int:
    from mcm.advisor import Advisor

    advisor = Advisor.from_files(args.rules or default_rules())
    measured: dict[str, Any] = {}
    detected: dict[str, Any] = {}
    if args.baseline:
        measured.update(baseline_metrics(args.baseline))
    if args.model:
        from mcm.cli.measured_facts import measure_for_advice

        model_metrics, model_env = measure_for_advice(args.model)
        measured.update(model_metrics)
        detected.update(model_env)
    baseline: dict[str, Any] = baseline_metrics(args.reference) if args.reference else {}
    for key, value in inputs.metric_values(inputs.assignments(args.set, "--set")).items():
        scope, dot, name = key.partition(".")
        if dot and scope == "baseline":
            baseline[name] = value
        else:
            measured[name if dot and scope == "measured" else key] = value
    env = inputs.assignments(args.env, "--env")  # text: the engine reads it by the fact's declared type
    decision = advisor.advise(
        args.scenario,
        measured=measured,
        constraints=args.constraint or (),
        env=env,
        baseline=baseline,
        detected=detected,
        data=inputs.assignments(args.data, "--data"),
    )
    lang: Lang = "zh" if args.lang == "zh" else "en"
    if args.format == "json":
        print(json_text(json.dumps(decision.to_dict(), indent=2, ensure_ascii=False)))
    elif args.format == "markdown":
        sys.stdout.write(present.markdown(decision, lang))
    else:
        sys.stdout.write(present.text(decision, lang, Style.for_stream()))
    if decision.meets_constraints:
        return ExitStatus.OK
    return ExitStatus.UNDECIDED if decision.undecided else ExitStatus.NOT_MET
