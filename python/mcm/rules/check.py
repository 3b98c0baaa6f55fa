"""Semantic checks and lints over parsed files: names resolve, units fit, ranges are ordered, logic is sane.

Errors stop loading; warnings travel with the RuleSet (``RuleSet.warnings``). Every code is in ``errors.CODES``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from types import MappingProxyType
from typing import Protocol, TypeVar

from mcm import metrics, units
from mcm.metrics import Metric
from mcm.rules import ast, logic
from mcm.rules.errors import Reporter
from mcm.rules.exprs import (
    BOOL,
    STRING,
    ExprChecker,
    check_known_value,
    check_value,
    describe,
    known_metric,
)
from mcm.rules.facts import METRIC_SCOPES

_Named = TypeVar("_Named", ast.Scenario, ast.Technique, ast.Decide, ast.Test)


class _Placed(Protocol):
    @property
    def pos(self) -> ast.Pos: ...


_P = TypeVar("_P", bound=_Placed)


def check(files: Sequence[ast.RulesFile], reporter: Reporter) -> ast.RuleSet | None:
    """Check parsed files as one rule set; problems go to ``reporter``; None when there are errors."""
    errors_before = reporter.error_count
    ruleset = _Checker(reporter, files).run()
    return ruleset if reporter.error_count == errors_before else None


class _Checker:
    def __init__(self, reporter: Reporter, files: Sequence[ast.RulesFile]) -> None:
        self.reporter = reporter
        self.files = tuple(files)
        self.scenarios = self._unique("scenario", [s for f in files for s in f.scenarios])
        self.techniques = self._unique("technique", [t for f in files for t in f.techniques])
        self.decisions = self._unique("decision table", [d for f in files for d in f.decisions])

    def run(self) -> ast.RuleSet:
        for scenario in self.scenarios.values():
            self._scenario(scenario)
        for technique in self.techniques.values():
            self._technique(technique)
        for decide in self.decisions.values():
            self._decide(decide)
        tests = self._unique("test", [self._resolve(t, f) for f in self.files for t in f.tests])
        for test in tests.values():
            self._test(test)
        self._never_recommended()
        derivations = [d for f in self.files for d in f.derivations]
        for derivation in derivations:
            self._supplied(derivation.fact)
            self._condition(ExprChecker(self.reporter), derivation.condition)
        assumptions: dict[str, ast.Assumption] = {}
        for assumption in (a for f in self.files for a in f.assumptions):
            self._once(
                assumptions,
                assumption.fact.ref.path,
                assumption,
                f"an assumption on {assumption.fact.ref.path}",
            )
            self._supplied(assumption.fact)
        return ast.RuleSet(
            files=self.files,
            scenarios=MappingProxyType(self.scenarios),
            techniques=MappingProxyType(self.techniques),
            decisions=MappingProxyType(self.decisions),
            tests=tuple(tests.values()),
            warnings=tuple(d for d in self.reporter.diagnostics if d.severity == "warning"),
            derivations=tuple(derivations),
            assumptions=MappingProxyType(assumptions),
        )

    # -- helpers

    def _unique(self, what: str, items: Iterable[_Named]) -> dict[str, _Named]:
        seen: dict[str, _Named] = {}
        for item in items:
            self._once(seen, item.name, item, f"{what} '{item.name}'")
        return seen

    def _once(
        self, seen: dict[str, _P], key: str, item: _P, what: str, *, why: str | None = None, span: int = 1
    ) -> None:
        """Record ``item`` under ``key`` in ``seen``, or report it (``what``) as given twice (E040)."""
        first = seen.setdefault(key, item)
        if first is not item:
            self.reporter.duplicate(what, item.pos, first.pos, why=why, span=span)

    def _metric(self, name: str, pos: ast.Pos) -> Metric | None:
        return known_metric(self.reporter, name, pos, len(name))

    def _technique_ref(self, ident: ast.Ident) -> None:
        if ident.name not in self.techniques:
            self._unknown(
                "E041", "technique", ident, self.techniques, "define it with 'technique NAME { ... }'"
            )

    def _unknown(
        self,
        code: str,
        what: str,
        ident: ast.Ident,
        known: Iterable[str],
        fallback: str,
        *,
        span: bool = True,
    ) -> None:
        """Report ``ident`` as naming no ``what`` among ``known`` (with a did-you-mean, else ``fallback``)."""
        hint = units.did_you_mean(ident.name, known) or fallback
        length = len(ident.name) if span else 1
        self.reporter.report(code, f"unknown {what} '{ident.name}'", ident.pos, hint=hint, span=length)

    def _range(self, range_: ast.Range, what: str) -> bool:
        if range_.low.value > range_.high.value:
            self.reporter.report(
                "E044",
                f"{what} range goes from high to low",
                range_.pos,
                hint="write the smaller value first",
            )
            return False
        return True

    # -- scenarios

    def _scenario(self, scenario: ast.Scenario) -> None:
        listed: dict[str, ast.Ident] = {}
        for ident in (*scenario.core, *scenario.secondary, *scenario.ignore):
            if self._metric(ident.name, ident.pos) is not None:
                why = "a metric is core, secondary or ignored"
                self._once(listed, ident.name, ident, f"metric '{ident.name}'", why=why, span=len(ident.name))
        ignored = {i.name for i in scenario.ignore}
        bounded: dict[str, ast.Constraint] = {}
        for constraint in scenario.constraints:
            metric = self._metric(constraint.metric, constraint.pos)
            if metric is not None:
                why = "one require or prefer per metric"
                self._once(bounded, constraint.metric, constraint, f"a limit on {constraint.metric}", why=why)
                self._limit(constraint, metric, ignored)
        for expected in scenario.expected:
            metric = self._metric(expected.metric, expected.pos)
            if metric is not None and all(
                check_value(self.reporter, metric, q) for q in _ends(expected.range)
            ):
                self._range(expected.range, "expected")
        for step in scenario.stack:
            if step.technique is not None:
                self._technique_ref(ast.Ident(step.technique, step.pos))

    def _limit(self, constraint: ast.Constraint, metric: Metric, ignored: set[str]) -> None:
        """A scenario's ``require``/``prefer``: a value the metric can take, on its better side, not ignored."""
        if check_value(self.reporter, metric, constraint.value):
            reason = never_met(metric, constraint.op, constraint.value.value)
            if reason is not None:
                self.reporter.report(
                    "W008",
                    f"this limit can never be met: {reason}",
                    constraint.pos,
                    hint="no measurement can meet it: check the number, its sign and its unit",
                )
        upper = constraint.op in ("<", "<=")
        if upper != (metric.better == "lower"):
            side = "above" if upper else "below"
            self.reporter.report(
                "W003",
                f"this bounds {metric.name} from {side}, but {metric.better} is better",
                constraint.pos,
                hint=f"did you mean {'>=' if upper else '<='}?",
            )
        if constraint.metric in ignored:
            self.reporter.report(
                "W007",
                f"{metric.name} is required but listed under ignore",
                constraint.pos,
                hint="move it to core or secondary",
            )

    # -- techniques

    def _technique(self, technique: ast.Technique) -> None:
        self._effects(technique.effects)
        self._word(technique.stage, ast.STAGES, "stage")
        self._word(technique.acts_on, ast.FORMS, "model form")
        if technique.stage is None:
            self.reporter.report(
                "W009",
                f"technique '{technique.name}' declares no stage: plans apply it after every staged step",
                technique.pos,
                hint=f"add 'stage NAME' ({', '.join(ast.STAGES)})",
                span=len(technique.name),
            )
        if not technique.effects:
            self.reporter.report(
                "W006",
                f"technique '{technique.name}' declares no effects",
                technique.pos,
                hint="add effect lines",
            )
        conditions = ExprChecker(self.reporter)
        for requirement in technique.requires:
            self._condition(conditions, requirement.condition)
        for caveat in technique.caveats:
            self._condition(conditions, caveat.condition)
            self._effects(caveat.effects)
        combined: dict[str, ast.Combination] = {}
        for combination in technique.combinations:
            self._combination(technique, combination)
            self._once(
                combined, combination.technique.name, combination, f"'with {combination.technique.name}'"
            )
            self._effects(combination.effects)
        for ident in technique.excludes:
            if ident.name == technique.name:
                self.reporter.report(
                    "E045",
                    f"technique '{technique.name}' excludes itself",
                    ident.pos,
                    hint="remove it from excludes",
                )
            else:
                self._technique_ref(ident)

    def _combination(self, technique: ast.Technique, combination: ast.Combination) -> None:
        """``with T``: T is another known technique of an earlier stage (plans apply it first)."""
        other = self.techniques.get(combination.technique.name)
        if other is None:
            self._technique_ref(combination.technique)
            return
        mine, theirs = ast.stage_order(technique), ast.stage_order(other)
        if theirs >= mine:
            self.reporter.report(
                "E052",
                f"'with {other.name}' never applies: plans apply {other.name} "
                + ("in the same stage" if theirs == mine else "after")
                + f" {technique.name}, not before it",
                combination.pos,
                hint=f"write it inside '{other.name}' as 'with {technique.name}', or give the two stages in plan order",
                span=len(other.name),
            )

    def _word(self, ident: ast.Ident | None, known: tuple[str, ...], what: str) -> None:
        if ident is not None and ident.name not in known:
            self._unknown("E048", what, ident, known, f"one of: {', '.join(known)}")

    def _condition(self, checker: ExprChecker, condition: ast.Expr) -> bool:
        """Type-check a condition and report it when it can never hold; True when it is usable."""
        if not checker.condition(condition):
            return False
        if logic.unsatisfiable(condition):
            self.reporter.report(
                "E051",
                "this condition can never be true",
                condition.pos,
                hint="its parts contradict each other (e.g. x > 5 and x < 3)",
            )
            return False
        return True

    def _effects(self, effects: Sequence[ast.Effect]) -> None:
        seen: dict[str, ast.Effect] = {}
        for effect in effects:
            metric = self._metric(effect.metric, effect.pos)
            if metric is None:
                continue
            self._once(seen, effect.metric, effect, f"effect on {effect.metric}")
            usable = self._effect_units(effect, metric) and self._range(effect.range, "effect")
            if usable and effect.kind == "scale" and not 0 < effect.low <= effect.high < math.inf:
                self.reporter.report(
                    "E036",
                    f"the effect would make {metric.name} zero, negative or infinite",
                    effect.range.pos,
                    hint="a factor must be above 0 (/= 0 divides by zero; -= 100 % leaves nothing)",
                )

    def _effect_units(self, effect: ast.Effect, metric: Metric) -> bool:
        ends = _ends(effect.range)
        if effect.op in ("*=", "/="):
            allowed: tuple[str, ...] = ("", "x")
            what = "a factor is a plain number or takes x"
        elif any(q.unit == "%" for q in ends):
            allowed, what = ("%",), "a relative change is written in % at both ends"
        else:
            allowed = tuple(u for u in metric.accepts if u != "%") + (
                ("pp",) if "%" in metric.accepts else ()
            )
            what = f"a change of {metric.name} takes {units.describe(allowed)}"
        for quantity in ends:
            if quantity.unit in units.UNITS and quantity.unit not in allowed:
                code = "E032" if quantity.unit == "" else "E031"
                message = (
                    f"unit '{quantity.unit}' does not fit this effect" if quantity.unit else "missing unit"
                )
                self.reporter.report(code, message, quantity.pos, hint=what)
                return False
        return True

    # -- decision tables

    def _decide(self, decide: ast.Decide) -> None:
        scenario = self.scenarios.get(decide.scenario.name)
        if scenario is None:
            self._unknown(
                "E042", "scenario", decide.scenario, self.scenarios, "define it with 'scenario NAME { }'"
            )
        conditions = ExprChecker(self.reporter, scenario)
        names: dict[str, ast.Rule] = {}
        usable: list[ast.Rule] = []
        for rule in decide.rules:
            self._once(names, rule.name, rule, f"rule '{rule.name}' in '{decide.name}'")
            for ident in rule.recommend:
                self._technique_ref(ident)
            if not self._condition(conditions, rule.condition):
                continue
            if decide.policy == "first":
                self._reachable(rule, [r for r in usable if self._decisive(r)])
            usable.append(rule)
        if decide.otherwise is not None:
            for ident in decide.otherwise.recommend:
                self._technique_ref(ident)
            decisive = [r for r in usable if self._decisive(r)]
            if len(decisive) == len(decide.rules) and logic.unsatisfiable(
                _none_of(decisive, decide.otherwise.pos)
            ):
                self.reporter.report(
                    "W002",
                    "'otherwise' is never reached: the rules above cover every case",
                    decide.otherwise.pos,
                    hint="remove it, or narrow the rules",
                )

    def _decisive(self, rule: ast.Rule) -> bool:
        """Whether a rule that fires always ends the table: under ``first`` a rule whose every technique has a
        requirement falls through to the next rule where none of them applies (TensorRT without a GPU)."""
        techniques = [self.techniques.get(i.name) for i in rule.recommend]
        return not techniques or any(t is not None and not t.requires for t in techniques)

    def _reachable(self, rule: ast.Rule, earlier: Sequence[ast.Rule]) -> None:
        single = next((e for e in earlier if logic.shadowed(rule.condition, [e.condition])), None)
        if single is None and not logic.shadowed(rule.condition, [e.condition for e in earlier]):
            return
        by = f"rule '{single.name}' (line {single.pos.line})" if single else "the rules above it, together,"
        self.reporter.report(
            "E050",
            f"rule '{rule.name}' is never reached: {by} already fires whenever it would",
            rule.pos,
            hint="under policy first the first rule that fires wins: reorder, narrow the earlier rule, or remove",
            span=len(rule.name),
        )

    # -- tests

    def _resolve(self, test: ast.Test, rules_file: ast.RulesFile) -> ast.Test:
        """A test names its decision table, or takes the only one of its file."""
        if test.target is not None:
            return test
        if len(rules_file.decisions) == 1:
            only = rules_file.decisions[0]
            return dataclasses.replace(test, target=ast.Ident(only.name, test.pos))
        tables = ", ".join(d.name for d in self.decisions.values()) or "none defined"
        self.reporter.report(
            "E046",
            f"test '{test.name}' does not say which decision table it tests",
            test.pos,
            hint=f'write: test "{test.name}" for NAME (decision tables: {tables})',
        )
        return test

    def _test(self, test: ast.Test) -> None:
        decide = None
        if test.target is not None:
            decide = self.decisions.get(test.target.name)
            if decide is None:
                fallback = "decision tables are named by 'decide'"
                self._unknown("E042", "decision table", test.target, self.decisions, fallback, span=False)
        given: dict[str, ast.Given] = {}
        for fact in test.givens:
            self._once(given, fact.ref.path, fact, fact.ref.path)
            self._given(fact)
        for plan in test.plans:
            for ident in plan.techniques:
                self._technique_ref(ident)
        for expect in test.expects:
            for ident in expect.recommend:
                self._technique_ref(ident)
            if expect.via is not None and decide is not None:
                rules = [r.name for r in decide.rules]
                if expect.via.name not in rules:
                    self.reporter.report(
                        "E043",
                        f"decision table '{decide.name}' has no rule '{expect.via.name}'",
                        expect.via.pos,
                        hint=units.did_you_mean(expect.via.name, rules)
                        or f"its rules: {', '.join(rules) or 'none'}",
                        span=len(expect.via.name),
                    )

    def _given(self, fact: ast.Given) -> None:
        kind = ExprChecker(self.reporter).ref(fact.ref)
        value = fact.value
        if kind is None:
            return
        if isinstance(value, ast.Quantity):
            metric = metrics.get(fact.ref.name) if fact.ref.scope in METRIC_SCOPES else None
            if metric is not None:
                check_value(self.reporter, metric, value)
                return
            if kind == units.DIMENSIONLESS:
                if value.unit != "":
                    self.reporter.report(
                        "E031", f"{fact.ref.path} is a plain number", value.pos, hint="drop the unit"
                    )
                return
        got = (
            value.dimension
            if isinstance(value, ast.Quantity)
            else BOOL
            if isinstance(value, ast.Boolean)
            else STRING
        )
        if got != kind:
            self.reporter.report(
                "E037",
                f"{fact.ref.path} is {describe(kind)}, not {describe(got)}",
                value.pos,
                hint=_VALUE_HINT.get(kind, "give a number with a unit"),
            )
        elif isinstance(value, ast.String):
            check_known_value(self.reporter, fact.ref, value)

    # -- facts the rules supply

    def _supplied(self, fact: ast.Given) -> None:
        """An assumed or derived fact: an ``env`` or ``data`` fact (what the user could give), of its type."""
        if fact.ref.scope not in ("env", "data"):
            self.reporter.report(
                "E049",
                f"{fact.ref.path} cannot be assumed or derived: only env.* and data.* facts can",
                fact.pos,
                hint="measured, baseline and constraint values come from the user or a measurement",
                span=len(fact.ref.path),
            )
            return
        self._given(fact)

    # -- lints across blocks

    def _never_recommended(self) -> None:
        if not self.decisions:
            return
        recommended = {
            i.name
            for d in self.decisions.values()
            for r in (*d.rules, *((d.otherwise,) if d.otherwise else ()))
            for i in r.recommend
        }
        for technique in self.techniques.values():
            if technique.name not in recommended:
                self.reporter.report(
                    "W001",
                    f"technique '{technique.name}' is never recommended by a rule",
                    technique.pos,
                    hint="add a rule that recommends it, or leave it to plan search",
                    span=len(technique.name),
                )


_VALUE_HINT = {BOOL: "give true or false", STRING: 'give a "quoted string"'}


def never_met(metric: Metric, op: str, value: float) -> str | None:
    """Why ``metric op value`` (``value`` canonical) holds for no value the metric can take, as ``latency_ms < 0 ms``
    or ``accuracy > 100 %`` do; None when some value meets it."""
    low = -math.inf if metric.minimum is None else metric.minimum
    high = math.inf if metric.maximum is None else metric.maximum
    if op in ("<", "<=") and (value < low or (op == "<" and value <= low)):
        side, bound = "below", low
    elif op in (">", ">=") and (value > high or (op == ">" and value >= high)):
        side, bound = "above", high
    else:
        return None
    shown = f"{bound / units.UNITS[metric.display].to_base(1.0):g}"
    return f"{metric.name} is never {side} {shown} {metric.display}".rstrip()


def _ends(range_: ast.Range) -> tuple[ast.Quantity, ...]:
    return (range_.low,) if range_.low is range_.high else (range_.low, range_.high)


def _none_of(rules: Sequence[ast.Rule], pos: ast.Pos) -> ast.Expr:
    return ast.BoolOp("and", tuple(ast.Not(r.condition, r.pos) for r in rules), pos)


__all__ = ["check", "never_met"]
