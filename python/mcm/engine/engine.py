"""The engine: a compiled RuleSet that turns a scenario and Facts into a :class:`Decision` (DESIGN.md §5).

Per call: resolve every technique (requirements, caveats) on the facts, run the scenario's decision tables, check
the constraints, search plans, warn about given ``env``/``data`` facts that no rule reads; on first use, the
Decision explains what was left out (the recommended techniques' ``left_out`` included) and, when nothing is
feasible, what to relax.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping

from mcm import units
from mcm.engine.checks import check_constraints
from mcm.engine.compiled import CompiledRules, CompiledTable, compiled
from mcm.engine.decide import run_table
from mcm.engine.decision import Decision, Explanations, Recommendation, TraceEntry
from mcm.engine.evaluate import UNKNOWN, Condition, EvalError, FactMap, fact_paths
from mcm.engine.explain import hypothesis, infeasibility, left_out, why_not
from mcm.engine.facts import Facts, FactValue
from mcm.engine.messages import Message
from mcm.engine.plan import DEFAULT_BOUNDS, MAX_CANDIDATES, Bounds, SearchCache, search
from mcm.engine.supplied import Supplier, with_facts
from mcm.engine.techniques import Applicability, Resolved, resolve
from mcm.exceptions import AdviceError
from mcm.rules.ast import RuleSet, Scenario
from mcm.rules.facts import METRIC_SCOPES

_MEMO_SIZE = 1024


class Engine:
    """Load once, decide many times. Thread-safe: the only shared state is memos of pure results (technique
    resolutions by the facts they read, plan-search layouts and candidates by shape of input)."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.rules: CompiledRules = compiled(ruleset)
        self._resolved = functools.lru_cache(maxsize=_MEMO_SIZE)(self._resolve_key)
        self._local = threading.local()  # the facts of the resolution in progress (the memo keys on less)
        self._outcome_conditions, self._value_paths = _resolution_inputs(self.rules)
        self._search = SearchCache()
        #: Adds the facts the rules derive or assume (memoized on the facts they read).
        self.supply = Supplier(self.rules)
        #: Every fact the rules read: techniques' requirements and caveats, every decision table's and every
        #: derivation's condition (a given fact outside it changes nothing: :meth:`decide` warns).
        conditions = [r.condition for ts in self.rules.tables.values() for t in ts for r in t.rules]
        conditions += [condition for _, condition in self.rules.derivations]
        self.read_facts: frozenset[str] = frozenset(self.rules.technique_facts).union(
            path for condition in conditions for path in fact_paths(condition.expr)
        )

    @property
    def ruleset(self) -> RuleSet:
        return self.rules.ruleset

    def scenario(self, name: str | None) -> Scenario | None:
        """The scenario called ``name``; with None, the only scenario (None if there is none)."""
        scenarios = self.ruleset.scenarios
        if name is None:
            if len(scenarios) <= 1:
                return next(iter(scenarios.values()), None)
            raise AdviceError(
                "these rules define several scenarios: name one", "scenarios: " + ", ".join(scenarios)
            )
        found = scenarios.get(name)
        if found is None:
            hint = units.did_you_mean(name, scenarios) or (
                "scenarios: " + ", ".join(scenarios) if scenarios else None
            )
            raise AdviceError(f"unknown scenario '{name}'", hint)
        return found

    def resolve(self, facts: Facts) -> tuple[Resolved, ...]:
        """Every technique under these facts, in ruleset order. Memoized on what the resolution depends on: the
        values of the facts the requirements read (their explanations quote them), of the ``env``/``data`` facts
        the caveats read, and the outcome of each caveat that reads a metric (its note quotes only its source)."""
        flat, assumed = facts.flat, facts.assumed
        key: tuple[object, ...] = tuple(flat.get(path, UNKNOWN) for path in self._value_paths)
        if self._outcome_conditions:
            key += tuple(_outcome(c, flat) for c in self._outcome_conditions)
        self._local.flat = flat
        if assumed:
            paths = self.rules.technique_facts
            return self._resolved(key, tuple((p, assumed[p]) for p in paths if p in assumed))
        return self._resolved(key)

    def _resolve_key(
        self, key: tuple[object, ...], assumed: tuple[tuple[str, str], ...] = ()
    ) -> tuple[Resolved, ...]:
        """:meth:`resolve` for a key it made (on the facts it was made from; ``assumed``: the facts among them
        the rules assumed, with why)."""
        flat: FactMap = self._local.flat
        why = dict(assumed)
        return tuple(resolve(t, flat, why) for t in self.rules.techniques.values())

    def run_table(
        self, table: CompiledTable, facts: Facts, resolved: tuple[Resolved, ...]
    ) -> tuple[tuple[TraceEntry, ...], tuple[Recommendation, ...], tuple[str, ...]]:
        """One decision table on these facts (``resolved``: from :meth:`resolve` on the same facts)."""
        by_name = {r.name: r for r in resolved}

        def applicable(name: str) -> Applicability:
            return by_name[name].applies

        def rating(name: str) -> int:
            return by_name[name].compiled.rating

        return run_table(table, facts.flat, applicable, rating)

    def decide(self, facts: Facts, scenario: Scenario | None, bounds: Bounds = DEFAULT_BOUNDS) -> Decision:
        """The full decision for ``scenario`` (None: constraints and plans only, no decision table), on ``facts``
        and what the rules derive from them or assume in their absence (:func:`mcm.engine.supplied.supply`)."""
        given = facts
        facts = self.supply(given)
        resolved = self.resolve(facts)
        trace: list[TraceEntry] = []
        recommendations: list[Recommendation] = []
        warnings = list(facts.warnings)
        warnings += self._unread(given)
        for table in self.rules.tables.get(scenario.name, ()) if scenario else ():
            entries, recs, notes = self.run_table(table, facts, resolved)
            trace.extend(entries)
            seen = {r.technique for r in recommendations}
            recommendations.extend(r for r in recs if r.technique not in seen)
            warnings.extend(notes)
        for r in resolved:
            warnings.extend(r.warnings)
        warnings.extend(
            Message("engine.may_not_apply", technique=rec.technique, note=rec.note)
            for rec in recommendations
            if rec.note
        )
        core = tuple(i.name for i in scenario.core) if scenario else ()
        secondary = tuple(i.name for i in scenario.secondary) if scenario else ()
        recommended = [r.technique for r in recommendations]
        result = search(facts, resolved, recommended, core, secondary, bounds, self._search)
        top = result.plans[0] if result.plans else None
        warnings.extend(
            Message("engine.unchecked", constraint=lim.text(), metric=lim.metric)
            for lim in result.layout.unknown_hard
        )
        if result.prepared.beyond:
            warnings.append(
                Message("engine.too_many_candidates", most=MAX_CANDIDATES, left=result.prepared.beyond)
            )
        if result.truncated:
            warnings.append(Message("engine.truncated", plans=bounds.max_nodes))
        feasible = top is not None and top.feasible

        def explain() -> Explanations:
            why = why_not(resolved, result, top)
            waits = () if feasible else self._undecided(facts, scenario, bounds, resolved, decision)
            return (
                why,
                None if feasible else infeasibility(result, resolved, waits),
                left_out(resolved, facts.flat, recommended, why, top),
                waits,
            )

        decision = Decision(
            scenario=scenario.name if scenario else None,
            facts=facts,
            constraints=check_constraints(facts),
            trace=tuple(trace),
            recommendations=tuple(recommendations),
            plans=result.plans,
            warnings=tuple(dict.fromkeys(warnings)),
            meets_constraints=feasible,
            explain=explain,
        )
        return decision

    def _unread(self, given: Facts) -> list[str]:
        """A warning for each ``env``/``data`` fact the user gave (not one a measurement detected) that no rule
        reads: giving it changes nothing."""
        read, detected = self.read_facts, given.detected
        paths = [*(f"env.{k}" for k in given.env), *(f"data.{k}" for k in given.data)]
        return [Message("engine.unread_fact", fact=p) for p in paths if p not in read and p not in detected]

    def _undecided(
        self,
        facts: Facts,
        scenario: Scenario | None,
        bounds: Bounds,
        resolved: tuple[Resolved, ...],
        decision: Decision,
    ) -> tuple[str, ...]:
        """See :attr:`Decision.undecided`: the facts whose absence stops a feasible plan (decided again with
        values that meet the waiting techniques' requirements), then the unmeasured hard constraints."""
        missing = hypothesis(resolved, facts.flat)

        def decides(supposed: Mapping[str, FactValue]) -> bool:
            d = self.decide(with_facts(facts, supposed), scenario, bounds)
            return d.meets_constraints or _only_unmeasured(d)

        waits: tuple[str, ...] = ()
        if missing and decides(missing):
            for path in list(missing):  # keep only the facts it needs (greedily, in the order found)
                fewer = {p: v for p, v in missing.items() if p != path}
                if decides(fewer):
                    missing = fewer
            waits = tuple(missing)
        if _only_unmeasured(decision):
            waits += tuple(
                f"measured.{c.metric}" for c in decision.constraints if c.hard and c.status == "unknown"
            )
        return waits


def _resolution_inputs(rules: CompiledRules) -> tuple[tuple[Condition, ...], tuple[str, ...]]:
    """What a resolution depends on (see :meth:`Engine.resolve`): the caveat conditions that read a metric, and
    the facts whose values count (read by a requirement, or an ``env``/``data`` fact read by a caveat)."""
    required: dict[str, None] = {}
    outcome: list[Condition] = []
    for t in rules.techniques.values():
        for _, condition in t.requires:
            required.update(dict.fromkeys(fact_paths(condition.expr)))
        for _, condition in t.caveats:
            paths = fact_paths(condition.expr)
            if any(p.partition(".")[0] in METRIC_SCOPES for p in paths):
                outcome.append(condition)
            else:
                required.update(dict.fromkeys(paths))
    return tuple(outcome), tuple(required)


def _outcome(condition: Condition, flat: FactMap) -> object:
    """A condition's outcome as a memo key: True, False, None (unknown) or "error"."""
    try:
        return condition.test(flat)
    except EvalError:
        return "error"


def _only_unmeasured(decision: Decision) -> bool:
    """Whether the top plan meets every hard constraint that has a measured value, and some have none."""
    hard = {c.metric for c in decision.constraints if c.hard}
    top = decision.plans[0] if decision.plans else None
    if top is None or any(c.pessimistic == "violated" for c in top.constraints if c.metric in hard):
        return False
    return any(c.hard and c.status == "unknown" for c in decision.constraints)


__all__ = ["Engine"]
