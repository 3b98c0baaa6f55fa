"""The engine: a compiled RuleSet that turns a scenario and Facts into a :class:`Decision` (DESIGN.md §5).

Per call: resolve every technique (requirements, caveats) on the facts, run the scenario's decision tables, check
the constraints, search plans; on first use, the Decision explains what was left out and, when nothing is
feasible, what to relax.
"""

from __future__ import annotations

import functools

from mcm import units
from mcm.engine.checks import check_constraints
from mcm.engine.compiled import CompiledRules, CompiledTable, compiled
from mcm.engine.decide import run_table
from mcm.engine.decision import Decision, Recommendation, TraceEntry
from mcm.engine.evaluate import UNKNOWN, Unknown, Val
from mcm.engine.explain import infeasibility, why_not
from mcm.engine.facts import Facts
from mcm.engine.messages import Message
from mcm.engine.plan import DEFAULT_BOUNDS, Bounds, SearchCache, search
from mcm.engine.techniques import Applicability, Resolved, resolve
from mcm.exceptions import AdviceError
from mcm.rules.ast import RuleSet, Scenario

_MEMO_SIZE = 1024


class Engine:
    """Load once, decide many times. Thread-safe: the only shared state is memos of pure results (technique
    resolutions by the facts they read, plan-search layouts and candidates by shape of input)."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.rules: CompiledRules = compiled(ruleset)
        self._resolved = functools.lru_cache(maxsize=_MEMO_SIZE)(self._resolve_key)
        self._search = SearchCache()

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
        """Every technique under these facts, in ruleset order. Memoized on the facts the techniques read (usually
        a few ``env``/``data`` flags): the result is a pure function of them."""
        flat = facts.flat
        return self._resolved(tuple(flat.get(path, UNKNOWN) for path in self.rules.technique_facts))

    def _resolve_key(self, key: tuple[Val, ...]) -> tuple[Resolved, ...]:
        """:meth:`resolve` on the facts the techniques read (``key``: their values, in ``technique_facts`` order)."""
        paths = self.rules.technique_facts
        flat = {path: v for path, v in zip(paths, key, strict=True) if not isinstance(v, Unknown)}
        return tuple(resolve(t, flat) for t in self.rules.techniques.values())

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
        """The full decision for ``scenario`` (None: constraints and plans only, no decision table)."""
        resolved = self.resolve(facts)
        trace: list[TraceEntry] = []
        recommendations: list[Recommendation] = []
        warnings = list(facts.warnings)
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
        if result.truncated:
            warnings.append(Message("engine.truncated", plans=bounds.max_nodes))
        feasible = top is not None and top.feasible
        return Decision(
            scenario=scenario.name if scenario else None,
            facts=facts,
            constraints=check_constraints(facts),
            trace=tuple(trace),
            recommendations=tuple(recommendations),
            plans=result.plans,
            warnings=tuple(dict.fromkeys(warnings)),
            meets_constraints=feasible,
            explain=lambda: (why_not(resolved, result, top), None if feasible else infeasibility(result)),
        )


__all__ = ["Engine"]
