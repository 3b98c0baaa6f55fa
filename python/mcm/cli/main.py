"""Entry point of the `mcm` command: parse the verb, run it, map errors to messages and exit codes.

Exit codes: 0 success, 1 constraints not met (for gating pipelines), 2 usage or input error, 130 interrupted.
A traceback reaches the user only with `--debug`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from mcm.exceptions import McmError

#: verb -> (module under mcm.cli, one-line help). Modules are imported only when their verb runs.
VERBS: dict[str, tuple[str, str]] = {
    "clock": ("clock", "measure this machine's timer and the harness's own per-call floor"),
}


def build_parser() -> argparse.ArgumentParser:
    from mcm import __version__

    parser = argparse.ArgumentParser(
        prog="mcm",
        description="Model-compression and compile advisor: measure a model, check a deployment target's "
        "constraints, and plan the optimizations that meet them.",
    )
    parser.add_argument("--version", action="version", version=f"mcm {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for verb, (module, help_text) in VERBS.items():
        mod = importlib.import_module(f"mcm.cli.{module}")
        mod.add_arguments(sub.add_parser(verb, help=help_text, description=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verb is None:
        parser.print_help()
        return 2
    module = importlib.import_module(f"mcm.cli.{VERBS[args.verb][0]}")
    try:
        return int(module.run(args))
    except McmError as e:
        if args.debug:
            raise
        print(f"mcm: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("mcm: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
