"""A per-user cache of parsed rules files, so that loading unchanged rules skips Lark entirely.

Parsing the shipped rules (~3,000 tokens) costs about 100 ms plus Lark's import; a hit reads one small file per
rules file and checks it against the source (about 1 ms each). An entry is keyed by the SHA-256 of the file's bytes,
the name it is shown by (positions carry it) and the code that builds the AST (grammar and its tables, parser, AST,
source reading, units, mcm version), so an edit of any of them misses. Only clean parses are stored (no
diagnostics: warnings come from the checker, which always runs).

The directory is private: ``$MCM_CACHE_DIR`` or ``$XDG_CACHE_HOME/mcm`` or ``~/.cache/mcm``, then ``rules/``,
created 0700 and used only while it is owned by this user and closed to others. An entry is a seal line, then
JSON, never a serialized object: a node is ``{"@": class name, "v": [field values]}``, decoded only into the rules
AST's own classes by a fixed table, so even a tampered entry can build nothing else and run no code.

Nothing read from an entry is trusted. The seal (SHA-256 of the key and the JSON) binds it to its source and code:
an entry edited, or copied under another key, misses. The decoded AST is then checked against the source text
(:class:`_Verify`): every name, number (with its sign and unit), string, truth value, fact, operator and keyword
stands at its recorded place; every statement follows its keyword, which the text holds exactly as often; lists,
blocks and statements keep their file order and their enclosing block; an expression's operands are adjacent and
grouped as precedence and parentheses group them; derived numbers (an effect's factors) are derived again. A
mismatch is a miss: the file is parsed again and the entry rewritten. ``MCM_RULES_CACHE=off`` turns the cache off.
Every failure here is silent: a cache never stops rules loading.
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import functools
import hashlib
import itertools
import json
import math
import os
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from operator import attrgetter
from pathlib import Path
from typing import Any

from mcm import units
from mcm.rules import ast
from mcm.rules.errors import Reporter
from mcm.rules.source import MAX_BYTES, prepare

#: Entries above this size are neither written nor read (an entry is about 6× its rules file, at most 1 MiB).
MAX_ENTRY_BYTES = 8 * MAX_BYTES
_HERE = Path(__file__).resolve().parent
#: The files whose code decides what a parse produces: a change to any of them makes every entry miss.
_BUILDERS = (
    *(_HERE / name for name in ("grammar.lark", "grammar_tables.json", "tables.py", "parser.py", "ast.py")),
    _HERE / "source.py",
    _HERE.parent / "units.py",
)
_HITS: ContextVar[list[Path] | None] = ContextVar("mcm_rules_cache_hits", default=None)
_OFF: ContextVar[bool] = ContextVar("mcm_rules_cache_off", default=False)
#: The only classes an entry can name (the AST's plain-data nodes).
_CLASSES: dict[str, type] = {
    name: cls
    for name in ast.__all__
    if dataclasses.is_dataclass(cls := ast.__dict__[name]) and isinstance(cls, type)
}
#: Per class: how many fields, and a getter of their values in declaration order (given the first name twice
#: when there is one field, so that it always returns a tuple).
_FIELDS: dict[type, tuple[int, attrgetter[Any]]] = {
    cls: (len(names), attrgetter(*names, names[0]))
    for cls in _CLASSES.values()
    if (names := tuple(f.name for f in dataclasses.fields(cls)))
}


def parse(data: bytes, shown: str, reporter: Reporter) -> ast.RulesFile | None:
    """``parser.parse_source`` through the cache: a hit is an entry sealed for ``data`` that says what it says."""
    folder = directory()
    key = _key(data, shown) if folder is not None else ""
    if folder is not None:
        hit = _read(folder / key)
        if hit is not None:
            source = prepare(data, shown, reporter)  # the text: to verify against, and for carets
            if source is None:
                return None
            if _verified(hit, source.text, shown):
                hits = _HITS.get()
                if hits is not None:
                    hits.append(folder / key)
                return hit
    from mcm.rules.parser import parse_source

    before = len(reporter.diagnostics)
    result = parse_source(data, shown, reporter)
    if folder is not None and result is not None and len(reporter.diagnostics) == before:
        _write(folder / key, result)
    return result


@contextlib.contextmanager
def tracking() -> Iterator[list[Path]]:
    """Collect the entries read inside the block (so that a caller can forget them if they prove damaged); an
    enclosing block collects them too."""
    outer = _HITS.get()
    hits: list[Path] = []
    token = _HITS.set(hits)
    try:
        yield hits
    finally:
        _HITS.reset(token)
        if outer is not None:
            outer.extend(hits)


@contextlib.contextmanager
def bypassed() -> Iterator[None]:
    """Neither read nor write the cache inside the block."""
    token = _OFF.set(True)
    try:
        yield
    finally:
        _OFF.reset(token)


def forget(entries: list[Path]) -> None:
    """Delete entries (that made a load fail): the next load parses those files again."""
    for entry in entries:
        with contextlib.suppress(OSError):
            entry.unlink()


def directory() -> Path | None:
    """The private cache directory (created if needed), or None when off or not safely usable."""
    if _OFF.get() or os.environ.get("MCM_RULES_CACHE", "").lower() in ("off", "0", "no", "false"):
        return None
    base = os.environ.get("MCM_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "mcm"
    )
    folder = Path(base) / "rules"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return None
    private = stat.S_ISDIR(info.st_mode) and not info.st_mode & 0o077
    owned = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    return folder if private and owned else None


@functools.cache
def _code_digest() -> bytes:
    """What the cached ASTs were built by: the grammar, the parser, the AST classes and mcm's version."""
    from mcm import __version__

    digest = hashlib.sha256(__version__.encode())
    for path in _BUILDERS:
        digest.update(path.read_bytes())
    return digest.digest()


def _key(data: bytes, shown: str) -> str:
    digest = hashlib.sha256(_code_digest())
    digest.update(shown.encode("utf-8", "surrogatepass") + b"\0")
    digest.update(data)
    return digest.hexdigest()


def _encode(node: Any) -> Any:
    if isinstance(node, tuple):
        return [_encode(v) for v in node]
    fields = _FIELDS.get(type(node))
    if fields is None:
        return node  # str, int, float, bool, None: the AST holds nothing else
    count, values = fields
    return {"@": type(node).__name__, "v": [_encode(v) for v in values(node)[:count]]}


def _decode(data: Any) -> Any:
    if isinstance(data, list):
        return tuple(_decode(v) for v in data)
    if isinstance(data, dict):
        cls = _CLASSES[data["@"]]  # KeyError for anything else: a miss
        values = [_decode(v) for v in data["v"]]
        if cls is ast.Range and values[0] == values[1] and values[0].pos == values[1].pos:
            values[1] = values[0]  # a single value: one object, as the parser builds it
        return cls(*values)
    return data


def _seal(key: str, payload: bytes) -> bytes:
    """What binds an entry's JSON to its key (the digest of the source and of the code that parsed it)."""
    return hashlib.sha256(key.encode() + b"\n" + payload).hexdigest().encode()


def _read(path: Path) -> ast.RulesFile | None:
    flags = os.O_RDONLY
    if hasattr(os, "O_NOFOLLOW"):  # POSIX
        flags |= os.O_NOFOLLOW | os.O_NONBLOCK
    try:
        with open(os.open(path, flags), "rb") as handle:  # never through a link, never blocked by a FIFO
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ENTRY_BYTES:
                return None
            seal, _, payload = handle.read().partition(b"\n")
            if seal != _seal(path.name, payload):
                return None
            result = _decode(json.loads(payload))
    except FileNotFoundError:
        return None
    except Exception:  # a truncated, foreign or tampered entry is only a miss
        return None
    return result if isinstance(result, ast.RulesFile) else None


def _write(path: Path, rules_file: ast.RulesFile) -> None:
    try:
        payload = json.dumps(_encode(rules_file), separators=(",", ":")).encode()
        entry = _seal(path.name, payload) + b"\n" + payload
        if len(entry) > MAX_ENTRY_BYTES:
            return
        from mcm.files.write import write_atomic  # only on a miss: imports a hit does not need

        write_atomic(path, entry, private=True, durable=False)  # a cache: 0600, no fsync
    except Exception:  # a full disk or a read-only home: load without caching
        return


# ---- an entry against its source

_GAP = r"(?:[ \t\n]+|#[^\n]*)*"
_SPACE = re.compile(_GAP)
#: Between the tokens of an expression: space, comments and parentheses.
_BETWEEN = re.compile(r"(?:[ \t\n()]+|#[^\n]*)*")
_PARENS = re.compile(r"#[^\n]*|[()]")
_NEWLINE = re.compile("\n")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER_TEXT = r"[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
_NUMBER = re.compile(r"(-" + _GAP + r")?(" + _NUMBER_TEXT + ")")
_UNIT = re.compile(r"[A-Za-z]+/[A-Za-z]+|[A-Za-z_][A-Za-z0-9_]*|%")
_STRING = re.compile(r'"((?:[^"\\\n]|\\["\\])*)"')
_ESCAPE = re.compile(r'\\(["\\])')
_OPERATOR = re.compile(r"<=|>=|==|!=|\*=|/=|\+=|-=|[-+*/<>=]")
#: What may not follow a whole condition (it would continue it).
_CONTINUES = re.compile(r"[-+*/<>=!]|(?:and|or)(?![A-Za-z0-9_])")
_HEADER = re.compile(r"mcm" + _GAP + r"rules" + _GAP + "(" + _NUMBER_TEXT + ")")
#: The keywords that open a statement or a block, with the number after ``difficulty`` and ``rating``; strings
#: and comments are matched first so that a keyword inside them is not counted.
_KEYWORDS = (
    "include", "scenario", "core", "secondary", "ignore", "require", "prefer", "expect", "stack", "technique",
    "effect", "requires", "excludes", "caveat", "decide", "rule", "otherwise", "test", "given", "stage",
    "acts_on", "assume", "derive", "with",
)  # fmt: skip
#: The words that may end an ``expect plan`` statement.
_VERDICTS = {True: "meets", False: "misses"}
_CENSUS = re.compile(
    r'"(?:[^"\\\n]|\\["\\])*"|#[^\n]*|(?<![A-Za-z0-9_])(?:(difficulty|rating)' + _GAP + "(" + _NUMBER_TEXT
    + r")|(" + "|".join(_KEYWORDS) + r"))(?![A-Za-z0-9_])"
)  # fmt: skip
#: Precedence levels: or, and, not, comparisons, sums, products, negation, atoms.
_OR, _AND, _NOT, _COMPARE, _SUM, _PRODUCT, _NEG, _ATOM = range(1, 9)
_LEVELS: dict[type, dict[str, int]] = {
    ast.BoolOp: {"or": _OR, "and": _AND},
    ast.Compare: dict.fromkeys(ast.COMPARE_OPS, _COMPARE),
    ast.Arith: {"+": _SUM, "-": _SUM, "*": _PRODUCT, "/": _PRODUCT},
}


class _Mismatch(Exception):
    """The entry does not say what the source says."""


def _need(condition: bool) -> None:
    if not condition:
        raise _Mismatch


def _verified(rules_file: Any, text: str, shown: str) -> bool:
    """Whether the decoded ``rules_file`` says what ``text`` (shown as ``shown``) says; see the module docstring."""
    try:
        _Verify(text, shown).file(rules_file)
    except Exception:  # a difference, or a node of the wrong shape: a miss either way
        return False
    return True


class _Verify:
    """Walks a decoded AST along its source text; raises at the first difference."""

    def __init__(self, text: str, shown: str) -> None:
        self.text, self.shown = text, shown
        #: Where each line starts, then one past the end of the text (where the last line ends).
        self.lines = [0, *(m.end() for m in _NEWLINE.finditer(text)), len(text) + 1]
        self.keywords: dict[int, str] = {}  # the statement keywords in the text (not in strings or comments)
        self.levels: list[tuple[int, str, int]] = []  # (offset, difficulty or rating, its number)
        for match in _CENSUS.finditer(text):
            if match.group(1):
                self.levels.append((match.start(), match.group(1), int(match.group(2))))
            elif match.group(3):
                self.keywords[match.start()] = match.group(3)
        self.starts = list(self.keywords)  # their offsets, in order
        self.opened: set[int] = set()  # the keywords whose statements were verified
        self.depth = 0  # parentheses open at this point of an expression, relative to its start

    # -- the file and its blocks

    def file(self, f: ast.RulesFile) -> None:
        _need(type(f) is ast.RulesFile and f.path == self.shown)
        start = self.at(f.pos)
        _need(self.gap(0) == start and self.token(_HEADER, start).group(1) == str(f.version))
        groups = (f.includes, f.scenarios, f.techniques, f.decisions, f.tests, f.assumptions, f.derivations)
        blocks: list[Any] = sorted(itertools.chain(*groups), key=lambda b: self.at(b.pos))
        ends = [self.at(b.pos) for b in blocks[1:]] + [len(self.text)]
        kinds = (
            ast.Include,
            ast.Scenario,
            ast.Technique,
            ast.Decide,
            ast.Test,
            ast.Assumption,
            ast.Derivation,
        )
        for kind, items in zip(kinds, groups, strict=True):
            self.ordered(items, kind, start, len(self.text))
        for block, end in zip(blocks, ends, strict=True):
            begin = self.at(block.pos)
            self.block(block, end, [(k, v) for at, k, v in self.levels if begin < at < end])
        _need(self.opened == self.keywords.keys())

    def block(self, block: Any, end: int, levels: list[tuple[str, int]]) -> None:
        """One top-level block, whose statements lie before ``end``; ``levels``: its difficulty and rating."""
        if isinstance(block, ast.Include):
            self.opens(block.pos, "include")
            self.string(self.at(block.pos), block.path)
        elif isinstance(block, ast.Scenario):
            self.scenario(block, end)
        elif isinstance(block, ast.Technique):
            self.technique(block, end, dict(levels))
        elif isinstance(block, ast.Decide):
            self.decide(block, end)
        elif isinstance(block, ast.Assumption):
            _need(block.pos == block.fact.pos)
            self.opens(block.pos, "assume")
            self.reason(self.given(block.fact), block.reason, required=True)
        elif isinstance(block, ast.Derivation):
            _need(block.pos == block.fact.pos)
            self.opens(block.pos, "derive")
            after = self.condition(block.condition, self.after(self.given(block.fact), "when"))
            self.reason(after, block.reason, required=True)
        else:
            self.test(block, end)
        _need(isinstance(block, ast.Technique) or not levels)

    def scenario(self, s: ast.Scenario, end: int) -> None:
        self.opens(s.pos, "scenario")
        start = self.after(self.label(self.word(self.at(s.pos), s.name), s.label), "{")
        for keyword, idents in (("core", s.core), ("secondary", s.secondary), ("ignore", s.ignore)):
            self.listing(keyword, idents, ast.Ident, self.ident, start, end)
        for c in self.ordered(s.constraints, ast.Constraint, start, end):
            _need(type(c.hard) is bool)
            self.opens(c.pos, "require" if c.hard else "prefer")
            after = self.operator(self.word(self.at(c.pos), c.metric), c.op, ast.BOUND_OPS)
            self.quantity(c.value, self.follows(after, c.value.pos), signed=True)
        for e in self.ordered(s.expected, ast.Expected, start, end):
            self.opens(e.pos, "expect")
            self.range(
                e.range, self.follows(self.after(self.word(self.at(e.pos), e.metric), "in"), e.range.pos)
            )
        self.listing("stack", s.stack, ast.StackStep, self.step, start, end)

    def technique(self, t: ast.Technique, end: int, levels: dict[str, int]) -> None:
        self.opens(t.pos, "technique")
        start = self.after(self.label(self.word(self.at(t.pos), t.name), t.label), "{")
        _need((t.difficulty, t.rating) == (levels.get("difficulty"), levels.get("rating")))
        caveats: list[tuple[int, int]] = []
        for c in self.ordered(t.caveats, ast.Caveat, start, end):
            _need(c.pos == c.condition.pos)
            after = self.reason(self.condition(c.condition, self.opens(c.pos, "caveat", "when")), c.reason)
            inside = self.after(after, "{")
            caveats.append((inside, self.text.index("}", inside)))  # a caveat holds effects only
            self.effects(c.effects, *caveats[-1])
        for w in self.ordered(t.combinations, ast.Combination, start, end):
            _need(w.pos == w.technique.pos)
            self.opens(w.pos, "with")
            inside = self.after(self.reason(self.ident(w.technique), w.reason), "{")
            caveats.append((inside, self.text.index("}", inside)))
            self.effects(w.effects, *caveats[-1])
        self.effects(t.effects, start, end)
        _need(not any(low < self.at(e.pos) < high for e in t.effects for low, high in caveats))
        for r in self.ordered(t.requires, ast.Requirement, start, end):
            _need(r.pos == r.condition.pos)
            self.reason(self.condition(r.condition, self.opens(r.pos, "requires")), r.reason)
        self.listing("excludes", t.excludes, ast.Ident, self.ident, start, end)
        for keyword, word in (("stage", t.stage), ("acts_on", t.acts_on)):
            self.listing(keyword, () if word is None else (word,), ast.Ident, self.ident, start, end)

    def effects(self, effects: Sequence[ast.Effect], start: int, end: int) -> None:
        for e in self.ordered(effects, ast.Effect, start, end):
            self.opens(e.pos, "effect")
            after = self.operator(self.word(self.at(e.pos), e.metric), e.op, ast.EFFECT_OPS)
            self.range(e.range, self.follows(after, e.range.pos))
            _need((e.kind, e.low, e.high) == _canonical(e.op, e.range))

    def decide(self, d: ast.Decide, end: int) -> None:
        if d.pos == d.scenario.pos:
            _need(d.name == d.scenario.name)
            self.opens(d.pos, "decide", "for")
        else:
            self.opens(d.pos, "decide")
            self.follows(self.after(self.word(self.at(d.pos), d.name), "for"), d.scenario.pos)
        _need(d.policy in ("first", "collect"))
        start = self.after(self.after(self.after(self.ident(d.scenario), "policy"), d.policy), "{")
        self.ordered(d.rules, ast.Rule, start, end)
        self.ordered(() if d.otherwise is None else (d.otherwise,), ast.Otherwise, start, end)
        for rule in self.ordered((*d.rules, *((d.otherwise,) if d.otherwise else ())), object, start, end):
            if isinstance(rule, ast.Otherwise):
                after = self.recommendation(
                    self.opens(rule.pos, "otherwise", "recommend"), rule.recommend, rule.pos
                )
            else:
                self.opens(rule.pos, "rule")
                after = self.after(self.after(self.word(self.at(rule.pos), rule.name), ":"), "when")
                after = self.after(self.after(self.condition(rule.condition, after), "then"), "recommend")
                after = self.recommendation(after, rule.recommend, None)
            self.reason(after, rule.reason, required=True)

    def test(self, t: ast.Test, end: int) -> None:
        self.opens(t.pos, "test")
        after = self.string(self.at(t.pos), t.name)
        if t.target is None:
            _need(self.next_word(after) != "for")
        else:
            after = self.ident(t.target, self.follows(self.after(after, "for"), t.target.pos))
        start = self.after(after, "{")
        self.listing("given", t.givens, ast.Given, self.given, start, end)
        for e in self.ordered(t.expects, ast.Expect, start, end):
            after = self.recommendation(self.opens(e.pos, "expect", "recommend"), e.recommend, e.pos)
            if e.via is None:
                _need(self.next_word(after) != "via")
            else:
                self.ident(e.via, self.follows(self.after(after, "via"), e.via.pos))
        for p in self.ordered(t.plans, ast.ExpectPlan, start, end):
            after = self.recommendation(self.opens(p.pos, "expect", "plan"), p.techniques, p.pos)
            if p.meets is None:
                _need(self.next_word(after) not in _VERDICTS.values())
            else:
                _need(type(p.meets) is bool)
                self.after(after, _VERDICTS[p.meets])

    # -- statements' parts

    def step(self, s: ast.StackStep) -> int:
        if s.technique is not None:
            _need(s.text is None)
            return self.word(self.at(s.pos), s.technique)
        return self.string(self.at(s.pos), s.text)

    def given(self, g: ast.Given) -> int:
        _need(g.pos == g.ref.pos)
        after = self.gap(self.atom(g.ref, self.at(g.pos)))
        _need(self.token(_OPERATOR, after).group() == "=")
        start = self.follows(after + 1, g.value.pos)
        if isinstance(g.value, ast.Quantity):
            return self.quantity(g.value, start, signed=True)
        _need(isinstance(g.value, (ast.String, ast.Boolean)))
        return self.atom(g.value, start)

    def recommendation(self, after: int, idents: tuple[ast.Ident, ...], pos: ast.Pos | None) -> int:
        """``none`` or ``a, b, ...`` right after ``after`` (the keyword recommend); ``pos``: where an Otherwise or
        an Expect says it starts."""
        start = self.gap(after)
        _need(pos is None or self.at(pos) == start)
        if not idents:
            return self.word(start, "none")
        end = start
        for i, ident in enumerate(self.ordered(idents, ast.Ident, after, len(self.text) + 1)):
            end = self.ident(ident, self.comma(end, ident.pos) if i else self.follows(after, ident.pos))
        _need(not self.text.startswith(",", self.gap(end)))
        return end

    def reason(self, after: int, reason: str | None, *, required: bool = False) -> int:
        """After ``after``: ``because "reason"``, or no ``because`` when there is no reason."""
        if reason is None:
            _need(not required and self.next_word(after) != "because")
            return after
        return self.string(self.gap(self.after(after, "because")), reason)

    def listing(
        self, keyword: str, items: Sequence[Any], kind: type, item: Callable[[Any], int], start: int, end: int
    ) -> None:
        """Items (of class ``kind``, each checked by ``item``) of ``keyword a, b, ...`` statements: each
        statement's first item right after its keyword, the others after a comma, none left out at the end."""
        last = -1
        for node in self.ordered(items, kind, start, end):
            if last < 0 or not self.text.startswith(",", self.gap(last)):
                self.opens(node.pos, keyword)
            else:
                self.comma(last, node.pos)
            last = item(node)
        _need(last < 0 or not self.text.startswith(",", self.gap(last)))

    # -- expressions

    def condition(self, expr: ast.Expr, after: int) -> int:
        """The end of a whole condition written after ``after`` (its keyword), closing parentheses included."""
        self.depth = 0
        end = self.between(self.expr(expr, self.between(after))[0])
        _need(self.depth == 0 and _CONTINUES.match(self.text, end) is None)
        return end

    def expr(self, node: ast.Expr, start: int) -> tuple[int, int, int]:
        """Check the expression whose first token is at ``start``: (its end, the parenthesis depth of its
        operator, its precedence level). An operand at the same depth must bind tighter, as the grammar's
        precedence ladder makes it (a sum's left operand and a prefix operator's operand: as tight)."""
        _need(self.at(node.pos) == start)
        depth = self.depth
        if isinstance(node, (ast.BoolOp, ast.Compare, ast.Arith)):
            level = _LEVELS[type(node)][node.op]
            parts = node.operands if isinstance(node, ast.BoolOp) else (node.left, node.right)
            _need(len(parts) >= 2)
            end, first_depth, first_level = self.expr(parts[0], start)
            operands = [(first_depth, first_level, isinstance(node, ast.Arith))]
            depths = set()
            for part in parts[1:]:
                at = self.between(end)
                depths.add(self.depth)
                if isinstance(node, ast.BoolOp):
                    after = self.word(at, node.op)
                else:
                    after = at + len(node.op)
                    _need(self.token(_OPERATOR, at).group() == node.op)
                end, part_depth, part_level = self.expr(part, self.between(after))
                operands.append((part_depth, part_level, False))
            _need(len(depths) == 1)  # every operator of a chain at one depth
            depth = depths.pop()
            for part_depth, part_level, as_tight in operands:
                _need(part_depth > depth or (part_depth == depth and part_level >= level + (not as_tight)))
            return end, depth, level
        if isinstance(node, (ast.Not, ast.Neg)):
            level = _NOT if isinstance(node, ast.Not) else _NEG
            after = self.word(start, "not") if level == _NOT else start + 1
            _need(level == _NOT or self.text.startswith("-", start))
            end, part_depth, part_level = self.expr(node.operand, self.between(after))
            _need(part_depth > depth or (part_depth == depth and part_level >= level))
            return end, depth, level
        return self.atom(node, start), depth, _ATOM

    def atom(self, node: ast.Expr, start: int) -> int:
        if isinstance(node, ast.Quantity):
            return self.quantity(node, start, signed=False)
        if isinstance(node, ast.Ref):
            after = self.after(self.word(start, node.scope), ".")
            return self.word(self.gap(after), node.name)
        if isinstance(node, ast.String):
            return self.string(start, node.value)
        _need(isinstance(node, ast.Boolean) and type(node.value) is bool)
        assert isinstance(node, ast.Boolean)
        return self.word(start, "true" if node.value else "false")

    def between(self, offset: int) -> int:
        """Past the space, comments and parentheses at ``offset``, counting the parentheses."""
        match = _BETWEEN.match(self.text, offset)
        assert match is not None  # it matches the empty string
        if "(" in match.group() or ")" in match.group():
            for paren in _PARENS.finditer(match.group()):
                self.depth += {"(": 1, ")": -1}.get(paren.group(), 0)
        return match.end()

    # -- tokens

    def quantity(self, q: ast.Quantity, start: int, *, signed: bool, implied: str = "") -> int:
        """The end of the number ``q`` written at ``start`` with its unit; ``implied``: the unit a range's high
        end lends a low end written without one."""
        _need(self.at(q.pos) == start)
        number = self.token(_NUMBER, start)
        _need(signed or number.group(1) is None)
        value = -float(number.group(2)) if number.group(1) else float(number.group(2))
        unit = _UNIT.match(self.text, self.gap(number.end()))
        written = unit.group() if unit is not None and unit.group() in units.UNITS else ""
        base = units.UNITS[written].to_base(value)
        if not written and implied:
            base = units.UNITS[implied].to_base(base)
        symbol = written or implied
        _need(q.unit == symbol and q.value == base and q.dimension == units.UNITS[symbol].dimension)
        return unit.end() if unit is not None and written else number.end()

    def range(self, r: ast.Range, start: int) -> int:
        _need(r.pos == r.low.pos)
        if r.low.pos == r.high.pos:  # a single value
            _need(r.low == r.high)
            return self.quantity(r.low, start, signed=True)
        after = self.after(self.quantity(r.low, start, signed=True, implied=r.high.unit), "..")
        return self.quantity(r.high, self.follows(after, r.high.pos), signed=True)

    def ident(self, ident: ast.Ident, start: int | None = None) -> int:
        return self.word(self.at(ident.pos) if start is None else start, ident.name)

    def label(self, after: int, label: str | None) -> int:
        """After a block's name: its label, or none."""
        start = self.gap(after)
        if label is None:
            _need(not self.text.startswith('"', start))
            return after
        return self.string(start, label)

    def string(self, start: int, value: str | None) -> int:
        match = self.token(_STRING, start)
        _need(_ESCAPE.sub(r"\1", match.group(1)) == value)
        return match.end()

    def operator(self, after: int, op: str, allowed: tuple[str, ...]) -> int:
        start = self.gap(after)
        _need(op in allowed and self.token(_OPERATOR, start).group() == op)
        return start + len(op)

    def word(self, start: int, word: str) -> int:
        """The end of ``word`` (a name or a keyword) written at ``start``."""
        _need(self.token(_NAME, start).group() == word)
        return start + len(word)

    def next_word(self, after: int) -> str | None:
        match = _NAME.match(self.text, self.gap(after))
        return None if match is None else match.group()

    def after(self, after: int, expected: str) -> int:
        """The end of the keyword or punctuation ``expected``, the next token after ``after``."""
        start = self.gap(after)
        if expected[0].isalpha():
            return self.word(start, expected)
        _need(self.text.startswith(expected, start))
        return start + len(expected)

    def follows(self, after: int, pos: ast.Pos) -> int:
        """The offset of ``pos``, which must be the next token after ``after``."""
        start = self.at(pos)
        _need(self.gap(after) == start)
        return start

    def comma(self, after: int, pos: ast.Pos) -> int:
        """The offset of ``pos``, which must follow ``after`` past one comma."""
        return self.follows(self.after(after, ","), pos)

    def opens(self, pos: ast.Pos, *words: str) -> int:
        """The end of the keywords that the statement at ``pos`` follows, with only space, comments (and a
        condition's parentheses) between them; the first is the text's last statement keyword before ``pos``,
        which opens this statement and no other."""
        start = self.at(pos)
        index = bisect.bisect_left(self.starts, start) - 1
        _need(index >= 0)
        keyword = self.starts[index]
        _need(self.keywords[keyword] == words[0] and keyword not in self.opened)
        self.opened.add(keyword)
        end = keyword + len(words[0])
        for word in words[1:]:
            end = self.after(end, word)
        match = _BETWEEN.match(self.text, end)
        _need(match is not None and match.end() == start)
        return end

    def ordered(self, nodes: Sequence[Any], kind: type, start: int, end: int) -> Sequence[Any]:
        """``nodes``, which must be of class ``kind`` (``object``: any), in file order between ``start`` and
        ``end``."""
        _need(type(nodes) is tuple and all(kind is object or type(n) is kind for n in nodes))
        offsets = [start, *(self.at(n.pos) for n in nodes), end]
        _need(all(a < b for a, b in itertools.pairwise(offsets)))
        return nodes

    def at(self, pos: ast.Pos) -> int:
        """The offset of a position, which must be in this file and on its line."""
        _need(
            type(pos) is ast.Pos and pos.file == self.shown and 0 < pos.line < len(self.lines) and pos.col > 0
        )
        offset = self.lines[pos.line - 1] + pos.col - 1
        _need(offset < self.lines[pos.line])
        return offset

    def gap(self, after: int) -> int:
        match = _SPACE.match(self.text, after)
        assert match is not None  # it matches the empty string
        return match.end()

    def token(self, pattern: re.Pattern[str], start: int) -> re.Match[str]:
        match = pattern.match(self.text, start)
        if match is None:
            raise _Mismatch
        return match


def _canonical(op: str, range_: ast.Range) -> tuple[str, float, float]:
    """An effect's kind and factor or shift range, derived from what is written as the parser derives it."""
    low, high = range_.low.value, range_.high.value
    kind = "scale"
    if op == "*=":
        a, b = low, high
    elif op == "/=":
        a, b = (1 / high if high else math.inf), (1 / low if low else math.inf)
    elif range_.high.unit == "%":
        a, b = (1 + low, 1 + high) if op == "+=" else (1 - high, 1 - low)
    else:
        kind = "shift"
        a, b = (low, high) if op == "+=" else (-high, -low)
    return kind, min(a, b), max(a, b)


__all__ = ["MAX_ENTRY_BYTES", "bypassed", "directory", "forget", "parse", "tracking"]
