"""The facts the rules supply: what follows from the facts given (``derive``), then what is assumed where a fact
is not given (``assume``), so that advice rests on stated assumptions instead of silently dropping a technique.

A derivation applies when its fact is not given and its condition holds on the facts so far (given and derived
before it, in file order): ``derive env.device = "gpu" when env.nvidia_gpu``. A fact the user gives always wins.
Derived paths join ``Facts.derived``; assumed ones go to ``Facts.assumed`` with their reasons, and every technique
whose requirement rests on one says so (:func:`mcm.engine.techniques.resolve`).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from types import MappingProxyType

from mcm.engine.compiled import CompiledRules
from mcm.engine.evaluate import UNKNOWN, EvalError, Unknown, Val, fact_paths
from mcm.engine.facts import Facts, FactValue
from mcm.rules import ast


class Supplier:
    """:func:`supply` for one compiled ruleset, memoized on the values of the facts it reads (the derivations'
    conditions and targets, the assumed facts): per call it looks those up and adds what the memo says."""

    def __init__(self, rules: CompiledRules) -> None:
        self.rules = rules
        paths = [d.fact.ref.path for d, _ in rules.derivations]
        paths += [p for _, c in rules.derivations for p in fact_paths(c.expr)]
        paths += list(rules.assumptions)
        self.reads = tuple(dict.fromkeys(paths))
        self._additions = functools.lru_cache(maxsize=_MEMO_SIZE)(self._additions_of)

    def __call__(self, facts: Facts) -> Facts:
        if not self.reads:
            return facts
        flat = facts.flat
        derived, assumed, values = self._additions(tuple(flat.get(p, UNKNOWN) for p in self.reads))
        if not values:
            return facts
        env, data = dict(facts.env), dict(facts.data)
        for path, value in values:
            (env if path.startswith("env.") else data)[path.partition(".")[2]] = value
        return Facts(
            facts.measured,
            facts.baseline,
            MappingProxyType(env),
            MappingProxyType(data),
            facts.limits,
            tuple(sorted((*facts.derived, *derived))) if derived else facts.derived,
            facts.warnings,
            MappingProxyType({**flat, **dict(values)}),
            assumed,
            facts.detected,
        )

    def _additions_of(
        self, key: tuple[Val, ...]
    ) -> tuple[tuple[str, ...], Mapping[str, str], tuple[tuple[str, FactValue], ...]]:
        """``(derived paths, assumed paths with why, every added (path, value))`` for these values of
        :attr:`reads`."""
        flat = {p: v for p, v in zip(self.reads, key, strict=True) if not isinstance(v, Unknown)}
        derived: list[str] = []
        for derivation, condition in self.rules.derivations:
            path = derivation.fact.ref.path
            if path in flat:
                continue
            try:
                holds = condition.test(flat)
            except EvalError:
                continue
            if holds:
                flat[path] = value_of(derivation.fact.value)
                derived.append(path)
        assumed = {path: a.reason for path, a in self.rules.assumptions.items() if path not in flat}
        for path, assumption in self.rules.assumptions.items():
            if path in assumed:
                flat[path] = value_of(assumption.fact.value)
        values = tuple((p, flat[p]) for p in (*derived, *assumed))
        return tuple(derived), MappingProxyType(assumed), values


def supply(facts: Facts, rules: CompiledRules) -> Facts:
    """``facts`` with the rules' derived and assumed facts added (``facts`` itself when they add nothing); for
    many calls on one ruleset, keep a :class:`Supplier`."""
    return Supplier(rules)(facts)


def with_facts(facts: Facts, more: Mapping[str, FactValue]) -> Facts:
    """``facts`` with ``env``/``data`` facts added (``{"data.training": True}``): a hypothesis to decide on."""
    env = {**facts.env, **{p[4:]: v for p, v in more.items() if p.startswith("env.")}}
    data = {**facts.data, **{p[5:]: v for p, v in more.items() if p.startswith("data.")}}
    return dataclasses.replace(
        facts,
        env=MappingProxyType(env),
        data=MappingProxyType(data),
        flat=MappingProxyType({**facts.flat, **more}),
    )


def value_of(value: ast.Value) -> FactValue:
    """A fact's value as written in the rules (a number canonical), as the engine compares it."""
    return value.value


_MEMO_SIZE = 1024

__all__ = ["Supplier", "supply", "value_of", "with_facts"]
