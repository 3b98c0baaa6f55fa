"""Entry point of `mcm-tui`: the guided Textual session (``pip install mcm[tui]``).

    mcm-tui [RULES...] [--scenario NAME] [--lang en|zh] [--debug]

Exit status, as `mcm`'s (:class:`~mcm.exceptions.ExitStatus`): 0 when the last decision on screen meets every
hard constraint pessimistically, 1 when it does not or when the user quit before reaching a plan, 2 on bad input
or without Textual, 70 on an internal error, 130 on SIGINT, 143 on SIGTERM. Nothing is printed except an error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from mcm.exceptions import EXIT_STATUS_HELP, ExitStatus, McmError, Terminated
from mcm.process import StopOnSignals, failed, interrupted, reported


def parser() -> argparse.ArgumentParser:
    from mcm.present.language import default_lang
    from mcm.rulebook import add_rules_argument

    p = argparse.ArgumentParser(
        prog="mcm-tui",
        description="Guided model-compression advice in the terminal.",
        epilog=f"{EXIT_STATUS_HELP}\n(0 and 1 judge the last plan on screen; 1 also when no plan was reached)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_rules_argument(p)
    p.add_argument(
        "--rules", dest="more_rules", action="append", default=[], metavar="PATH", help="more rules"
    )
    p.add_argument("--scenario", help="start with this scenario chosen")
    p.add_argument("--lang", choices=("en", "zh"), default=default_lang())
    p.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``mcm-tui ARGS`` (default ``sys.argv[1:]``) and return its exit status."""
    args = parser().parse_args(argv)
    signals = StopOnSignals()
    try:
        try:
            from mcm.tui.app import McmApp
        except ImportError as e:
            if e.name is not None and e.name.split(".")[0] in ("textual", "rich"):
                print("mcm-tui: Textual is not installed: install mcm[tui]", file=sys.stderr)
                return ExitStatus.BAD_INPUT
            raise
        app = McmApp([*args.rules, *args.more_rules], scenario=args.scenario, lang=args.lang)
        decision = app.run()
    except McmError as e:
        return reported("mcm-tui", e, args.debug)
    except KeyboardInterrupt as e:
        return interrupted("mcm-tui", signals.terminated or isinstance(e, Terminated))
    except Exception as e:
        return failed("mcm-tui", e, ["mcm-tui", *(sys.argv[1:] if argv is None else argv)], args.debug)
    finally:
        signals.restore()
    if app.return_code:  # Textual caught an error in the session, showed its traceback and closed
        print("mcm-tui: internal error: the session stopped on the error shown above", file=sys.stderr)
        return ExitStatus.INTERNAL_ERROR
    return ExitStatus.OK if decision is not None and decision.meets_constraints else ExitStatus.NOT_MET
