"""Rules text → typed AST.

One Lark LALR parser with the basic lexer (a single scanner to compile at start-up; keywords are reserved words),
loaded from stored tables (``tables.py``) once per process. The AST is built during the parse (``transformer=``): no parse tree, no recursive pass, so deep input cannot exhaust the Python stack; expression
nesting is capped at ``MAX_DEPTH`` anyway. Numbers are canonicalized here (see ``ast.py``). Parse errors become
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

from lark import Lark, Token
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
    return None if reporter.error_count > errors_before else result


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


class _PostLex:
    """Tracks the open braces, the parenthesis depth and the last tokens for error messages."""

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


def _reason(children: list[Any]) -> str | None:
    return next((c.text for c in children if isinstance(c, _Reason)), None)


class _Builder:
    """Lark callbacks, one per grammar rule; each gets the rule's children and returns an AST node."""

    # -- file and header

    def start(self, children: list[Any]) -> ast.RulesFile:
        header = cast(_Header, children[0])
        items = children[1:]
        return ast.RulesFile(
            path=_CONTEXT.get().source.name,
            version=header.version,
            includes=tuple(i for i in items if isinstance(i, ast.Include)),
            scenarios=tuple(i for i in items if isinstance(i, ast.Scenario)),
            techniques=tuple(i for i in items if isinstance(i, ast.Technique)),
            decisions=tuple(i for i in items if isinstance(i, ast.Decide)),
            tests=tuple(i for i in items if isinstance(i, ast.Test)),
            pos=header.pos,
        )

    def header(self, children: list[Any]) -> _Header:
        context = _CONTEXT.get()
        number = cast(Token, children[1])
        if number != str(VERSION):
            context.report(
                "E006",
                f"rules language version {number} is not supported",
                context.pos(number),
                hint=f"this mcm reads 'mcm rules {VERSION}'",
                span=len(number),
            )
        return _Header(VERSION, context.pos(children[0]))

    def include(self, children: list[Any]) -> ast.Include:
        return ast.Include(_unquote(children[0]), _CONTEXT.get().pos(children[0]))

    def ident(self, children: list[Any]) -> ast.Ident:
        return ast.Ident(str(children[0]), _CONTEXT.get().pos(children[0]))

    # -- scenario

    def scenario(self, children: list[Any]) -> ast.Scenario:
        context = _CONTEXT.get()
        name = str(children[0])
        label = _unquote(children[1]) if len(children) > 1 and _is(children[1], "STRING") else None
        lists: dict[str, list[Any]] = {"core": [], "secondary": [], "ignore": [], "stack": []}
        stack_seen: _List | None = None
        constraints: list[ast.Constraint] = []
        expected: list[ast.Expected] = []
        for stmt in children[1:]:
            if isinstance(stmt, _List):
                if stmt.kind == "stack":
                    if stack_seen is not None:
                        _duplicate(context, "'stack'", stmt.pos, stack_seen.pos)
                    stack_seen = stmt
                lists[stmt.kind].extend(stmt.items)
            elif isinstance(stmt, ast.Constraint):
                constraints.append(stmt)
            elif isinstance(stmt, ast.Expected):
                expected.append(stmt)
        return ast.Scenario(
            name=name,
            label=label,
            core=tuple(lists["core"]),
            secondary=tuple(lists["secondary"]),
            ignore=tuple(lists["ignore"]),
            constraints=tuple(constraints),
            expected=tuple(expected),
            stack=tuple(lists["stack"]),
            pos=context.pos(children[0]),
        )

    def _listing(self, kind: str, children: list[Any]) -> _List:
        return _List(kind, tuple(children), children[0].pos)

    def core(self, children: list[Any]) -> _List:
        return self._listing("core", children)

    def secondary(self, children: list[Any]) -> _List:
        return self._listing("secondary", children)

    def ignore(self, children: list[Any]) -> _List:
        return self._listing("ignore", children)

    def stack(self, children: list[Any]) -> _List:
        return self._listing("stack", children)

    def excludes(self, children: list[Any]) -> _List:
        return self._listing("excludes", children)

    def step(self, children: list[Any]) -> ast.StackStep:
        child = children[0]
        if isinstance(child, ast.Ident):
            return ast.StackStep(child.name, None, child.pos)
        return ast.StackStep(None, _unquote(child), _CONTEXT.get().pos(child))

    def _constraint(self, children: list[Any], hard: bool) -> ast.Constraint:
        metric, op, value = children
        return ast.Constraint(metric.name, op, value, hard, metric.pos)

    def require(self, children: list[Any]) -> ast.Constraint:
        return self._constraint(children, hard=True)

    def prefer(self, children: list[Any]) -> ast.Constraint:
        return self._constraint(children, hard=False)

    def expected(self, children: list[Any]) -> ast.Expected:
        metric, range_ = children
        return ast.Expected(metric.name, range_, metric.pos)

    def bound_op(self, children: list[Any]) -> str:
        return str(children[0])

    def compare_op(self, children: list[Any]) -> str:
        return str(children[0])

    # -- technique

    def technique(self, children: list[Any]) -> ast.Technique:
        context = _CONTEXT.get()
        name = str(children[0])
        label = _unquote(children[1]) if len(children) > 1 and _is(children[1], "STRING") else None
        levels: dict[str, _Level] = {}
        excludes: list[ast.Ident] = []
        for stmt in children[1:]:
            if isinstance(stmt, _Level):
                if stmt.kind in levels:
                    _duplicate(context, f"'{stmt.kind}'", stmt.pos, levels[stmt.kind].pos)
                levels[stmt.kind] = stmt
            elif isinstance(stmt, _List):
                excludes.extend(stmt.items)
        return ast.Technique(
            name=name,
            label=label,
            effects=tuple(c for c in children if isinstance(c, ast.Effect)),
            difficulty=levels["difficulty"].value if "difficulty" in levels else None,
            rating=levels["rating"].value if "rating" in levels else None,
            requires=tuple(c for c in children if isinstance(c, ast.Requirement)),
            excludes=tuple(excludes),
            caveats=tuple(c for c in children if isinstance(c, ast.Caveat)),
            pos=context.pos(children[0]),
        )

    def effect(self, children: list[Any]) -> ast.Effect:
        metric, op, range_ = children
        return _effect(metric, cast(ast.EffectOp, str(op)), range_)

    def _level(self, kind: str, children: list[Any]) -> _Level:
        context = _CONTEXT.get()
        token = children[0]
        pos = context.pos(token)
        if token not in ("1", "2", "3", "4", "5"):
            message = f"{kind} must be a whole number from 1 to 5, got {token}"
            context.report("E036", message, pos, hint="1 is the least, 5 the most", span=len(token))
            return _Level(kind, 0, pos)
        return _Level(kind, int(token), pos)

    def difficulty(self, children: list[Any]) -> _Level:
        return self._level("difficulty", children)

    def rating(self, children: list[Any]) -> _Level:
        return self._level("rating", children)

    def requires(self, children: list[Any]) -> ast.Requirement:
        return ast.Requirement(children[0], _reason(children), children[0].pos)

    def caveat(self, children: list[Any]) -> ast.Caveat:
        effects = tuple(c for c in children[1:] if isinstance(c, ast.Effect))
        return ast.Caveat(children[0], _reason(children), effects, children[0].pos)

    def reason(self, children: list[Any]) -> _Reason:
        return _Reason(_unquote(children[0]))

    # -- decisions

    def decide(self, children: list[Any]) -> ast.Decide:
        context = _CONTEXT.get()
        named = _is(children[0], "NAME")
        scenario = cast(ast.Ident, children[1] if named else children[0])
        name = str(children[0]) if named else scenario.name
        policy = next(c for c in children if _is(c, "FIRST") or _is(c, "COLLECT"))
        return ast.Decide(
            name=name,
            scenario=scenario,
            policy=cast(ast.Policy, str(policy)),
            rules=tuple(c for c in children if isinstance(c, ast.Rule)),
            otherwise=next((c for c in children if isinstance(c, ast.Otherwise)), None),
            pos=context.pos(children[0]) if named else scenario.pos,
        )

    def policy(self, children: list[Any]) -> Token:
        return cast(Token, children[0])

    def rule(self, children: list[Any]) -> ast.Rule:
        name, condition, recommendation, reason = children
        return ast.Rule(
            str(name), condition, recommendation.techniques, reason.text, _CONTEXT.get().pos(name)
        )

    def otherwise(self, children: list[Any]) -> ast.Otherwise:
        recommendation, reason = children
        return ast.Otherwise(recommendation.techniques, reason.text, recommendation.pos)

    def recommendation(self, children: list[Any]) -> _Recommendation:
        if _is(children[0], "NONE"):
            return _Recommendation((), _CONTEXT.get().pos(children[0]))
        return _Recommendation(tuple(children), children[0].pos)

    # -- tests

    def test(self, children: list[Any]) -> ast.Test:
        target = children[1] if len(children) > 1 and isinstance(children[1], ast.Ident) else None
        return ast.Test(
            name=_unquote(children[0]),
            target=target,
            givens=tuple(g for c in children if isinstance(c, _Givens) for g in c.facts),
            expects=tuple(c for c in children if isinstance(c, ast.Expect)),
            pos=_CONTEXT.get().pos(children[0]),
        )

    def given(self, children: list[Any]) -> _Givens:
        return _Givens(tuple(children))

    def fact(self, children: list[Any]) -> ast.Given:
        ref, value = children
        return ast.Given(ref, value, ref.pos)

    def expect(self, children: list[Any]) -> ast.Expect:
        recommendation = children[0]
        via = children[1] if len(children) > 1 else None
        return ast.Expect(recommendation.techniques, via, recommendation.pos)

    # -- values

    def range(self, children: list[Any]) -> ast.Range:
        low, high = children[0], children[-1]
        if low is not high and low.unit == "" and high.unit != "" and high.unit in units.UNITS:
            unit = units.UNITS[
                high.unit
            ]  # "30 .. 80 ms": the unit after the high end applies to a bare low end
            low = ast.Quantity(unit.to_base(low.value), unit.symbol, unit.dimension, low.pos)
        return ast.Range(low, high, low.pos)

    def literal(self, children: list[Any]) -> ast.Quantity:
        negative = _is(children[0], "MINUS")
        rest = children[1:] if negative else children
        return _quantity(
            rest[0], rest[1] if len(rest) > 1 else None, _CONTEXT.get().pos(children[0]), negative
        )

    def number(self, children: list[Any]) -> ast.Quantity:
        context = _CONTEXT.get()
        return _quantity(
            children[0], children[1] if len(children) > 1 else None, context.pos(children[0]), False
        )

    def unit(self, children: list[Any]) -> Token:
        return cast(Token, children[0])

    def string(self, children: list[Any]) -> ast.String:
        return ast.String(_unquote(children[0]), _CONTEXT.get().pos(children[0]))

    def true(self, children: list[Any]) -> ast.Boolean:
        return ast.Boolean(True, _CONTEXT.get().pos(children[0]))

    def false(self, children: list[Any]) -> ast.Boolean:
        return ast.Boolean(False, _CONTEXT.get().pos(children[0]))

    # -- expressions

    def ref(self, children: list[Any]) -> ast.Ref:
        scope, name = children
        return ast.Ref(cast(ast.Scope, str(scope)), str(name), _CONTEXT.get().pos(scope))

    def scope(self, children: list[Any]) -> Token:
        return cast(Token, children[0])

    def or_expr(self, children: list[Any]) -> ast.Expr:
        return _nested(ast.BoolOp("or", tuple(children), children[0].pos), *children)

    def and_expr(self, children: list[Any]) -> ast.Expr:
        return _nested(ast.BoolOp("and", tuple(children), children[0].pos), *children)

    def not_(self, children: list[Any]) -> ast.Expr:
        return _nested(ast.Not(children[1], _CONTEXT.get().pos(children[0])), children[1])

    def compare(self, children: list[Any]) -> ast.Expr:
        left, op, right = children
        return _nested(ast.Compare(op, left, right, left.pos), left, right)

    def arith(self, children: list[Any]) -> ast.Expr:
        left, op, right = children
        return _nested(ast.Arith(cast(ast.ArithOp, str(op)), left, right, left.pos), left, right)

    def neg(self, children: list[Any]) -> ast.Expr:
        return _nested(ast.Neg(children[1], _CONTEXT.get().pos(children[0])), children[1])

    def paren(self, children: list[Any]) -> ast.Expr:
        return cast(ast.Expr, children[1])


def _nested(node: ast.Expr, *operands: ast.Expr) -> ast.Expr:
    """Record ``node``'s nesting depth; past MAX_DEPTH the parse stops with E015."""
    context = _CONTEXT.get()
    depth = 1 + max(context.depth.get(id(o), 1) for o in operands)
    if depth > MAX_DEPTH and not context.quiet:
        raise _TooDeep(node.pos)
    context.depth[id(node)] = depth
    return node


def _duplicate(context: _Context, what: str, pos: ast.Pos, first: ast.Pos) -> None:
    context.report("E040", f"{what} is given twice", pos, hint=f"first given at line {first.line}")


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
    keywords = sorted(
        names[t].strip("'") for t in expected if t in names and names[t].strip("'").isidentifier()
    )
    hint = "expected " + _join(sorted({names.get(t, t) for t in expected})) if expected else None
    text = context.source.text
    if isinstance(error, UnexpectedCharacters):
        _unexpected_character(error, context, hint)
        return
    assert isinstance(error, UnexpectedToken)
    token = error.token
    pos = context.pos(token)
    before = [t for t in context.recent if t is not token][-2:]
    if not before and "MCM" in expected:
        where = pos if token.type != "$END" else ast.Pos(context.source.name, 1, 1)
        context.report(
            "E005", "a rules file starts with 'mcm rules 1'", where, hint="add the header as the first line"
        )
    elif token.type == "$END":
        _unexpected_end(context, hint, closing="_RBRACE" in expected)
    elif token.type == "_ASSIGN" and expected & {"LESSTHAN", "MORETHAN"}:
        after = text[token.start_pos + 1 : token.start_pos + 2] if token.start_pos is not None else ""
        fix = {"<": "<=", ">": ">="}.get(after, "==")
        wrote = "=" + after if after in "<>" else "="
        context.report(
            "E014", f"'{wrote}' is not an operator", pos, hint=f"did you mean '{fix}'?", span=len(wrote)
        )
    elif (unit := _unknown_unit(before)) is not None:
        keyword = units.did_you_mean(str(unit), keywords)  # "5\n secondry": a keyword typo read as a unit
        near = (
            keyword if keyword and not units.closest(str(unit), units.UNITS) else units.unit_hint(str(unit))
        )
        context.report("E030", f"unknown unit '{unit}'", context.pos(unit), hint=near, span=len(unit))
    elif "NAME" in expected and str(token).isidentifier():
        context.report(
            "E047",
            f"'{token}' is a reserved word and cannot be used as a name",
            pos,
            hint="choose another name ('none' means no recommendation; keywords such as 'rule' are reserved)",
            span=len(token),
        )
    elif missing is not None:
        context.report("E011", f"missing {missing} before {_describe(token)}", pos, hint=f"add {missing}")
    elif token.type == "NAME" and units.closest(str(token), keywords):
        context.report(
            "E013",
            f"unknown keyword '{token}'",
            pos,
            hint=units.did_you_mean(str(token), keywords),
            span=len(token),
        )
    else:
        context.report(
            "E011", f"unexpected {_describe(token)}", pos, hint=hint or "remove it", span=max(1, len(token))
        )


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


__all__ = ["MAX_DEPTH", "VERSION", "build_parser", "parse_source"]
