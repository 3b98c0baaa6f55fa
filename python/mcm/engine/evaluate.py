"""Conditions compiled once into closures, evaluated over facts with an explanation of every resolved value.

A :class:`Condition` has two compiled forms of the same AST: ``test`` (value only, for the hot path) and
``explain`` (value plus text such as ``measured.latency_ms 120 ms > 2 × constraint.latency_ms (50 ms) = 100 ms →
true``). No ``eval``/``exec``; a fact is looked up by its ``scope.name`` key in a mapping, nothing else.

Semantics:

- A missing fact is *unknown*, and unknown spreads through arithmetic and comparisons. ``and``/``or``/``not``
  follow Kleene's three-valued logic, so ``false and unknown`` is false and ``true or unknown`` is true: the
  result never depends on the missing value. A condition that ends unknown is reported as an error by its
  caller (a missing fact is never silently false).
- Type errors (ordering a text, arithmetic on a flag, a non-flag where a condition is expected), division by zero
  and arithmetic whose result is not a finite number raise :class:`EvalError`; they are not absorbed by
  ``and``/``or`` (an operand that short-circuiting skips is not evaluated, so it raises nothing).
- ``and``/``or`` short-circuit; operands not evaluated are shown as ``not evaluated``.
- Numbers compare exactly except ``==``/``!=``, which use a relative tolerance of 1e-9 (unit conversions) and an
  absolute one of 1e-12 near zero.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, NamedTuple

from mcm import metrics, units
from mcm.engine.facts import FactValue
from mcm.engine.messages import ENGLISH, Catalogue, Message
from mcm.exceptions import AdviceError
from mcm.rules.ast import (
    BOUND_OPS,
    COMPARE,
    Arith,
    Boolean,
    BoolOp,
    Compare,
    Expr,
    Neg,
    Not,
    Pos,
    Quantity,
    Ref,
    String,
)


class Unknown:
    """The value of a missing fact (a singleton: :data:`UNKNOWN`)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "unknown"


UNKNOWN: Final = Unknown()

Val = FactValue | Unknown
FactMap = Mapping[str, FactValue]
_Fast = Callable[[FactMap], Val]
_Explain = Callable[[FactMap, list[str], "Words"], tuple[Val, str]]


class EvalError(AdviceError):
    """A condition that cannot be evaluated on these facts: a type error or a division by zero. ``reason`` is
    the :class:`~mcm.engine.messages.Message` without the position."""

    def __init__(self, message: Message, pos: Pos) -> None:
        super().__init__(f"{pos}: {message}")
        self.reason = message
        self.pos = pos


class Words(NamedTuple):
    """The fixed words of explanations in one language (made once per catalogue)."""

    catalogue: Catalogue
    true: str
    false: str
    unknown: str
    not_given: Callable[..., str]
    not_evaluated: Callable[..., str]
    error: Callable[..., str]

    @classmethod
    def of(cls, catalogue: Catalogue) -> Words:
        found = _WORDS.get(catalogue.lang)
        if found is None or found.catalogue is not catalogue:
            t = {**ENGLISH.templates, **catalogue.templates}
            found = cls(
                catalogue,
                t["value.true"],
                t["value.false"],
                t["value.unknown"],
                t["explain.not_given"].format,
                t["explain.not_evaluated"].format,
                t["explain.error"].format,
            )
            _WORDS[catalogue.lang] = found
        return found


_WORDS: dict[str, Words] = {}


class Outcome(NamedTuple):
    """An explained evaluation: ``value`` is None when unknown or on error; ``missing`` lists absent facts;
    ``error`` is the message of the error."""

    value: bool | None
    text: str
    missing: tuple[str, ...] = ()
    error: str | None = None

    @property
    def status(self) -> str:
        """``true``, ``false``, ``unknown`` (a fact is missing) or ``error``."""
        if self.error is not None:
            return "error"
        return "unknown" if self.value is None else ("true" if self.value else "false")

    @property
    def problem(self) -> str | None:
        """Why there is no value: the error, or which facts are missing; None when there is a value."""
        if self.error is not None:
            return self.error
        if self.value is None:
            return Message(
                "outcome.unknown",
                facts=tuple(Message("outcome.fact_not_given", fact=m) for m in self.missing),
            )
        return None


class Explained:
    """A condition's explanation on some facts as a message parameter: English as computed, other languages
    explained again when rendered."""

    __slots__ = ("condition", "english", "facts")

    def __init__(self, condition: Condition, facts: FactMap, english: str) -> None:
        self.condition, self.facts, self.english = condition, facts, english

    def render_in(self, catalogue: Catalogue) -> str:
        if catalogue.lang == "en":
            return self.english
        return self.condition.explain(self.facts, catalogue).text


@dataclass(frozen=True, slots=True, eq=False)
class Condition:
    """A compiled condition with its source text (``source``) and position."""

    expr: Expr
    source: str
    pos: Pos
    _fast: _Fast
    _explain: _Explain

    def test(self, facts: FactMap) -> bool | None:
        """True or false, None when a missing fact leaves it unknown; raises :class:`EvalError`."""
        value = self._fast(facts)
        if value is UNKNOWN:
            return None
        if type(value) is not bool:
            raise EvalError(Message("eval.not_a_condition", kind=_kind(value)), self.pos)
        return value

    def explain(self, facts: FactMap, catalogue: Catalogue = ENGLISH) -> Outcome:
        """The value with its explanation (in ``catalogue``'s language); errors become an :class:`Outcome` with
        ``error`` set."""
        missing: list[str] = []
        words = Words.of(catalogue)
        try:
            value, text = self._explain(facts, missing, words)
            if value is not UNKNOWN and type(value) is not bool:
                raise EvalError(Message("eval.not_a_condition", kind=_kind(value)), self.pos)
        except EvalError as e:
            text = words.error(source=self.source, reason=e.reason.render_in(catalogue))
            return Outcome(None, text, _unique(missing), e.reason)
        result = None if value is UNKNOWN else bool(value)
        return Outcome(result, text, _unique(missing))

    def explained(self, facts: FactMap, outcome: Outcome) -> Message:
        """``outcome`` (from :meth:`explain` on ``facts`` in English) as a message, explained again in another
        language when rendered."""
        return Message.written(outcome.text, "explain.outcome", outcome=Explained(self, facts, outcome.text))


def fact_paths(expr: Expr) -> tuple[str, ...]:
    """The facts an expression reads (``scope.name``), in order of first appearance."""
    found: dict[str, None] = {}
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, Ref):
            found[node.path] = None
        elif isinstance(node, (Neg, Not)):
            stack.append(node.operand)
        elif isinstance(node, (Arith, Compare)):
            stack.extend((node.right, node.left))
        elif isinstance(node, BoolOp):
            stack.extend(reversed(node.operands))
    return tuple(found)


def compile_condition(expr: Expr) -> Condition:
    """Compile ``expr`` once; the result can be evaluated any number of times."""
    return Condition(expr, render(expr), expr.pos, _fast(expr), _top(expr))


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _kind(value: object) -> Message:
    if isinstance(value, bool):
        return Message("kind.flag")
    if isinstance(value, str):
        return Message("kind.text")
    return Message("kind.unknown" if value is UNKNOWN else "kind.number")


# ---- rendering (source text, values with units)

_SYMBOL = {"*": "×", "/": "/", "+": "+", "-": "-"}
_PRECEDENCE = {"or": 1, "and": 2, "not": 3, "compare": 4, "+": 5, "-": 5, "*": 6, "/": 6, "neg": 7, "atom": 8}


def _prec(expr: Expr) -> int:
    if isinstance(expr, BoolOp):
        return _PRECEDENCE[expr.op]
    if isinstance(expr, Not):
        return _PRECEDENCE["not"]
    if isinstance(expr, Compare):
        return _PRECEDENCE["compare"]
    if isinstance(expr, Arith):
        return _PRECEDENCE[expr.op]
    if isinstance(expr, Neg):
        return _PRECEDENCE["neg"]
    return _PRECEDENCE["atom"]


def _wrap(text: str, child: Expr, parent: int, *, right: bool = False) -> str:
    p = _prec(child)
    return f"({text})" if p < parent or (right and p == parent and p < _PRECEDENCE["atom"]) else text


def render(expr: Expr) -> str:
    """The expression as source text (``2 × constraint.latency_ms``), parenthesized where needed."""
    if isinstance(expr, Quantity):
        return _literal(expr)
    if isinstance(expr, String):
        return _quote(expr.value)
    if isinstance(expr, Boolean):
        return "true" if expr.value else "false"
    if isinstance(expr, Ref):
        return expr.path
    if isinstance(expr, Neg):
        return "-" + _wrap(render(expr.operand), expr.operand, _prec(expr))
    if isinstance(expr, Not):
        return "not " + _wrap(render(expr.operand), expr.operand, _prec(expr))
    if isinstance(expr, Arith):
        p = _prec(expr)
        left = _wrap(render(expr.left), expr.left, p)
        return f"{left} {_SYMBOL[expr.op]} {_wrap(render(expr.right), expr.right, p, right=True)}"
    if isinstance(expr, Compare):
        p = _prec(expr) + 1
        return (
            f"{_wrap(render(expr.left), expr.left, p)} {expr.op} {_wrap(render(expr.right), expr.right, p)}"
        )
    p = _prec(expr) + 1
    return f" {expr.op} ".join(_wrap(render(o), o, p) for o in expr.operands)


def _literal(q: Quantity) -> str:
    return (
        units.format_quantity(q.value, q.unit, units.PRECISE_DIGITS)
        if q.unit in units.UNITS
        else f"{q.value:g} {q.unit}"
    )


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def display_unit(expr: Expr) -> str:
    """The unit a node's value is shown in: a metric's display unit, a literal's unit, or an operand's."""
    if isinstance(expr, Quantity):
        return expr.unit if expr.unit in units.UNITS else ""
    if isinstance(expr, Ref):
        info = (
            metrics.METRICS.get(expr.name) if expr.scope in ("measured", "baseline", "constraint") else None
        )
        return info.display if info is not None else ""
    if isinstance(expr, Neg):
        return display_unit(expr.operand)
    if isinstance(expr, Arith):
        left, right = display_unit(expr.left), display_unit(expr.right)
        if expr.op == "/" and _dimension(left) == _dimension(right):
            return ""
        if expr.op in ("*", "/") and _dimension(left) == units.DIMENSIONLESS and left in ("", "x"):
            return right if expr.op == "*" else ""
        return left or right
    return ""


def _dimension(unit: str) -> str:
    return units.UNITS[unit].dimension if unit in units.UNITS else units.DIMENSIONLESS


def show(value: Val, unit: str, words: Words | None = None) -> str:
    """A value for an explanation: ``120 ms``, ``94.5 %``, ``true``, ``"cnn"``, ``unknown`` (the words in
    ``words``' language; English by default)."""
    if isinstance(value, (Unknown, bool)):
        w = words or Words.of(ENGLISH)
        return w.unknown if isinstance(value, Unknown) else (w.true if value else w.false)
    if isinstance(value, str):
        return _quote(value)
    return units.format_quantity(value, unit, units.PRECISE_DIGITS)


# ---- the fast form


def _number(value: Val, pos: Pos, what: str) -> float:
    if type(value) is not float:
        raise EvalError(Message("eval.needs_numbers", what=what, kind=_kind(value)), pos)
    return value


def _flag(value: Val, pos: Pos, what: str) -> bool | Unknown:
    if value is UNKNOWN:
        return UNKNOWN
    if type(value) is not bool:
        raise EvalError(Message("eval.needs_flag", what=what, kind=_kind(value)), pos)
    return value


_ARITH: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}
#: The order comparisons by operator (``COMPARISONS["<"](a, b)``), from :data:`mcm.rules.ast.COMPARE`;
#: constraint limits use them too. ``==`` and ``!=`` compare with a tolerance here (see :func:`_compare`).
COMPARISONS: Mapping[str, Callable[[float, float], bool]] = {op: COMPARE[op] for op in BOUND_OPS}


def _arith(op: str, a: Val, b: Val, pos: Pos) -> Val:
    if a is UNKNOWN or b is UNKNOWN:
        if a is not UNKNOWN:
            _number(a, pos, f"'{_SYMBOL[op]}'")
        if b is not UNKNOWN:
            _number(b, pos, f"'{_SYMBOL[op]}'")
        return UNKNOWN
    x, y = _number(a, pos, f"'{_SYMBOL[op]}'"), _number(b, pos, f"'{_SYMBOL[op]}'")
    if op == "/" and y == 0.0:
        raise EvalError(Message("eval.division_by_zero"), pos)
    result = _ARITH[op](x, y)
    if not math.isfinite(result):
        raise EvalError(Message("eval.not_finite"), pos)
    return result


def _compare(op: str, a: Val, b: Val, pos: Pos) -> Val:
    if a is UNKNOWN or b is UNKNOWN:
        return UNKNOWN
    order = COMPARISONS.get(op)
    if order is not None:
        return order(_number(a, pos, f"'{op}'"), _number(b, pos, f"'{op}'"))
    if type(a) is not type(b):
        raise EvalError(Message("eval.compares", op=op, left=_kind(a), right=_kind(b)), pos)
    same = math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) if type(a) is float else a == b  # type: ignore[arg-type]
    return same if op == "==" else not same


def _fast(expr: Expr) -> _Fast:
    if isinstance(expr, Quantity):
        number = float(expr.value)
        return lambda facts: number
    if isinstance(expr, (String, Boolean)):
        constant: Val = expr.value
        return lambda facts: constant
    if isinstance(expr, Ref):
        path, absent = expr.path, UNKNOWN
        return lambda facts: facts.get(path, absent)
    if isinstance(expr, Neg):
        inner, pos = _fast(expr.operand), expr.pos

        def neg(facts: FactMap) -> Val:
            v = inner(facts)
            return v if v is UNKNOWN else -_number(v, pos, "'-'")

        return neg
    if isinstance(expr, Not):
        operand, pos = _fast(expr.operand), expr.pos

        def not_(facts: FactMap) -> Val:
            v = _flag(operand(facts), pos, "not")
            return v if v is UNKNOWN else not v

        return not_
    if isinstance(expr, Arith):
        left, right, op, pos = _fast(expr.left), _fast(expr.right), expr.op, expr.pos
        return lambda facts: _arith(op, left(facts), right(facts), pos)
    if isinstance(expr, Compare):
        return _fast_compare(expr)
    return _fast_bool(expr)


def _fast_compare(expr: Compare) -> _Fast:
    left, right, op, pos = _fast(expr.left), _fast(expr.right), expr.op, expr.pos
    order = COMPARISONS.get(op)
    if order is not None:

        def ordered(facts: FactMap) -> Val:
            a, b = left(facts), right(facts)
            if type(a) is float and type(b) is float:
                return order(a, b)
            return _compare(op, a, b, pos)

        return ordered
    return lambda facts: _compare(op, left(facts), right(facts), pos)


def _fast_bool(expr: BoolOp) -> _Fast:
    operands, pos, word = tuple(_fast(o) for o in expr.operands), expr.pos, expr.op
    stop = word == "or"  # the value that decides the result

    def bool_op(facts: FactMap) -> Val:
        unknown = False
        for operand in operands:
            v = _flag(operand(facts), pos, word)
            if v is UNKNOWN:
                unknown = True
            elif v is stop:
                return stop
        return UNKNOWN if unknown else not stop

    return bool_op


# ---- the explaining form (everything that depends only on the AST is decided here, at compile time)

_Side = Callable[[Val, str, Words], str]


def _top(expr: Expr) -> _Explain:
    """A node in condition position: comparisons and logic explain themselves; anything else (a flag such as
    ``env.nvidia_gpu``) reads ``env.nvidia_gpu → false``."""
    inner = _explain(expr)
    if isinstance(expr, (Compare, BoolOp, Not)):
        return inner
    unit = display_unit(expr)
    path = expr.path if isinstance(expr, Ref) else None

    def top(facts: FactMap, missing: list[str], words: Words) -> tuple[Val, str]:
        value, text = inner(facts, missing, words)
        if path is not None:
            text = path if value is not UNKNOWN else words.not_given(path=path)
        return value, f"{text} → {show(value, unit, words)}"

    return top


def _side(expr: Expr) -> _Side:
    """How a comparison operand reads: the literal itself, ``path value`` for a fact, or ``expr = value``."""
    if isinstance(expr, (Quantity, String, Boolean)):
        return lambda value, text, words: text
    unit = display_unit(expr)
    if isinstance(expr, Ref):
        path = expr.path
        return lambda value, text, words: (
            words.not_given(path=path) if value is UNKNOWN else f"{path} {show(value, unit, words)}"
        )
    return lambda value, text, words: f"{text} = {show(value, unit, words)}"


def _wrapper(child: Expr, parent: int, *, right: bool = False) -> Callable[[str], str]:
    """Parenthesize a child's text, or not: decided once from the node types."""
    if _wrap("x", child, parent, right=right) == "x":
        return lambda text: text
    return lambda text: f"({text})"


def _explain(expr: Expr) -> _Explain:
    if isinstance(expr, (Quantity, String, Boolean)):
        fast, text = _fast(expr), render(expr)
        return lambda facts, missing, words: (fast(facts), text)
    if isinstance(expr, Ref):
        path, unit = expr.path, display_unit(expr)

        def ref(facts: FactMap, missing: list[str], words: Words) -> tuple[Val, str]:
            v = facts.get(path, UNKNOWN)
            if v is UNKNOWN:
                missing.append(path)
                return v, words.not_given(path=path)
            return v, f"{path} ({show(v, unit, words)})"

        return ref
    if isinstance(expr, Neg):
        inner_n, pos, wrap = _explain(expr.operand), expr.pos, _wrapper(expr.operand, _prec(expr))

        def neg(facts: FactMap, missing: list[str], words: Words) -> tuple[Val, str]:
            v, t = inner_n(facts, missing, words)
            return (v if v is UNKNOWN else -_number(v, pos, "'-'")), "-" + wrap(t)

        return neg
    if isinstance(expr, Arith):
        return _explain_arith(expr)
    if isinstance(expr, Compare):
        return _explain_compare(expr)
    if isinstance(expr, Not):
        inner_b, pos_b = _top(expr.operand), expr.pos

        def not_(facts: FactMap, missing: list[str], words: Words) -> tuple[Val, str]:
            v, t = inner_b(facts, missing, words)
            f = _flag(v, pos_b, "not")
            result: Val = f if f is UNKNOWN else not f
            return result, f"not ({t}) → {show(result, '', words)}"

        return not_
    return _explain_bool(expr)


def _explain_arith(expr: Arith) -> _Explain:
    left, right, op, pos, p = _explain(expr.left), _explain(expr.right), expr.op, expr.pos, _prec(expr)
    symbol = _SYMBOL[op]
    wrap_left, wrap_right = _wrapper(expr.left, p), _wrapper(expr.right, p, right=True)

    def arith(facts: FactMap, missing: list[str], words: Words) -> tuple[Val, str]:
        a, ta = left(facts, missing, words)
        b, tb = right(facts, missing, words)
        return _arith(op, a, b, pos), f"{wrap_left(ta)} {symbol} {wrap_right(tb)}"

    return arith


def _explain_compare(expr: Compare) -> _Explain:
    left, right, op, pos = _explain(expr.left), _explain(expr.right), expr.op, expr.pos
    left_side, right_side = _side(expr.left), _side(expr.right)

    def compare(facts: FactMap, missing: list[str], words: Words) -> tuple[Val, str]:
        a, ta = left(facts, missing, words)
        b, tb = right(facts, missing, words)
        result = _compare(op, a, b, pos)
        return (
            result,
            f"{left_side(a, ta, words)} {op} {right_side(b, tb, words)} → {show(result, '', words)}",
        )

    return compare


def _explain_bool(expr: BoolOp) -> _Explain:
    operands = tuple((_top(o), render(o)) for o in expr.operands)
    pos, word = expr.pos, expr.op
    stop = word == "or"

    def bool_op(facts: FactMap, missing: list[str], words: Words) -> tuple[Val, str]:
        unknown, decided, parts = False, False, []
        for operand, source in operands:
            if decided:
                parts.append(words.not_evaluated(source=source))
                continue
            v, t = operand(facts, missing, words)
            parts.append(f"({t})")
            f = _flag(v, pos, word)
            if f is UNKNOWN:
                unknown = True
            elif f is stop:
                decided = True
        result: Val = stop if decided else (UNKNOWN if unknown else not stop)
        return result, f" {word} ".join(parts) + f" → {show(result, '', words)}"

    return bool_op


__all__ = [
    "COMPARISONS",
    "UNKNOWN",
    "Condition",
    "EvalError",
    "Explained",
    "FactMap",
    "Outcome",
    "Unknown",
    "Val",
    "Words",
    "compile_condition",
    "display_unit",
    "fact_paths",
    "render",
    "show",
]
