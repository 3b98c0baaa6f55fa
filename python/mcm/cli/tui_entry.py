"""Entry point of `mcm-tui`: the guided Textual session (``pip install mcm[tui]``).

    mcm-tui [RULES...] [--scenario NAME] [--lang en|zh]

Exit status, as `mcm advise`: 0 when the last decision on screen meets every hard constraint pessimistically,
1 when it does not or when the user quit before reaching a plan, 2 on bad input or without Textual. Nothing is
printed except an error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def parser() -> argparse.ArgumentParser:
    from mcm.cli.advise import default_lang
    from mcm.cli.inputs import add_rules_argument

    p = argparse.ArgumentParser(
        prog="mcm-tui",
        description="Guided model-compression advice in the terminal.",
        epilog="exit status, as mcm advise: 0 when the last plan on screen meets every hard constraint, "
        "1 when it does not (or no plan was reached), 2 on bad input",
    )
    add_rules_argument(p)
    p.add_argument(
        "--rules", dest="more_rules", action="append", default=[], metavar="PATH", help="more rules"
    )
    p.add_argument("--scenario", help="start with this scenario chosen")
    p.add_argument("--lang", choices=("en", "zh"), default=default_lang())
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        from mcm.tui.app import McmApp
    except ImportError as e:
        if e.name is not None and e.name.split(".")[0] in ("textual", "rich"):
            print("mcm-tui: Textual is not installed: install mcm[tui]", file=sys.stderr)
            return 2
        raise
    from mcm.exceptions import McmError

    try:
        app = McmApp([*args.rules, *args.more_rules], scenario=args.scenario, lang=args.lang)
        decision = app.run()
    except McmError as e:
        print(f"mcm-tui: {e}", file=sys.stderr)
        if e.hint:
            print(f"hint: {e.hint}", file=sys.stderr)
        return e.exit_code
    return 0 if decision is not None and decision.meets_constraints else 1
