"""Rules text → typed AST.

One Lark LALR parser with the basic lexer (a single scanner to compile at start-up; keywords are reserved words),
loaded from stored tables (``tables.py``) once per process. The AST is built during the parse: a lark
``Transformer`` whose methods take a rule's children as named arguments (``v_args(inline=True)``) is the parser's
``transformer=``, so there is no parse tree and no recursive pass, and deep input cannot exhaust the Python stack;
expression nesting is capped at ``MAX_DEPTH`` anyway. (lark gives no ``meta`` to a transformer inside the parser:
positions come from the tokens.) Numbers are canonicalized here (see ``ast.py``). Parse errors become
diagnostics with the exact expected tokens (``interactive_parser.accepts()``) by friendly names.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.parsers.lalr_interactive_parser import InteractiveParser

from mcm import units
from mcm.rules import ast
from mcm.rules.errors import Reporter, Source
from mcm.rules.source import prepare

#: Deepest expression nesting accepted (operators and parentheses each count one level).
MAX_DEPTH = 64
VERSION = 1

_GRAMMAR = Path(__file__).with_name("grammar.lark")
_ESCAPE = re.compile(r'\\(["\\])')
_FRIENDLY = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": 'a "quoted string"',
    "RATIO_UNIT": "a unit",
    "EFFECT_OP": "'*=', '/=', '+=' or '-='",
    "$END": "end of file",
}
#: Non-ASCII characters people paste, and what the language spells instead.
_ASCII_FOR = {
    "µ": "write us for microseconds (units are ASCII)",
    "μ": "write us for microseconds (units are ASCII)",
    "×": "write * (or the unit x, as in 2x)",
    "÷": "write / (or /= in an effect)",
    "≤": "write <=",
    "≥": "write >=",
    "≠": "write !=",
    "−": "write - (ASCII minus)",
    "–": "write - (ASCII minus)",
    "“": 'write " (ASCII quotes)',
    "”": 'write " (ASCII quotes)',
    "，": "write , (full-width punctuation is not allowed outside strings)",
    "：": "write : (full-width punctuation is not allowed outside strings)",
    "（": "write ( (full-width punctuation is not allowed outside strings)",
    "）": "write ) (full-width punctuation is not allowed outside strings)",
    "\ufeff": "a byte-order mark is only allowed at the very start of the file",
}


class _TooDeep(Exception):
    """Raised inside the parse when nesting passes MAX_DEPTH; turned into E015, never escapes."""

    def __init__(self, pos: ast.Pos) -> None:
        super().__init__(str(pos))
        self.pos = pos


@dataclass
class _Context:
    """Per-parse state the shared parser's callbacks reach through a context variable."""

    source: Source
    reporter: Reporter
    depth: dict[int, int] = field(default_factory=dict)
    braces: list[ast.Pos] = field(default_factory=list)
    parens: int = 0
    recent: list[Token] = field(default_factory=list)
    quiet: bool = False
    block_start: int = 0  # the offset of the last top-level block's keyword
    blocks: list[tuple[int, int]] = field(default_factory=list)  # see Parsed.blocks
    #: In a top-level ``assume``/``derive`` statement: 1, then 2 once its ``because`` is read (its string ends it).
    statement: int = 0

    def pos(self, token: Token) -> ast.Pos:
        return ast.Pos(self.source.name, token.line or 1, token.column or 1)

    def report(
        self, code: str, message: str, pos: ast.Pos, *, hint: str | None = None, span: int = 1
    ) -> None:
        if not self.quiet:
            self.reporter.report(code, message, pos, hint=hint, span=span)


_CONTEXT: ContextVar[_Context] = ContextVar("mcm_rules_parse")


def parse_source(text: str | bytes, filename: str, reporter: Reporter) -> ast.RulesFile | None:
    """Parse into ``reporter`` (every problem becomes a diagnostic there); None when the text cannot be used."""
    parsed = parse_blocks(text, filename, reporter)
    return None if parsed is None else parsed.rules_file


@dataclass(frozen=True)
class Parsed:
    """A parse with what a writer needs to copy blocks verbatim: the text the positions refer to (BOM dropped,
    newlines made LF) and the extent of every top-level block (scenario, technique, decide, test) and statement
    (assume, derive), in file order: the offset of its keyword and the offset just past its closing brace (or its
    reason's closing quote)."""

    rules_file: ast.RulesFile
    text: str
    blocks: tuple[tuple[int, int], ...]


def parse_blocks(text: str | bytes, filename: str, reporter: Reporter) -> Parsed | None:
    """:func:`parse_source`, with the text and the blocks' extents (:class:`Parsed`)."""
    source = prepare(text, filename, reporter)
    if source is None:
        return None
    context = _Context(source, reporter)
    errors_before = reporter.error_count
    token = _CONTEXT.set(context)
    try:
        result = cast(ast.RulesFile, _parser().parse(source.text))
    except UnexpectedInput as error:
        _syntax_error(error, context)
        return None
    except _TooDeep as error:
        reporter.report(
            "E015",
            f"expression nested more than {MAX_DEPTH} levels deep",
            error.pos,
            hint="split the condition into separate rules or requirements",
        )
        return None
    finally:
        _CONTEXT.reset(token)
    if reporter.error_count > errors_before:
        return None
    return Parsed(result, source.text, tuple(context.blocks))


def build_parser(*, strict: bool = False) -> Lark:
    """A new parser; ``strict=True`` (tests) also rejects grammar conflicts and terminal collisions."""
    return Lark(
        _GRAMMAR.read_text(encoding="utf-8"),
        parser="lalr",
        lexer="basic",
        postlex=_PostLex(),
        transformer=_Builder(),
        maybe_placeholders=False,
        strict=strict,
    )


@functools.cache
def _parser() -> Lark:
    from mcm.rules import tables

    return tables.load(transformer=_Builder(), postlex=_PostLex()) or build_parser()


#: The terminals of the keywords that open a braced top-level block, and a top-level statement (no braces).
_BLOCK_KEYWORDS = frozenset({"SCENARIO", "TECHNIQUE", "DECIDE", "TEST"})
_STATEMENT_KEYWORDS = frozenset({"ASSUME", "DERIVE"})


class _PostLex:
    """Tracks the open braces, the parenthesis depth and the last tokens for error messages, and where top-level
    blocks start and end (:class:`Parsed`)."""

    always_accept: tuple[str, ...] = ()

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        context = _CONTEXT.get()
        prefixes = 0  # a run of 'not', '-', '(' nests without bound before anything is reduced: stop it early
        for token in stream:
            prefixes = prefixes + 1 if token.type in ("NOT", "MINUS", "LPAR") else 0
            context.parens += token.type == "LPAR"
            if prefixes > MAX_DEPTH or context.parens > MAX_DEPTH:
                raise _TooDeep(context.pos(token))
            if token.type == "_RPAR":
                context.parens = max(0, context.parens - 1)
            elif token.type == "_LBRACE":
                context.braces.append(context.pos(token))
            elif token.type == "_RBRACE" and context.braces:
                context.braces.pop()
                if not context.braces:
                    context.blocks.append((context.block_start, token.end_pos or 0))
            elif token.type in _BLOCK_KEYWORDS:  # reserved words that only ever open a top-level block
                context.block_start = token.start_pos or 0
            elif token.type in _STATEMENT_KEYWORDS and not context.braces:
                context.block_start, context.statement = token.start_pos or 0, 1
            elif context.statement and token.type == "BECAUSE":
                context.statement = 2
            elif context.statement == 2 and token.type == "STRING":
                context.blocks.append((context.block_start, token.end_pos or 0))
                context.statement = 0
            context.recent = [*context.recent[-2:], token]
            yield token


# ---- building the AST during the parse


@dataclass(frozen=True)
class _Header:
    version: int
    pos: ast.Pos


@dataclass(frozen=True)
class _List:
    """A statement that lists things: core/secondary/ignore/excludes (idents) or stack (steps)."""

    kind: str
    items: tuple[Any, ...]
    pos: ast.Pos


@dataclass(frozen=True)
class _Level:
    kind: str
    value: int
    pos: ast.Pos


@dataclass(frozen=True)
class _Word:
    """``stage NAME`` / ``acts_on NAME``: a technique statement naming one word (checked by the checker)."""

    kind: str
    ident: ast.Ident


@dataclass(frozen=True)
class _Reason:
    text: str


@dataclass(frozen=True)
class _Recommendation:
    techniques: tuple[ast.Ident, ...]
    pos: ast.Pos


@dataclass(frozen=True)
class _Givens:
    facts: tuple[ast.Given, ...]


def _is(child: object, kind: str) -> bool:
    return isinstance(child, Token) and child.type == kind


def _unquote(token: Token) -> str:
    return _ESCAPE.sub(r"\1", token[1:-1])


def _pos(token: Token) -> ast.Pos:
    return _CONTEXT.get().pos(token)


def _labelled(rest: tuple[Any, ...]) -> tuple[str | None, tuple[Any, ...]]:
    """A block's optional label (``scenario NAME "label" { ... }``) and the statements after it."""
    if rest and _is(rest[0], "STRING"):
        return _unquote(rest[0]), rest[1:]
    return None, rest


def _reason_text(reason: _Reason | None) -> str | None:
    return None if reason is None else reason.text


@v_args(inline=True)
class _Builder(Transformer[Token, Any]):
    """Lark callbacks, one per grammar rule, run during the LALR parse (``transformer=``); each gets the rule's
    children as arguments and returns an AST node (or a piece of one, for the enclosing rule)."""

    # -- file and header

    def start(self, header: _Header, *items: Any) -> ast.RulesFile:
        return ast.RulesFile(
            path=_CONTEXT.get().source.name,
            version=header.version,
            includes=tuple(i for i in items if isinstance(i, ast.Include)),
            scenarios=tuple(i for i in items if isinstance(i, ast.Scenario)),
            techniques=tuple(i for i in items if isinstance(i, ast.Technique)),
            decisions=tuple(i for i in items if isinstance(i, ast.Decide)),
            tests=tuple(i for i in items if isinstance(i, ast.Test)),
            assumptions=tuple(i for i in items if isinstance(i, ast.Assumption)),
            derivations=tuple(i for i in items if isinstance(i, ast.Derivation)),
            pos=header.pos,
        )

    def header(self, mcm: Token, number: Token) -> _Header:
        context = _CONTEXT.get()
        if number != str(VERSION):
            context.report(
                "E006",
                f"rules language version {number} is not supported",
                context.pos(number),
                hint=f"this mcm reads 'mcm rules {VERSION}'",
                span=len(number),
            )
        return _Header(VERSION, context.pos(mcm))

    def include(self, path: Token) -> ast.Include:
        return ast.Include(_unquote(path), _pos(path))

    def ident(self, name: Token) -> ast.Ident:
        return ast.Ident(str(name), _pos(name))

    # -- scenario

    def scenario(self, name: Token, *rest: Any) -> ast.Scenario:
        label, statements = _labelled(rest)
        lists: dict[str, list[Any]] = {"core": [], "secondary": [], "ignore": [], "stack": []}
        stacks = [s for s in statements if isinstance(s, _List) and s.kind == "stack"]
        for later in stacks[1:]:
            _duplicate("'stack'", later.pos, stacks[0].pos)
        for stmt in statements:
            if isinstance(stmt, _List):
                lists[stmt.kind].extend(stmt.items)
        return ast.Scenario(
            name=str(name),
            label=label,
            core=tuple(lists["core"]),
            secondary=tuple(lists["secondary"]),
            ignore=tuple(lists["ignore"]),
            constraints=tuple(s for s in statements if isinstance(s, ast.Constraint)),
            expected=tuple(s for s in statements if isinstance(s, ast.Expected)),
            stack=tuple(lists["stack"]),
            pos=_pos(name),
        )

    def core(self, *idents: ast.Ident) -> _List:
        return _List("core", idents, idents[0].pos)

    def secondary(self, *idents: ast.Ident) -> _List:
        return _List("secondary", idents, idents[0].pos)

    def ignore(self, *idents: ast.Ident) -> _List:
        return _List("ignore", idents, idents[0].pos)

    def stack(self, *steps: ast.StackStep) -> _List:
        return _List("stack", steps, steps[0].pos)

    def excludes(self, *idents: ast.Ident) -> _List:
        return _List("excludes", idents, idents[0].pos)

    def step(self, child: ast.Ident | Token) -> ast.StackStep:
        if isinstance(child, ast.Ident):
            return ast.StackStep(child.name, None, child.pos)
        return ast.StackStep(None, _unquote(child), _pos(child))

    def require(self, metric: ast.Ident, op: ast.BoundOp, value: ast.Quantity) -> ast.Constraint:
        return ast.Constraint(metric.name, op, value, True, metric.pos)

    def prefer(self, metric: ast.Ident, op: ast.BoundOp, value: ast.Quantity) -> ast.Constraint:
        return ast.Constraint(metric.name, op, value, False, metric.pos)

    def expected(self, metric: ast.Ident, range_: ast.Range) -> ast.Expected:
        return ast.Expected(metric.name, range_, metric.pos)

    def bound_op(self, op: Token) -> str:
        return str(op)

    def compare_op(self, op: Token) -> str:
        return str(op)

    # -- technique

    def technique(self, name: Token, *rest: Any) -> ast.Technique:
        label, statements = _labelled(rest)
        levels: dict[str, _Level] = {}
        for level in (s for s in statements if isinstance(s, _Level)):
            if level.kind in levels:
                _duplicate(f"'{level.kind}'", level.pos, levels[level.kind].pos)
            levels[level.kind] = level
        words: dict[str, ast.Ident] = {}
        for word in (s for s in statements if isinstance(s, _Word)):
            if word.kind in words:
                _duplicate(f"'{word.kind}'", word.ident.pos, words[word.kind].pos)
            words[word.kind] = word.ident
        return ast.Technique(
            name=str(name),
            label=label,
            effects=tuple(s for s in statements if isinstance(s, ast.Effect)),
            difficulty=levels["difficulty"].value if "difficulty" in levels else None,
            rating=levels["rating"].value if "rating" in levels else None,
            stage=words.get("stage"),
            acts_on=words.get("acts_on"),
            requires=tuple(s for s in statements if isinstance(s, ast.Requirement)),
            excludes=tuple(i for s in statements if isinstance(s, _List) for i in s.items),
            caveats=tuple(s for s in statements if isinstance(s, ast.Caveat)),
            combinations=tuple(s for s in statements if isinstance(s, ast.Combination)),
            pos=_pos(name),
        )

    def effect(self, metric: ast.Ident, op: Token, range_: ast.Range) -> ast.Effect:
        return _effect(metric, cast(ast.EffectOp, str(op)), range_)

    def difficulty(self, number: Token) -> _Level:
        return _level("difficulty", number)

    def rating(self, number: Token) -> _Level:
        return _level("rating", number)

    def stage(self, name: ast.Ident) -> _Word:
        return _Word("stage", name)

    def acts_on(self, name: ast.Ident) -> _Word:
        return _Word("acts_on", name)

    def requires(self, condition: ast.Expr, reason: _Reason | None = None) -> ast.Requirement:
        return ast.Requirement(condition, _reason_text(reason), condition.pos)

    def caveat(self, condition: ast.Expr, *rest: Any) -> ast.Caveat:
        reason = next((r for r in rest if isinstance(r, _Reason)), None)
        effects = tuple(e for e in rest if isinstance(e, ast.Effect))
        return ast.Caveat(condition, _reason_text(reason), effects, condition.pos)

    def combined(self, technique: ast.Ident, *rest: Any) -> ast.Combination:
        reason = next((r for r in rest if isinstance(r, _Reason)), None)
        effects = tuple(e for e in rest if isinstance(e, ast.Effect))
        return ast.Combination(technique, _reason_text(reason), effects, technique.pos)

    def reason(self, text: Token) -> _Reason:
        return _Reason(_unquote(text))

    # -- facts the rules supply

    def assume(self, fact: ast.Given, reason: _Reason) -> ast.Assumption:
        return ast.Assumption(fact, reason.text, fact.pos)

    def derive(self, fact: ast.Given, condition: ast.Expr, reason: _Reason) -> ast.Derivation:
        return ast.Derivation(fact, condition, reason.text, fact.pos)

    # -- decisions

    def decide(self, *parts: Any) -> ast.Decide:
        named = _is(parts[0], "NAME")
        scenario, policy, *body = parts[1:] if named else parts
        return ast.Decide(
            name=str(parts[0]) if named else scenario.name,
            scenario=scenario,
            policy=cast(ast.Policy, str(policy)),
            rules=tuple(r for r in body if isinstance(r, ast.Rule)),
            otherwise=next((o for o in body if isinstance(o, ast.Otherwise)), None),
            pos=_pos(parts[0]) if named else scenario.pos,
        )

    def policy(self, word: Token) -> Token:
        return word

    def rule(
        self, name: Token, condition: ast.Expr, recommendation: _Recommendation, reason: _Reason
    ) -> ast.Rule:
        return ast.Rule(str(name), condition, recommendation.techniques, reason.text, _pos(name))

    def otherwise(self, recommendation: _Recommendation, reason: _Reason) -> ast.Otherwise:
        return ast.Otherwise(recommendation.techniques, reason.text, recommendation.pos)

    def recommendation(self, *techniques: ast.Ident | Token) -> _Recommendation:
        first = techniques[0]
        if isinstance(first, Token):  # recommend none
            return _Recommendation((), _pos(first))
        return _Recommendation(cast(tuple[ast.Ident, ...], techniques), first.pos)

    # -- tests

    def test(self, name: Token, *rest: Any) -> ast.Test:
        target = next((t for t in rest if isinstance(t, ast.Ident)), None)
        return ast.Test(
            name=_unquote(name),
            target=target,
            givens=tuple(g for s in rest if isinstance(s, _Givens) for g in s.facts),
            expects=tuple(s for s in rest if isinstance(s, ast.Expect)),
            plans=tuple(s for s in rest if isinstance(s, ast.ExpectPlan)),
            pos=_pos(name),
        )

    def given(self, *facts: ast.Given) -> _Givens:
        return _Givens(facts)

    def fact(self, ref: ast.Ref, value: ast.Value) -> ast.Given:
        return ast.Given(ref, value, ref.pos)

    def expect(self, recommendation: _Recommendation, via: ast.Ident | None = None) -> ast.Expect:
        return ast.Expect(recommendation.techniques, via, recommendation.pos)

    def expect_plan(self, *parts: ast.Ident | Token | bool) -> ast.ExpectPlan:
        meets = parts[-1] if isinstance(parts[-1], bool) else None
        first = parts[0]
        pos = first.pos if isinstance(first, ast.Ident) else _pos(cast(Token, first))
        steps = tuple(p for p in parts if isinstance(p, ast.Ident))
        return ast.ExpectPlan(steps, meets, pos)

    def verdict(self, word: Token) -> bool:
        return str(word) == "meets"

    # -- values

    def range(self, low: ast.Quantity, high: ast.Quantity | None = None) -> ast.Range:
        if high is None:  # a single value: one object at both ends
            return ast.Range(low, low, low.pos)
        if low.unit == "" and high.unit != "" and high.unit in units.UNITS:
            unit = units.UNITS[
                high.unit
            ]  # "30 .. 80 ms": the unit after the high end applies to a bare low end
            low = ast.Quantity(unit.to_base(low.value), unit.symbol, unit.dimension, low.pos)
        return ast.Range(low, high, low.pos)

    def literal(self, first: Token, *rest: Token) -> ast.Quantity:
        negative = first.type == "MINUS"
        number, *unit = rest if negative else (first, *rest)
        return _quantity(number, unit[0] if unit else None, _pos(first), negative)

    def number(self, number: Token, unit: Token | None = None) -> ast.Quantity:
        return _quantity(number, unit, _pos(number), False)

    def unit(self, symbol: Token) -> Token:
        return symbol

    def string(self, text: Token) -> ast.String:
        return ast.String(_unquote(text), _pos(text))

    def true(self, word: Token) -> ast.Boolean:
        return ast.Boolean(True, _pos(word))

    def false(self, word: Token) -> ast.Boolean:
        return ast.Boolean(False, _pos(word))

    # -- expressions

    def ref(self, scope: Token, name: Token) -> ast.Ref:
        return ast.Ref(cast(ast.Scope, str(scope)), str(name), _pos(scope))

    def scope(self, word: Token) -> Token:
        return word

    def or_expr(self, *operands: ast.Expr) -> ast.Expr:
        return _nested(ast.BoolOp("or", operands, operands[0].pos), *operands)

    def and_expr(self, *operands: ast.Expr) -> ast.Expr:
        return _nested(ast.BoolOp("and", operands, operands[0].pos), *operands)

    def not_(self, word: Token, operand: ast.Expr) -> ast.Expr:
        return _nested(ast.Not(operand, _pos(word)), operand)

    def compare(self, left: ast.Expr, op: ast.CompareOp, right: ast.Expr) -> ast.Expr:
        return _nested(ast.Compare(op, left, right, left.pos), left, right)

    def arith(self, left: ast.Expr, op: Token, right: ast.Expr) -> ast.Expr:
        return _nested(ast.Arith(cast(ast.ArithOp, str(op)), left, right, left.pos), left, right)

    def neg(self, minus: Token, operand: ast.Expr) -> ast.Expr:
        return _nested(ast.Neg(operand, _pos(minus)), operand)

    def paren(self, _lpar: Token, expr: ast.Expr) -> ast.Expr:
        return expr


def _nested(node: ast.Expr, *operands: ast.Expr) -> ast.Expr:
    """Record ``node``'s nesting depth; past MAX_DEPTH the parse stops with E015."""
    context = _CONTEXT.get()
    depth = 1 + max(context.depth.get(id(o), 1) for o in operands)
    if depth > MAX_DEPTH and not context.quiet:
        raise _TooDeep(node.pos)
    context.depth[id(node)] = depth
    return node


def _duplicate(what: str, pos: ast.Pos, first: ast.Pos) -> None:
    context = _CONTEXT.get()
    if not context.quiet:
        context.reporter.duplicate(what, pos, first)


def _level(kind: str, token: Token) -> _Level:
    """``difficulty N`` / ``rating N``: a whole number from 1 to 5."""
    context = _CONTEXT.get()
    pos = context.pos(token)
    if token not in ("1", "2", "3", "4", "5"):
        message = f"{kind} must be a whole number from 1 to 5, got {token}"
        context.report("E036", message, pos, hint="1 is the least, 5 the most", span=len(token))
        return _Level(kind, 0, pos)
    return _Level(kind, int(token), pos)


def _quantity(number: Token, unit: Token | None, pos: ast.Pos, negative: bool) -> ast.Quantity:
    context = _CONTEXT.get()
    value = -float(number) if negative else float(number)
    if not math.isfinite(value):
        context.report(
            "E035",
            f"number {number} is too large",
            context.pos(number),
            hint="numbers must be finite",
            span=len(number),
        )
    symbol = "" if unit is None else str(unit)
    found = units.UNITS.get(symbol)
    if found is None:
        assert unit is not None
        context.report(
            "E030",
            f"unknown unit '{symbol}'",
            context.pos(unit),
            hint=units.unit_hint(symbol),
            span=len(symbol),
        )
        return ast.Quantity(value, symbol, units.DIMENSIONLESS, pos)
    return ast.Quantity(found.to_base(value), symbol, found.dimension, pos)


def _effect(metric: ast.Ident, op: ast.EffectOp, range_: ast.Range) -> ast.Effect:
    """Canonical effect: ``*=``/``/=`` scale; ``+=``/``-=`` shift, or scale when written in % (relative)."""
    low, high = range_.low.value, range_.high.value
    kind: ast.EffectKind = "scale"
    if op == "*=":
        a, b = low, high
    elif op == "/=":
        a, b = _inverse(high), _inverse(low)
    elif range_.high.unit == "%":
        a, b = (1 + low, 1 + high) if op == "+=" else (1 - high, 1 - low)
    else:
        kind = "shift"
        a, b = (low, high) if op == "+=" else (-high, -low)
    return ast.Effect(metric.name, kind, min(a, b), max(a, b), op, range_, metric.pos)


def _inverse(value: float) -> float:
    return 1 / value if value else math.inf


# ---- syntax errors


def _syntax_error(error: UnexpectedInput, context: _Context) -> None:
    """One diagnostic for a parse error: what was found, what was expected, and the likeliest fix."""
    names = _terminal_names()
    context.quiet = True  # accepts() replays the parser: its callbacks must not report or raise
    try:
        expected = _accepts(error.interactive_parser)
        missing = _missing(error, expected, names) if isinstance(error, UnexpectedToken) else None
    finally:
        context.quiet = False
    hint = "expected " + _join(sorted({names.get(t, t) for t in expected})) if expected else None
    if isinstance(error, UnexpectedCharacters):
        _unexpected_character(error, context, hint)
        return
    assert isinstance(error, UnexpectedToken)
    keywords = sorted(
        names[t].strip("'") for t in expected if t in names and names[t].strip("'").isidentifier()
    )
    _unexpected_token(error.token, context, _Expected(expected, hint, keywords, missing))


@dataclass(frozen=True)
class _Expected:
    """What the parser would have accepted where it stopped: terminals, as a hint, the keywords among them, and
    the one keyword or punctuation whose absence explains the error (if there is one)."""

    terminals: set[str]
    hint: str | None
    keywords: list[str]
    missing: str | None


def _unexpected_token(token: Token, context: _Context, expected: _Expected) -> None:
    pos = context.pos(token)
    before = [t for t in context.recent if t is not token][-2:]
    if not before and "MCM" in expected.terminals:
        where = pos if token.type != "$END" else ast.Pos(context.source.name, 1, 1)
        context.report(
            "E005", "a rules file starts with 'mcm rules 1'", where, hint="add the header as the first line"
        )
    elif token.type == "$END":
        _unexpected_end(context, expected.hint, closing="_RBRACE" in expected.terminals)
    elif token.type == "_ASSIGN" and expected.terminals & {"LESSTHAN", "MORETHAN"}:
        _lone_equals(token, context)
    elif (unit := _unknown_unit(before)) is not None:
        _unknown_unit_error(unit, context, expected.keywords)
    elif "NAME" in expected.terminals and str(token).isidentifier():
        context.report(
            "E047",
            f"'{token}' is a reserved word and cannot be used as a name",
            pos,
            hint="choose another name ('none' means no recommendation; keywords such as 'rule' are reserved)",
            span=len(token),
        )
    elif expected.missing is not None:
        missing = expected.missing
        context.report("E011", f"missing {missing} before {_describe(token)}", pos, hint=f"add {missing}")
    elif token.type == "NAME" and units.closest(str(token), expected.keywords):
        hint = units.did_you_mean(str(token), expected.keywords)
        context.report("E013", f"unknown keyword '{token}'", pos, hint=hint, span=len(token))
    else:
        hint = expected.hint or "remove it"
        context.report("E011", f"unexpected {_describe(token)}", pos, hint=hint, span=max(1, len(token)))


def _lone_equals(token: Token, context: _Context) -> None:
    """``=`` where a comparison was expected: ``=<`` / ``=>`` / ``=`` written for ``<=`` / ``>=`` / ``==``."""
    text = context.source.text
    after = text[token.start_pos + 1 : token.start_pos + 2] if token.start_pos is not None else ""
    fix = {"<": "<=", ">": ">="}.get(after, "==")
    wrote = "=" + after if after in "<>" else "="
    context.report(
        "E014",
        f"'{wrote}' is not an operator",
        context.pos(token),
        hint=f"did you mean '{fix}'?",
        span=len(wrote),
    )


def _unknown_unit_error(unit: Token, context: _Context, keywords: list[str]) -> None:
    """A name after a number that is no unit: a unit typo (``50 msec``) or a keyword typo read as a unit."""
    keyword = units.did_you_mean(str(unit), keywords)  # "5\n secondry": a keyword typo read as a unit
    near = keyword if keyword and not units.closest(str(unit), units.UNITS) else units.unit_hint(str(unit))
    context.report("E030", f"unknown unit '{unit}'", context.pos(unit), hint=near, span=len(unit))


def _accepts(parser: InteractiveParser) -> set[str]:
    """The terminals the parser accepts next (lark's interactive API is untyped)."""
    return set(cast(Callable[[], set[str]], parser.accepts)())


def _missing(error: UnexpectedToken, expected: set[str], names: dict[str, str]) -> str | None:
    """The one keyword or punctuation whose absence explains the error (``when X recommend``: 'then')."""
    found = error.token
    fits = {found.type} | {t for t, n in names.items() if n == f"'{found}'"}
    candidates = []
    for terminal in sorted(expected):
        if not names.get(terminal, "").startswith("'"):
            continue
        parser = cast(Callable[[], InteractiveParser], error.interactive_parser.copy)()
        try:
            parser.feed_token(Token(terminal, names[terminal].strip("'")))
        except UnexpectedInput:
            continue
        if fits & _accepts(parser):
            candidates.append(names[terminal])
    return candidates[0] if len(candidates) == 1 else None


def _unexpected_character(error: UnexpectedCharacters, context: _Context, hint: str | None) -> None:
    pos = ast.Pos(context.source.name, error.line, error.column)
    char = error.char
    if char == '"':
        rest = context.source.line(error.line)[error.column :]
        if '"' in rest:
            context.report(
                "E016", "bad escape in string", pos, hint='strings know only the escapes \\" and \\\\'
            )
        else:
            context.report(
                "E016", "string is not closed on its line", pos, hint='end it with " on the same line'
            )
    elif not char.isascii():
        context.report(
            "E010",
            f"unexpected character {_shown(char)}",
            pos,
            hint=_ASCII_FOR.get(char, "only strings and comments may hold non-ASCII text"),
        )
    elif char == "$":
        context.report(
            "E010", "unexpected character '$'", pos, hint="write amounts as 200 USD/day (no $ sign)"
        )
    else:
        context.report("E010", f"unexpected character {_shown(char)}", pos, hint=hint or "remove it")


def _unexpected_end(context: _Context, hint: str | None, *, closing: bool) -> None:
    text = context.source.text.rstrip()
    line = text.count("\n") + 1
    pos = ast.Pos(context.source.name, line, len(text) - (text.rfind("\n") + 1) + 1)
    if context.braces:
        opened = context.braces[-1]
        unclosed = f"the block opened at line {opened.line}, column {opened.col} is not closed with '}}'"
        hint = unclosed if closing or hint is None else f"{hint}; {unclosed}"
    context.report("E012", "unexpected end of file", pos, hint=hint)


def _unknown_unit(before: list[Token]) -> Token | None:
    """The unit read after a number just before a parse error, when it is no unit (``50 msec``, a keyword typo)."""
    if len(before) < 2 or before[0].type != "NUMBER" or before[1].type not in ("NAME", "RATIO_UNIT"):
        return None
    return None if str(before[1]) in units.UNITS else before[1]


def _describe(token: Token) -> str:
    if token.type == "NAME" and f"'{token}'" in _terminal_names().values():
        return f"'{token}'"
    if token.type == "NAME":
        return f"name '{token}'"
    if token.type == "NUMBER":
        return f"number {token}"
    if token.type == "STRING":
        return f"string {token}"
    return f"'{token}'"


def _join(items: list[str]) -> str:
    shown = items[:12] + (["..."] if len(items) > 12 else [])
    return ", ".join(shown[:-1]) + " or " + shown[-1] if len(shown) > 1 else shown[0]


@functools.cache
def _terminal_names() -> dict[str, str]:
    """Friendly names of the grammar's terminals: keywords and punctuation quoted, the rest described."""
    names = {"$END": _FRIENDLY["$END"]}
    for terminal in _parser().terminals:
        pattern = terminal.pattern
        names[terminal.name] = _FRIENDLY.get(terminal.name) or (
            f"'{pattern.value}'" if pattern.type == "str" else terminal.name.lower()
        )
    return names


def _shown(char: str) -> str:
    """A character for a message: quoted when it can be seen, its code point always (U+FEFF, U+001B)."""
    code = f"U+{ord(char):04X}"
    return f"'{char}' ({code})" if char.isprintable() else code


__all__ = ["MAX_DEPTH", "VERSION", "Parsed", "build_parser", "parse_blocks", "parse_source"]
