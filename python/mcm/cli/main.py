"""Entry point of the `mcm` command: parse the verb, run it, map errors to messages and exit codes.

Exit codes: 0 success, 1 constraints not met (for gating pipelines), 2 usage or input error, 130 interrupted.
A traceback reaches the user only with `--debug`. Only the chosen verb's module is imported, so a verb pays for
its own dependencies alone (`mcm advise` never loads numpy, torch, onnxruntime or textual).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from mcm.exceptions import McmError

#: verb -> (module under mcm.cli, one-line help)
VERBS: dict[str, tuple[str, str]] = {
    "advise": ("advise", "check a scenario's constraints, decide, plan and explain"),
    "rules": ("rules", "check, lint or test rules files"),
    "scenarios": ("scenarios", "the quick-decision table: what each scenario watches"),
    "measure": (
        "measure",
        "measure a model: latency, throughput, size, FLOPs, memory, power, cost, accuracy",
    ),
    "optimize": (
        "optimize",
        "apply the advisor's plan for real: quantize, prune, re-measure, keep what helps",
    ),
    "clock": ("clock", "measure this machine's timer and the harness's own per-call floor"),
}

DESCRIPTION = (
    "Model-compression and compile advisor: measure a model, check a deployment target's constraints, "
    "and plan the optimizations that meet them."
)


def _top_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mcm",
        description=DESCRIPTION,
        epilog="verbs:\n" + "\n".join(f"  {v:<10} {h}" for v, (_, h) in VERBS.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    parser.add_argument(
        "verb", nargs="?", choices=sorted(VERBS), metavar="VERB", help="what to do (see below)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    split = next((i for i, a in enumerate(args) if not a.startswith("-")), len(args))
    top = _top_parser().parse_args(args[: split + 1])
    if top.version:
        from mcm import __version__

        print(f"mcm {__version__}")
        return 0
    if top.verb is None:
        _top_parser().print_help()
        return 2
    module = importlib.import_module(f"mcm.cli.{VERBS[top.verb][0]}")
    parser = argparse.ArgumentParser(prog=f"mcm {top.verb}", description=VERBS[top.verb][1])
    module.add_arguments(parser)
    verb_args = parser.parse_args(args[split + 1 :])
    try:
        return int(module.run(verb_args))
    except McmError as e:
        if top.debug:
            raise
        print(f"mcm: error: {e}", file=sys.stderr)
        if e.hint:
            print(f"hint: {e.hint}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("mcm: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
