"""Sound, simple reasoning about conditions: contradictions, and rules that earlier rules shadow.

A condition becomes disjunctive normal form (at most ``MAX_TERMS`` terms). A conjunction is unsatisfiable when it
holds a comparison and its negation, a boolean fact both true and false, or bounds on one expression that leave
nothing (``x > 5 and x < 3``, ``env.runtime == "a" and env.runtime == "b"``). Only "unsatisfiable" is ever
claimed; a condition too large to expand counts as satisfiable. Conditions must be type-checked first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from mcm.rules import ast
from mcm.rules.exprs import fold

MAX_TERMS = 256


@dataclass(frozen=True)
class _Fact:
    """A boolean fact that must be ``value``."""

    path: str
    value: bool


@dataclass(frozen=True)
class _Cmp:
    """``left op right`` with ``op`` in <, <=, ==, != (``a > b`` is kept as ``b < a``)."""

    op: str
    left: ast.Expr
    right: ast.Expr


_Literal = _Fact | _Cmp
_Term = frozenset[_Literal]
_NEGATE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
_FLIP = {">": "<", ">=": "<="}
_MIRROR = {"<": ">", "<=": ">=", "==": "==", "!=": "!="}


def unsatisfiable(condition: ast.Expr) -> bool:
    """True when no facts can make ``condition`` true (as far as simple interval reasoning sees)."""
    terms = _dnf(condition, True)
    return terms is not None and not any(_satisfiable(t) for t in terms)


def shadowed(condition: ast.Expr, earlier: Sequence[ast.Expr]) -> bool:
    """True when ``condition`` can only hold where one of ``earlier`` holds too (a `first` table never gets to it)."""
    if not earlier:
        return False
    return unsatisfiable(ast.BoolOp("and", (condition, *(ast.Not(e, e.pos) for e in earlier)), condition.pos))


def _dnf(expr: ast.Expr, positive: bool) -> list[_Term] | None:
    if isinstance(expr, ast.Boolean):
        return [frozenset()] if expr.value == positive else []
    if isinstance(expr, ast.Ref):
        return [frozenset({_Fact(expr.path, positive)})]
    if isinstance(expr, ast.Not):
        return _dnf(expr.operand, not positive)
    if isinstance(expr, ast.BoolOp):
        parts = [_dnf(o, positive) for o in expr.operands]
        if any(p is None for p in parts):
            return None
        conjunction = (expr.op == "and") == positive
        return _product(parts) if conjunction else [t for p in parts if p is not None for t in p]
    if isinstance(expr, ast.Compare):
        return (
            [frozenset({lit})]
            if (lit := _comparison(expr, positive)) is not None
            else _constant(expr, positive)
        )
    return [frozenset()]  # not a condition (the checker reported it): assume it may hold


def _product(parts: list[list[_Term] | None]) -> list[_Term] | None:
    result: list[_Term] = [frozenset()]
    for part in parts:
        assert part is not None
        if len(result) * len(part) > MAX_TERMS:
            return None
        result = [a | b for a in result for b in part]
    return result


def _comparison(expr: ast.Compare, positive: bool) -> _Literal | None:
    op, left, right = expr.op if positive else _NEGATE[expr.op], expr.left, expr.right
    for ref, other in ((left, right), (right, left)):
        if isinstance(ref, ast.Ref) and isinstance(other, ast.Boolean) and op in ("==", "!="):
            return _Fact(ref.path, other.value == (op == "=="))
    if fold(left) is not None and fold(right) is not None:
        return None
    if op in _FLIP:
        op, left, right = _FLIP[op], right, left
    return _Cmp(op, left, right)


def _constant(expr: ast.Compare, positive: bool) -> list[_Term]:
    try:
        value = bool(ast.COMPARE[expr.op](fold(expr.left), fold(expr.right)))
    except TypeError:  # text against number: a type error the checker reported
        return [frozenset()]
    return [frozenset()] if value == positive else []


def _satisfiable(term: _Term) -> bool:
    facts: dict[str, bool] = {}
    domains: dict[ast.Expr, _Domain] = {}
    for literal in term:
        if isinstance(literal, _Fact):
            if facts.setdefault(literal.path, literal.value) != literal.value:
                return False
            continue
        if _negation(literal) in term:
            return False
        constant_right, constant_left = fold(literal.right), fold(literal.left)
        if constant_right is not None:
            domains.setdefault(literal.left, _Domain()).add(literal.op, constant_right)
        elif constant_left is not None:
            domains.setdefault(literal.right, _Domain()).add(_MIRROR[literal.op], constant_left)
    return all(d.possible() for d in domains.values())


def _negation(literal: _Cmp) -> _Cmp:
    """The literal that contradicts this one: ``a < b`` negates to ``a >= b``, kept as ``b <= a``."""
    negated = _NEGATE[literal.op]
    if negated in _FLIP:
        return _Cmp(_FLIP[negated], literal.right, literal.left)
    return _Cmp(negated, literal.left, literal.right)


@dataclass
class _Domain:
    """What a conjunction allows for one expression: an interval, a required value, excluded values."""

    low: float = -math.inf
    low_open: bool = False
    high: float = math.inf
    high_open: bool = False
    equal: list[float | str] = field(default_factory=list)
    unequal: set[float | str] = field(default_factory=set)

    def add(self, op: str, value: float | str) -> None:
        if op == "==":
            self.equal.append(value)
        elif op == "!=":
            self.unequal.add(value)
        elif isinstance(value, float):
            if op in ("<", "<=") and (value < self.high or (value == self.high and op == "<")):
                self.high, self.high_open = value, op == "<"
            elif op in (">", ">=") and (value > self.low or (value == self.low and op == ">")):
                self.low, self.low_open = value, op == ">"

    def possible(self) -> bool:
        if self.low > self.high or (self.low == self.high and (self.low_open or self.high_open)):
            return False
        if self.equal:
            value = self.equal[0]
            if any(v != value for v in self.equal) or value in self.unequal:
                return False
            return not isinstance(value, float) or self._within(value)
        return not (self.low == self.high and self.low in self.unequal)

    def _within(self, value: float) -> bool:
        above = value > self.low or (value == self.low and not self.low_open)
        below = value < self.high or (value == self.high and not self.high_open)
        return above and below


__all__ = ["MAX_TERMS", "shadowed", "unsatisfiable"]
