"""Entry point of the `mcm` command: parse the verb, run it, map every outcome to a message and an exit status.

Exit statuses (:class:`~mcm.exceptions.ExitStatus`, listed by every ``--help``): 0 success, 1 constraints not met,
3 undecided (for gating pipelines), 2 bad input, 70 internal error, 130 interrupted (SIGINT), 143 terminated (SIGTERM, which
raises :class:`~mcm.exceptions.Terminated` so that every cleanup Ctrl-C gets runs too). How each outcome is
said (:mod:`mcm.process`) is shared with `mcm-tui`. Only the chosen verb's module is imported, so a verb pays
for its own dependencies alone (`mcm advise` never loads numpy, torch, onnxruntime or textual).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Sequence

from mcm.exceptions import EXIT_STATUS_HELP, ExitStatus, McmError, Terminated
from mcm.process import StopOnSignals, failed, interrupted, reader_gone, reported, show_warning

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
        epilog="verbs:\n"
        + "\n".join(f"  {v:<10} {h}" for v, (_, h) in VERBS.items())
        + "\n\n"
        + EXIT_STATUS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    parser.add_argument(
        "verb", nargs="?", choices=sorted(VERBS), metavar="VERB", help="what to do (see below)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``mcm ARGS`` (default ``sys.argv[1:]``) and return its exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    split = next((i for i, a in enumerate(args) if not a.startswith("-")), len(args))
    top = _top_parser().parse_args(args[: split + 1])
    signals = StopOnSignals()
    shown_before = warnings.showwarning
    warnings.showwarning = show_warning
    try:
        return signals.status(_run(top, args[split + 1 :]))
    except McmError as e:
        return reported("mcm: error", e, top.debug)
    except KeyboardInterrupt as e:
        return interrupted("mcm", signals.terminated or isinstance(e, Terminated))
    except BrokenPipeError:
        return reader_gone()
    except Exception as e:
        return failed("mcm", e, ["mcm", *args], top.debug)
    finally:
        signals.restore()
        warnings.showwarning = shown_before


def _run(top: argparse.Namespace, args: Sequence[str]) -> int:
    """The verb ``top.verb`` run on ``args`` (or the version, or the help)."""
    if top.version:
        from mcm import __version__

        print(f"mcm {__version__}")
        return ExitStatus.OK
    if top.verb is None:
        _top_parser().print_help()
        return ExitStatus.BAD_INPUT
    module = importlib.import_module(f"mcm.cli.{VERBS[top.verb][0]}")
    parser = argparse.ArgumentParser(
        prog=f"mcm {top.verb}",
        description=VERBS[top.verb][1],
        epilog=EXIT_STATUS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    module.add_arguments(parser)
    return int(module.run(parser.parse_args(args)))


if __name__ == "__main__":
    sys.exit(main())
