"""`mcm rules check|test|lint FILES`: validate rules files, run their own tests, list their lints.

Test names, positions and failures come from the rules files: they are shown through :mod:`mcm.sanitize`
(diagnostics sanitize themselves in :meth:`mcm.rules.Diagnostic.render`)."""

from __future__ import annotations

import argparse
import json

from mcm.present.terminal import Style
from mcm.rulebook import add_rules_argument
from mcm.sanitize import inline, json_text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="parse and check; errors exit 2")
    lint = sub.add_parser("lint", help="like check, and list every warning; warnings exit 1")
    test = sub.add_parser("test", help="run the files' test blocks; failures exit 1")
    test.add_argument("--coverage", action="store_true", help="report which rules no test made fire")
    test.add_argument(
        "--threshold", type=float, default=None, metavar="N", help="fail below N%% rule coverage"
    )
    for p in (check, lint, test):
        add_rules_argument(p, "files")
        p.add_argument("--format", choices=("text", "json"), default="text")


def run(args: argparse.Namespace) -> int:
    from mcm.rulebook import default_rules
    from mcm.rules import load_rules

    ruleset = load_rules(*(args.files or default_rules()))
    style = Style.for_stream()
    if args.action == "test":
        return _test(ruleset, args, style)
    warnings = ruleset.warnings
    if args.format == "json":
        print(
            json_text(
                json.dumps(
                    {"ok": True, "warnings": [w.to_dict() for w in warnings]}, indent=2, ensure_ascii=False
                )
            )
        )
    else:
        summary = (
            f"{len(ruleset.files)} files: {len(ruleset.scenarios)} scenarios, {len(ruleset.techniques)} techniques, "
            f"{len(ruleset.decisions)} decision tables, {len(ruleset.tests)} tests"
        )
        print(style("ok", "green") + f"  {summary}")
        if args.action == "lint" or warnings:
            for w in warnings:
                print(w.render())
    return 1 if args.action == "lint" and warnings else 0


def _test(ruleset: object, args: argparse.Namespace, style: Style) -> int:
    from mcm.advisor import Advisor
    from mcm.rules.ast import RuleSet

    assert isinstance(ruleset, RuleSet)
    report = Advisor(ruleset).run_tests()
    coverage = report.coverage
    below = args.threshold is not None and coverage.percent < args.threshold
    if args.format == "json":
        print(json_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False)))
    else:
        for r in report.results:
            mark = style("PASS", "green") if r.passed else style("FAIL", "red")
            print(f"{mark}  {inline(r.name)}  {style(inline(r.pos), 'dim')}")
            for failure in r.failures:
                print(f"      {inline(failure)}")
        passed = sum(r.passed for r in report.results)
        print(f"{passed} passed, {len(report.results) - passed} failed")
        if args.coverage or args.threshold is not None:
            line = f"rule coverage {coverage.percent:.1f}% ({len(coverage.covered)} of {coverage.total} rules fired)"
            print(style(line, "red" if below else "green"))
            for rule, pos in coverage.uncovered:
                print(f"  never fired: {inline(rule)}  {style(inline(pos), 'dim')}")
            if below:
                print(style(f"below the threshold of {args.threshold:g}%", "red"))
    return 1 if not report.passed or below else 0
