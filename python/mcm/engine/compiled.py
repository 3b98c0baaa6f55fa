"""A RuleSet compiled once for the engine: every condition as closures, exclusions made symmetric.

:func:`compiled` caches the result per RuleSet object (weakly), so loading once and advising many times
compiles once.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from mcm.engine.evaluate import Condition, compile_condition, fact_paths
from mcm.engine.techniques import CompiledTechnique, compile_technique
from mcm.rules.ast import Assumption, Decide, Derivation, Rule, RuleSet


@dataclass(frozen=True, slots=True, eq=False)
class CompiledRule:
    """A rule with its condition compiled and its position as text."""

    rule: Rule
    condition: Condition
    pos: str


@dataclass(frozen=True, slots=True, eq=False)
class CompiledTable:
    """A decision table with its rules' conditions compiled, in order."""

    decide: Decide
    rules: tuple[CompiledRule, ...]


@dataclass(frozen=True, eq=False)
class CompiledRules:
    """What the engine evaluates: techniques by name (file order) and decision tables by scenario."""

    ruleset: RuleSet
    techniques: Mapping[str, CompiledTechnique]
    tables: Mapping[str, tuple[CompiledTable, ...]]
    #: Every fact a technique's requirements and caveats read: resolving techniques depends on nothing else.
    technique_facts: tuple[str, ...]
    #: The rules' ``derive`` statements with their conditions compiled, in order; their ``assume`` statements.
    derivations: tuple[tuple[Derivation, Condition], ...]
    assumptions: Mapping[str, Assumption]


_CACHE: weakref.WeakKeyDictionary[RuleSet, CompiledRules] = weakref.WeakKeyDictionary()


def compiled(ruleset: RuleSet) -> CompiledRules:
    """The compiled form of ``ruleset``, built on first use and cached while the RuleSet lives."""
    found = _CACHE.get(ruleset)
    if found is None:
        found = _CACHE[ruleset] = _compile(ruleset)
    return found


def _compile(ruleset: RuleSet) -> CompiledRules:
    excluded_by: dict[str, set[str]] = {name: set() for name in ruleset.techniques}
    for technique in ruleset.techniques.values():
        for other in technique.excludes:
            excluded_by.setdefault(other.name, set()).add(technique.name)
    techniques = {
        name: compile_technique(t, frozenset(excluded_by[name])) for name, t in ruleset.techniques.items()
    }
    tables: dict[str, list[CompiledTable]] = {}
    for decide in ruleset.decisions.values():
        rules = tuple(CompiledRule(r, compile_condition(r.condition), str(r.pos)) for r in decide.rules)
        tables.setdefault(decide.scenario.name, []).append(CompiledTable(decide, rules))
    paths = [
        path
        for t in techniques.values()
        for _, condition in (*t.requires, *t.caveats)
        for path in fact_paths(condition.expr)
    ]
    return CompiledRules(
        ruleset=ruleset,
        techniques=MappingProxyType(techniques),
        tables=MappingProxyType({k: tuple(v) for k, v in tables.items()}),
        technique_facts=tuple(dict.fromkeys(paths)),
        derivations=tuple((d, compile_condition(d.condition)) for d in ruleset.derivations),
        assumptions=ruleset.assumptions,
    )


__all__ = ["CompiledRule", "CompiledRules", "CompiledTable", "compiled"]
