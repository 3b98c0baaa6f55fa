"""Running a rules file's own ``test`` blocks, with rule coverage.

A test's ``given`` facts (``measured``, ``baseline``, ``constraint``, ``env``, ``data``) are the only facts (with
those derived from them); a given ``constraint.M`` replaces the scenario's limit on M, keeping its operator (at
most / at least by the metric's direction when the scenario has none). The test's decision table runs alone.
The rules' ``derive`` and ``assume`` statements supply facts as they do for ``mcm advise``.
``expect recommend T, ...`` holds when the table recommends exactly those techniques (in any order; ``none``:
nothing). ``expect plan T, ... [meets|misses]`` is about the whole answer: the top plan of ``mcm advise`` on these
facts (every table of the scenario, then plan search) has exactly these steps in this order, and meets (or misses)
every hard constraint pessimistically when the test says which. With ``via R`` it is about that rule: R fired, and the techniques it contributes (those of its list that
can be used here) are exactly T, ... — so under ``collect`` each rule can be checked on its own. Coverage counts
the rules whose condition held (``fired`` or ``inapplicable``) in at least one test, over all rules of all
decision tables.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcm import metrics
from mcm.engine.compiled import CompiledTable
from mcm.engine.decision import TraceEntry
from mcm.engine.engine import Engine
from mcm.engine.facts import Facts, FactValue, Limit, merge_limits, scenario_limits
from mcm.exceptions import AdviceError
from mcm.rules.ast import Boolean, Quantity, Scenario, String, Test


@dataclass(frozen=True, slots=True)
class TestResult:
    """One test: passed or the reasons it failed, with what the table recommended and which rules fired."""

    __test__ = False  # not a pytest class

    name: str
    table: str
    pos: str
    passed: bool
    failures: tuple[str, ...]
    recommended: tuple[str, ...]
    fired: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "table": self.table,
            "pos": self.pos,
            "passed": self.passed,
            "failures": list(self.failures),
            "recommended": list(self.recommended),
            "fired": list(self.fired),
        }


@dataclass(frozen=True, slots=True)
class Coverage:
    """Rules (``table.rule``) whose condition held in at least one test, over all rules."""

    covered: tuple[str, ...]
    uncovered: tuple[tuple[str, str], ...]  # (table.rule, position)

    @property
    def total(self) -> int:
        return len(self.covered) + len(self.uncovered)

    @property
    def percent(self) -> float:
        """Covered rules in percent (100 when there are no rules)."""
        return 100.0 * len(self.covered) / self.total if self.total else 100.0

    def to_dict(self) -> dict[str, object]:
        return {
            "covered": list(self.covered),
            "uncovered": [{"rule": r, "pos": p} for r, p in self.uncovered],
            "total": self.total,
            "percent": round(self.percent, 2),
        }


@dataclass(frozen=True, slots=True)
class TestReport:
    """Every test's result and the rule coverage."""

    __test__ = False

    results: tuple[TestResult, ...]
    coverage: Coverage

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failed(self) -> tuple[TestResult, ...]:
        return tuple(r for r in self.results if not r.passed)

    def to_dict(self) -> dict[str, object]:
        return {
            "schema": "mcm.rules-test/1",
            "passed": self.passed,
            "tests": [r.to_dict() for r in self.results],
            "coverage": self.coverage.to_dict(),
        }


def run_tests(engine: Engine) -> TestReport:
    """Run every test block of the engine's ruleset, in file order."""
    tables = {t.decide.name: t for group in engine.rules.tables.values() for t in group}
    results = []
    fired: set[str] = set()
    for test in engine.ruleset.tests:
        table = tables[test.target.name] if test.target is not None else None
        if table is None:
            results.append(
                TestResult(test.name, "", str(test.pos), False, ("names no decision table",), (), ())
            )
            continue
        result, trace = _run(engine, table, test)
        results.append(result)
        fired.update(f"{e.table}.{e.rule}" for e in trace if e.status in ("fired", "inapplicable"))
    every = [(f"{t.decide.name}.{r.rule.name}", str(r.rule.pos)) for t in tables.values() for r in t.rules]
    coverage = Coverage(
        covered=tuple(name for name, _ in every if name in fired),
        uncovered=tuple((name, pos) for name, pos in every if name not in fired),
    )
    return TestReport(tuple(results), coverage)


def _run(engine: Engine, table: CompiledTable, test: Test) -> tuple[TestResult, tuple[TraceEntry, ...]]:
    facts = engine.supply(facts_of_test(engine, table, test))
    resolved = {r.name: r for r in engine.resolve(facts)}
    trace, recs, _ = engine.run_table(table, facts, tuple(resolved.values()))

    def usable(entry: TraceEntry) -> list[str]:
        return [t for t in entry.recommend if resolved[t].applies.status in ("yes", "unknown")]

    failures = []
    for expect in test.expects:
        want = sorted(i.name for i in expect.recommend)
        if expect.via is None:
            failures.extend(_compare(want, [r.technique for r in recs], "the table recommends"))
            continue
        entry = next((e for e in trace if e.rule == expect.via.name), None)
        if entry is None or entry.status != "fired":
            status = entry.status.replace("_", " ") if entry else "not in this table"
            failures.append(f"expected via rule {expect.via.name}, which is {status}")
        else:
            failures.extend(_compare(want, usable(entry), f"rule {expect.via.name} recommends"))
    if test.plans:
        failures.extend(_plans(engine, engine.ruleset.scenarios.get(table.decide.scenario.name), facts, test))
    fired = tuple(e.rule for e in trace if e.status == "fired")
    result = TestResult(
        test.name,
        table.decide.name,
        str(test.pos),
        not failures,
        tuple(failures),
        tuple(r.technique for r in recs),
        fired,
    )
    return result, trace


def _plans(engine: Engine, scenario: Scenario | None, facts: Facts, test: Test) -> list[str]:
    """Failures of ``expect plan``: the top plan of the whole decision (every table of the scenario, plan
    search), its steps in order, and whether it meets every hard constraint when the test says."""
    decision = engine.decide(facts, scenario)
    top = decision.plans[0] if decision.plans else None
    got = top.techniques if top is not None else ()
    failures = []
    for expect in test.plans:
        want = tuple(i.name for i in expect.techniques)
        if want != got:
            failures.append(
                f"expected plan {' → '.join(want) or 'none'}; the top plan is {' → '.join(got) or 'none'}"
            )
        elif expect.meets is not None and top is not None and top.feasible != expect.meets:
            verdict = "meets" if top.feasible else "misses"
            failures.append(
                f"expected plan {' → '.join(want) or 'none'} to {'meet' if expect.meets else 'miss'} the hard constraints; it {verdict} them"
            )
    return failures


def _compare(want: list[str], got: list[str], what: str) -> list[str]:
    got = sorted(got)
    if want == got:
        return []
    return [f"expected {', '.join(want) or 'none'}; {what} {', '.join(got) or 'none'}"]


def facts_of_test(engine: Engine, table: CompiledTable, test: Test) -> Facts:
    """The facts a test gives, with the scenario's constraints overridden by given ``constraint.*``."""
    numbers: dict[str, dict[str, float]] = {"measured": {}, "baseline": {}}
    flags: dict[str, dict[str, FactValue]] = {"env": {}, "data": {}}
    given_limits = []
    scenario = engine.ruleset.scenarios.get(table.decide.scenario.name)
    base = scenario_limits(scenario)
    for given in test.givens:
        value, ref = _value(given.value), given.ref
        if ref.scope in flags:
            flags[ref.scope][ref.name] = value
            continue
        if isinstance(value, (bool, str)):
            raise AdviceError(f"{given.pos}: test '{test.name}': {ref.path} needs a number")
        if ref.scope == "constraint":
            old = next((lim for lim in base if lim.metric == ref.name), None)
            info = metrics.lookup(ref.name)
            op = old.op if old is not None else ("<=" if info.better == "lower" else ">=")
            hard = old.hard if old is not None else True
            given_limits.append(Limit(info.name, op, value, hard, "user", given.pos))
        else:
            numbers[ref.scope][ref.name] = value
    return Facts.of(
        measured=numbers["measured"],
        baseline=numbers["baseline"],
        env=flags["env"],
        data=flags["data"],
        limits=merge_limits(base, given_limits),
    )


def _value(value: Quantity | String | Boolean) -> FactValue:
    if isinstance(value, Quantity):
        return float(value.value)
    return value.value


__all__ = ["Coverage", "TestReport", "TestResult", "facts_of_test", "run_tests"]
